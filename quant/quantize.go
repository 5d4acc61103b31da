package quant

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/passes"
	"github.com/mncdev/mnc/runtime/kernels"
)

// GateScale and GateZero are the fixed quantization of every hard-sigmoid
// result (the squeeze-excite gate): codes -128..127 are 0..1.
const (
	GateScale = float32(1.0 / 255)
	GateZero  = int32(-128)
)

// Meta keys set on a quantized graph.
const (
	MetaScheme     = "quant.scheme"
	MetaMethod     = "quant.method"
	MetaImages     = "quant.calib_images"
	MetaPreprocess = ir.MetaPreprocess
	// MetaKeepFloat lists, comma-separated in graph order, the nodes
	// computed in float32 (Options.KeepFloat).
	MetaKeepFloat = "quant.keep_float"
	// Scheme names the quantization contract of quant/doc.go.
	Scheme = "mnc-int8-v1"
)

// quantizer builds the int8 graph.
type quantizer struct {
	g   *ir.Graph
	st  *Stats
	o   Options
	q   *ir.Graph
	m   map[*ir.Value]*ir.Value // float value -> its twin in q: int8, or float32 where kept float
	out map[*ir.Value]bool      // float graph outputs
	// keep names the nodes that stay float32 (Options.KeepFloat); m8 and
	// mf cache the bridges between the precisions: the int8 twin
	// (Quantize) of a float32 value of q and the float32 twin
	// (Dequantize, or a float constant) of a value of g.
	keep   map[string]bool
	m8, mf map[*ir.Value]*ir.Value
	// byOutput records that some channel was rounded by output error.
	byOutput bool
	// chosen records the range and method used for every key.
	chosen map[string]choice
	// auto holds the per-key method of the Auto method.
	auto map[string]string
	// file holds the ranges the model file states, by key
	// (Options.RangesFromModel; model.go).
	file map[string]Range
}

type choice struct {
	Range  Range
	Method string
}

// Quantize returns the int8 graph of the float graph g (the output of the
// passes pipeline, NHWC) quantized with the statistics st by the scheme of
// the package documentation. g is not modified. The result's input is the
// same float32 image tensor as g's and its outputs are float32 (dequantized
// logits); in between every value is int8.
func Quantize(g *ir.Graph, st *Stats, opts Options) (*ir.Graph, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if st == nil || (len(st.Tensors) == 0 && !o.RangesFromModel) {
		return nil, errors.New("quantize: no calibration statistics")
	}
	qz := &quantizer{g: g, st: st, o: o, q: ir.NewGraph(g.Name), m: map[*ir.Value]*ir.Value{},
		out: map[*ir.Value]bool{}, chosen: map[string]choice{}, auto: st.autoChoice,
		keep: map[string]bool{}, m8: map[*ir.Value]*ir.Value{}, mf: map[*ir.Value]*ir.Value{}}
	if o.RangesFromModel {
		qz.file = fileRanges(g)
	}
	for _, v := range g.Outputs {
		qz.out[v] = true
	}
	if err := CheckKeepFloat(g, o.KeepFloat); err != nil {
		return nil, err
	}
	for _, name := range o.KeepFloat {
		qz.keep[name] = true
	}
	if err := qz.build(); err != nil {
		var nf *NonFiniteError
		if errors.As(err, &nf) {
			err = nf // it names its layer; the node that needed the range is beside the point
		}
		return nil, fmt.Errorf("quantize %s: %w", g.Name, err)
	}
	if _, err := passes.RunPasses(qz.q, []passes.Pass{passes.LowerHardActivations}, passes.Options{Check: true}); err != nil {
		return nil, fmt.Errorf("quantize %s: %w", g.Name, err)
	}
	label := methodLabel(o, st.Images)
	if qz.byOutput {
		label += "+outputrounding"
	}
	qz.q.Meta = map[string]string{
		MetaScheme: Scheme,
		MetaMethod: label,
		MetaImages: strconv.Itoa(st.Images),
	}
	if kept := KeptFloat(qz.q); len(kept) > 0 {
		qz.q.Meta[MetaKeepFloat] = strings.Join(kept, ",")
	}
	if err := Check(qz.q); err != nil {
		return nil, fmt.Errorf("quantize %s: %w", g.Name, err)
	}
	if st.Preprocess.Preset != "" {
		if err := SetPreprocess(qz.q, st.Preprocess); err != nil {
			return nil, err
		}
	}
	qz.q.Meta[metaRanges] = encodeChoices(qz.chosen)
	return qz.q, nil
}

func methodLabel(o Options, images int) string {
	s := o.Method
	switch {
	case o.RangesFromModel && images == 0:
		return MethodModel // no calibration: no other method, no bias correction
	case o.RangesFromModel:
		s = MethodModel + ", else " + s
	}
	if o.Method == Percentile {
		s += ":" + strconv.FormatFloat(o.Percentile, 'g', -1, 64)
	}
	if o.Equalize {
		s += "+equalize"
	}
	if !o.NoBiasCorrect {
		s += "+biascorrect"
	}
	return s
}

// actQuant returns the per-tensor quantization of the statistics key.
func (qz *quantizer) actQuant(key string) (*ir.QuantParams, error) {
	if r, ok := qz.file[key]; ok {
		qz.chosen[key] = choice{r, MethodModel}
		s, z := r.Params()
		return perTensorQuant(s, z), nil
	}
	if qz.o.RangesFromModel && qz.st.Images == 0 {
		return nil, fmt.Errorf("the model file states no range for %q and there are no calibration images to measure one", key)
	}
	method := qz.o.Method
	if method == Auto {
		method = qz.auto[key]
		if method == "" {
			method = MSE
		}
	}
	if method != MinMax && !qz.st.Histograms {
		return nil, fmt.Errorf("calibration kept no histograms, which method %s needs (Options.Histograms)", method)
	}
	r, ok := qz.st.Range(key, method, qz.o.Percentile)
	if !ok {
		if err := qz.st.nonFinite(qz.g); err != nil {
			return nil, err // the cause: activations that overflowed float32
		}
		return nil, fmt.Errorf("no calibration statistics for %q", key)
	}
	qz.chosen[key] = choice{r, method}
	s, z := r.Params()
	return perTensorQuant(s, z), nil
}

func perTensorQuant(s float32, z int32) *ir.QuantParams {
	return &ir.QuantParams{Scale: []float32{s}, ZeroPoint: []int32{z}}
}

func gateQuant() *ir.QuantParams { return perTensorQuant(GateScale, GateZero) }

// value returns the int8 twin of a float activation: where v is computed
// in float32 (the graph input, a node kept float), a Quantize by v's
// calibrated range, made once.
func (qz *quantizer) value(v *ir.Value) (*ir.Value, error) {
	x := qz.m[v]
	if x == nil {
		return nil, fmt.Errorf("value %s has no quantized twin", v)
	}
	if x.Type.DType == ir.Float32 && !x.IsConst() {
		if q := qz.m8[x]; q != nil {
			return q, nil
		}
		qp, err := qz.actQuant(v.Name)
		if err != nil {
			return nil, err
		}
		q, err := qz.emit(ir.Quantize, v.Name+".quantize", v.Name+".q", nil, ir.NCHW, qp, x)
		if err != nil {
			return nil, err
		}
		qz.m8[x] = q
		return q, nil
	}
	if x.Type.DType != ir.Int8 || x.Quant == nil {
		return nil, fmt.Errorf("value %s is not a quantized activation", v)
	}
	return x, nil
}

// name returns the name of the int8 twin of v (graph outputs get ".q", the
// original name going to the dequantized output).
func (qz *quantizer) name(v *ir.Value) string {
	if qz.out[v] {
		return v.Name + ".q"
	}
	return v.Name
}

// emit adds a node to the quantized graph.
func (qz *quantizer) emit(op ir.Op, name, outName string, attrs ir.Attrs, layout ir.Layout, quant *ir.QuantParams, ins ...*ir.Value) (*ir.Value, error) {
	n := &ir.Node{Name: name, Op: op, Attrs: attrs, Inputs: ins, Layout: layout}
	types, err := ir.InferNode(n, inTypes(ins))
	if err != nil {
		return nil, err
	}
	y := qz.q.NewValue(outName, types[0])
	y.Quant = quant
	n.Outputs = []*ir.Value{y}
	qz.q.Nodes = append(qz.q.Nodes, n)
	return y, nil
}

func (qz *quantizer) build() error {
	if len(qz.g.Inputs) != 1 {
		return fmt.Errorf("model has %d inputs, want 1", len(qz.g.Inputs))
	}
	for _, in := range qz.g.Inputs {
		if in.Type.DType != ir.Float32 {
			return fmt.Errorf("input %s is %v, want f32", in, in.Type.DType)
		}
		// Quantized where an int8 node first reads it (value).
		qz.m[in] = qz.q.AddInput(in.Name, in.Type)
	}
	for _, n := range qz.g.Nodes {
		if len(n.Outputs) != 1 {
			return fmt.Errorf("%s %q has %d outputs", n.Op, n.Name, len(n.Outputs))
		}
		if err := qz.node(n); err != nil {
			return fmt.Errorf("%s %q: %w", n.Op, n.Name, err)
		}
	}
	for _, o := range qz.g.Outputs {
		x := qz.m[o]
		if x == nil {
			return fmt.Errorf("graph output %s is undefined", o)
		}
		y := x
		if x.Type.DType == ir.Int8 {
			var err error
			y, err = qz.emit(ir.Dequantize, o.Name+".dequantize", o.Name, nil, ir.NCHW, nil, x)
			if err != nil {
				return err
			}
		}
		qz.q.Outputs = append(qz.q.Outputs, y)
	}
	return nil
}

func (qz *quantizer) node(n *ir.Node) error {
	y := n.Output()
	if qz.keep[n.Name] {
		return qz.floatNode(n)
	}
	switch n.Op {
	case ir.Transpose, ir.Flatten, ir.Reshape, ir.Identity, ir.Dropout, ir.Relu, ir.Relu6, ir.Clip:
		// Ops that change no value stay in their input's precision; on
		// the graph input (the NCHW->NHWC transpose), in that of the
		// nodes reading their result, so that an int8 model quantizes
		// its input first, as it always has.
		if x := qz.m[n.Inputs[0]]; x != nil && x.Type.DType == ir.Float32 && (!slices.Contains(qz.g.Inputs, n.Inputs[0]) || qz.readByKept(y)) {
			return qz.floatNode(n)
		}
	}
	switch n.Op {
	case ir.Conv:
		return qz.conv(n)
	case ir.Gemm:
		return qz.gemm(n)
	case ir.SqueezeExcite:
		return qz.squeezeExcite(n)
	case ir.Transpose, ir.Flatten, ir.Reshape, ir.Identity, ir.Dropout, ir.Relu, ir.Relu6, ir.Clip, ir.ResizeBilinear:
		// Same codes, same quantization (activations become clamps;
		// interpolated codes keep the input's quantization, as TFLite's
		// int8 RESIZE_BILINEAR, whose input and output share it).
		if n.Op == ir.ResizeBilinear && n.Layout != ir.NHWC {
			return errors.New("int8 ResizeBilinear needs NHWC (run the passes pipeline first)")
		}
		x, err := qz.value(n.Inputs[0])
		if err != nil {
			return err
		}
		qp := *x.Quant
		out, err := qz.emit(n.Op, n.Name, qz.name(y), n.Attrs, n.Layout, &qp, x)
		qz.m[y] = out
		return err
	case ir.HardSwish, ir.HardSigmoid, ir.Sigmoid:
		// Lookup tables (passes.LowerHardActivations); the gates'
		// results, in [0, 1], take the fixed gate quantization.
		x, err := qz.value(n.Inputs[0])
		if err != nil {
			return err
		}
		qp := gateQuant()
		if n.Op == ir.HardSwish {
			if qp, err = qz.actQuant(y.Name); err != nil {
				return err
			}
		}
		out, err := qz.emit(n.Op, n.Name, qz.name(y), n.Attrs, n.Layout, qp, x)
		qz.m[y] = out
		return err
	case ir.GlobalAveragePool:
		if n.Layout != ir.NHWC {
			return errors.New("int8 GlobalAveragePool needs NHWC (run the passes pipeline first)")
		}
		x, err := qz.value(n.Inputs[0])
		if err != nil {
			return err
		}
		qp, err := qz.actQuant(y.Name)
		if err != nil {
			return err
		}
		out, err := qz.emit(n.Op, n.Name, qz.name(y), n.Attrs, n.Layout, qp, x)
		qz.m[y] = out
		return err
	case ir.Add, ir.Mul:
		return qz.binary(n)
	case ir.Concat:
		// Each input is requantized to the output's range (the file's or
		// the calibrated one); inputs already in it are copied.
		ins := make([]*ir.Value, len(n.Inputs))
		for i, v := range n.Inputs {
			x, err := qz.value(v)
			if err != nil {
				return err
			}
			ins[i] = x
		}
		qp, err := qz.actQuant(y.Name)
		if err != nil {
			return err
		}
		out, err := qz.emit(n.Op, n.Name, qz.name(y), n.Attrs, n.Layout, qp, ins...)
		qz.m[y] = out
		return err
	case ir.ArgMax:
		// On the int8 codes (one positive scale: the same indices as the
		// values'; with a fused resize, the interpolations' exact sums).
		x, err := qz.value(n.Inputs[0])
		if err != nil {
			return err
		}
		out, err := qz.emit(n.Op, n.Name, y.Name, n.Attrs, n.Layout, nil, x)
		qz.m[y] = out
		return err
	}
	return fmt.Errorf("op %v has no int8 form", n.Op)
}

// readByKept reports whether a node kept float reads v.
func (qz *quantizer) readByKept(v *ir.Value) bool {
	for _, n := range qz.g.Nodes {
		if qz.keep[n.Name] && slices.Contains(n.Inputs, v) {
			return true
		}
	}
	return false
}

// floatNode emits n as it is, in float32, on the float32 twins of its
// inputs: a convolution's, Gemm's or squeeze-excite unit's weights those of
// storedWeights (Options.FloatWeights int8), or its own float ones.
func (qz *quantizer) floatNode(n *ir.Node) error {
	ins := make([]*ir.Value, len(n.Inputs))
	if (n.Op == ir.Conv || n.Op == ir.Gemm || n.Op == ir.SqueezeExcite) && qz.o.FloatWeights == FloatWeightsInt8 {
		if err := qz.storedWeights(n, ins); err != nil {
			return err
		}
	}
	for i, v := range n.Inputs {
		if ins[i] != nil {
			continue
		}
		x, err := qz.floatOf(v)
		if err != nil {
			return err
		}
		ins[i] = x
	}
	y := n.Output()
	out, err := qz.emit(n.Op, n.Name, y.Name, n.Attrs, n.Layout, nil, ins...)
	qz.m[y] = out
	return err
}

// storedWeights gives a Conv, Gemm or SqueezeExcite n kept in float32 the
// weights an int8 layer would have, dequantized (Options.FloatWeights
// int8): each weight input becomes a float32 constant of the values code x
// scale (float32(q)*s, as the runtime computes them), with the codes'
// quantization as its Quant, so that the model file stores them as int8
// (codegen) and the float op costs no more file than the int8 one; a
// layer's float bias, if any, is corrected for the codes' error as an int8
// layer's is (correctBias; a squeeze-excite unit's, like the int8 unit's,
// is not). Inputs it leaves nil are the caller's to fill. The activations
// stay float32: keeping an op float removes their quantization noise,
// which is what costs (weights are quantized at 47 to 67 dB SQNR,
// activations at 20 to 30 dB; see doc.go).
func (qz *quantizer) storedWeights(n *ir.Node, ins []*ir.Value) error {
	if n.Op == ir.SqueezeExcite {
		for _, i := range []int{1, 3} {
			if w := n.Inputs[i]; w.IsConst() && w.Const.DType == ir.Float32 {
				t, sw, err := qz.weightCodes(w, w.Name, false, 0)
				if err != nil {
					return err
				}
				ins[i] = qz.dequantized(w.Name, t, sw)
			}
		}
		return nil
	}
	w := n.Inputs[1]
	if !w.IsConst() || w.Const.DType != ir.Float32 {
		return nil
	}
	var inScale float32
	if x := qz.m[n.Inputs[0]]; x != nil && x.Type.DType == ir.Int8 && x.Quant != nil {
		inScale = x.Quant.Scale[0]
	}
	hasBias := len(n.Inputs) == 3 && n.Inputs[2].IsConst() && n.Inputs[2].Const.DType == ir.Float32
	t, sw, err := qz.weightCodes(w, w.Name, hasBias && !qz.o.NoBiasCorrect, inScale)
	if err != nil {
		return err
	}
	ins[1] = qz.dequantized(w.Name, t, sw)
	if hasBias && !qz.o.NoBiasCorrect {
		b := n.Inputs[2]
		fb := qz.correctBias(n, b.Const.F32, t, sw)
		ins[2] = qz.q.AddConst(b.Name, &ir.Tensor{DType: ir.Float32, Shape: b.Const.Shape.Clone(), F32: fb})
	}
	return nil
}

// dequantized adds the float32 constant of the int8 codes t at the
// per-channel (axis 0) scales sw, the codes' quantization as its Quant.
func (qz *quantizer) dequantized(name string, t *ir.Tensor, sw []float32) *ir.Value {
	per := len(t.I8) / len(sw)
	f := make([]float32, len(t.I8))
	for i, q := range t.I8 {
		f[i] = float32(q) * sw[i/per]
	}
	c := qz.q.AddConst(name, &ir.Tensor{DType: ir.Float32, Shape: t.Shape.Clone(), F32: f})
	c.Quant = &ir.QuantParams{Scale: sw, ZeroPoint: make([]int32, len(sw)), Axis: 0}
	return c
}

// floatOf returns the float32 twin of a value of g: a constant as it is,
// a value computed in float32 itself, an int8 one dequantized (once).
func (qz *quantizer) floatOf(v *ir.Value) (*ir.Value, error) {
	if f := qz.mf[v]; f != nil {
		return f, nil
	}
	var f *ir.Value
	switch x := qz.m[v]; {
	case v.IsConst():
		f = qz.q.AddConst(v.Name, v.Const)
	case x == nil:
		return nil, fmt.Errorf("value %s is undefined", v)
	case x.Type.DType == ir.Float32:
		return x, nil
	default:
		var err error
		if f, err = qz.emit(ir.Dequantize, v.Name+".dequantize", v.Name+".f", nil, ir.NCHW, nil, x); err != nil {
			return nil, err
		}
	}
	qz.mf[v] = f
	return f, nil
}

// outQuant returns the quantization of the result of a node with fused
// activation act, and the activation to record (hard activations get
// InQuant, the quantization of the result before them).
func (qz *quantizer) outQuant(y *ir.Value, act ir.Activation) (*ir.QuantParams, ir.Activation, error) {
	if isHard(act.Kind) {
		in, err := qz.actQuant(y.Name + keyPre)
		if err != nil {
			return nil, act, err
		}
		act.InQuant = in
		if act.Kind == ir.ActHardSigmoid {
			return gateQuant(), act, nil
		}
	}
	qp, err := qz.actQuant(y.Name)
	return qp, act, err
}

func (qz *quantizer) binary(n *ir.Node) error {
	y := n.Output()
	a, err := qz.value(n.Inputs[0])
	if err != nil {
		return err
	}
	b, err := qz.value(n.Inputs[1])
	if err != nil {
		return err
	}
	var act ir.Activation
	if ea, ok := n.Attrs.(*ir.EltwiseAttrs); ok && ea != nil {
		act = ea.Act
	}
	switch n.Op {
	case ir.Add:
		if !a.Type.Shape.Equal(b.Type.Shape) {
			return fmt.Errorf("int8 Add needs operands of one shape, have %v and %v", a.Type.Shape, b.Type.Shape)
		}
	case ir.Mul:
		as, bs := knownOrMinus1(a.Type.Shape), knownOrMinus1(b.Type.Shape)
		if _, _, ok := kernels.ChannelMulShape(as, bs); !ok {
			if _, _, ok := kernels.ChannelMulShape(bs, as); !ok {
				return fmt.Errorf("int8 Mul supports only an NHWC tensor times a per-channel [N,1,1,C] gate, have %v x %v", a.Type.Shape, b.Type.Shape)
			}
		}
	}
	qp, act, err := qz.outQuant(y, act)
	if err != nil {
		return err
	}
	var attrs ir.Attrs
	if act.Kind != ir.ActNone {
		attrs = &ir.EltwiseAttrs{Act: act}
	}
	out, err := qz.emit(n.Op, n.Name, qz.name(y), attrs, n.Layout, qp, a, b)
	qz.m[y] = out
	return err
}

// knownOrMinus1 returns s with every unknown dimension as -1, so that
// unknown dimensions (the batch) compare equal.
func knownOrMinus1(s ir.Shape) []int {
	d := make([]int, len(s))
	for i, v := range s {
		d[i] = max(v, -1)
	}
	return d
}

func (qz *quantizer) conv(n *ir.Node) error {
	a := n.Attrs.(*ir.ConvAttrs)
	if n.Layout != ir.NHWC {
		return errors.New("int8 Conv needs NHWC (run the passes pipeline first)")
	}
	x, err := qz.value(n.Inputs[0])
	if err != nil {
		return err
	}
	w, sw, err := qz.weights(n.Inputs[1], n.Inputs[1].Name, len(n.Inputs) == 3 && !qz.o.NoBiasCorrect, x.Quant.Scale[0])
	if err != nil {
		return err
	}
	var fb []float32
	if len(n.Inputs) == 3 {
		if fb, err = floatBias(n.Inputs[2]); err != nil {
			return err
		}
	}
	ws := n.Inputs[1].Type.Shape
	k := ws[1] * ws[2] * ws[3]
	return qz.layer(n, x, w, sw, fb, k, a.Act, func(act ir.Activation) ir.Attrs {
		attrs := *a
		attrs.Act = act
		return &attrs
	})
}

// layer finishes a convolution or fully connected layer n reading x with
// the quantized weights w (per-channel scales sw, dot products of length
// k): it corrects and quantizes the float bias fb (nil: none), quantizes
// the output for the fused activation act and emits the node with the
// attributes attrs makes for the activation recorded.
func (qz *quantizer) layer(n *ir.Node, x, w *ir.Value, sw, fb []float32, k int, act ir.Activation, attrs func(ir.Activation) ir.Attrs) error {
	if fb != nil && !qz.o.NoBiasCorrect {
		fb = qz.correctBias(n, fb, w.Const, sw)
	}
	ins := []*ir.Value{x, w}
	if fb != nil {
		b, err := qz.bias(fb, x.Quant.Scale[0], sw, n.Inputs[2].Name, k)
		if err != nil {
			return err
		}
		ins = append(ins, b)
	}
	y := n.Output()
	qp, act, err := qz.outQuant(y, act)
	if err != nil {
		return err
	}
	out, err := qz.emit(n.Op, n.Name, qz.name(y), attrs(act), n.Layout, qp, ins...)
	qz.m[y] = out
	return err
}

// gemm quantizes a Gemm in the canonical form of the passes pipeline
// (canonicalize): B [N,K] (transB) with alpha folded in, C a bias [N] with
// beta folded in, alpha = beta = 1.
func (qz *quantizer) gemm(n *ir.Node) error {
	a := n.Attrs.(*ir.GemmAttrs)
	if a.TransA {
		return errors.New("int8 Gemm with transA is not supported")
	}
	x, err := qz.value(n.Inputs[0])
	if err != nil {
		return err
	}
	wv := n.Inputs[1]
	if !wv.IsConst() || wv.Const.DType != ir.Float32 || len(wv.Const.Shape) != 2 {
		return fmt.Errorf("weight %s is not a 2-D float32 constant", wv)
	}
	kIn := wv.Const.Shape[1]
	var fb []float32
	if len(n.Inputs) == 3 {
		c := n.Inputs[2]
		if !c.IsConst() || c.Const.DType != ir.Float32 {
			return fmt.Errorf("bias %s is not a float32 constant", c)
		}
		if cs := c.Const.Shape; len(cs) != 1 || cs[0] != wv.Const.Shape[0] {
			return fmt.Errorf("bias %s of shape %v is not per output", c, cs)
		}
		fb = c.Const.F32
	}
	if !a.TransB || a.Alpha != 1 || a.Beta != 1 {
		return errors.New("int8 Gemm needs the canonical form of the passes pipeline (B [N,K] with transB, alpha = beta = 1): run it first")
	}
	w, sw, err := qz.weights(wv, wv.Name, fb != nil && !qz.o.NoBiasCorrect, x.Quant.Scale[0])
	if err != nil {
		return err
	}
	return qz.layer(n, x, w, sw, fb, kIn, a.Act, func(act ir.Activation) ir.Attrs {
		return &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true, Act: act}
	})
}

func (qz *quantizer) squeezeExcite(n *ir.Node) error {
	a := n.Attrs.(*ir.SqueezeExciteAttrs)
	if n.Layout != ir.NHWC {
		return errors.New("int8 SqueezeExcite needs NHWC (run the passes pipeline first)")
	}
	if a.Gate.Kind != ir.ActHardSigmoid || math.Abs(float64(a.Gate.Alpha)-1.0/6) > 1e-6 || a.Gate.Beta != 0.5 {
		return fmt.Errorf("gate %v has no int8 table (want hardsigmoid(1/6, 1/2))", a.Gate)
	}
	switch a.Act.Kind {
	case ir.ActNone, ir.ActRelu, ir.ActRelu6, ir.ActClip:
	default:
		return fmt.Errorf("squeeze activation %v is not supported in int8", a.Act)
	}
	x, err := qz.value(n.Inputs[0])
	if err != nil {
		return err
	}
	y := n.Output()
	sq, err := qz.actQuant(y.Name + keySESqueeze)
	if err != nil {
		return err
	}
	ex, err := qz.actQuant(y.Name + keySEExcite)
	if err != nil {
		return err
	}
	w1, sw1, err := qz.weights(n.Inputs[1], n.Inputs[1].Name, false, 0)
	if err != nil {
		return err
	}
	w2, sw2, err := qz.weights(n.Inputs[3], n.Inputs[3].Name, false, 0)
	if err != nil {
		return err
	}
	fb1, err := floatBias(n.Inputs[2])
	if err != nil {
		return err
	}
	fb2, err := floatBias(n.Inputs[4])
	if err != nil {
		return err
	}
	c, s := w1.Type.Shape[1], w1.Type.Shape[0]
	b1, err := qz.bias(fb1, x.Quant.Scale[0], sw1, n.Inputs[2].Name, c)
	if err != nil {
		return err
	}
	b2, err := qz.bias(fb2, sq.Scale[0], sw2, n.Inputs[4].Name, s)
	if err != nil {
		return err
	}
	qp, err := qz.actQuant(y.Name)
	if err != nil {
		return err
	}
	attrs := *a
	attrs.Act.InQuant = sq
	attrs.Gate.InQuant = ex
	out, err := qz.emit(ir.SqueezeExcite, n.Name, qz.name(y), &attrs, n.Layout, qp, x, w1, b1, w2, b2, qz.gateTable(n.Name, ex))
	qz.m[y] = out
	return err
}

// gateTable adds the gate table of the SqueezeExcite unit called name: the
// hard sigmoid as an int8 lookup from the excite result's quantization ex
// to the gate's (GateScale, GateZero), a constant [256] whose Quant is the
// gate's quantization (that of its entries).
func (qz *quantizer) gateTable(name string, ex *ir.QuantParams) *ir.Value {
	gq := gateQuant()
	tbl := passes.HardSigmoidTable(passes.QParams{Scale: ex.Scale[0], Zero: ex.ZeroPoint[0]},
		passes.QParams{Scale: gq.Scale[0], Zero: gq.ZeroPoint[0]})
	c := qz.q.AddConst(name+".gate_table", &ir.Tensor{DType: ir.Int8, Shape: ir.Shape{256}, I8: tbl[:]})
	c.Quant = gq
	return c
}
