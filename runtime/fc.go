package runtime

import (
	"fmt"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

type fcFStep struct {
	m, k, n int
	x, y    view
	w, b    []float32
	act     activation
}

func (s *fcFStep) check([]byte) error { return nil }
func (s *fcFStep) run(ar []byte)      { fcF(s.m, s.k, s.n, s.x.f32(ar), s.w, s.b, s.y.f32(ar), s.act) }

func fcF(m, k, n int, x, w, b, y []float32, act activation) {
	for r := range m {
		xr := x[r*k : (r+1)*k]
		for o := range n {
			wr := w[o*k : (o+1)*k]
			var acc float64
			for i, v := range xr {
				acc += float64(v) * float64(wr[i])
			}
			if b != nil {
				acc += float64(b[o])
			}
			y[r*n+o] = float32(applyAct(act, acc))
		}
	}
}

func (p *planner) fcF(op *operator) (step, error) {
	if err := arity(op, 2, 3, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsFullyConnectedOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	x, w, y := p.arg(op, 0), p.arg(op, 1), &p.m.tensors[op.out[0]]
	if err := actF32(x); err != nil {
		return nil, err
	}
	if err := actF32(y); err != nil {
		return nil, err
	}
	m, k, n, err := gemmShape(x, w, y)
	if err != nil {
		return nil, err
	}
	wt, err := weightsF(w, n, k)
	if err != nil {
		return nil, err
	}
	b, err := biasF(p.arg(op, 2), n)
	if err != nil {
		return nil, err
	}
	return &fcFStep{m: m, k: k, n: n, x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), w: wt, b: b, act: op.act}, nil
}

// colsStep computes a GEMM with a single row (a 1x1 convolution of one
// pixel, a fully connected layer of batch 1: the classifiers) as blocks of
// output channels, each with weights packed on their own, so that the
// threads can share a layer that has no rows to split. Every channel is
// computed by the same kernel code as in one call, so the bytes are the
// same.
type colsStep struct {
	x, y  view
	parts []colPart
	conv  convKernel // the pointwise kernel, or nil
	gemm  func(p *kernels.GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int)
	macs  int64
}

// colPart is output channels [o0, o0+n) of a colsStep: the kernel's
// parameters (cp for conv, gp for gemm) restricted to them, and their
// weights packed (w) and not (wv, for validation).
type colPart struct {
	o0, n int
	cp    kernels.ConvParams
	gp    kernels.GemmParams
	w, wv []int8
	b     []int32
}

// colsMin is the smallest block of channels of a colsStep.
const colsMin = 64

func (s *colsStep) run(ar []byte) { s.runRange(ar, 0, len(s.parts)) }

func (s *colsStep) runRange(ar []byte, lo, hi int) {
	x, y := s.x.i8(ar), s.y.i8(ar)
	for i := lo; i < hi; i++ {
		pt := &s.parts[i]
		if s.conv != nil {
			s.conv(&pt.cp, x, pt.w, pt.b, y[pt.o0:pt.o0+pt.n], 0, 1)
		} else {
			s.gemm(&pt.gp, x, pt.w, pt.b, y[pt.o0:pt.o0+pt.n], 0, 1)
		}
	}
}

func (s *colsStep) check(ar []byte) error {
	x, y := s.x.i8(ar), s.y.i8(ar)
	for i := range s.parts {
		pt := &s.parts[i]
		var err error
		if s.conv != nil {
			err = pt.cp.ValidatePointwise(x, pt.wv, pt.b, y[pt.o0:pt.o0+pt.n])
		} else {
			err = pt.gp.Validate(x, pt.wv, pt.b, y[pt.o0:pt.o0+pt.n])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *colsStep) extent() int { return len(s.parts) }
func (s *colsStep) work() int64 { return s.macs }
func (s *colsStep) align() int  { return 1 }

// cols builds a colsStep over o output channels of k inputs, weights w
// [o][k] and bias b (or nil): at most 8 blocks of a multiple of 16 channels,
// at least colsMin each; part gives each block's kernel parameters.
func (p *planner) cols(x, y view, w []int8, b []int32, o, k int, part func(o0, n int) colPart, conv convKernel,
	gemm func(*kernels.GemmParams, []int8, []int8, []int32, []int8, int, int)) (*colsStep, error) {
	if len(w) < o*k || (b != nil && len(b) < o) {
		return nil, fmt.Errorf("weights of %d values for %d x %d", len(w), o, k)
	}
	bs := max(colsMin, (o+7)/8+15&^15)
	s := &colsStep{x: x, y: y, conv: conv, gemm: gemm, macs: int64(o) * int64(k)}
	kern := p.m.kern
	for o0 := 0; o0 < o; o0 += bs {
		n := min(bs, o-o0)
		pt := part(o0, n)
		pt.o0, pt.n, pt.wv = o0, n, w[o0*k:(o0+n)*k]
		if b != nil {
			pt.b = b[o0 : o0+n]
		}
		pt.w = pt.wv
		var err error
		switch {
		case conv != nil && kern.packPointwise != nil:
			pt.w, err = p.pack(func() []int8 { return kern.packPointwise(pt.wv, n, k) })
		case gemm != nil && kern.packGemm != nil:
			pt.w, err = p.pack(func() []int8 { return kern.packGemm(pt.wv, n, k) })
		}
		if err != nil {
			return nil, err
		}
		s.parts = append(s.parts, pt)
	}
	return s, nil
}

type gemmStep struct {
	p    kernels.GemmParams
	x, y view
	w    []int8 // packed
	wv   []int8 // before packing, for Validate
	b    []int32
	fn   func(p *kernels.GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int)
}

func (s *gemmStep) run(ar []byte) { s.fn(&s.p, s.x.i8(ar), s.w, s.b, s.y.i8(ar), 0, s.p.M) }
func (s *gemmStep) check(ar []byte) error {
	return s.p.Validate(s.x.i8(ar), s.wv, s.b, s.y.i8(ar))
}

// gemmParams checks a fully connected layer x[M,K] w[N,K] b?[N] -> y[M,N].
func gemmShape(x, w, y *tensor) (m, k, n int, err error) {
	if len(x.shape) != 2 || len(w.shape) != 2 || len(y.shape) != 2 {
		return 0, 0, 0, fmt.Errorf("shapes %v x %v -> %v, want [M,K] x [N,K] -> [M,N]", x.shape, w.shape, y.shape)
	}
	m, k, n = x.shape[0], x.shape[1], w.shape[0]
	if w.shape[1] != k || y.shape[0] != m || y.shape[1] != n {
		return 0, 0, 0, fmt.Errorf("shapes %v x %v -> %v, want [M,K] x [N,K] -> [M,N]", x.shape, w.shape, y.shape)
	}
	return m, k, n, nil
}

// gemm8 prepares an int8 fully connected layer (FULLY_CONNECTED, and the
// two layers of SQUEEZE_EXCITE): as the kernel set's gemm, or as a 1x1
// convolution over M pixels.
func (p *planner) gemm8(x view, w []int8, b []int32, y view, gp kernels.GemmParams) step {
	if fn := p.m.kern.gemm; fn != nil && gp.M == 1 && gp.N >= 2*colsMin {
		s, err := p.cols(x, y, w, b, gp.N, gp.K, func(o0, n int) colPart {
			q := gp
			q.N, q.Mult = n, gp.Mult[o0:o0+n]
			return colPart{gp: q}
		}, nil, fn)
		if err == nil {
			return s
		}
	}
	if fn := p.m.kern.gemm; fn != nil {
		wv := w
		if pk := p.m.kern.packGemm; pk != nil {
			// Packing sizes are the kernel set's business; it is not
			// charged to the budget here, as the result may share w.
			w = pk(w, gp.N, gp.K)
		}
		return &gemmStep{p: gp, x: x, y: y, w: w, wv: wv, b: b, fn: fn}
	}
	cp := kernels.ConvParams{N: gp.M, H: 1, W: 1, C: gp.K, OH: 1, OW: 1, O: gp.N, KH: 1, KW: 1,
		StrideH: 1, StrideW: 1, Groups: 1, XZero: gp.AZero, YZero: gp.YZero, Mult: gp.Mult, Out: gp.Out}
	return &convStep{p: cp, x: x, y: y, w: w, wv: w, b: b, fn: p.m.kern.conv, n: gp.M,
		validate: (*kernels.ConvParams).Validate}
}

func (p *planner) fc8(op *operator) (step, error) {
	if err := arity(op, 2, 3, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsFullyConnectedOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	x, w, y := p.arg(op, 0), p.arg(op, 1), &p.m.tensors[op.out[0]]
	sx, zx, err := act8(x)
	if err != nil {
		return nil, err
	}
	sy, zy, err := act8(y)
	if err != nil {
		return nil, err
	}
	mm, k, n, err := gemmShape(x, w, y)
	if err != nil {
		return nil, err
	}
	sw, err := weights8(w, n, 0)
	if err != nil {
		return nil, err
	}
	b, err := bias32(p.arg(op, 2), n)
	if err != nil {
		return nil, err
	}
	gp := kernels.GemmParams{M: mm, K: k, N: n, AZero: zx, YZero: zy}
	if gp.Mult, err = multipliers(sx, sw, sy); err != nil {
		return nil, err
	}
	if gp.Out, err = clampRange(op.act, sy, zy); err != nil {
		return nil, err
	}
	if err := kernels.ValidateAccumulator(k, maxAbs(b)); err != nil {
		return nil, err
	}
	if err := p.bud.spend(int64(n)*8, "multipliers"); err != nil {
		return nil, err
	}
	return p.gemm8(p.argView(op, 0), int8s(w.data), b, p.m.viewOf(op.out[0]), gp), nil
}

func (s *gemmStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.i8(ar), s.w, s.b, s.y.i8(ar), lo, hi)
}
func (s *gemmStep) extent() int { return s.p.M }
func (s *gemmStep) work() int64 { return int64(s.p.M) * int64(s.p.N) * int64(s.p.K) }
func (s *gemmStep) align() int  { return 1 }
