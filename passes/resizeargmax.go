package passes

import "github.com/mncdev/mnc/ir"

// fuseResizeArgMax turns an NHWC ResizeBilinear read only by an ArgMax
// over its channels into that ArgMax with the resize fused
// (ir.ArgMaxAttrs.Resize): the upsampled tensor (DeepLab's 21x513x513
// logits) is never stored, and in int8 the ArgMax compares the exact
// interpolations instead of their rounded codes.
func fuseResizeArgMax(s *State) error {
	return fixpoint(s, []func(*rw, *ir.Node) string{func(r *rw, n *ir.Node) string {
		if n.Op != ir.ArgMax {
			return ""
		}
		a := *n.Attrs.(*ir.ArgMaxAttrs)
		x := n.Inputs[0]
		p := r.def(x, ir.ResizeBilinear)
		if a.Resize != nil || p == nil || p.Layout != ir.NHWC || !r.soleReader(x, n) || len(x.Type.Shape) != 4 {
			return ""
		}
		if ax, err := ir.NormAxis(a.Axis, 4); err != nil || ax != 3 {
			return ""
		}
		ra := *p.Attrs.(*ir.ResizeAttrs)
		a.Axis, a.Resize = 3, &ra
		n.Attrs = &a
		n.Inputs[0] = p.Inputs[0]
		r.remove(p)
		return "ResizeBilinear into ArgMax"
	}})
}
