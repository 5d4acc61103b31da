package interp

import "github.com/mncdev/mnc/ir"

// resizeBilinear computes ResizeBilinear on NCHW x into out by the formula
// of ir.ResizeAttrs, in float64, stored as float32.
func resizeBilinear(a *ir.ResizeAttrs, x, out *ir.Tensor) {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := out.Shape[2], out.Shape[3]
	xd, od := x.F32, out.F32
	type tap struct {
		x0, x1 int
		fx     float64
	}
	cols := make([]tap, ow) // the column taps, the same for every row and plane
	for ox := range cols {
		cols[ox].x0, cols[ox].x1, cols[ox].fx = a.Source(ox, w, ow)
	}
	for p := range n * c {
		src := xd[p*h*w : (p+1)*h*w]
		dst := od[p*oh*ow : (p+1)*oh*ow]
		for oy := range oh {
			y0, y1, fy := a.Source(oy, h, oh)
			for ox, t := range cols {
				x0, x1, fx := t.x0, t.x1, t.fx
				top := (1-fx)*float64(src[y0*w+x0]) + fx*float64(src[y0*w+x1])
				bot := (1-fx)*float64(src[y1*w+x0]) + fx*float64(src[y1*w+x1])
				dst[oy*ow+ox] = float32((1-fy)*top + fy*bot)
			}
		}
	}
}
