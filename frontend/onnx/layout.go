package onnx

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mncdev/mnc/ir"
)

func importFlatten(c *nodeCtx) error {
	if err := c.allow("axis"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	axis, err := c.smallInt("axis", 1)
	if err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	return c.emit(ir.Flatten, &ir.FlattenAttrs{Axis: axis}, x)
}

func importPad(c *nodeCtx) error {
	var pads []int
	var value float32
	var err error
	x, err := c.in(0)
	if err != nil {
		return err
	}
	r := len(x.Type.Shape)
	if c.opset() < 11 {
		if err := c.allow("mode", "pads", "value"); err != nil {
			return err
		}
		if err := c.arity(1, 1, 1); err != nil {
			return err
		}
		var ok bool
		if pads, ok, err = c.ints("pads"); err != nil {
			return err
		} else if !ok {
			return errors.New("attribute pads is missing")
		}
		if value, err = c.float("value", 0); err != nil {
			return err
		}
	} else {
		if err := c.allow("mode"); err != nil {
			return err
		}
		hi := 3
		if c.opset() >= 18 {
			hi = 4
		}
		if err := c.arity(2, hi, 1); err != nil {
			return err
		}
		p, err := c.konstInts(1, "pads")
		if err != nil {
			return err
		}
		if pads, err = smallInts(p); err != nil {
			return fmt.Errorf("pads: %w", err)
		}
		if c.has(2) {
			if value, err = c.konstFloat(2, "constant_value"); err != nil {
				return err
			}
		}
		if c.has(3) {
			a, err := c.konstInts(3, "axes")
			if err != nil {
				return err
			}
			if pads, err = padAxes(pads, a, r); err != nil {
				return err
			}
		}
	}
	mode, err := c.str("mode", "constant")
	if err != nil {
		return err
	}
	switch mode {
	case "constant", "reflect", "edge":
	default:
		return fmt.Errorf("pad mode %q is not supported (constant, reflect, edge)", mode)
	}
	if len(pads) != 2*r {
		return fmt.Errorf("%d pads for an input of rank %d, want %d", len(pads), r, 2*r)
	}
	for i, p := range pads {
		if p < 0 {
			return fmt.Errorf("negative pads %v (cropping) are not supported", pads)
		}
		if d := x.Type.Shape[i%r]; mode == "reflect" && d >= 0 && p > 0 && p >= d {
			return fmt.Errorf("reflect pads %v need dimension %d (%d) larger than its pads", pads, i%r, d)
		}
		if d := x.Type.Shape[i%r]; mode == "edge" && d == 0 && p > 0 {
			return fmt.Errorf("edge pads %v on an empty dimension %d", pads, i%r)
		}
	}
	return c.emit(ir.Pad, &ir.PadAttrs{Pads: pads, Mode: mode, Value: value}, x)
}

// padAxes expands pads given for the axes a (all begins, then all ends) to
// all r dimensions of the input, with zeros for the dimensions a leaves out.
func padAxes(pads []int, a []int64, r int) ([]int, error) {
	if len(pads) != 2*len(a) {
		return nil, fmt.Errorf("%d pads for %d axes, want %d", len(pads), len(a), 2*len(a))
	}
	full := make([]int, 2*r)
	seen := make([]bool, r)
	for i, ax := range a {
		if ax < int64(-r) || ax >= int64(r) {
			return nil, fmt.Errorf("axis %d out of range for rank %d", ax, r)
		}
		j := int(ax)
		if j < 0 {
			j += r
		}
		if seen[j] {
			return nil, fmt.Errorf("axis %d is repeated in axes %v", ax, a)
		}
		seen[j] = true
		full[j], full[r+j] = pads[i], pads[len(a)+i]
	}
	return full, nil
}

// importTranspose imports Transpose as ir.Transpose: perm must be a
// permutation of the input's dimensions (default: reversed).
func importTranspose(c *nodeCtx) error {
	if err := c.allow("perm"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	r := len(x.Type.Shape)
	perm, ok, err := c.ints("perm")
	if err != nil {
		return err
	}
	if !ok {
		perm = make([]int, r)
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	seen := make([]bool, r)
	for _, p := range perm {
		if len(perm) != r || p < 0 || p >= r || seen[p] {
			return fmt.Errorf("perm %v is not a permutation of the input's %d dimensions", perm, r)
		}
		seen[p] = true
	}
	if len(perm) != r {
		return fmt.Errorf("perm %v is not a permutation of the input's %d dimensions", perm, r)
	}
	return c.emit(ir.Transpose, &ir.TransposeAttrs{Perm: perm}, x)
}

func importConcat(c *nodeCtx) error {
	if err := c.allow("axis"); err != nil {
		return err
	}
	if err := c.arity(1, -1, 1); err != nil {
		return err
	}
	if c.attrs["axis"] == nil {
		return errors.New("attribute axis is missing")
	}
	axis, err := c.smallInt("axis", 0)
	if err != nil {
		return err
	}
	if done, err := foldConcat(c, axis); done || err != nil {
		return err
	}
	var ins []*ir.Value
	for i := range c.n.inputs {
		v, err := c.in(i)
		if err != nil {
			return err
		}
		ins = append(ins, v)
	}
	return c.emit(ir.Concat, &ir.ConcatAttrs{Axis: axis}, ins...)
}

func importConstant(c *nodeCtx) error {
	if err := c.arity(0, 0, 1); err != nil {
		return err
	}
	if len(c.n.attrs) != 1 {
		return fmt.Errorf("has %d attributes, want exactly one value attribute", len(c.n.attrs))
	}
	a := c.n.attrs[0]
	k := &constant{name: c.n.outputs[0]}
	var err error
	switch a.name {
	case "value":
		if a.typ != attrTensor {
			return fmt.Errorf("attribute value has type %s, want TENSOR", attrTypeName(a.typ))
		}
		tp, err := decodeTensorProto(a.t)
		if err != nil {
			return err
		}
		if k.t, err = tp.toTensor(); err != nil {
			return err
		}
		k.onnxType = tp.dtype
	case "value_float":
		if _, err = c.attr(a.name, attrFloat); err != nil {
			return err
		}
		k.t, k.onnxType = &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{}, F32: []float32{a.f}}, tFloat
	case "value_floats":
		if _, err = c.attr(a.name, attrFloats); err != nil {
			return err
		}
		k.t, k.onnxType = &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{len(a.floats)}, F32: slices.Clone(a.floats)}, tFloat
	case "value_int":
		if _, err = c.attr(a.name, attrInt); err != nil {
			return err
		}
		k.t, k.onnxType = &ir.Tensor{DType: ir.Int64, Shape: ir.Shape{}, I64: []int64{a.i}}, tInt64
	case "value_ints":
		if _, err = c.attr(a.name, attrInts); err != nil {
			return err
		}
		k.t, k.onnxType = &ir.Tensor{DType: ir.Int64, Shape: ir.Shape{len(a.ints)}, I64: slices.Clone(a.ints)}, tInt64
	default:
		return fmt.Errorf("attribute %q is not supported (value, value_float(s) or value_int(s))", a.name)
	}
	c.bind(&entry{c: k})
	return nil
}
