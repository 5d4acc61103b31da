package interp

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
)

// unary applies an activation elementwise, in float64.
func unary(act ir.Activation, x, out *ir.Tensor) {
	activate(act, out.F32, x.F32)
}

// sigmoid computes 1/(1+exp(-x)) in float64.
func sigmoid(x, out *ir.Tensor) {
	y := out.F32[:len(x.F32)]
	for i, v := range x.F32 {
		y[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
}

// batchNorm computes y = scale*(x-mean)/sqrt(var+eps) + bias per channel
// (axis 1), in float64.
func batchNorm(a *ir.BatchNormAttrs, in []*ir.Tensor, out *ir.Tensor) error {
	x := in[0]
	scale, bias, mean, variance := in[1].F32, in[2].F32, in[3].F32, in[4].F32
	n, c := x.Shape[0], x.Shape[1]
	inner := 1
	for _, d := range x.Shape[2:] {
		inner *= d
	}
	eps := float64(a.Epsilon)
	for ch := range c {
		den := math.Sqrt(float64(variance[ch]) + eps)
		s, m, b := float64(scale[ch]), float64(mean[ch]), float64(bias[ch])
		for b0 := range n {
			off := (b0*c + ch) * inner
			xs := x.F32[off : off+inner]
			ys := out.F32[off : off+inner]
			for i, v := range xs {
				ys[i] = float32(s*(float64(v)-m)/den + b)
			}
		}
	}
	return nil
}

// binary computes out = act(a op b) with NumPy broadcasting, in float64.
func binary(op ir.Op, act ir.Activation, a, b, out *ir.Tensor) {
	dims, sa, sb := broadcastLayout(out.Shape, a.Shape, b.Shape)
	r := len(dims)
	if r == 0 { // every dimension is 1
		dims, sa, sb, r = []int{1}, []int{0}, []int{0}, 1
	}
	inner, ia, ib := dims[r-1], sa[r-1], sb[r-1]
	idx := make([]int, r) // odometer over the outer dims
	offA, offB := 0, 0
	// Results are computed in float64 into buf, then activated and rounded,
	// a chunk of a row at a time.
	buf := make([]float64, min(inner, 1024))
	for off := 0; off < len(out.F32); off += inner {
		for c0 := 0; c0 < inner; c0 += len(buf) {
			s := buf[:min(len(buf), inner-c0)]
			xa, xb := a.F32[offA+c0*ia:], b.F32[offB+c0*ib:]
			switch op {
			case ir.Add:
				for i := range s {
					s[i] = float64(xa[i*ia]) + float64(xb[i*ib])
				}
			case ir.Sub:
				for i := range s {
					s[i] = float64(xa[i*ia]) - float64(xb[i*ib])
				}
			case ir.Mul:
				for i := range s {
					s[i] = float64(xa[i*ia]) * float64(xb[i*ib])
				}
			case ir.Div:
				for i := range s {
					s[i] = float64(xa[i*ia]) / float64(xb[i*ib])
				}
			default:
				panic(fmt.Sprintf("binary: op %v", op))
			}
			activate(act, out.F32[off+c0:off+c0+len(s)], s)
		}
		// Advance the odometer over dims[:r-1].
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			offA += sa[d]
			offB += sb[d]
			if idx[d] < dims[d] {
				break
			}
			offA -= sa[d] * dims[d]
			offB -= sb[d] * dims[d]
			idx[d] = 0
		}
	}
}

// broadcastLayout describes how the row-major output of shape out reads a and
// b (each broadcastable to out): it returns the output dims and the element
// strides of a and b along them (0 where broadcast), with dims of size 1
// dropped and adjacent dims merged where both inputs allow it.
func broadcastLayout(out, a, b ir.Shape) (dims, sa, sb []int) {
	r := len(out)
	strides := func(s ir.Shape) []int {
		st := make([]int, r)
		acc := 1
		for i := r - 1; i >= 0; i-- {
			j := i - (r - len(s))
			if j < 0 {
				continue
			}
			if s[j] != 1 {
				st[i] = acc
			}
			acc *= s[j]
		}
		return st
	}
	fa, fb := strides(a), strides(b)
	for i := range r {
		if out[i] == 1 {
			continue
		}
		if k := len(dims) - 1; k >= 0 && sa[k] == fa[i]*out[i] && sb[k] == fb[i]*out[i] {
			dims[k] *= out[i]
			sa[k], sb[k] = fa[i], fb[i]
			continue
		}
		dims, sa, sb = append(dims, out[i]), append(sa, fa[i]), append(sb, fb[i])
	}
	return dims, sa, sb
}
