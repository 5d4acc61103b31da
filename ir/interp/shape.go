package interp

import (
	"fmt"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/kernels"
)

// split returns the products of the dims before axis, at axis and after it.
func split(s ir.Shape, axis int) (outer, dim, inner int) {
	outer, inner = 1, 1
	for _, d := range s[:axis] {
		outer *= d
	}
	for _, d := range s[axis+1:] {
		inner *= d
	}
	return outer, s[axis], inner
}

// softmax along one axis (ONNX opset 13): kernels.Softmax, which the
// runtime runs too (the maximum subtracted before exponentiating, sums and
// quotients in float64).
func softmax(a *ir.SoftmaxAttrs, x, out *ir.Tensor) error {
	axis, err := ir.NormAxis(a.Axis, len(x.Shape))
	if err != nil {
		return err
	}
	outer, dim, inner := split(x.Shape, axis)
	kernels.Softmax(x.F32, out.F32, outer, dim, inner)
	return nil
}

// pad pads (or, with negative pads, crops) every axis. Output index j of an
// axis reads input index j - begin; outside [0, n) that is the constant value,
// the nearest edge element, or the mirror image without repeating the edge
// (reflect, repeated as NumPy does for pads wider than the axis).
func pad(a *ir.PadAttrs, x, out *ir.Tensor) error {
	r := len(x.Shape)
	if r == 0 {
		copy(out.F32, x.F32)
		return nil
	}
	// src[d][j] is the input index read by output index j of axis d, or -1.
	src := make([][]int, r)
	for d := range r {
		n, begin := x.Shape[d], a.Pads[d]
		src[d] = make([]int, out.Shape[d])
		for j := range src[d] {
			i := j - begin
			if i < 0 || i >= n {
				switch a.Mode {
				case "constant":
					i = -1
				case "edge":
					i = min(max(i, 0), n-1)
				case "reflect":
					if n == 1 {
						i = 0
						break
					}
					period := 2 * (n - 1)
					i %= period
					if i < 0 {
						i += period
					}
					if i >= n {
						i = period - i
					}
				default:
					return fmt.Errorf("unknown pad mode %q", a.Mode)
				}
			}
			src[d][j] = i
		}
	}
	// Input strides.
	stride := make([]int, r)
	acc := 1
	for d := r - 1; d >= 0; d-- {
		stride[d] = acc
		acc *= x.Shape[d]
	}
	last := out.Shape[r-1]
	if last == 0 {
		return nil
	}
	value := a.Value
	idx := make([]int, r) // odometer over the outer output axes
	for off := 0; off < len(out.F32); off += last {
		// Offset of the row in the input, or -1 if the row is all padding.
		base := 0
		for d := range r - 1 {
			s := src[d][idx[d]]
			if s < 0 {
				base = -1
				break
			}
			base += s * stride[d]
		}
		y := out.F32[off : off+last]
		for j := range y {
			s := src[r-1][j]
			if base < 0 || s < 0 {
				y[j] = value
			} else {
				y[j] = x.F32[base+s]
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < out.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return nil
}

// concat joins the inputs along an axis.
func concat(a *ir.ConcatAttrs, in []*ir.Tensor, out *ir.Tensor) error {
	axis, err := ir.NormAxis(a.Axis, len(out.Shape))
	if err != nil {
		return err
	}
	outer, total, inner := split(out.Shape, axis)
	off := 0
	for o := range outer {
		for _, t := range in {
			chunk := t.Shape[axis] * inner
			copy(out.F32[off:off+chunk], t.F32[o*chunk:(o+1)*chunk])
			off += chunk
		}
	}
	if off != outer*total*inner {
		return fmt.Errorf("concat wrote %d of %d elements", off, outer*total*inner)
	}
	return nil
}
