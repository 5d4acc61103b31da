package onnx

import (
	"errors"
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
)

// importResize maps Resize (opset 10 and later) onto ir.ResizeBilinear
// where that computes the same samples: mode "linear" on a 4-D NCHW input
// that keeps N and C, with
//
//   - coordinate_transformation_mode half_pixel (the default from opset 11,
//     what PyTorch's align_corners=False exports): half-pixel centers;
//   - pytorch_half_pixel: the same where every resized axis has more than
//     one output (or one input) pixel, and x = 0 (AlignCorners' rule) where
//     both have one output pixel;
//   - align_corners: AlignCorners;
//   - asymmetric (opset 10's only rule): neither.
//
// The output size comes from constant sizes (an initializer, a Constant or
// a folded Shape computation, whose N and C may be the input's own
// dimensions) or constant scales. ONNX samples with 1/scale and ir with
// in/out, so for half_pixel, pytorch_half_pixel and asymmetric a scale must
// give an integer in*scale. Everything else (nearest and cubic modes,
// tf_crop_and_resize, half_pixel_symmetric, antialias, an aspect-ratio
// policy, sizes known only at run time) is refused with the reason.
func importResize(c *nodeCtx) error {
	x, err := c.in(0)
	if err != nil {
		return err
	}
	var mode, coord string
	if c.opset() < 11 {
		if err := c.allow("mode"); err != nil {
			return err
		}
		if err := c.arity(2, 2, 1); err != nil {
			return err
		}
		coord = "asymmetric" // Resize-10 samples as Upsample does
	} else {
		if err := c.allow("mode", "coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside",
			"extrapolation_value", "nearest_mode", "antialias", "axes", "keep_aspect_ratio_policy"); err != nil {
			return err
		}
		if err := c.arity(1, 4, 1); err != nil {
			return err
		}
		if coord, err = c.str("coordinate_transformation_mode", "half_pixel"); err != nil {
			return err
		}
	}
	if mode, err = c.str("mode", "nearest"); err != nil {
		return err
	}
	if mode != "linear" {
		return fmt.Errorf("mode %q is not supported (mnc resizes bilinearly only: mode \"linear\")", mode)
	}
	for _, name := range []string{"exclude_outside", "antialias"} {
		if on, err := c.flag(name); err != nil {
			return err
		} else if on {
			return fmt.Errorf("%s=1 is not supported", name)
		}
	}
	if p, err := c.str("keep_aspect_ratio_policy", "stretch"); err != nil {
		return err
	} else if p != "stretch" {
		return fmt.Errorf("keep_aspect_ratio_policy %q is not supported (only \"stretch\")", p)
	}
	xs := x.Type.Shape
	if len(xs) != 4 {
		return fmt.Errorf("input %s has rank %d; mnc resizes 4-D NCHW tensors only", x, len(xs))
	}
	axes, err := resizeAxes(c)
	if err != nil {
		return err
	}
	in := [2]int{xs[2], xs[3]}
	if in[0] < 1 || in[1] < 1 {
		return fmt.Errorf("input %s has unknown spatial dimensions %v", x, ir.Shape(xs[2:]))
	}
	out, scales, err := resizeTarget(c, x, axes)
	if err != nil {
		return err
	}
	a := &ir.ResizeAttrs{Size: out}
	switch coord {
	case "half_pixel":
		a.HalfPixelCenters = true
	case "pytorch_half_pixel":
		ones := 0
		for i := range 2 {
			if out[i] == 1 && in[i] > 1 {
				ones++
			}
		}
		switch {
		case ones == 0:
			a.HalfPixelCenters = true
		case out == [2]int{1, 1}:
			a.AlignCorners = true // x = 0 on both axes
		default:
			return fmt.Errorf("pytorch_half_pixel to %v from %v: one axis has one output pixel (x = 0) and the other not, which ir.ResizeBilinear cannot express", out, in)
		}
	case "align_corners":
		a.AlignCorners = true
		scales = nil // the rule does not depend on the scale
	case "asymmetric":
	default:
		return fmt.Errorf("coordinate_transformation_mode %q is not supported (half_pixel, pytorch_half_pixel, align_corners and asymmetric are)", coord)
	}
	for i, s := range scales {
		if float64(in[i])*s != float64(out[i]) {
			return fmt.Errorf("scale %g of axis %d gives %g output pixels from %d: ONNX then samples at 1/scale and ir.ResizeBilinear at in/out (give sizes instead)",
				s, i+2, float64(in[i])*s, in[i])
		}
	}
	return c.emit(ir.ResizeBilinear, a, x)
}

// resizeAxes returns the axes that sizes and scales describe: [0 1 2 3], or
// the opset-18 axes attribute, which must then be H and W.
func resizeAxes(c *nodeCtx) ([]int, error) {
	v, ok, err := c.ints("axes")
	if err != nil || !ok {
		return []int{0, 1, 2, 3}, err
	}
	if len(v) == 2 && (v[0] == 2 || v[0] == -2) && (v[1] == 3 || v[1] == -1) {
		return []int{2, 3}, nil
	}
	return nil, fmt.Errorf("attribute axes %v is not supported (only H and W, [2, 3])", v)
}

// resizeTarget returns the output H and W from the sizes or scales input
// (exactly one non-empty), and the H and W scales when they were given.
// Entries for N and C must keep x's.
func resizeTarget(c *nodeCtx, x *ir.Value, axes []int) (out [2]int, scales []float64, err error) {
	xs := x.Type.Shape
	scalesIn, sizesIn := 2, 3
	if c.opset() < 11 {
		scalesIn, sizesIn = 1, -1
	}
	given := func(i int) (bool, error) {
		if i < 0 || !c.has(i) {
			return false, nil
		}
		e, err := c.entry(i)
		if err != nil {
			return false, err
		}
		// An empty constant stands for "not given" (opset 11 wants a scales input).
		return !(e.c != nil && e.c.t.Len() == 0), nil
	}
	hasScales, err := given(scalesIn)
	if err != nil {
		return out, nil, err
	}
	hasSizes, err := given(sizesIn)
	if err != nil {
		return out, nil, err
	}
	switch {
	case hasScales && hasSizes:
		return out, nil, errors.New("both scales and sizes are given")
	case hasSizes:
		s, ok, err := c.symIn(sizesIn)
		if err != nil {
			return out, nil, err
		}
		if !ok || s.scalar || len(s.elems) != len(axes) {
			return out, nil, fmt.Errorf("input %d (sizes, %q) must be a constant vector of %d sizes (an initializer, a Constant node or a foldable Shape computation)",
				sizesIn, c.n.inputs[sizesIn], len(axes))
		}
		for i, d := range s.elems {
			ax := axes[i]
			switch {
			case ax < 2 && !d.known() && d.src == x && d.dim == ax:
				// x's own N or C
			case ax < 2 && d.known() && d.val == int64(xs[ax]) && xs[ax] >= 0:
			case ax < 2:
				return out, nil, fmt.Errorf("sizes[%d] changes dimension %d of %s; mnc resizes H and W only", i, ax, x)
			case !d.known():
				return out, nil, fmt.Errorf("sizes[%d] is dimension %d of %s, unknown until run time", i, d.dim, d.src)
			case d.val < 1 || d.val > maxDim:
				return out, nil, fmt.Errorf("sizes[%d] is %d", i, d.val)
			default:
				out[ax-2] = int(d.val)
			}
		}
		return out, nil, nil
	case hasScales:
		t, err := c.konst(scalesIn, "scales")
		if err != nil {
			return out, nil, err
		}
		if t.DType != ir.Float32 || t.Len() != len(axes) {
			return out, nil, fmt.Errorf("scales has %d %v values, want %d floats", t.Len(), t.DType, len(axes))
		}
		scales = make([]float64, 2)
		for i, s := range t.F32 {
			ax := axes[i]
			if ax < 2 {
				if s != 1 {
					return out, nil, fmt.Errorf("scales[%d] is %g; mnc resizes H and W only", i, s)
				}
				continue
			}
			v := float64(xs[ax]) * float64(s)
			if !(s > 0) || math.IsInf(float64(s), 0) || v < 1 || v > maxDim {
				return out, nil, fmt.Errorf("scales[%d] is %g, giving %g pixels from %d", i, s, v, xs[ax])
			}
			out[ax-2], scales[ax-2] = int(math.Floor(v)), float64(s)
		}
		return out, scales, nil
	}
	return out, nil, errors.New("neither scales nor sizes is given")
}
