package codegen

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/passes"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/mncfb"
	"github.com/mncdev/mnc/runtime/preprocess"
	"github.com/mncdev/mnc/targets"
)

// Options configures Build.
type Options struct {
	// Target names the machine whose kernels read the weights: it selects
	// the weight layouts. "" means "generic".
	Target string
	// Producer records what wrote the file, e.g. "mnc 0.1.0".
	Producer string
	// Labels are the class names (line i = class i), stored in the file.
	Labels []string
	// Preprocess is the image preprocessing to record. For an int8 graph
	// nil means the one recorded in its Meta (calibration's).
	Preprocess *preprocess.Spec
	// Calibration is the calibration record of an int8 model.
	Calibration *runtime.Calibration
	// Extra holds free-form metadata.
	Extra map[string]string
}

// Target describes how weights are laid out for one kind of machine.
type Target struct {
	Name string
	// DepthwiseHWO stores depthwise weights [KH][KW][O] (the layout of
	// kernels.Depthwise) instead of [O][KH][KW].
	DepthwiseHWO bool
}

// Targets lists the known targets. "generic" is the layout of the generic
// kernels the runtime calls today (every convolution [O][KH][KW][C/G]);
// the runtime repacks at load what a faster kernel wants otherwise.
var Targets = map[string]Target{
	"generic": {Name: "generic"},
	// generic-hwo stores depthwise weights as kernels.Depthwise reads them.
	"generic-hwo": {Name: "generic-hwo", DepthwiseHWO: true},
	// The named machines of package targets (rpi3, rpi4, rpi5 are aliases,
	// resolved by Build). Each records its name in the file and uses the
	// layout targets.Target.Layout names; today all use the generic layout
	// and the runtime repacks at load for the kernels the CPU runs.
	"amd64-avx2":    {Name: "amd64-avx2"},
	"amd64-vnni":    {Name: "amd64-vnni"},
	"arm64":         {Name: "arm64"},
	"arm64-dotprod": {Name: "arm64-dotprod"},
	"armv7":         {Name: "armv7"},
}

// TargetKernelsKey is the metadata key (Options.Extra) under which Build
// records the kernel variant of the target (targets.Target.Kernels); the
// runtime reads it as runtime.TargetKernelsKey.
const TargetKernelsKey = runtime.TargetKernelsKey

// ArenaAlignment is the alignment of every activation in the arena.
const ArenaAlignment = 64

// Build converts a graph into the bytes of a .mnc file: an int8 graph as
// made by quant.Quantize (Quantize -> int8 body -> Dequantize), or a float
// graph as left by the passes pipeline (NHWC). The batch dimension is
// fixed to 1 (the runtime runs batches item by item), which requires every
// op to treat batch items independently. The result is verified by
// loading it with the runtime.
func Build(g *ir.Graph, opts Options) ([]byte, error) {
	if g == nil {
		return nil, errors.New("codegen: nil graph")
	}
	tname := opts.Target
	if tname == "" {
		tname = "generic"
	}
	target, ok := Targets[tname]
	if !ok {
		t, err := targets.Lookup(tname) // an alias such as rpi4
		if err != nil {
			return nil, fmt.Errorf("codegen: %w", err)
		}
		target, ok = Targets[t.Name]
		if !ok {
			return nil, fmt.Errorf("codegen: target %q has no weight layout (a bug)", t.Name)
		}
	}
	if t, err := targets.Lookup(target.Name); err == nil && t.Kernels != "" && t.Kernels != "generic" {
		// The runtime compares the kernels the target implies with those
		// the CPU it loads on can run, and says so when it falls back.
		extra := map[string]string{TargetKernelsKey: t.Kernels}
		for k, v := range opts.Extra {
			extra[k] = v
		}
		opts.Extra = extra
	}
	b := &builder{g: g, opts: opts, target: target, tensorOf: map[*ir.Value]int{}}
	if err := b.build(); err != nil {
		return nil, fmt.Errorf("codegen: %s: %w", g.Name, err)
	}
	data := b.serialize()
	if _, err := runtime.Load(data); err != nil {
		return nil, fmt.Errorf("codegen: %s: the written file does not verify (a bug): %w", g.Name, err)
	}
	return data, nil
}

type tensorDef struct {
	name   string
	dtype  mncfb.DType
	shape  []int
	data   []byte // constant data, nil for activations
	scale  []float32
	zero   []int32
	axis   int
	bytes  int64
	offset int64
	first  int
	last   int
}

type opDef struct {
	code    mncfb.BuiltinOp
	name    string
	in      []int
	out     []int
	mid     []int
	conv    *convDef
	act     *ir.Activation
	gate    *ir.Activation
	perm    []int
	shape   []int // RESHAPE
	axis    *int  // SOFTMAX
	actOpts bool  // standalone CLIP / HARD_SIGMOID: act goes in ActivationOptions
	pool    *ir.PoolAttrs
	fcOpts  bool
}

type convDef struct {
	a      *ir.ConvAttrs
	layout mncfb.WeightLayout
}

type builder struct {
	g        *ir.Graph
	opts     Options
	target   Target
	int8     bool
	shapes   map[*ir.Value]ir.Shape
	tensors  []*tensorDef
	ops      []*opDef
	tensorOf map[*ir.Value]int
	input    int
	output   int
	spec     *preprocess.Spec
	arena    int64
	lower    int64
}

func (b *builder) build() error {
	g := b.g
	if len(g.Inputs) != 1 || len(g.Outputs) != 1 {
		return fmt.Errorf("the graph has %d inputs and %d outputs; a model file holds one of each", len(g.Inputs), len(g.Outputs))
	}
	for _, n := range g.Nodes {
		if n.Op == ir.Quantize {
			b.int8 = true
		}
	}
	if b.int8 {
		if err := quant.Check(g); err != nil {
			return err
		}
	} else if err := ir.Verify(g); err != nil {
		return err
	}
	if err := b.inferShapes(); err != nil {
		return err
	}
	if err := b.metadata(); err != nil {
		return err
	}
	in := g.Inputs[0]
	if in.Type.DType != ir.Float32 || g.Outputs[0].Type.DType != ir.Float32 {
		return fmt.Errorf("the graph input and output must be float32, are %v and %v", in.Type.DType, g.Outputs[0].Type.DType)
	}
	b.input = b.activation(in)
	for _, n := range g.Nodes {
		if err := b.node(n); err != nil {
			return fmt.Errorf("%s %q: %w", n.Op, n.Name, err)
		}
	}
	out, ok := b.tensorOf[g.Outputs[0]]
	if !ok || g.Outputs[0] == in {
		return errors.New("the graph output is not computed by any node")
	}
	b.output = out
	if n := len(b.opts.Labels); n > 0 {
		if s := b.tensors[out].shape; len(s) != 2 || s[1] != n {
			return fmt.Errorf("%d labels for an output of shape %v (want one label per class)", n, s)
		}
	}
	b.planArena()
	return nil
}

// inferShapes derives every value's shape for batch 1, and checks with
// batch 2 that the batch is the first dimension of every value and that
// nothing else depends on it (items are independent).
func (b *builder) inferShapes() error {
	infer := func(batch int) (map[*ir.Value]ir.Shape, error) {
		shapes := map[*ir.Value]ir.Shape{}
		in := b.g.Inputs[0]
		s := in.Type.Shape.Clone()
		if len(s) == 0 || (s[0] >= 0 && s[0] != 1) {
			return nil, fmt.Errorf("input shape %v: the first dimension must be the batch", s)
		}
		s[0] = batch
		if !s.Known() {
			return nil, fmt.Errorf("input shape %v is not known apart from the batch", in.Type.Shape)
		}
		shapes[in] = s
		for _, n := range b.g.Nodes {
			types := make([]ir.TensorType, len(n.Inputs))
			for i, v := range n.Inputs {
				if v == nil {
					continue
				}
				if v.IsConst() {
					types[i] = v.Type
					continue
				}
				vs, ok := shapes[v]
				if !ok {
					return nil, fmt.Errorf("%s %q reads %s before it is computed", n.Op, n.Name, v)
				}
				types[i] = ir.TensorType{DType: v.Type.DType, Shape: vs}
			}
			ts, err := ir.InferNode(n, types)
			if err != nil {
				return nil, err
			}
			if len(n.Outputs) != 1 || !ts[0].Shape.Known() {
				return nil, fmt.Errorf("%s %q: output shape %v is not known", n.Op, n.Name, ts[0].Shape)
			}
			shapes[n.Output()] = ts[0].Shape
		}
		return shapes, nil
	}
	one, err := infer(1)
	if err != nil {
		return err
	}
	two, err := infer(2)
	if err != nil {
		return err
	}
	for v, s := range one {
		t := two[v]
		if len(s) == 0 || s[0] != 1 || len(t) != len(s) || t[0] != 2 || !s[1:].Equal(t[1:]) {
			return fmt.Errorf("value %s has shape %v for batch 1 and %v for batch 2: the model does not treat batch items independently", v, s, t)
		}
	}
	for _, n := range b.g.Nodes {
		switch a := n.Attrs.(type) {
		case *ir.TransposeAttrs:
			if len(a.Perm) == 0 || a.Perm[0] != 0 {
				return fmt.Errorf("%s %q moves the batch dimension", n.Op, n.Name)
			}
		case *ir.SoftmaxAttrs:
			r := len(one[n.Output()])
			if ax := a.Axis; ax == 0 || ax == -r {
				return fmt.Errorf("%s %q normalizes over the batch", n.Op, n.Name)
			}
		}
	}
	b.shapes = one
	return nil
}

func (b *builder) metadata() error {
	spec := b.opts.Preprocess
	if spec == nil && b.int8 {
		s, ok, err := quant.Preprocess(b.g)
		if err != nil {
			return err
		}
		if ok {
			spec = &s
		}
	}
	if spec != nil {
		s := b.g.Inputs[0].Type.Shape
		if len(s) != 4 || s[1] != 3 || s[2] != spec.Height || s[3] != spec.Width {
			return fmt.Errorf("preprocessing makes %dx%d RGB images but the model input is %v", spec.Height, spec.Width, s)
		}
	}
	b.spec = spec
	return nil
}

// dtypeOf maps ir element types.
func dtypeOf(d ir.DType) (mncfb.DType, error) {
	switch d {
	case ir.Float32:
		return mncfb.DTypeFLOAT32, nil
	case ir.Int8:
		return mncfb.DTypeINT8, nil
	case ir.Int32:
		return mncfb.DTypeINT32, nil
	}
	return 0, fmt.Errorf("element type %v cannot be stored", d)
}

// activation returns the tensor of a non-constant value, adding it.
func (b *builder) activation(v *ir.Value) int {
	if i, ok := b.tensorOf[v]; ok {
		return i
	}
	dt, _ := dtypeOf(v.Type.DType)
	t := &tensorDef{name: v.Name, dtype: dt, shape: b.shapes[v]}
	if q := v.Quant; q != nil {
		t.scale, t.zero = q.Scale, q.ZeroPoint
	}
	b.tensors = append(b.tensors, t)
	b.tensorOf[v] = len(b.tensors) - 1
	return len(b.tensors) - 1
}

// scratch adds an intermediate tensor.
func (b *builder) scratch(name string, dt mncfb.DType, shape []int, q *ir.QuantParams) int {
	t := &tensorDef{name: name, dtype: dt, shape: shape}
	if q != nil {
		t.scale, t.zero = q.Scale, q.ZeroPoint
	}
	b.tensors = append(b.tensors, t)
	return len(b.tensors) - 1
}

// constant adds a constant tensor with the given (packed) data.
func (b *builder) constant(name string, dt mncfb.DType, shape []int, data []byte, q *ir.QuantParams) int {
	t := &tensorDef{name: name, dtype: dt, shape: shape, data: data}
	if q != nil {
		t.scale, t.axis = q.Scale, q.Axis
		allZero := true
		for _, z := range q.ZeroPoint {
			allZero = allZero && z == 0
		}
		switch {
		case allZero && len(q.ZeroPoint) > 0:
			t.zero = []int32{0} // one entry for every channel
		case len(q.ZeroPoint) > 0:
			t.zero = q.ZeroPoint
		}
	}
	b.tensors = append(b.tensors, t)
	return len(b.tensors) - 1
}

func (b *builder) op(code mncfb.BuiltinOp, n *ir.Node, in []int, mid ...int) *opDef {
	o := &opDef{code: code, name: n.Name, in: in, out: []int{b.activation(n.Output())}, mid: mid}
	b.ops = append(b.ops, o)
	return o
}

func (b *builder) in(n *ir.Node, i int) (int, error) {
	v := n.Inputs[i]
	if v.IsConst() {
		return 0, fmt.Errorf("input %d (%s) is a constant; only activations are supported there", i, v)
	}
	t, ok := b.tensorOf[v]
	if !ok {
		return 0, fmt.Errorf("input %s is not computed before", v)
	}
	return t, nil
}

func (b *builder) node(n *ir.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	switch n.Op {
	case ir.Quantize:
		b.op(mncfb.BuiltinOpQUANTIZE, n, []int{x})
	case ir.Dequantize:
		b.op(mncfb.BuiltinOpDEQUANTIZE, n, []int{x})
	case ir.Conv:
		return b.conv(n, x)
	case ir.Gemm:
		return b.gemm(n, x)
	case ir.Add, ir.Mul:
		y, err := b.in(n, 1)
		if err != nil {
			return err
		}
		code := mncfb.BuiltinOpADD
		if n.Op == ir.Mul {
			code = mncfb.BuiltinOpMUL
		}
		o := b.op(code, n, []int{x, y})
		if a, ok := n.Attrs.(*ir.EltwiseAttrs); ok && a != nil && a.Act.Kind != ir.ActNone {
			act := a.Act
			o.act = &act
		}
	case ir.SqueezeExcite:
		return b.squeezeExcite(n, x)
	case ir.GlobalAveragePool:
		if n.Layout != ir.NHWC {
			return errors.New("needs the NHWC layout (run the passes pipeline)")
		}
		b.op(mncfb.BuiltinOpGLOBAL_AVERAGE_POOL, n, []int{x})
	case ir.AveragePool:
		if n.Layout != ir.NHWC {
			return errors.New("needs the NHWC layout (run the passes pipeline)")
		}
		o := b.op(mncfb.BuiltinOpAVERAGE_POOL_2D, n, []int{x})
		o.pool = n.Attrs.(*ir.PoolAttrs)
	case ir.Lookup:
		a := n.Attrs.(*ir.LookupAttrs)
		tb := make([]byte, 256)
		for i, v := range a.Table {
			tb[i] = byte(v)
		}
		t := b.constant(n.Name+".table", mncfb.DTypeINT8, []int{256}, tb, nil)
		b.op(mncfb.BuiltinOpLOOKUP, n, []int{x, t})
	case ir.Transpose:
		o := b.op(mncfb.BuiltinOpTRANSPOSE, n, []int{x})
		o.perm = n.Attrs.(*ir.TransposeAttrs).Perm
	case ir.Flatten, ir.Reshape, ir.Identity, ir.Dropout:
		o := b.op(mncfb.BuiltinOpRESHAPE, n, []int{x})
		o.shape = b.shapes[n.Output()]
	case ir.Relu:
		b.op(mncfb.BuiltinOpRELU, n, []int{x})
	case ir.Relu6:
		b.op(mncfb.BuiltinOpRELU6, n, []int{x})
	case ir.Clip:
		a := n.Attrs.(*ir.ClipAttrs)
		o := b.op(mncfb.BuiltinOpCLIP, n, []int{x})
		o.act, o.actOpts = &ir.Activation{Kind: ir.ActClip, Min: a.Min, Max: a.Max}, true
	case ir.HardSigmoid:
		a := n.Attrs.(*ir.HardSigmoidAttrs)
		o := b.op(mncfb.BuiltinOpHARD_SIGMOID, n, []int{x})
		o.act, o.actOpts = &ir.Activation{Kind: ir.ActHardSigmoid, Alpha: a.Alpha, Beta: a.Beta}, true
	case ir.HardSwish:
		b.op(mncfb.BuiltinOpHARD_SWISH, n, []int{x})
	case ir.Sigmoid:
		b.op(mncfb.BuiltinOpSIGMOID, n, []int{x})
	case ir.Softmax:
		ax := n.Attrs.(*ir.SoftmaxAttrs).Axis
		o := b.op(mncfb.BuiltinOpSOFTMAX, n, []int{x})
		o.axis = &ax
	default:
		return fmt.Errorf("op %v is not supported in model files", n.Op)
	}
	return nil
}

// ohwi repacks OIHW weights (elements of size es bytes) as OHWI.
func ohwi(src []byte, es int, s ir.Shape) []byte {
	o, ci, kh, kw := s[0], s[1], s[2], s[3]
	dst := make([]byte, len(src))
	for oc := range o {
		for c := range ci {
			for y := range kh {
				for x := range kw {
					from := (((oc*ci+c)*kh+y)*kw + x) * es
					to := (((oc*kh+y)*kw+x)*ci + c) * es
					copy(dst[to:to+es], src[from:from+es])
				}
			}
		}
	}
	return dst
}

// hwo repacks depthwise OIHW weights [O][1][KH][KW] as [KH][KW][O].
func hwo(src []byte, s ir.Shape) []byte {
	o, k := s[0], s[2]*s[3]
	dst := make([]byte, len(src))
	for oc := range o {
		for t := range k {
			dst[t*o+oc] = src[oc*k+t]
		}
	}
	return dst
}

func bytesOf(t *ir.Tensor) []byte {
	switch t.DType {
	case ir.Int8:
		d := make([]byte, len(t.I8))
		for i, v := range t.I8 {
			d[i] = byte(v)
		}
		return d
	case ir.Int32:
		d := make([]byte, 4*len(t.I32))
		for i, v := range t.I32 {
			putU32(d[4*i:], uint32(v))
		}
		return d
	case ir.Float32:
		d := make([]byte, 4*len(t.F32))
		for i, v := range t.F32 {
			putU32(d[4*i:], math.Float32bits(v))
		}
		return d
	}
	return nil
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// weight adds a constant from an ir constant, reshaped (same data order).
func (b *builder) weight(v *ir.Value, shape []int, data []byte) (int, error) {
	if !v.IsConst() {
		return 0, fmt.Errorf("%s is not a constant", v)
	}
	dt, err := dtypeOf(v.Const.DType)
	if err != nil {
		return 0, err
	}
	if data == nil {
		data = bytesOf(v.Const)
	}
	q := v.Quant
	if dt == mncfb.DTypeINT32 {
		// A bias's scales are those of its layer's input times its
		// weights' (the scheme): not stored.
		q = nil
	}
	return b.constant(v.Name, dt, shape, data, q), nil
}

func (b *builder) optionalBias(n *ir.Node, i int) (int, error) {
	if len(n.Inputs) <= i || n.Inputs[i] == nil {
		return -1, nil
	}
	v := n.Inputs[i]
	return b.weight(v, []int{v.Type.Shape.NumElements()}, nil)
}

func (b *builder) conv(n *ir.Node, x int) error {
	a := n.Attrs.(*ir.ConvAttrs)
	if n.Layout != ir.NHWC {
		return errors.New("needs the NHWC layout (run the passes pipeline)")
	}
	w := n.Inputs[1]
	if !w.IsConst() || len(w.Type.Shape) != 4 {
		return fmt.Errorf("weights %s must be a 4-D constant", w)
	}
	s := w.Type.Shape
	c := b.shapes[n.Inputs[0]][3]
	g := a.Groups()
	layout := mncfb.WeightLayoutOHWI
	var wt int
	var err error
	if b.target.DepthwiseHWO && b.int8 && g > 1 && g == c && s[1] == 1 {
		layout = mncfb.WeightLayoutHWO
		q := *w.Quant
		q.Axis = 2
		dt, _ := dtypeOf(w.Const.DType)
		wt = b.constant(w.Name, dt, []int{s[2], s[3], s[0]}, hwo(bytesOf(w.Const), s), &q)
	} else {
		wt, err = b.weight(w, []int{s[0], s[2], s[3], s[1]}, ohwi(bytesOf(w.Const), w.Const.DType.Size(), s))
		if err != nil {
			return err
		}
	}
	bias, err := b.optionalBias(n, 2)
	if err != nil {
		return err
	}
	o := b.op(mncfb.BuiltinOpCONV_2D, n, []int{x, wt, bias})
	o.conv = &convDef{a: a, layout: layout}
	return nil
}

func (b *builder) gemm(n *ir.Node, x int) error {
	a := n.Attrs.(*ir.GemmAttrs)
	if a.TransA {
		return errors.New("transA is not supported")
	}
	w := n.Inputs[1]
	if !w.IsConst() || len(w.Type.Shape) != 2 {
		return fmt.Errorf("weights %s must be a 2-D constant", w)
	}
	var wt, bias int
	var err error
	if b.int8 {
		// quant.Check: transB, alpha = beta = 1.
		if wt, err = b.weight(w, w.Type.Shape, nil); err != nil {
			return err
		}
		if bias, err = b.optionalBias(n, 2); err != nil {
			return err
		}
	} else {
		// Float: store W as [N][K] with alpha folded in, and beta into the bias.
		src := w.Const.F32
		k, nn := w.Type.Shape[0], w.Type.Shape[1]
		if a.TransB {
			nn, k = k, nn
		}
		data := make([]float32, len(src))
		for o := range nn {
			for i := range k {
				v := src[o*k+i]
				if !a.TransB {
					v = src[i*nn+o]
				}
				data[o*k+i] = float32(float64(a.Alpha) * float64(v))
			}
		}
		wt = b.constant(w.Name, mncfb.DTypeFLOAT32, []int{nn, k}, bytesOf(ir.NewFloat32(ir.Shape{nn, k}, data)), nil)
		bias = -1
		if len(n.Inputs) > 2 && n.Inputs[2] != nil {
			c := n.Inputs[2]
			if !c.IsConst() || c.Type.Shape.NumElements() != nn || (len(c.Type.Shape) == 2 && c.Type.Shape[0] != 1) {
				return fmt.Errorf("bias %s %v must be a constant [N] or [1,N]", c, c.Type.Shape)
			}
			bv := make([]float32, nn)
			for i, v := range c.Const.F32 {
				bv[i] = float32(float64(a.Beta) * float64(v))
			}
			bias = b.constant(c.Name, mncfb.DTypeFLOAT32, []int{nn}, bytesOf(ir.NewFloat32(ir.Shape{nn}, bv)), nil)
		}
	}
	o := b.op(mncfb.BuiltinOpFULLY_CONNECTED, n, []int{x, wt, bias})
	o.fcOpts = true
	if a.Act.Kind != ir.ActNone {
		act := a.Act
		o.act = &act
	}
	return nil
}

func (b *builder) squeezeExcite(n *ir.Node, x int) error {
	a := n.Attrs.(*ir.SqueezeExciteAttrs)
	if n.Layout != ir.NHWC {
		return errors.New("needs the NHWC layout (run the passes pipeline)")
	}
	w1, w2 := n.Inputs[1], n.Inputs[3]
	sq, c := w1.Type.Shape[0], w2.Type.Shape[0]
	t1, err := b.weight(w1, []int{sq, c}, nil)
	if err != nil {
		return err
	}
	t2, err := b.weight(w2, []int{c, sq}, nil)
	if err != nil {
		return err
	}
	b1, err := b.optionalBias(n, 2)
	if err != nil {
		return err
	}
	b2, err := b.optionalBias(n, 4)
	if err != nil {
		return err
	}
	in := []int{x, t1, b1, t2, b2}
	var mid []int
	if b.int8 {
		xq := n.Inputs[0].Quant
		ex := a.Gate.InQuant
		gq := &ir.QuantParams{Scale: []float32{quant.GateScale}, ZeroPoint: []int32{quant.GateZero}}
		tbl := passes.HardSigmoidTable(passes.QParams{Scale: ex.Scale[0], Zero: ex.ZeroPoint[0]},
			passes.QParams{Scale: quant.GateScale, Zero: quant.GateZero})
		tb := make([]byte, 256)
		for i, v := range tbl {
			tb[i] = byte(v)
		}
		in = append(in, b.constant(n.Name+".gate_table", mncfb.DTypeINT8, []int{256}, tb, nil))
		mid = []int{
			b.scratch(n.Name+".pooled", mncfb.DTypeINT8, []int{1, c}, xq),
			b.scratch(n.Name+".squeezed", mncfb.DTypeINT8, []int{1, sq}, a.Act.InQuant),
			b.scratch(n.Name+".excited", mncfb.DTypeINT8, []int{1, c}, ex),
			b.scratch(n.Name+".gate", mncfb.DTypeINT8, []int{1, c}, gq),
		}
	} else {
		mid = []int{
			b.scratch(n.Name+".pooled", mncfb.DTypeFLOAT32, []int{1, c}, nil),
			b.scratch(n.Name+".squeezed", mncfb.DTypeFLOAT32, []int{1, sq}, nil),
			b.scratch(n.Name+".gate", mncfb.DTypeFLOAT32, []int{1, c}, nil),
		}
	}
	o := b.op(mncfb.BuiltinOpSQUEEZE_EXCITE, n, in, mid...)
	act, gate := a.Act, a.Gate
	o.act, o.gate = &act, &gate
	return nil
}

// planArena gives every activation its lifetime and an offset: greedy by
// size (as TFLite's arena planner): the largest tensors first, each into
// the smallest gap left by the tensors already placed whose lifetimes
// overlap its own, or above them.
func (b *builder) planArena() {
	for _, t := range b.tensors {
		t.first, t.last, t.offset = -1, -1, -1
		es := int64(4)
		if t.dtype == mncfb.DTypeINT8 {
			es = 1
		}
		n := int64(1)
		for _, d := range t.shape {
			n *= int64(d)
		}
		t.bytes = n * es
	}
	in := b.tensors[b.input]
	in.first, in.last = 0, 0
	for i, o := range b.ops {
		for _, x := range o.in {
			if x >= 0 && b.tensors[x].data == nil {
				b.tensors[x].last = i
			}
		}
		for _, x := range append(append([]int(nil), o.out...), o.mid...) {
			b.tensors[x].first, b.tensors[x].last = i, i
		}
	}
	b.tensors[b.output].last = len(b.ops) - 1
	var live []*tensorDef
	for _, t := range b.tensors {
		if t.data == nil && t.first >= 0 {
			live = append(live, t)
		}
	}
	sort.SliceStable(live, func(i, j int) bool {
		if live[i].bytes != live[j].bytes {
			return live[i].bytes > live[j].bytes
		}
		return live[i].first < live[j].first
	})
	align := func(v int64) int64 { return (v + ArenaAlignment - 1) / ArenaAlignment * ArenaAlignment }
	var placed []*tensorDef
	for _, t := range live {
		var conflicts []*tensorDef
		for _, p := range placed {
			if p.first <= t.last && t.first <= p.last {
				conflicts = append(conflicts, p)
			}
		}
		sort.Slice(conflicts, func(i, j int) bool { return conflicts[i].offset < conflicts[j].offset })
		best, bestGap := int64(-1), int64(math.MaxInt64)
		var end int64
		for _, p := range conflicts {
			if gap := p.offset - end; gap >= t.bytes && gap < bestGap {
				best, bestGap = end, gap
			}
			end = max(end, align(p.offset+p.bytes))
		}
		if best < 0 {
			best = end
		}
		t.offset = best
		placed = append(placed, t)
		b.arena = max(b.arena, t.offset+t.bytes)
	}
	delta := make([]int64, len(b.ops)+1)
	for _, t := range live {
		delta[t.first] += t.bytes
		delta[t.last+1] -= t.bytes
	}
	var cur int64
	for _, d := range delta {
		cur += d
		b.lower = max(b.lower, cur)
	}
}
