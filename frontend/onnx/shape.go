package onnx

import (
	"errors"
	"fmt"

	"github.com/mncdev/mnc/ir"
)

// Some exporters compute a flatten target at run time:
//
//	Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]))
//
// The importer folds such chains (Shape, Gather, Slice, Unsqueeze, Squeeze,
// Cast to INT64 and Concat of 1-D integer vectors) symbolically: each
// element is a known integer or "dimension i of value v". A Reshape target
// whose unknown elements are dimensions of the reshaped value at the same
// position becomes a constant target with 0 (copy) there; so do dimensions
// of an earlier value that the reshaped value provably has at that
// position, through Transposes and copied Reshape dimensions (PyTorch's
// x.view(N, ...).permute(...).reshape(N, ...) with N = x.shape[0], as
// torchvision's SSD heads do). Anything else that would need the folded
// values at run time is refused.

// symDim is a known value (src == nil) or dimension dim of src.
type symDim struct {
	val int64
	src *ir.Value
	dim int
}

func (d symDim) known() bool { return d.src == nil }

// symVec is a folded integer scalar or 1-D vector.
type symVec struct {
	scalar bool
	elems  []symDim
}

// tensor returns the vector as an int64 constant if every element is known.
func (s *symVec) tensor() (*ir.Tensor, bool) {
	t := &ir.Tensor{DType: ir.Int64, Shape: ir.Shape{len(s.elems)}, I64: make([]int64, len(s.elems))}
	if s.scalar {
		t.Shape = ir.Shape{}
	}
	for i, d := range s.elems {
		if !d.known() {
			return nil, false
		}
		t.I64[i] = d.val
	}
	return t, true
}

// symOf views an entry as a folded vector: a folded value or an integer
// constant of rank <= 1.
func symOf(e *entry, int64Only bool) (*symVec, bool) {
	if e.sym != nil {
		return e.sym, true
	}
	// Shape vectors are short; longer constants are ordinary data.
	if e.c == nil || len(e.c.t.Shape) > 1 || e.c.t.Len() > maxRank {
		return nil, false
	}
	if int64Only && e.c.t.DType != ir.Int64 {
		return nil, false
	}
	vals, err := tensorInts(e.c.t)
	if err != nil {
		return nil, false
	}
	s := &symVec{scalar: len(e.c.t.Shape) == 0, elems: make([]symDim, len(vals))}
	for i, v := range vals {
		s.elems[i] = symDim{val: v}
	}
	return s, true
}

// symIn views input i as a folded vector (see symOf); ok is false if it is
// not one.
func (c *nodeCtx) symIn(i int) (*symVec, bool, error) {
	e, err := c.entry(i)
	if err != nil {
		return nil, false, err
	}
	s, ok := symOf(e, false)
	return s, ok, nil
}

// sameDim reports whether dimension i of x is, at run time, dimension j of
// src: x is src, or x comes from src through Transposes (output dimension i
// is input dimension perm[i]) and Reshapes that copy dimension i (a 0 in
// the target).
func (imp *importer) sameDim(x *ir.Value, i int, src *ir.Value, j int) bool {
	for range maxRank {
		if x == src {
			return i == j
		}
		n := imp.producer(x)
		if n == nil || len(n.Inputs) == 0 {
			return false
		}
		switch a := n.Attrs.(type) {
		case *ir.TransposeAttrs:
			if n.Op != ir.Transpose || i >= len(a.Perm) {
				return false
			}
			i = a.Perm[i]
		case *ir.ReshapeAttrs:
			if n.Op != ir.Reshape || i >= len(a.Shape) || a.Shape[i] != 0 {
				return false
			}
		default:
			return false
		}
		x = n.Inputs[0]
	}
	return false
}

// producer returns the node of the graph so far whose output is v, or nil.
func (imp *importer) producer(v *ir.Value) *ir.Node {
	for k := len(imp.g.Nodes) - 1; k >= 0; k-- {
		if n := imp.g.Nodes[k]; len(n.Outputs) > 0 && n.Outputs[0] == v {
			return n
		}
	}
	return nil
}

func foldShape(c *nodeCtx) error {
	if err := c.allow("start", "end"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	e, err := c.entry(0)
	if err != nil {
		return err
	}
	var shape ir.Shape
	var src *ir.Value
	switch {
	case e.v != nil:
		shape, src = e.v.Type.Shape, e.v
	case e.c != nil:
		shape = e.c.t.Shape
	case e.sym != nil:
		shape = ir.Shape{len(e.sym.elems)}
		if e.sym.scalar {
			shape = ir.Shape{}
		}
	}
	r := len(shape)
	start, err := c.smallInt("start", 0)
	if err != nil {
		return err
	}
	end, err := c.smallInt("end", r)
	if err != nil {
		return err
	}
	clampAxis := func(a int) int {
		if a < 0 {
			a += r
		}
		return min(max(a, 0), r)
	}
	start, end = clampAxis(start), clampAxis(end)
	s := &symVec{}
	for i := start; i < end; i++ {
		if shape[i] >= 0 {
			s.elems = append(s.elems, symDim{val: int64(shape[i])})
		} else {
			s.elems = append(s.elems, symDim{src: src, dim: i})
		}
	}
	c.bind(&entry{sym: s})
	return nil
}

func foldGather(c *nodeCtx) error {
	if err := c.allow("axis"); err != nil {
		return err
	}
	if err := c.arity(2, 2, 1); err != nil {
		return err
	}
	data, ok, err := c.symIn(0)
	if err != nil {
		return err
	}
	if !ok || data.scalar {
		return &notFoldable{"its data is not a shape vector"}
	}
	ie, err := c.entry(1)
	if err != nil {
		return err
	}
	if ie.c == nil || len(ie.c.t.Shape) > 1 {
		return &notFoldable{"its indices are not a constant scalar or vector"}
	}
	idx, err := tensorInts(ie.c.t)
	if err != nil {
		return &notFoldable{"indices " + err.Error()}
	}
	axis, err := c.smallInt("axis", 0)
	if err != nil {
		return err
	}
	if axis != 0 && axis != -1 {
		return fmt.Errorf("axis %d out of range for a 1-D shape vector", axis)
	}
	n := int64(len(data.elems))
	out := &symVec{scalar: len(ie.c.t.Shape) == 0, elems: make([]symDim, len(idx))}
	for i, k := range idx {
		if k < -n || k >= n {
			return fmt.Errorf("index %d out of range for a vector of %d", k, n)
		}
		if k < 0 {
			k += n
		}
		out.elems[i] = data.elems[k]
	}
	c.bind(&entry{sym: out})
	return nil
}

// foldAxes reads the axes of Unsqueeze/Squeeze (attribute before opset 13,
// optional constant input from 13).
func foldAxes(c *nodeCtx, required bool) ([]int64, error) {
	if c.opset() < 13 {
		if err := c.allow("axes"); err != nil {
			return nil, err
		}
		if err := c.arity(1, 1, 1); err != nil {
			return nil, err
		}
		a, err := c.attr("axes", attrInts)
		if err != nil {
			return nil, err
		}
		if a == nil {
			if required {
				return nil, errors.New("attribute axes is missing")
			}
			return nil, nil
		}
		return a.ints, nil
	}
	if err := c.allow(); err != nil {
		return nil, err
	}
	lo := 1
	if required {
		lo = 2
	}
	if err := c.arity(lo, 2, 1); err != nil {
		return nil, err
	}
	if !c.has(1) {
		return nil, nil
	}
	e, err := c.entry(1)
	if err != nil {
		return nil, err
	}
	if e.c == nil {
		return nil, &notFoldable{"its axes are not constant"}
	}
	return tensorInts(e.c.t)
}

func foldUnsqueeze(c *nodeCtx) error {
	axes, err := foldAxes(c, true)
	if err != nil {
		return err
	}
	data, ok, err := c.symIn(0)
	if err != nil {
		return err
	}
	if !ok || !data.scalar || len(axes) != 1 || (axes[0] != 0 && axes[0] != -1) {
		return &notFoldable{"only a folded scalar unsqueezed to a 1-D vector is supported"}
	}
	c.bind(&entry{sym: &symVec{elems: data.elems}})
	return nil
}

func foldSqueeze(c *nodeCtx) error {
	axes, err := foldAxes(c, false)
	if err != nil {
		return err
	}
	data, ok, err := c.symIn(0)
	if err != nil {
		return err
	}
	if !ok || data.scalar || len(data.elems) != 1 || len(axes) > 1 || (len(axes) == 1 && axes[0] != 0 && axes[0] != -1) {
		return &notFoldable{"only a folded 1-element vector squeezed to a scalar is supported"}
	}
	c.bind(&entry{sym: &symVec{scalar: true, elems: data.elems}})
	return nil
}

func foldCast(c *nodeCtx) error {
	if err := c.allow("to", "saturate"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	to, err := c.int("to", 0)
	if err != nil {
		return err
	}
	data, ok, err := c.symIn(0)
	if err != nil {
		return err
	}
	if !ok || to != tInt64 {
		return &notFoldable{"only casts of shape vectors to INT64 are folded"}
	}
	c.bind(&entry{sym: data})
	return nil
}

// foldSlice folds a Slice of a shape vector with constant starts, ends,
// axes (0) and steps (attributes before opset 10, inputs from 10), as
// exporters cut the leading dimensions off Shape(x).
func foldSlice(c *nodeCtx) error {
	var starts, ends, axes, steps []int64
	var err error
	if c.opset() < 10 {
		if err := c.allow("starts", "ends", "axes"); err != nil {
			return err
		}
		if err := c.arity(1, 1, 1); err != nil {
			return err
		}
		get := func(name string, required bool) ([]int64, error) {
			a, err := c.attr(name, attrInts)
			if err != nil || a == nil {
				if err == nil && required {
					err = fmt.Errorf("attribute %s is missing", name)
				}
				return nil, err
			}
			return a.ints, nil
		}
		if starts, err = get("starts", true); err != nil {
			return err
		}
		if ends, err = get("ends", true); err != nil {
			return err
		}
		if axes, err = get("axes", false); err != nil {
			return err
		}
	} else {
		if err := c.allow(); err != nil {
			return err
		}
		if err := c.arity(3, 5, 1); err != nil {
			return err
		}
		konst := func(i int, what string) ([]int64, error) {
			if !c.has(i) {
				return nil, nil
			}
			e, err := c.entry(i)
			if err != nil {
				return nil, err
			}
			if e.c == nil {
				return nil, &notFoldable{"its " + what + " are not constant"}
			}
			v, err := tensorInts(e.c.t)
			if err != nil {
				return nil, fmt.Errorf("%s %w", what, err)
			}
			return v, nil
		}
		if starts, err = konst(1, "starts"); err != nil {
			return err
		}
		if ends, err = konst(2, "ends"); err != nil {
			return err
		}
		if axes, err = konst(3, "axes"); err != nil {
			return err
		}
		if steps, err = konst(4, "steps"); err != nil {
			return err
		}
	}
	data, ok, err := c.symIn(0)
	if err != nil {
		return err
	}
	if !ok || data.scalar {
		return &notFoldable{"its data is not a shape vector"}
	}
	if len(starts) != 1 || len(ends) != 1 || len(axes) > 1 || len(steps) > 1 {
		return fmt.Errorf("%d starts, %d ends, %d axes and %d steps; a 1-D shape vector takes one each", len(starts), len(ends), len(axes), len(steps))
	}
	if len(axes) == 1 && axes[0] != 0 && axes[0] != -1 {
		return fmt.Errorf("axis %d out of range for a 1-D shape vector", axes[0])
	}
	step := int64(1)
	if len(steps) == 1 {
		step = steps[0]
	}
	if step == 0 {
		return errors.New("step 0")
	}
	// ONNX's clamping: negative indices count from the end, then starts and
	// ends are clamped to [0, n] ([-1, n-1] for a negative step).
	n := int64(len(data.elems))
	lo, hi := int64(0), n
	if step < 0 {
		lo, hi = -1, n-1
	}
	clamp := func(v int64) int64 {
		if v < 0 {
			v += n // cannot overflow: v < 0 < n
		}
		return min(max(v, lo), hi)
	}
	out := &symVec{}
	for i := clamp(starts[0]); (step > 0 && i < clamp(ends[0])) || (step < 0 && i > clamp(ends[0])); i += step {
		out.elems = append(out.elems, data.elems[i])
	}
	c.bind(&entry{sym: out})
	return nil
}

// foldConcat folds a Concat of 1-D int64 shape vectors. It reports false
// (and no error) when the Concat is an ordinary tensor concatenation.
func foldConcat(c *nodeCtx, axis int) (bool, error) {
	if axis != 0 && axis != -1 {
		return false, nil
	}
	anySym := false
	for i := range c.n.inputs {
		e, err := c.entry(i)
		if err != nil {
			return false, err
		}
		anySym = anySym || e.sym != nil
	}
	if !anySym {
		return false, nil // constants only: an ordinary Concat keeps the data's type
	}
	var parts []*symVec
	for i := range c.n.inputs {
		s, ok := symOf(c.imp.env[c.n.inputs[i]], true)
		if !ok || s.scalar {
			return false, nil
		}
		parts = append(parts, s)
	}
	out := &symVec{}
	for _, p := range parts {
		if len(out.elems)+len(p.elems) > maxRank {
			return false, fmt.Errorf("shape vector longer than %d", maxRank)
		}
		out.elems = append(out.elems, p.elems...)
	}
	c.bind(&entry{sym: out})
	return true, nil
}

func importReshape(c *nodeCtx) error {
	if err := c.allow("allowzero"); err != nil {
		return err
	}
	if err := c.arity(2, 2, 1); err != nil {
		return err
	}
	allowZero, err := c.flag("allowzero")
	if err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	e, err := c.entry(1)
	if err != nil {
		return err
	}
	if e.c != nil && e.c.t.DType != ir.Int64 && e.c.t.DType != ir.Int32 {
		return fmt.Errorf("shape input %q is %s, want INT64", c.n.inputs[1], onnxTypeName(e.c.onnxType))
	}
	if e.c != nil && e.c.t.Len() > maxRank {
		return fmt.Errorf("target shape has %d dimensions, more than %d", e.c.t.Len(), maxRank)
	}
	s, ok := symOf(e, false)
	if !ok {
		return fmt.Errorf("input 1 (shape, %q) must be a constant (an initializer, a Constant node or a foldable Shape computation)", c.n.inputs[1])
	}
	if s.scalar {
		return fmt.Errorf("shape input is a scalar, want a 1-D vector")
	}
	if len(s.elems) > maxRank {
		return fmt.Errorf("target shape has %d dimensions, more than %d", len(s.elems), maxRank)
	}
	target := make([]int, len(s.elems))
	for i, d := range s.elems {
		switch {
		case d.known():
			if d.val < -1 || d.val > maxDim {
				return fmt.Errorf("target shape element %d is %d", i, d.val)
			}
			if d.val == 0 && allowZero {
				return fmt.Errorf("allowzero=1 with a 0 in the target shape (an empty tensor) is not supported")
			}
			target[i] = int(d.val)
		case !allowZero && c.imp.sameDim(x, i, d.src, d.dim):
			target[i] = 0 // copy the dimension
		default:
			return fmt.Errorf("target shape element %d is dimension %d of %s, unknown until run time", i, d.dim, d.src)
		}
	}
	n := 1
	for _, d := range target {
		if d > 0 {
			if n > maxElems/d {
				return fmt.Errorf("target shape %v holds more than %d elements", target, int64(maxElems))
			}
			n *= d
		}
	}
	return c.emit(ir.Reshape, &ir.ReshapeAttrs{Shape: target}, x)
}
