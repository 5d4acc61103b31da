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
