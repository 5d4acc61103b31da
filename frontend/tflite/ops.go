package tflite

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mncdev/mnc/ir"
)

// opSpec says how one builtin operator is mapped: the BuiltinOptions member
// it takes (optNone: none, or any of the empty ones) and its mapper.
type opSpec struct {
	opt int
	fn  func(imp *importer, op *operator) error
}

var opSpecs map[int32]opSpec

func init() {
	opSpecs = map[int32]opSpec{
		bConv2D:          {optConv2D, importConv},
		bDepthwiseConv2D: {optDepthwiseConv, importDepthwise},
		bAdd:             {optAdd, eltwise(ir.Add)},
		bMul:             {optMul, eltwise(ir.Mul)},
		bSub:             {optSub, eltwise(ir.Sub)},
		bDiv:             {optDiv, eltwise(ir.Div)},
		bAveragePool2D:   {optPool2D, importAveragePool},
		bMean:            {optReducer, importMean},
		bReshape:         {optReshape, importReshape},
		bSqueeze:         {optSqueeze, importSqueeze},
		bSoftmax:         {optSoftmax, importSoftmax},
		bFullyConnected:  {optFullyConnected, importFullyConnected},
		bHardSwish:       {optHardSwish, unary(ir.HardSwish)},
		bLogistic:        {optNone, unary(ir.Sigmoid)},
		bRelu:            {optNone, unary(ir.Relu)},
		bRelu6:           {optNone, unary(ir.Relu6)},
		bPad:             {optPad, importPad},
		bPadV2:           {optPadV2, importPad},
		bConcatenation:   {optConcatenation, importConcat},
		bQuantize:        {optQuantize, passThrough},
		bDequantize:      {optDequantize, passThrough},
		bResizeBilinear:  {optResizeBilinear, importResize},
		bArgMax:          {optArgMax, importArgMax},
	}
}

func (imp *importer) operator(op *operator) error {
	spec, ok := opSpecs[op.code]
	if !ok {
		return errors.New("this operator is not supported by mnc")
	}
	if op.optType != optNone && int(op.optType) != spec.opt {
		return fmt.Errorf("builtin options of union member %d, want %d", op.optType, spec.opt)
	}
	if len(op.outputs) != 1 {
		return fmt.Errorf("%d outputs, want 1", len(op.outputs))
	}
	o := op.outputs[0]
	t := &imp.m.tensors[o]
	switch {
	case t.isConst():
		return fmt.Errorf("output tensor %d %q has constant data", o, t.name)
	case imp.vals[o] != nil:
		return fmt.Errorf("output tensor %d %q is already written by a graph input or an earlier operator", o, t.name)
	}
	switch {
	case t.dtype == ttFloat32, t.dtype == ttUint8, t.dtype == ttInt8, t.dtype == ttInt16:
	case op.code == bArgMax && (t.dtype == ttInt32 || t.dtype == ttInt64): // the indices
	default:
		return fmt.Errorf("output tensor %d %q is %s; mnc maps float and quantized activations only (and ARG_MAX's INT32 or INT64 indices)", o, t.name, typeName(t.dtype))
	}
	return spec.fn(imp, op)
}

// out is the output tensor of op.
func (imp *importer) out(op *operator) *tensor { return &imp.m.tensors[op.outputs[0]] }

// define binds op's output tensor to v, which must have its shape. Only
// ARG_MAX defines an integer value (its indices): any other operator
// reading them (through a file declaring its output float) is refused.
func (imp *importer) define(op *operator, v *ir.Value) error {
	t := imp.out(op)
	if want := irShape(t.shape); !v.Type.Shape.Equal(want) {
		return fmt.Errorf("computes %v where output tensor %q declares %v", v.Type.Shape, t.name, t.shape)
	}
	if v.Type.DType != ir.Float32 && op.code != bArgMax {
		return fmt.Errorf("reads %v indices (an ARG_MAX's output); mnc maps no operator over them", v.Type.DType)
	}
	imp.vals[op.outputs[0]] = v
	imp.setRange(v, t)
	return nil
}

// emit adds a node named after op's output tensor and defines that tensor.
func (imp *importer) emit(op *operator, irop ir.Op, attrs ir.Attrs, ins ...*ir.Value) error {
	v, err := imp.g.Add(irop, imp.out(op).name, attrs, ins...)
	if err != nil {
		return err
	}
	return imp.define(op, v)
}

// act4 returns input k of op, which must be a 4-D activation or constant.
func (imp *importer) act4(op *operator, k int) (*ir.Value, error) {
	v, err := imp.input(op, k)
	if err != nil {
		return nil, err
	}
	if len(imp.m.tensors[op.inputs[k]].shape) != 4 {
		return nil, fmt.Errorf("input %d has shape %v, want a 4-D NHWC tensor", k, imp.m.tensors[op.inputs[k]].shape)
	}
	return v, nil
}

// fused converts a fused activation.
func fused(a int8) (ir.Activation, error) {
	switch a {
	case actNone:
		return ir.Activation{}, nil
	case actRelu:
		return ir.Activation{Kind: ir.ActRelu}, nil
	case actRelu6:
		return ir.Activation{Kind: ir.ActRelu6}, nil
	case actReluN1To1:
		return ir.Activation{Kind: ir.ActClip, Min: -1, Max: 1}, nil
	case actTanh:
		return ir.Activation{}, errors.New("fused activation TANH is not supported")
	case actSignBit:
		return ir.Activation{}, errors.New("fused activation SIGN_BIT is not supported")
	}
	return ir.Activation{}, fmt.Errorf("unknown fused activation %d", a)
}

// emitAct is emit for ops whose ir form has no fused activation: the
// activation becomes a node of its own.
func (imp *importer) emitAct(op *operator, act ir.Activation, irop ir.Op, attrs ir.Attrs, ins ...*ir.Value) error {
	if act.Kind == ir.ActNone {
		return imp.emit(op, irop, attrs, ins...)
	}
	v, err := imp.g.Add(irop, imp.out(op).name+"_pre", attrs, ins...)
	if err != nil {
		return err
	}
	switch act.Kind {
	case ir.ActRelu:
		return imp.emit(op, ir.Relu, nil, v)
	case ir.ActRelu6:
		return imp.emit(op, ir.Relu6, nil, v)
	}
	return imp.emit(op, ir.Clip, &ir.ClipAttrs{Min: act.Min, Max: act.Max}, v)
}

// window reads a window's stride (and dilation) options, checked positive.
func window(o table, slotH, slotW int, what string, def int32) ([2]int, error) {
	h, err := o.int32(slotH, def, what+"_h")
	if err != nil {
		return [2]int{}, err
	}
	w, err := o.int32(slotW, def, what+"_w")
	if err != nil {
		return [2]int{}, err
	}
	if h < 1 || w < 1 || h > 1<<16 || w > 1<<16 {
		return [2]int{}, fmt.Errorf("%s %d,%d, want positive values", what, h, w)
	}
	return [2]int{int(h), int(w)}, nil
}

// pads turns TF padding into explicit pads (top, left, bottom, right) for
// a window k with stride s and dilation d over in (H, W): SAME pads the
// least needed for ceil(in/s) outputs, the odd one after, as TensorFlow
// does (a stride-2 3x3 window over an even size: 0 before, 1 after).
func pads(padding int8, in, k, s, d [2]int) ([4]int, error) {
	switch padding {
	case padValid:
		return [4]int{}, nil
	case padSame:
	default:
		return [4]int{}, fmt.Errorf("unknown padding %d", padding)
	}
	var p [4]int
	for i := range 2 {
		out := (in[i] + s[i] - 1) / s[i]
		total := max(0, (out-1)*s[i]+(k[i]-1)*d[i]+1-in[i])
		p[i], p[i+2] = total/2, total-total/2
	}
	return p, nil
}

func importConv(imp *importer, op *operator) error { return imp.conv(op, false) }

func importDepthwise(imp *importer, op *operator) error { return imp.conv(op, true) }

func (imp *importer) conv(op *operator, depthwise bool) error {
	o := op.opts
	padSlot, sh, sw, actSlot, dh, dw := convPadding, convStrideH, convStrideW, convAct, convDilH, convDilW
	if depthwise {
		padSlot, sh, sw, actSlot, dh, dw = dwPadding, dwStrideH, dwStrideW, dwAct, dwDilH, dwDilW
	}
	padding, err := o.int8(padSlot, padSame, "padding")
	if err != nil {
		return err
	}
	stride, err := window(o, sh, sw, "stride", 0)
	if err != nil {
		return err
	}
	dil, err := window(o, dh, dw, "dilation", 1)
	if err != nil {
		return err
	}
	a, err := o.int8(actSlot, actNone, "fused_activation_function")
	if err != nil {
		return err
	}
	act, err := fused(a)
	if err != nil {
		return err
	}
	x, err := imp.act4(op, 0)
	if err != nil {
		return err
	}
	wi, err := imp.constInput(op, 1, "filter")
	if err != nil {
		return err
	}
	wt := &imp.m.tensors[wi]
	ws := wt.shape
	if len(ws) != 4 {
		return fmt.Errorf("filter has shape %v, want 4-D", ws)
	}
	c := x.Type.Shape[1]
	w, err := imp.floats(wi)
	if err != nil {
		return err
	}
	var group, oc int
	var wshape ir.Shape
	if depthwise { // [1,KH,KW,O] -> [O,1,KH,KW]
		oc = ws[3]
		if ws[0] != 1 || oc%c != 0 {
			return fmt.Errorf("depthwise filter %v over %d input channels, want [1,KH,KW,C*multiplier]", ws, c)
		}
		group, wshape, w = c, ir.Shape{oc, 1, ws[1], ws[2]}, permute(w, ws, [4]int{3, 0, 1, 2})
	} else { // OHWI -> OIHW
		oc = ws[0]
		if ws[3] < 1 || c%ws[3] != 0 {
			return fmt.Errorf("filter %v over %d input channels", ws, c)
		}
		group, wshape, w = c/ws[3], ir.Shape{oc, ws[3], ws[1], ws[2]}, permute(w, ws, [4]int{0, 3, 1, 2})
	}
	k := [2]int{ws[1], ws[2]}
	p, err := pads(padding, [2]int{x.Type.Shape[2], x.Type.Shape[3]}, k, stride, dil)
	if err != nil {
		return err
	}
	ins := []*ir.Value{x, imp.g.AddConst(wt.name, ir.NewFloat32(wshape, w))}
	if b, err := imp.bias(op, oc); err != nil {
		return err
	} else if b != nil {
		ins = append(ins, b)
	}
	return imp.emit(op, ir.Conv, &ir.ConvAttrs{Stride: stride, Dilation: dil, Pads: p, Group: group, Act: act}, ins...)
}

// constInput returns the tensor index of input k of op, a constant.
func (imp *importer) constInput(op *operator, k int, what string) (int, error) {
	if k >= len(op.inputs) || op.inputs[k] < 0 {
		return 0, fmt.Errorf("%s (input %d) is missing", what, k)
	}
	i := op.inputs[k]
	if t := &imp.m.tensors[i]; !t.isConst() {
		return 0, fmt.Errorf("%s %q is not a constant; mnc maps constant weights only", what, t.name)
	}
	return i, nil
}

// bias returns the optional bias (input 2) of a conv or fully connected op
// with n outputs, or nil. A quantized integer bias is dequantized with
// input scale x weight scale, as TFLite's kernels do.
func (imp *importer) bias(op *operator, n int) (*ir.Value, error) {
	if len(op.inputs) < 3 || op.inputs[2] < 0 {
		return nil, nil
	}
	bi, err := imp.constInput(op, 2, "bias")
	if err != nil {
		return nil, err
	}
	bt := &imp.m.tensors[bi]
	if len(bt.shape) != 1 || bt.shape[0] != n {
		return nil, fmt.Errorf("bias has shape %v, want [%d]", bt.shape, n)
	}
	xt, wt := &imp.m.tensors[op.inputs[0]], &imp.m.tensors[op.inputs[1]]
	if (bt.dtype == ttInt32 || bt.dtype == ttInt64) && xt.q != nil && wt.q != nil && len(xt.q.scale) == 1 {
		ws := wt.q.scale
		if len(ws) != 1 && len(ws) != n {
			return nil, fmt.Errorf("filter has %d scales for %d outputs", len(ws), n)
		}
		if err := imp.spendWeights(n); err != nil {
			return nil, err
		}
		raw, err := imp.intData(bi)
		if err != nil {
			return nil, err
		}
		b := make([]float32, n)
		for c := range b {
			s := float64(xt.q.scale[0]) * float64(ws[min(c, len(ws)-1)])
			zero := int64(0)
			if bt.q != nil {
				zero = bt.q.zero[min(c, len(bt.q.zero)-1)]
			}
			b[c] = float32(float64(raw[c]-zero) * s)
		}
		return imp.g.AddConst(bt.name, ir.NewFloat32(ir.Shape{n}, b)), nil
	}
	b, err := imp.floats(bi)
	if err != nil {
		return nil, err
	}
	return imp.g.AddConst(bt.name, ir.NewFloat32(ir.Shape{n}, b)), nil
}

// intData returns the elements of an INT32 or INT64 constant.
func (imp *importer) intData(i int) ([]int64, error) {
	t := &imp.m.tensors[i]
	out := make([]int64, t.elems())
	for j := range out {
		switch t.dtype {
		case ttInt32:
			out[j] = int64(int32(binary.LittleEndian.Uint32(t.data[4*j:])))
		case ttInt64:
			out[j] = int64(binary.LittleEndian.Uint64(t.data[8*j:]))
		default:
			return nil, fmt.Errorf("constant %q is %s, want INT32 or INT64", t.name, typeName(t.dtype))
		}
	}
	return out, nil
}

func importAveragePool(imp *importer, op *operator) error {
	o := op.opts
	padding, err := o.int8(poolPadding, padSame, "padding")
	if err != nil {
		return err
	}
	stride, err := window(o, poolStrideH, poolStrideW, "stride", 0)
	if err != nil {
		return err
	}
	k, err := window(o, poolFilterH, poolFilterW, "filter", 0)
	if err != nil {
		return err
	}
	a, err := o.int8(poolAct, actNone, "fused_activation_function")
	if err != nil {
		return err
	}
	act, err := fused(a)
	if err != nil {
		return err
	}
	x, err := imp.act4(op, 0)
	if err != nil {
		return err
	}
	in := [2]int{x.Type.Shape[2], x.Type.Shape[3]}
	if k == in && (padding == padValid || stride == in) {
		// The window covers the input once: a global average.
		return imp.emitAct(op, act, ir.GlobalAveragePool, nil, x)
	}
	p, err := pads(padding, in, k, stride, [2]int{1, 1})
	if err != nil {
		return err
	}
	// TFLite averages over the window's elements inside the input.
	return imp.emitAct(op, act, ir.AveragePool, &ir.PoolAttrs{Kernel: k, Stride: stride, Pads: p}, x)
}

func importFullyConnected(imp *importer, op *operator) error {
	o := op.opts
	a, err := o.int8(fcAct, actNone, "fused_activation_function")
	if err != nil {
		return err
	}
	act, err := fused(a)
	if err != nil {
		return err
	}
	if f, err := o.int8(fcWeightsFormat, 0, "weights_format"); err != nil || f != 0 {
		return orErr(err, fmt.Sprintf("weights format %d is not supported (DEFAULT only)", f))
	}
	wi, err := imp.constInput(op, 1, "weights")
	if err != nil {
		return err
	}
	wt := &imp.m.tensors[wi]
	if len(wt.shape) != 2 {
		return fmt.Errorf("weights have shape %v, want [outputs, inputs]", wt.shape)
	}
	n, k := wt.shape[0], wt.shape[1]
	x, err := imp.input(op, 0)
	if err != nil {
		return err
	}
	xs := imp.m.tensors[op.inputs[0]].shape
	if len(xs) != 2 {
		// TFLite flattens the input in its own (NHWC) order to [-1, K].
		total := 1
		for _, d := range xs {
			total *= d
		}
		if total%k != 0 {
			return fmt.Errorf("input %v does not flatten to rows of %d", xs, k)
		}
		if x, err = imp.reshape(x, xs, []int{total / k, k}, imp.out(op).name+"_flat"); err != nil {
			return err
		}
	}
	w, err := imp.floats(wi)
	if err != nil {
		return err
	}
	ins := []*ir.Value{x, imp.g.AddConst(wt.name, ir.NewFloat32(ir.Shape{n, k}, w))}
	if b, err := imp.bias(op, n); err != nil {
		return err
	} else if b != nil {
		ins = append(ins, b)
	}
	return imp.emit(op, ir.Gemm, &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true, Act: act}, ins...)
}

func unary(irop ir.Op) func(imp *importer, op *operator) error {
	return func(imp *importer, op *operator) error {
		x, err := imp.input(op, 0)
		if err != nil {
			return err
		}
		return imp.emit(op, irop, nil, x)
	}
}

func eltwise(irop ir.Op) func(imp *importer, op *operator) error {
	return func(imp *importer, op *operator) error {
		a, err := op.opts.int8(eltwiseAct, actNone, "fused_activation_function")
		if err != nil {
			return err
		}
		act, err := fused(a)
		if err != nil {
			return err
		}
		if len(op.inputs) != 2 {
			return fmt.Errorf("%d inputs, want 2", len(op.inputs))
		}
		r := len(imp.out(op).shape)
		ins := make([]*ir.Value, 2)
		for k := range ins {
			if ins[k], err = imp.operand(op, k, r); err != nil {
				return err
			}
		}
		var attrs ir.Attrs
		if act.Kind != ir.ActNone {
			attrs = &ir.EltwiseAttrs{Act: act}
		}
		return imp.emit(op, irop, attrs, ins...)
	}
}

// operand returns input k of a broadcasting op whose output has rank r: a
// constant of lower rank than a 4-D output is broadcast as TFLite does
// (leading ones) and laid out NCHW.
func (imp *importer) operand(op *operator, k, r int) (*ir.Value, error) {
	i := op.inputs[k]
	if i < 0 {
		return nil, fmt.Errorf("input %d is missing", k)
	}
	t := &imp.m.tensors[i]
	if r != 4 || len(t.shape) == 4 {
		return imp.value(i)
	}
	if !t.isConst() {
		return nil, fmt.Errorf("input %d %q of shape %v broadcasts against a 4-D tensor; mnc maps that for constants only", k, t.name, t.shape)
	}
	if len(t.shape) > 4 {
		return nil, fmt.Errorf("input %d has rank %d above the output's 4", k, len(t.shape))
	}
	data, err := imp.floats(i)
	if err != nil {
		return nil, err
	}
	s := append(make([]int, 4-len(t.shape)), t.shape...)
	for j := range 4 - len(t.shape) {
		s[j] = 1
	}
	return imp.g.AddConst(t.name, ir.NewFloat32(irShape(s), permute(data, s, [4]int{0, 3, 1, 2}))), nil
}

// importResize maps RESIZE_BILINEAR: the output size is the constant
// input 1 (INT32 [2], height and width), the options align_corners and
// half_pixel_centers select ir.ResizeAttrs' coordinate rule.
func importResize(imp *importer, op *operator) error {
	ac, err := op.opts.bool(resizeAlignCorners, "align_corners")
	if err != nil {
		return err
	}
	hp, err := op.opts.bool(resizeHalfPixel, "half_pixel_centers")
	if err != nil {
		return err
	}
	x, err := imp.act4(op, 0)
	if err != nil {
		return err
	}
	if len(op.inputs) != 2 {
		return fmt.Errorf("%d inputs, want 2 (the image and its new size)", len(op.inputs))
	}
	size, err := imp.ints(op.inputs[1], "size (input 1)")
	if err != nil {
		return err
	}
	if len(size) != 2 {
		return fmt.Errorf("size holds %d values, want 2 (height, width)", len(size))
	}
	return imp.emit(op, ir.ResizeBilinear, &ir.ResizeAttrs{Size: [2]int{size[0], size[1]}, AlignCorners: ac, HalfPixelCenters: hp}, x)
}

// importArgMax maps ARG_MAX: the axis is the constant input 1 (INT32 or
// INT64, one value), the option output_type (INT32 or INT64, which the
// output tensor must be) the ir.ArgMaxAttrs' OutputType. Over a 4-D input
// the TFLite axis is mapped to the NCHW value's: over the channels (axis
// 3, DeepLab's) the indices [N,H,W] come out in TFLite's order directly;
// over another axis the input goes back to NHWC first, so that the 3-D
// result keeps TFLite's dimension order. A 5-D or larger input, whose 4-D
// indices the reader would hold NCHW, is refused.
func importArgMax(imp *importer, op *operator) error {
	ot, err := op.opts.int8(argMaxOutputType, ttFloat32, "output_type")
	if err != nil {
		return err
	}
	var dt ir.DType
	switch ot {
	case ttInt32:
		dt = ir.Int32
	case ttInt64:
		dt = ir.Int64
	default:
		return fmt.Errorf("output_type %s, want INT32 or INT64", typeName(ot))
	}
	if out := imp.out(op); out.dtype != ot {
		return fmt.Errorf("output_type %s, but output tensor %q is %s", typeName(ot), out.name, typeName(out.dtype))
	}
	if len(op.inputs) != 2 {
		return fmt.Errorf("%d inputs, want 2 (the tensor and the axis)", len(op.inputs))
	}
	x, err := imp.input(op, 0)
	if err != nil {
		return err
	}
	axis, err := imp.ints(op.inputs[1], "axis (input 1)")
	if err != nil {
		return err
	}
	if len(axis) != 1 {
		return fmt.Errorf("axis (input 1) holds %d values, want 1", len(axis))
	}
	xs := imp.m.tensors[op.inputs[0]].shape
	r := len(xs)
	if r > 4 {
		return fmt.Errorf("input of rank %d; mnc maps ARG_MAX over inputs of rank 1 to 4", r)
	}
	a, err := normAxis(int32(axis[0]), r)
	if err != nil {
		return err
	}
	if r == 4 && a != 3 {
		if x, err = imp.g.Add(ir.Transpose, imp.out(op).name+"_nhwc", &ir.TransposeAttrs{Perm: []int{0, 2, 3, 1}}, x); err != nil {
			return err
		}
		return imp.emit(op, ir.ArgMax, &ir.ArgMaxAttrs{Axis: a, OutputType: dt}, x)
	}
	return imp.emit(op, ir.ArgMax, &ir.ArgMaxAttrs{Axis: irAxis(a, r), OutputType: dt}, x)
}
