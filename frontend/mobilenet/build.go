package mobilenet

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/mncdev/mnc/ir"
)

// Config selects an architecture and its hyper-parameters.
type Config struct {
	// Arch is a built-in architecture: "mobilenet_v1", "mobilenet_v2",
	// "mobilenet_v3_large", "mobilenet_v3_small", the segmentation models
	// "lraspp_mobilenet_v3_large" and "deeplabv3_mobilenet_v3_large", the
	// detector "ssdlite320_mobilenet_v3_large", or an alias ("v1", "v2",
	// "v3l", "v3_large", "v3s", "v3_small", "ssdlite"). Ignored when Spec
	// is set.
	Arch        string
	Width       float64 // width multiplier in (0, 4]; 0 means 1.0
	Classes     int     // 0 means 1000 (21 for a segmentation model, 91 for a detector, as torchvision)
	Resolution  int     // input height and width; 0 means 224 (320 for a detector)
	ReducedTail bool    // V3 only: torchvision's reduced_tail
	Dropout     float64 // classifier dropout probability; 0 means 0.2 (validated, not used at inference)
	Spec        *Spec   // custom table; overrides Arch
}

// normalize fills defaults, resolves the spec and checks the values.
func (c Config) normalize() (Config, *Spec, error) {
	if c.Width == 0 {
		c.Width = 1
	}
	if c.Dropout == 0 {
		c.Dropout = 0.2
	}
	var spec *Spec
	if c.Spec != nil {
		if err := c.Spec.Validate(); err != nil {
			return c, nil, fmt.Errorf("arch spec: %w", err)
		}
		spec = c.Spec.withDefaults()
		c.Arch = spec.Name
	} else {
		a, err := CanonicalArch(c.Arch)
		if err != nil {
			return c, nil, err
		}
		c.Arch = a
		spec = builtin[a].withDefaults()
	}
	if c.Classes == 0 {
		switch {
		case spec.Seg != nil:
			c.Classes = 21 // torchvision's segmentation default (VOC's 20 and background)
		case spec.Det != nil:
			c.Classes = 91 // torchvision's detection default (COCO's category ids and background)
		default:
			c.Classes = 1000
		}
	}
	if c.Resolution == 0 {
		c.Resolution = 224
		if spec.Det != nil {
			c.Resolution = 320 // SSDLite320's fixed size
		}
	}
	switch {
	case !(c.Width > 0) || c.Width > 4:
		return c, nil, fmt.Errorf("width %g is not in (0, 4]", c.Width)
	case c.Classes < 1 || c.Classes > 1<<20:
		return c, nil, fmt.Errorf("classes %d is not in [1, %d]", c.Classes, 1<<20)
	case c.Resolution < 1 || c.Resolution > 1<<14:
		return c, nil, fmt.Errorf("resolution %d is not in [1, %d]", c.Resolution, 1<<14)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return c, nil, fmt.Errorf("dropout %g is not in [0, 1)", c.Dropout)
	case c.ReducedTail && spec.Family != FamilyV3:
		return c, nil, fmt.Errorf("reduced_tail applies to MobileNetV3 only, not %s", c.Arch)
	case c.ReducedTail && spec.V3.ReducedTailFrom == 0:
		return c, nil, fmt.Errorf("reduced_tail: the %s table has no reducible tail (v3.reduced_tail_from is 0)", c.Arch)
	}
	return c, spec, nil
}

// describe names a normalized config for messages:
// "mobilenet_v2 width 1.0", "mobilenet_v3_small width 0.5 reduced_tail",
// "mobilenet_v2 width 0.75 (alpha-scaled last conv)".
func (c Config) describe() string {
	s := c.Arch + " width " + formatWidth(c.Width)
	if c.ReducedTail {
		s += " reduced_tail"
	}
	if AlphaScaled(c) {
		s += " (alpha-scaled last conv)"
	}
	return s
}

// AlphaScaled reports whether c is a MobileNetV2 whose last conv scales with
// a width below 1 (V2Spec.LastChannelScales), unlike torchvision's.
func AlphaScaled(c Config) bool {
	return c.Spec != nil && c.Spec.V2 != nil && c.Spec.V2.LastChannelScales && c.Width != 0 && c.Width < 1
}

func formatWidth(w float64) string {
	if w == math.Trunc(w) {
		return strconv.FormatFloat(w, 'f', 1, 64)
	}
	return strconv.FormatFloat(w, 'f', -1, 64)
}

// makeDivisible is torchvision's _make_divisible(v, divisor) with
// min_value = divisor.
// Callers round a product they pass explicitly (float64(a*b)): Go may
// otherwise fuse it with the add below (arm64 does), unlike the Python
// arithmetic this must match.
func makeDivisible(v float64, divisor int) int {
	half := float64(float64(divisor) * 0.5) // rounded: not fused with the add (exact anyway)
	n := max(divisor, int(math.Floor(v+half))/divisor*divisor)
	if float64(n) < 0.9*v {
		n += divisor
	}
	return n
}

// Build returns the float32 graph of cfg, mirroring the PyTorch module:
// input "input" f32[N,3,R,R] (N unknown), output "logits" f32[N,classes]
// (a segmentation model's "out" f32[N,classes,R,R], a detector's
// "cls_logits" f32[N,A,classes] and "bbox_regression" f32[N,A,4]),
// node outputs named by module path and constants by state_dict key, all
// zero-filled at their PyTorch shapes (see Bind). The weights and
// activations are checked against the budget (ir.CheckBudget) before the
// weights are allocated.
func Build(cfg Config) (*ir.Graph, error) {
	return buildChecked(cfg, true)
}

// Shapes is Build without the constants' data (their tensors have shapes
// and no elements): what describing an architecture needs.
func Shapes(cfg Config) (*ir.Graph, error) {
	return buildChecked(cfg, false)
}

func buildChecked(cfg Config, alloc bool) (*ir.Graph, error) {
	c, spec, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	g, err := build(c, spec)
	if err == nil {
		err = ir.CheckBudget(g)
	}
	if err == nil && alloc {
		for _, v := range g.Consts {
			v.Const.F32 = make([]float32, v.Const.Shape.NumElements())
		}
		// (ir.Verify wants constants' data: Shapes' graph is this one
		// without it.)
		err = ir.Verify(g)
	}
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", c.describe(), err)
	}
	return g, nil
}

// builder accumulates the graph; the first error sticks and later calls do
// nothing.
type builder struct {
	g   *ir.Graph
	eps float32
	err error
}

// build returns the graph of c with constants that have shapes and no data.
func build(c Config, spec *Spec) (*ir.Graph, error) {
	b := &builder{g: ir.NewGraph(spec.Name), eps: float32(spec.BNEps)}
	x := b.g.AddInput("input", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{-1, 3, c.Resolution, c.Resolution}})
	ch := func(v float64) int { return makeDivisible(float64(v*c.Width), spec.RoundNearest) }
	var outs []*ir.Value
	switch spec.Family {
	case FamilyV1:
		x = b.v1(x, spec.V1, ch, c.Classes)
	case FamilyV2:
		x = b.v2(x, spec, c, ch)
	case FamilyV3:
		switch {
		case spec.Seg != nil:
			x = b.seg(x, spec, c, ch)
		case spec.Det != nil:
			outs = b.ssdlite(x, spec, c, ch)
			x = nil
			if len(outs) > 0 {
				x = outs[0]
			}
		default:
			x = b.v3(x, spec, c, ch)
		}
	default:
		return nil, fmt.Errorf("unknown family %q", spec.Family)
	}
	if b.err != nil {
		return nil, b.err
	}
	if x == nil {
		return nil, errors.New("no output")
	}
	if outs == nil {
		outs = []*ir.Value{x}
	}
	b.g.Outputs = outs
	if spec.Det != nil {
		if err := detectionMeta(b.g, spec, c); err != nil {
			return nil, err
		}
	}
	return b.g, nil
}

// param adds a constant named by its state_dict key, shape only (Build
// allocates the data once the budget is checked).
func (b *builder) param(key string, shape ...int) *ir.Value {
	return b.g.AddConst(key, &ir.Tensor{DType: ir.Float32, Shape: ir.Shape(shape)})
}

func (b *builder) node(op ir.Op, name string, attrs ir.Attrs, in ...*ir.Value) *ir.Value {
	if b.err != nil {
		return nil
	}
	v, err := b.g.Add(op, name, attrs, in...)
	if err != nil {
		b.err = err
		return nil
	}
	if v.Name != name {
		b.err = fmt.Errorf("duplicate module path %q", name)
	}
	return v
}

// channels returns dimension 1 of x.
func channels(x *ir.Value) int { return x.Type.Shape[1] }

// conv adds nn.Conv2d(in, out, k, stride, padding (k-1)/2, groups, bias) at
// module path name.
func (b *builder) conv(x *ir.Value, name string, out, k, stride, groups int, bias bool) *ir.Value {
	return b.convDil(x, name, out, k, stride, 1, groups, bias)
}

// convDil is conv with dilation dil and torchvision's padding (k-1)/2*dil.
func (b *builder) convDil(x *ir.Value, name string, out, k, stride, dil, groups int, bias bool) *ir.Value {
	if b.err != nil {
		return nil
	}
	in := channels(x)
	if groups < 1 || in%groups != 0 || out%groups != 0 {
		b.err = fmt.Errorf("%s: %d input and %d output channels do not split into %d groups", name, in, out, groups)
		return nil
	}
	inputs := []*ir.Value{x, b.param(name+".weight", out, in/groups, k, k)}
	if bias {
		inputs = append(inputs, b.param(name+".bias", out))
	}
	p := (k - 1) / 2 * dil
	return b.node(ir.Conv, name, &ir.ConvAttrs{
		Stride: [2]int{stride, stride}, Dilation: [2]int{dil, dil}, Pads: [4]int{p, p, p, p}, Group: groups,
	}, inputs...)
}

// bn adds nn.BatchNorm2d at module path name.
func (b *builder) bn(x *ir.Value, name string) *ir.Value {
	if b.err != nil {
		return nil
	}
	c := channels(x)
	return b.node(ir.BatchNorm, name, &ir.BatchNormAttrs{Epsilon: b.eps}, x,
		b.param(name+".weight", c), b.param(name+".bias", c),
		b.param(name+".running_mean", c), b.param(name+".running_var", c))
}

// act adds an activation module.
func (b *builder) act(x *ir.Value, name string, op ir.Op) *ir.Value {
	var attrs ir.Attrs
	if op == ir.HardSigmoid {
		attrs = &ir.HardSigmoidAttrs{Alpha: 1.0 / 6, Beta: 0.5} // torch.nn.Hardsigmoid
	}
	return b.node(op, name, attrs, x)
}

// convBNAct is torchvision's Conv2dNormActivation (bias-free conv, BN,
// optional activation) at prefix: prefix.0, prefix.1, prefix.2.
func (b *builder) convBNAct(x *ir.Value, prefix string, out, k, stride, groups int, act ir.Op) *ir.Value {
	return b.convBNActDil(x, prefix, out, k, stride, 1, groups, act)
}

// convBNActDil is convBNAct with dilation dil.
func (b *builder) convBNActDil(x *ir.Value, prefix string, out, k, stride, dil, groups int, act ir.Op) *ir.Value {
	x = b.convDil(x, prefix+".0", out, k, stride, dil, groups, false)
	x = b.bn(x, prefix+".1")
	if act != ir.InvalidOp {
		x = b.act(x, prefix+".2", act)
	}
	return x
}

// linear adds nn.Linear as Gemm(x, W[out,in]^T, b[out]); the output value
// is named out (the module path unless it is the graph's logits).
func (b *builder) linear(x *ir.Value, name, outName string, out int) *ir.Value {
	if b.err != nil {
		return nil
	}
	in := x.Type.Shape[1]
	n := &ir.Node{Name: name, Op: ir.Gemm, Attrs: &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true},
		Inputs: []*ir.Value{x, b.param(name+".weight", out, in), b.param(name+".bias", out)}}
	types, err := ir.InferNode(n, []ir.TensorType{n.Inputs[0].Type, n.Inputs[1].Type, n.Inputs[2].Type})
	if err != nil {
		b.err = err
		return nil
	}
	n.Outputs = []*ir.Value{b.g.NewValue(outName, types[0])}
	b.g.Nodes = append(b.g.Nodes, n)
	return n.Output()
}

// head adds the pooling and flatten that precede every classifier.
func (b *builder) head(x *ir.Value) *ir.Value {
	x = b.node(ir.GlobalAveragePool, "avgpool", nil, x)
	return b.node(ir.Flatten, "flatten", &ir.FlattenAttrs{Axis: 1}, x)
}

func (b *builder) v1(x *ir.Value, s *V1Spec, ch func(float64) int, classes int) *ir.Value {
	x = b.convBNAct(x, "features.0", ch(float64(s.StemChannels)), 3, 2, 1, ir.Relu)
	for i, blk := range s.Blocks {
		p := "features." + strconv.Itoa(i+1)
		if b.err != nil {
			break
		}
		inp := channels(x)
		x = b.conv(x, p+".0", inp, 3, blk.Stride, inp, false)
		x = b.bn(x, p+".1")
		x = b.act(x, p+".2", ir.Relu)
		x = b.conv(x, p+".3", ch(float64(blk.Out)), 1, 1, 1, false)
		x = b.bn(x, p+".4")
		x = b.act(x, p+".5", ir.Relu)
	}
	x = b.head(x)
	x = b.node(ir.Dropout, "classifier.0", nil, x)
	return b.linear(x, "classifier.1", "logits", classes)
}

func (b *builder) v2(x *ir.Value, spec *Spec, c Config, ch func(float64) int) *ir.Value {
	s := spec.V2
	scale := max(1.0, c.Width) // torchvision
	if s.LastChannelScales {
		scale = c.Width
	}
	lastChannel := makeDivisible(float64(float64(s.LastChannel)*scale), spec.RoundNearest)
	x = b.convBNAct(x, "features.0", ch(float64(s.InputChannel)), 3, 2, 1, ir.Relu6)
	k := 1
	for _, st := range s.Setting {
		out := ch(float64(st.Channels))
		for i := range st.Repeats {
			if b.err != nil {
				break
			}
			stride := 1
			if i == 0 {
				stride = st.Stride
			}
			p := "features." + strconv.Itoa(k) + ".conv"
			in := x
			inp := channels(x)
			hidden := inp * st.Expand
			j := 0
			if st.Expand != 1 {
				x = b.convBNAct(x, p+".0", hidden, 1, 1, 1, ir.Relu6)
				j++
			}
			x = b.convBNAct(x, fmt.Sprintf("%s.%d", p, j), hidden, 3, stride, hidden, ir.Relu6)
			x = b.conv(x, fmt.Sprintf("%s.%d", p, j+1), out, 1, 1, 1, false)
			x = b.bn(x, fmt.Sprintf("%s.%d", p, j+2))
			if stride == 1 && inp == out {
				x = b.node(ir.Add, "features."+strconv.Itoa(k), nil, in, x)
			}
			k++
		}
	}
	x = b.convBNAct(x, "features."+strconv.Itoa(k), lastChannel, 1, 1, 1, ir.Relu6)
	x = b.head(x)
	x = b.node(ir.Dropout, "classifier.0", nil, x)
	return b.linear(x, "classifier.1", "logits", c.Classes)
}

// v3Row is a bneck row after reduced_tail division and width scaling.
type v3Row struct {
	in, kernel, expanded, out, stride int
	se                                bool
	act                               ir.Op
}

// v3Rows applies torchvision's _mobilenet_v3_conf: reduced_tail division
// (before scaling) then adjust_channels.
func v3Rows(spec *Spec, c Config, ch func(float64) int) ([]v3Row, int, error) {
	s := spec.V3
	div := 1
	if c.ReducedTail {
		div = 2
	}
	adjust := func(v int) int { return ch(float64(v)) }
	rows := make([]v3Row, len(s.Blocks))
	for i, blk := range s.Blocks {
		in, exp, out := blk.In, blk.Expanded, blk.Out
		if c.ReducedTail && i >= s.ReducedTailFrom {
			out /= div
			if i > s.ReducedTailFrom {
				in /= div
				exp /= div
			}
		}
		if in < 1 || exp < 1 || out < 1 {
			return nil, 0, fmt.Errorf("reduced_tail: v3.inverted_residual_setting[%d] has fewer than 2 channels to halve", i)
		}
		act := ir.Relu
		if blk.Act == ActHS {
			act = ir.HardSwish
		}
		rows[i] = v3Row{in: adjust(in), kernel: blk.Kernel, expanded: adjust(exp), out: adjust(out),
			stride: blk.Stride, se: blk.SE, act: act}
	}
	last := s.LastChannel / div
	if last < 1 {
		return nil, 0, errors.New("reduced_tail: v3.last_channel is too small to halve")
	}
	return rows, adjust(last), nil
}

func (b *builder) v3(x *ir.Value, spec *Spec, c Config, ch func(float64) int) *ir.Value {
	rows, lastChannel, err := v3Rows(spec, c, ch)
	if err != nil {
		b.err = err
		return nil
	}
	feats := b.v3Features(x, spec, rows, "features", 0)
	if feats == nil {
		return nil
	}
	x = b.head(feats[len(feats)-1])
	x = b.linear(x, "classifier.0", "classifier.0", lastChannel)
	x = b.act(x, "classifier.1", ir.HardSwish)
	x = b.node(ir.Dropout, "classifier.2", nil, x)
	return b.linear(x, "classifier.3", "logits", c.Classes)
}

// v3Features adds MobileNetV3's features (stem, one InvertedResidual per
// row, last 1x1 conv) at prefix ("features", or a segmentation model's
// "backbone") and returns the output of each, features[0] to
// features[len(rows)+1] (nil after an error). With dilateFrom > 0, the rows
// from that index on are torchvision's dilated=True tail: depthwise
// dilation 2 and stride 1, the row's stride still deciding the residual
// connection as in InvertedResidual.
func (b *builder) v3Features(x *ir.Value, spec *Spec, rows []v3Row, prefix string, dilateFrom int) []*ir.Value {
	feats := make([]*ir.Value, 0, len(rows)+2)
	x = b.convBNAct(x, prefix+".0", rows[0].in, 3, 2, 1, ir.HardSwish)
	feats = append(feats, x)
	for i, r := range rows {
		k := prefix + "." + strconv.Itoa(i+1)
		layer := func(j int) string { return k + ".block." + strconv.Itoa(j) }
		x, _ = b.bneck(x, spec, r, i, k, layer, dilateFrom > 0 && i >= dilateFrom)
		if b.err != nil {
			break
		}
		feats = append(feats, x)
	}
	n := len(rows) + 1
	x = b.convBNAct(x, prefix+"."+strconv.Itoa(n), spec.V3.LastConvExpansion*rows[len(rows)-1].out, 1, 1, 1, ir.HardSwish)
	feats = append(feats, x)
	if b.err != nil {
		return nil
	}
	return feats
}

// bneck adds torchvision's InvertedResidual for row i: its layers (block.0,
// block.1, ...) at layer(0), layer(1), ..., the residual Add at name. With
// dilated, the depthwise conv has dilation 2 and stride 1 (dilated=True's
// tail), the row's stride still deciding the residual. It returns the
// block's output and that of its first layer (SSDLite splits C4 there).
func (b *builder) bneck(x *ir.Value, spec *Spec, r v3Row, i int, name string, layer func(int) string, dilated bool) (out, first *ir.Value) {
	if b.err != nil {
		return nil, nil
	}
	if channels(x) != r.in {
		b.err = fmt.Errorf("%s: input has %d channels, row %d says input_c %d", name, channels(x), i, r.in)
		return nil, nil
	}
	in := x
	j := 0
	next := func() string { s := layer(j); j++; return s }
	if r.expanded != r.in {
		x = b.convBNAct(x, next(), r.expanded, 1, 1, 1, r.act)
		first = x
	}
	stride, dil := r.stride, 1
	if dilated {
		stride, dil = 1, 2
	}
	x = b.convBNActDil(x, next(), r.expanded, r.kernel, stride, dil, r.expanded, r.act)
	if first == nil {
		first = x
	}
	if r.se {
		x = b.se(x, next(), makeDivisible(float64(r.expanded/spec.V3.SEDivisor), spec.RoundNearest))
	}
	x = b.convBNAct(x, next(), r.out, 1, 1, 1, ir.InvalidOp)
	if r.stride == 1 && r.in == r.out {
		x = b.node(ir.Add, name, nil, x, in)
	}
	return x, first
}

// se is torchvision's SqueezeExcitation with ReLU and Hardsigmoid.
func (b *builder) se(x *ir.Value, p string, squeeze int) *ir.Value {
	if b.err != nil {
		return nil
	}
	c := channels(x)
	s := b.node(ir.GlobalAveragePool, p+".avgpool", nil, x)
	s = b.conv(s, p+".fc1", squeeze, 1, 1, 1, true)
	s = b.act(s, p+".activation", ir.Relu)
	s = b.conv(s, p+".fc2", c, 1, 1, 1, true)
	s = b.act(s, p+".scale_activation", ir.HardSigmoid)
	return b.node(ir.Mul, p, nil, x, s)
}
