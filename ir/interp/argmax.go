package interp

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
)

// argMax computes ArgMax of x into out (i32 or i64) by the rule of
// ir.ArgMax: the first largest element wins, NaN never does, and a slice
// that is all NaN gives 0.
func argMax(a *ir.ArgMaxAttrs, x, out *ir.Tensor) error {
	if r := a.Resize; r != nil {
		// The fused resize (ir.ArgMaxAttrs): x is NHWC; resized as
		// ResizeBilinear does (in NCHW here), the ArgMax over C.
		if len(x.Shape) != 4 || x.DType != ir.Float32 {
			return fmt.Errorf("fused resize of %v%v, want f32 NHWC", x.DType, x.Shape)
		}
		n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		nchw := ir.NewFloat32(ir.Shape{n, c, h, w}, nil)
		transpose([]int{0, 3, 1, 2}, x, nchw)
		up := ir.NewFloat32(ir.Shape{n, c, r.Size[0], r.Size[1]}, nil)
		resizeBilinear(r, nchw, up)
		b := *a
		b.Axis, b.Resize = 1, nil
		return argMax(&b, up, out)
	}
	axis, err := ir.NormAxis(a.Axis, len(x.Shape))
	if err != nil {
		return err
	}
	outer, dim, inner := split(x.Shape, axis)
	if n := outer * inner; out.Len() != n || len(x.F32) != n*dim {
		return fmt.Errorf("output %v%v holds %d indices for %d slices of input %v", out.DType, out.Shape, out.Len(), n, x.Shape)
	}
	for o := range outer {
		for i := range inner {
			src := x.F32[o*dim*inner+i:]
			best := -1
			var top float32
			for d := range dim {
				v := src[d*inner]
				if math.IsNaN(float64(v)) {
					continue
				}
				if best < 0 || v > top {
					best, top = d, v
				}
			}
			best = max(best, 0)
			switch out.DType {
			case ir.Int32:
				out.I32[o*inner+i] = int32(best)
			case ir.Int64:
				out.I64[o*inner+i] = int64(best)
			default:
				return fmt.Errorf("output type %v, want i32 or i64", out.DType)
			}
		}
	}
	return nil
}
