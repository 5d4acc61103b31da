package tflite

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mncdev/mnc/ir"
)

// The layout-sensitive operators. A 4-D TFLite tensor [N,H,W,C] is the ir
// value [N,C,H,W]: axes are mapped (irAxis), and a reshape that changes
// which dimensions exist goes through the TFLite order with transposes,
// unless the two orders hold the elements alike (C = 1 or H*W = 1).

// sameOrder reports whether the NHWC tensor of shape s and its NCHW value
// hold their elements in the same order.
func sameOrder(s []int) bool { return len(s) != 4 || s[3] == 1 || s[1]*s[2] == 1 }

// reshape gives x, the value of a TFLite tensor of shape from, the TFLite
// shape to (the same element count) with TFLite's row-major semantics.
func (imp *importer) reshape(x *ir.Value, from, to []int, name string) (*ir.Value, error) {
	if slices.Equal(from, to) {
		return x, nil
	}
	var err error
	v := x
	if !sameOrder(from) {
		if v, err = imp.g.Add(ir.Transpose, name+"_nhwc", &ir.TransposeAttrs{Perm: []int{0, 2, 3, 1}}, v); err != nil {
			return nil, err
		}
	}
	if sameOrder(to) {
		return imp.g.Add(ir.Reshape, name, &ir.ReshapeAttrs{Shape: irShape(to)}, v)
	}
	if v, err = imp.g.Add(ir.Reshape, name+"_nhwc", &ir.ReshapeAttrs{Shape: slices.Clone(to)}, v); err != nil {
		return nil, err
	}
	return imp.g.Add(ir.Transpose, name, &ir.TransposeAttrs{Perm: []int{0, 3, 1, 2}}, v)
}

func elems(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// matchShape checks a target shape given in the file (-1 for one inferred
// dimension) against the output tensor's shape.
func matchShape(target, out []int) error {
	if len(target) != len(out) {
		return fmt.Errorf("new shape %v does not match the output shape %v", target, out)
	}
	for i, d := range target {
		if d != out[i] && d != -1 {
			return fmt.Errorf("new shape %v does not match the output shape %v", target, out)
		}
	}
	return nil
}

func importReshape(imp *importer, op *operator) error {
	x, err := imp.input(op, 0)
	if err != nil {
		return err
	}
	from, to := imp.m.tensors[op.inputs[0]].shape, imp.out(op).shape
	if elems(from) != elems(to) {
		return fmt.Errorf("input %v and output %v hold different numbers of elements", from, to)
	}
	// The target: the shape input, else the options' new_shape; the output
	// tensor's static shape must agree with it.
	if len(op.inputs) > 1 && op.inputs[1] >= 0 {
		target, err := imp.ints(op.inputs[1], "shape")
		if err != nil {
			return err
		}
		if err := matchShape(target, to); err != nil {
			return err
		}
	} else {
		v, err := op.opts.vector(reshapeNewShape, 4, "new_shape")
		if err != nil {
			return err
		}
		if v.n > 0 {
			if v.n > maxRank {
				return fmt.Errorf("new shape of rank %d", v.n)
			}
			target := make([]int, v.n)
			for i := range target {
				target[i] = int(v.i32(i))
			}
			if err := matchShape(target, to); err != nil {
				return err
			}
		}
	}
	v, err := imp.reshape(x, from, to, imp.out(op).name)
	if err != nil {
		return err
	}
	return imp.define(op, v)
}

func importSqueeze(imp *importer, op *operator) error {
	x, err := imp.input(op, 0)
	if err != nil {
		return err
	}
	from, to := imp.m.tensors[op.inputs[0]].shape, imp.out(op).shape
	v, err := op.opts.vector(squeezeDims, 4, "squeeze_dims")
	if err != nil {
		return err
	}
	if v.n > len(from) {
		return fmt.Errorf("%d squeeze dims for rank %d", v.n, len(from))
	}
	drop := make([]bool, len(from))
	for i := range v.n {
		a, err := normAxis(v.i32(i), len(from))
		if err != nil {
			return err
		}
		if from[a] != 1 {
			return fmt.Errorf("squeezes dimension %d of %v, which is not 1", a, from)
		}
		drop[a] = true
	}
	var want []int
	for i, d := range from {
		if !(drop[i] || v.n == 0 && d == 1) {
			want = append(want, d)
		}
	}
	if !slices.Equal(want, to) {
		return fmt.Errorf("squeezing %v gives %v, but the output tensor declares %v", from, want, to)
	}
	y, err := imp.reshape(x, from, to, imp.out(op).name)
	if err != nil {
		return err
	}
	return imp.define(op, y)
}

func importMean(imp *importer, op *operator) error {
	x, err := imp.act4(op, 0)
	if err != nil {
		return err
	}
	if len(op.inputs) != 2 {
		return fmt.Errorf("%d inputs, want 2", len(op.inputs))
	}
	axes, err := imp.ints(op.inputs[1], "axes")
	if err != nil {
		return err
	}
	set := map[int]bool{}
	for _, a := range axes {
		n, err := normAxis(int32(a), 4)
		if err != nil {
			return err
		}
		set[n] = true
	}
	if len(set) != 2 || !set[1] || !set[2] {
		return fmt.Errorf("mean over axes %v: mnc maps the mean over height and width (NHWC axes 1 and 2) only", axes)
	}
	keep, err := op.opts.bool(reducerKeepDims, "keep_dims")
	if err != nil {
		return err
	}
	if keep {
		return imp.emit(op, ir.GlobalAveragePool, nil, x)
	}
	v, err := imp.g.Add(ir.GlobalAveragePool, imp.out(op).name+"_pool", nil, x)
	if err != nil {
		return err
	}
	return imp.emit(op, ir.Flatten, &ir.FlattenAttrs{Axis: 1}, v)
}

func importSoftmax(imp *importer, op *operator) error {
	x, err := imp.input(op, 0)
	if err != nil {
		return err
	}
	beta, err := op.opts.float32(softmaxBeta, 1, "beta")
	if err != nil {
		return err
	}
	if !(beta > 0) || beta > 1e6 {
		return fmt.Errorf("beta %g, want a positive number", beta)
	}
	r := len(imp.m.tensors[op.inputs[0]].shape)
	if r == 0 {
		return errors.New("softmax of a scalar")
	}
	if beta != 1 {
		b := imp.g.AddConst(imp.out(op).name+"_beta", ir.NewFloat32(ir.Shape{}, []float32{beta}))
		if x, err = imp.g.Add(ir.Mul, imp.out(op).name+"_scaled", nil, x, b); err != nil {
			return err
		}
	}
	if err := imp.emit(op, ir.Softmax, &ir.SoftmaxAttrs{Axis: irAxis(r-1, r)}, x); err != nil {
		return err
	}
	if beta == 1 && r == 2 {
		imp.softmaxIn = append(imp.softmaxIn, softmaxOf{op.outputs[0], x})
	}
	return nil
}

// softmaxOf is a SOFTMAX over class scores: its output tensor and input.
type softmaxOf struct {
	out int
	in  *ir.Value
}

// dropFinalSoftmax leaves out a SOFTMAX over [N, classes] whose output is
// a graph output that nothing else reads: mnc's classifiers output logits
// (the runtime takes the softmax), like the ONNX files converted from the
// same models.
func (imp *importer) dropFinalSoftmax() {
	uses := imp.g.Uses()
	for _, s := range imp.softmaxIn {
		v := imp.vals[s.out]
		if len(uses[v]) > 0 || !slices.Contains(imp.m.outputs, s.out) {
			continue
		}
		prod := imp.g.Producers()[v]
		imp.g.RemoveNodes(prod)
		imp.vals[s.out] = s.in
	}
}

func importPad(imp *importer, op *operator) error {
	x, err := imp.input(op, 0)
	if err != nil {
		return err
	}
	// PAD pads with zero (a quantized tensor's zero point), PADV2 with its
	// third input.
	var value float32
	switch {
	case op.code == bPad && len(op.inputs) != 2:
		return fmt.Errorf("%d inputs, want 2", len(op.inputs))
	case op.code == bPadV2 && len(op.inputs) != 3:
		return fmt.Errorf("%d inputs, want 3", len(op.inputs))
	case op.code == bPadV2:
		ci, err := imp.constInput(op, 2, "constant_values")
		if err != nil {
			return err
		}
		if imp.m.tensors[ci].elems() != 1 {
			return fmt.Errorf("constant_values has shape %v, want one value", imp.m.tensors[ci].shape)
		}
		v, err := imp.floats(ci)
		if err != nil {
			return err
		}
		value = v[0]
	}
	r := len(imp.m.tensors[op.inputs[0]].shape)
	p, err := imp.ints(op.inputs[1], "paddings")
	if err != nil {
		return err
	}
	if ps := imp.m.tensors[op.inputs[1]].shape; len(ps) != 2 || ps[0] != r || ps[1] != 2 {
		return fmt.Errorf("paddings of shape %v for rank %d, want [%d,2]", ps, r, r)
	}
	full := make([]int, 2*r)
	for a := range r {
		if p[2*a] < 0 || p[2*a+1] < 0 {
			return fmt.Errorf("negative paddings %v", p)
		}
		j := irAxis(a, r)
		full[j], full[r+j] = p[2*a], p[2*a+1]
	}
	return imp.emit(op, ir.Pad, &ir.PadAttrs{Pads: full, Mode: "constant", Value: value}, x)
}

func importConcat(imp *importer, op *operator) error {
	axis, err := op.opts.int32(concatAxis, 0, "axis")
	if err != nil {
		return err
	}
	a, err := op.opts.int8(concatAct, actNone, "fused_activation_function")
	if err != nil {
		return err
	}
	act, err := fused(a)
	if err != nil {
		return err
	}
	r := len(imp.out(op).shape)
	ax, err := normAxis(axis, r)
	if err != nil {
		return err
	}
	if len(op.inputs) == 0 {
		return errors.New("no inputs")
	}
	ins := make([]*ir.Value, len(op.inputs))
	for k := range ins {
		if ins[k], err = imp.input(op, k); err != nil {
			return err
		}
		if len(imp.m.tensors[op.inputs[k]].shape) != r {
			return fmt.Errorf("input %d has rank %d, the output %d", k, len(imp.m.tensors[op.inputs[k]].shape), r)
		}
	}
	return imp.emitAct(op, act, ir.Concat, &ir.ConcatAttrs{Axis: irAxis(ax, r)}, ins...)
}

// passThrough maps QUANTIZE and DEQUANTIZE: the graph is float, so the
// output is the input's value (a quantized output's range is recorded when
// the value has none yet).
func passThrough(imp *importer, op *operator) error {
	if len(op.inputs) != 1 {
		return fmt.Errorf("%d inputs, want 1", len(op.inputs))
	}
	if op.inputs[0] < 0 {
		return errors.New("input 0 is missing")
	}
	in, out := &imp.m.tensors[op.inputs[0]], imp.out(op)
	if !slices.Equal(in.shape, out.shape) {
		return fmt.Errorf("input %v and output %v differ in shape", in.shape, out.shape)
	}
	if in.isConst() { // a constant (FLOAT16 weights): the output is that constant
		out.data, out.dtype, out.q = in.data, in.dtype, in.q
		return nil
	}
	x, err := imp.input(op, 0)
	if err != nil {
		return err
	}
	return imp.define(op, x)
}
