package interp

import (
	"github.com/mncdev/mnc/ir"
)

// globalAveragePool averages every [n, c] plane (all axes after the first
// two), summing in float64.
func globalAveragePool(x, out *ir.Tensor) {
	planes := x.Shape[0] * x.Shape[1]
	if planes == 0 {
		return
	}
	size := len(x.F32) / planes
	for p := range planes {
		var s float64
		for _, v := range x.F32[p*size : (p+1)*size] {
			s += float64(v)
		}
		out.F32[p] = float32(s / float64(size))
	}
}

// averagePool averages kernel windows, summing in float64. As in PyTorch (and
// ONNX Runtime), a window is first clipped to the padded input [-pad_begin,
// in+pad_end), which bounds the divisor when CountIncludePad is set (so the
// part of a ceil-mode window hanging past the end pad never counts), and then
// to the input itself, which gives the summed elements and, without
// CountIncludePad, the divisor.
func averagePool(a *ir.PoolAttrs, x, out *ir.Tensor) {
	planes, H, W := x.Shape[0]*x.Shape[1], x.Shape[2], x.Shape[3]
	OH, OW := out.Shape[2], out.Shape[3]
	for p := range planes {
		xp := x.F32[p*H*W : (p+1)*H*W]
		yp := out.F32[p*OH*OW : (p+1)*OH*OW]
		for oy := range OH {
			h0 := oy*a.Stride[0] - a.Pads[0]
			h1 := min(h0+a.Kernel[0], H+a.Pads[2])
			ph := h1 - h0
			h0, h1 = max(h0, 0), min(h1, H)
			for ox := range OW {
				w0 := ox*a.Stride[1] - a.Pads[1]
				w1 := min(w0+a.Kernel[1], W+a.Pads[3])
				pw := w1 - w0
				w0, w1 = max(w0, 0), min(w1, W)
				var s float64
				for iy := h0; iy < h1; iy++ {
					for _, v := range xp[iy*W+w0 : iy*W+w1] {
						s += float64(v)
					}
				}
				n := (h1 - h0) * (w1 - w0)
				if a.CountIncludePad {
					n = ph * pw
				}
				yp[oy*OW+ox] = float32(s / float64(n))
			}
		}
	}
}
