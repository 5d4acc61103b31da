package interp

import (
	"github.com/mncdev/mnc/ir"
)

// gemmArgs describes Y = act(alpha * A'B' + beta * C) for Y [M, N], with
// A'[m,k] = a[m*aRow + k*aCol], B'[k,n] = b[k*bRow + n*bCol] and
// C[m,n] = c[m*cRow + n*cCol] (c nil when absent; strides 0 where broadcast).
type gemmArgs struct {
	M, N, K    int
	a          []float32
	aRow, aCol int
	b          []float32
	bRow, bCol int
	c          []float32
	cRow, cCol int
	alpha      float64
	beta       float64
	act        ir.Activation
	y          []float32
}

// run computes Y, splitting the columns across workers. Each element's dot
// product is summed in float64 over k = 0..K-1 in order, starting from 0,
// whichever loop order is used.
func (g *gemmArgs) run(workers int) {
	parallelFor(g.N, workers, func(n0, n1 int) {
		acc := make([]float64, n1-n0)
		for m := range g.M {
			clear(acc)
			if g.bRow == 1 && g.aCol == 1 {
				// k is contiguous in both A' rows and B' columns: dot products.
				ar := g.a[m*g.aRow : m*g.aRow+g.K]
				for j := range acc {
					bc := g.b[(n0+j)*g.bCol : (n0+j)*g.bCol+g.K]
					bc = bc[:len(ar)]
					var s float64
					for k, v := range ar {
						s += float64(v) * float64(bc[k])
					}
					acc[j] = s
				}
			} else {
				// Accumulate rows of B' scaled by A'[m,k].
				for k := range g.K {
					av := float64(g.a[m*g.aRow+k*g.aCol])
					off := k*g.bRow + n0*g.bCol
					if g.bCol == 1 {
						br := g.b[off : off+len(acc)]
						for j, v := range br {
							acc[j] += av * float64(v)
						}
					} else {
						for j := range acc {
							acc[j] += av * float64(g.b[off+j*g.bCol])
						}
					}
				}
			}
			// Products are rounded explicitly so that no platform fuses them.
			for j, s := range acc {
				v := float64(g.alpha * s)
				if g.c != nil {
					v += float64(g.beta * float64(g.c[m*g.cRow+(n0+j)*g.cCol]))
				}
				acc[j] = v
			}
			activate(g.act, g.y[m*g.N+n0:m*g.N+n1], acc)
		}
	})
}

// gemm: Y = act(Alpha * A' * B' + Beta * C) with ' a transpose when set.
func gemm(a *ir.GemmAttrs, in []*ir.Tensor, out *ir.Tensor, workers int) error {
	A, B := in[0], in[1]
	g := &gemmArgs{
		M: out.Shape[0], N: out.Shape[1],
		a: A.F32, aRow: A.Shape[1], aCol: 1,
		b: B.F32, bRow: B.Shape[1], bCol: 1,
		alpha: float64(a.Alpha), beta: float64(a.Beta),
		act: a.Act, y: out.F32,
	}
	g.K = A.Shape[1]
	if a.TransA {
		g.K = A.Shape[0]
		g.aRow, g.aCol = 1, A.Shape[1]
	}
	if a.TransB {
		g.bRow, g.bCol = 1, B.Shape[1]
	}
	if len(in) == 3 {
		C := in[2]
		g.c = C.F32
		// C broadcasts to [M, N] (checked by shape inference).
		switch len(C.Shape) {
		case 0:
		case 1:
			if C.Shape[0] != 1 {
				g.cCol = 1
			}
		default:
			if C.Shape[0] != 1 {
				g.cRow = C.Shape[1]
			}
			if C.Shape[1] != 1 {
				g.cCol = 1
			}
		}
	}
	g.run(workers)
	return nil
}

// matMul: A[..., M, K] x B[K, N], computed as one [prod(...)*M, K] x [K, N]
// product.
func matMul(in []*ir.Tensor, out *ir.Tensor, workers int) error {
	A, B := in[0], in[1]
	K, N := B.Shape[0], B.Shape[1]
	M := 0
	if K > 0 {
		M = len(A.F32) / K
	} else {
		M = len(out.F32) / max(N, 1)
	}
	g := &gemmArgs{
		M: M, N: N, K: K,
		a: A.F32, aRow: K, aCol: 1,
		b: B.F32, bRow: N, bCol: 1,
		alpha: 1, y: out.F32,
	}
	g.run(workers)
	return nil
}
