package ir

import (
	"strings"
	"testing"
)

// tiny builds input -> Conv(3x3/2, asymmetric pads) -> Relu -> GAP -> Flatten -> Gemm.
func tiny(t *testing.T) *Graph {
	t.Helper()
	g := NewGraph("tiny")
	x := g.AddInput("input", TensorType{Float32, Shape{-1, 3, 8, 8}})
	w := g.AddConst("conv.weight", NewFloat32(Shape{4, 3, 3, 3}, nil))
	b := g.AddConst("conv.bias", NewFloat32(Shape{4}, nil))
	must := func(v *Value, err error) *Value {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	c := must(g.Add(Conv, "conv", &ConvAttrs{Stride: [2]int{2, 2}, Pads: [4]int{0, 0, 1, 1}}, x, w, b))
	if got := c.Type.Shape; !got.Equal(Shape{-1, 4, 4, 4}) {
		t.Fatalf("conv shape %v", got)
	}
	r := must(g.Add(Relu, "relu", nil, c))
	p := must(g.Add(GlobalAveragePool, "pool", nil, r))
	f := must(g.Add(Flatten, "flat", &FlattenAttrs{Axis: 1}, p))
	fw := g.AddConst("fc.weight", NewFloat32(Shape{10, 4}, nil))
	fb := g.AddConst("fc.bias", NewFloat32(Shape{10}, nil))
	y := must(g.Add(Gemm, "logits", &GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, f, fw, fb))
	g.Outputs = []*Value{y}
	return g
}

func TestBuildVerifyDump(t *testing.T) {
	g := tiny(t)
	if err := Verify(g); err != nil {
		t.Fatal(err)
	}
	dump := g.String()
	for _, want := range []string{
		`graph "tiny"`,
		"input  %input: f32[N,3,8,8]",
		"%conv = Conv(%input, %conv.weight, %conv.bias) stride=2,2 pads=0,0,1,1 group=1 : f32[N,4,4,4]",
		"%logits = Gemm(%flat, %fc.weight, %fc.bias) alpha=1 beta=1 transA=false transB=true : f32[N,10]",
		"output %logits",
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
	st := ComputeStats(g)
	if st.Params != 4*27+4+40+10 || st.MACs != 4*4*4*27+40 {
		t.Errorf("stats %+v", st)
	}
}

func TestVerifyCatches(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(g *Graph)
		want   string
	}{
		{"dangling", func(g *Graph) {
			g.Nodes[1].Inputs[0] = &Value{ID: 999, Name: "ghost", Type: TensorType{Float32, Shape{-1, 4, 4, 4}}}
		}, "nothing defines"},
		{"duplicate definition", func(g *Graph) { g.Nodes[1].Outputs[0] = g.Nodes[0].Outputs[0] }, "defined twice"},
		{"duplicate name", func(g *Graph) { g.Nodes[1].Outputs[0].Name = "conv" }, "two values are named"},
		{"unsorted", func(g *Graph) { g.Nodes[0], g.Nodes[1] = g.Nodes[1], g.Nodes[0] }, "before it is defined"},
		{"cycle", func(g *Graph) { g.Nodes[0].Inputs[0] = g.Nodes[1].Outputs[0] }, "before it is defined"},
		{"recorded shape", func(g *Graph) { g.Nodes[1].Outputs[0].Type.Shape = Shape{1, 2} }, "inference gives"},
		{"wrong attrs", func(g *Graph) { g.Nodes[0].Attrs = &ClipAttrs{} }, "attributes are"},
		{"nil attrs", func(g *Graph) { g.Nodes[0].Attrs = (*ConvAttrs)(nil) }, "attributes are"},
		{"bad const", func(g *Graph) { g.Consts[0].Const.F32 = g.Consts[0].Const.F32[:3] }, "holds 3 elements"},
		{"no outputs", func(g *Graph) { g.Outputs = nil }, "no outputs"},
		{"undefined output", func(g *Graph) { g.Outputs = []*Value{{ID: 77, Name: "x"}} }, "not defined"},
		{"arity", func(g *Graph) { g.Nodes[1].Inputs = append(g.Nodes[1].Inputs, g.Inputs[0]) }, "has 2 inputs, want 1"},
		{"dtype", func(g *Graph) { g.Inputs[0].Type.DType = Int64 }, "input 1 is f32, input 0 is i64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := tiny(t)
			c.break_(g)
			err := Verify(g)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Verify = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestTopoSort(t *testing.T) {
	g := tiny(t)
	want := g.String()
	// Reverse the nodes; TopoSort must restore a valid order.
	for i, j := 0, len(g.Nodes)-1; i < j; i, j = i+1, j-1 {
		g.Nodes[i], g.Nodes[j] = g.Nodes[j], g.Nodes[i]
	}
	if err := g.TopoSort(); err != nil {
		t.Fatal(err)
	}
	if err := Verify(g); err != nil {
		t.Fatal(err)
	}
	if g.String() != want {
		t.Errorf("order changed:\n%s\nwant\n%s", g, want)
	}
	g.Nodes[0].Inputs[0] = g.Nodes[1].Outputs[0]
	if err := g.TopoSort(); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("TopoSort on a cycle = %v", err)
	}
}

func TestRewriteHelpers(t *testing.T) {
	g := tiny(t)
	relu := g.Nodes[1]
	g.ReplaceUses(relu.Output(), relu.Inputs[0])
	g.RemoveNodes(relu)
	if err := Verify(g); err != nil {
		t.Fatal(err)
	}
	extra := g.AddConst("unused", NewFloat32(Shape{2}, nil))
	g.PruneConsts()
	if g.Const(extra.Name) != nil || g.Const("conv.weight") == nil {
		t.Error("PruneConsts kept an unused constant or dropped a used one")
	}
	if n := len(g.Uses()[g.Nodes[0].Output()]); n != 1 {
		t.Errorf("conv output has %d uses", n)
	}
}

func TestShapeRules(t *testing.T) {
	f := func(s ...int) TensorType { return TensorType{Float32, s} }
	cases := []struct {
		op    Op
		attrs Attrs
		in    []TensorType
		want  Shape
		err   string
	}{
		{Conv, &ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}, Group: 8}, []TensorType{f(2, 8, 7, 7), f(8, 1, 3, 3)}, Shape{2, 8, 7, 7}, ""},
		{Conv, &ConvAttrs{Stride: [2]int{2, 2}, Dilation: [2]int{2, 2}}, []TensorType{f(1, 3, 9, 9), f(4, 3, 3, 3)}, Shape{1, 4, 3, 3}, ""},
		{Conv, &ConvAttrs{Stride: [2]int{1, 1}, Group: 3}, []TensorType{f(1, 4, 5, 5), f(6, 1, 3, 3)}, nil, "does not fit"},
		{Conv, &ConvAttrs{Stride: [2]int{1, 1}}, []TensorType{f(1, 3, 2, 2), f(4, 3, 3, 3)}, nil, "larger than the padded input"},
		{Conv, &ConvAttrs{}, []TensorType{f(1, 3, 2, 2), f(4, 3, 1, 1)}, nil, "bad stride"},
		{Mul, nil, []TensorType{f(-1, 16, 7, 7), f(-1, 16, 1, 1)}, Shape{-1, 16, 7, 7}, ""},
		{Add, nil, []TensorType{f(3, 1), f(4)}, Shape{3, 4}, ""},
		{Add, nil, []TensorType{f(3, 2), f(4)}, nil, "do not broadcast"},
		{AveragePool, &PoolAttrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, CeilMode: true}, []TensorType{f(1, 2, 6, 6)}, Shape{1, 2, 3, 3}, ""},
		{AveragePool, &PoolAttrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}}, []TensorType{f(1, 2, 6, 6)}, Shape{1, 2, 2, 2}, ""},
		{Flatten, &FlattenAttrs{Axis: 1}, []TensorType{f(-1, 4, 1, 1)}, Shape{-1, 4}, ""},
		{Flatten, &FlattenAttrs{Axis: 0}, []TensorType{f(2, 4, 1, 1)}, Shape{1, 8}, ""},
		{Reshape, &ReshapeAttrs{Shape: []int{0, -1}}, []TensorType{f(-1, 4, 2, 2)}, Shape{-1, 16}, ""},
		{Reshape, &ReshapeAttrs{Shape: []int{-1, 16}}, []TensorType{f(3, 4, 2, 2)}, Shape{3, 16}, ""},
		{Reshape, &ReshapeAttrs{Shape: []int{5, -1}}, []TensorType{f(3, 4, 2, 2)}, nil, "cannot reshape"},
		{Gemm, &GemmAttrs{TransB: true}, []TensorType{f(-1, 4), f(10, 4), f(10)}, Shape{-1, 10}, ""},
		{Gemm, &GemmAttrs{}, []TensorType{f(2, 4), f(10, 4)}, nil, "inner dimensions"},
		{MatMul, nil, []TensorType{f(2, 4), f(4, 3)}, Shape{2, 3}, ""},
		{Pad, &PadAttrs{Pads: []int{0, 0, 1, 0, 0, 0, 1, 2}, Mode: "constant"}, []TensorType{f(1, 3, 4, 4)}, Shape{1, 3, 6, 6}, ""},
		{Pad, &PadAttrs{Pads: []int{1, 1}, Mode: "wrap"}, []TensorType{f(4)}, nil, "unknown mode"},
		{Concat, &ConcatAttrs{Axis: -3}, []TensorType{f(1, 3, 4, 4), f(1, 5, 4, 4)}, Shape{1, 8, 4, 4}, ""},
		{Concat, &ConcatAttrs{Axis: 1}, []TensorType{f(1, 3, 4, 4), f(1, 5, 4, 3)}, nil, "outside axis"},
		{Softmax, &SoftmaxAttrs{Axis: 2}, []TensorType{f(1, 3)}, nil, "out of range"},
		{BatchNorm, &BatchNormAttrs{Epsilon: 1e-5}, []TensorType{f(1, 3, 4, 4), f(3), f(3), f(3), f(4)}, nil, "parameter 4"},
		{Clip, &ClipAttrs{Min: 6, Max: 0}, []TensorType{f(1)}, nil, "min 6 > max 0"},
		{Relu, &ClipAttrs{}, []TensorType{f(1)}, nil, "takes no attributes"},
		{Transpose, &TransposeAttrs{Perm: []int{0, 2, 3, 1}}, []TensorType{f(-1, 3, 8, 9)}, Shape{-1, 8, 9, 3}, ""},
		{Transpose, &TransposeAttrs{Perm: []int{0, 2, 2, 1}}, []TensorType{f(1, 3, 8, 9)}, nil, "not a permutation"},
	}
	for i, c := range cases {
		n := &Node{Name: "n", Op: c.op, Attrs: c.attrs}
		got, err := InferNode(n, c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("case %d %v: err = %v, want %q", i, c.op, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d %v: %v", i, c.op, err)
			continue
		}
		if !got[0].Shape.Equal(c.want) {
			t.Errorf("case %d %v: shape %v, want %v", i, c.op, got[0].Shape, c.want)
		}
	}
}

func TestUniqueNames(t *testing.T) {
	g := NewGraph("g")
	a := g.NewValue("x", TensorType{Float32, Shape{1}})
	b := g.NewValue("x", TensorType{Float32, Shape{1}})
	c := g.NewValue("x_1", TensorType{Float32, Shape{1}})
	d := g.NewValue("", TensorType{Float32, Shape{1}})
	if a.Name != "x" || b.Name != "x_1" || c.Name != "x_1_1" || d.Name != "v3" {
		t.Errorf("names %q %q %q %q", a.Name, b.Name, c.Name, d.Name)
	}
}

func TestNHWCShapes(t *testing.T) {
	f := func(s ...int) TensorType { return TensorType{Float32, s} }
	conv := &Node{Name: "c", Op: Conv, Layout: NHWC, Attrs: &ConvAttrs{Stride: [2]int{2, 2}, Pads: [4]int{0, 0, 1, 1}}}
	got, err := InferNode(conv, []TensorType{f(-1, 8, 8, 3), f(4, 3, 3, 3)})
	if err != nil || !got[0].Shape.Equal(Shape{-1, 4, 4, 4}) {
		t.Errorf("NHWC conv: %v %v", got, err)
	}
	gap := &Node{Name: "p", Op: GlobalAveragePool, Layout: NHWC}
	got, err = InferNode(gap, []TensorType{f(2, 7, 7, 16)})
	if err != nil || !got[0].Shape.Equal(Shape{2, 1, 1, 16}) {
		t.Errorf("NHWC pool: %v %v", got, err)
	}
	bn := &Node{Name: "b", Op: BatchNorm, Layout: NHWC, Attrs: &BatchNormAttrs{Epsilon: 1e-5}}
	if _, err := InferNode(bn, []TensorType{f(2, 7, 7, 16), f(16), f(16), f(16), f(16)}); err != nil {
		t.Errorf("NHWC batchnorm: %v", err)
	}
	c, h, w := NHWC.Axes()
	if c != 3 || h != 1 || w != 2 {
		t.Error("NHWC axes")
	}
}

func TestSqueezeExciteShapes(t *testing.T) {
	f := func(s ...int) TensorType { return TensorType{Float32, s} }
	i32 := func(s ...int) TensorType { return TensorType{Int32, s} }
	attrs := &SqueezeExciteAttrs{Act: Activation{Kind: ActRelu}, Gate: Activation{Kind: ActHardSigmoid, Alpha: 1.0 / 6, Beta: 0.5}}
	params := []TensorType{f(4, 16, 1, 1), f(4), f(16, 4, 1, 1), f(16)}
	cases := []struct {
		name   string
		layout Layout
		in     []TensorType
		err    string
	}{
		{"nchw", NCHW, append([]TensorType{f(-1, 16, 7, 7)}, params...), ""},
		{"nhwc", NHWC, append([]TensorType{f(-1, 7, 7, 16)}, params...), ""},
		{"nhwc channel mismatch", NHWC, append([]TensorType{f(1, 16, 7, 7)}, params...), "squeeze weight"},
		{"rank", NCHW, append([]TensorType{f(16, 7, 7)}, params...), "rank 4"},
		{"squeeze bias", NCHW, []TensorType{f(1, 16, 7, 7), f(4, 16, 1, 1), f(5), f(16, 4, 1, 1), f(16)}, "squeeze bias"},
		{"excite weight", NCHW, []TensorType{f(1, 16, 7, 7), f(4, 16, 1, 1), f(4), f(16, 4, 3, 3), f(16)}, "excite weight"},
		{"excite bias", NCHW, []TensorType{f(1, 16, 7, 7), f(4, 16, 1, 1), f(4), f(16, 4, 1, 1), f(8)}, "excite bias"},
		{"arity", NCHW, []TensorType{f(1, 16, 7, 7), f(4, 16, 1, 1), f(4), f(16, 4, 1, 1)}, "want 5"},
		{"int32 biases", NCHW, []TensorType{{Int8, Shape{1, 16, 7, 7}}, {Int8, Shape{4, 16, 1, 1}}, i32(4), {Int8, Shape{16, 4, 1, 1}}, i32(16)}, ""},
		{"int32 weight", NCHW, []TensorType{{Int8, Shape{1, 16, 7, 7}}, i32(4, 16, 1, 1), i32(4), {Int8, Shape{16, 4, 1, 1}}, i32(16)}, "input 1 is i32"},
	}
	for _, c := range cases {
		n := &Node{Name: "se", Op: SqueezeExcite, Attrs: attrs, Layout: c.layout}
		got, err := InferNode(n, c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || !got[0].Shape.Equal(c.in[0].Shape) || got[0].DType != c.in[0].DType {
			t.Errorf("%s: %v %v", c.name, got, err)
		}
	}
	if _, err := InferNode(&Node{Name: "se", Op: SqueezeExcite}, append([]TensorType{f(1, 16, 7, 7)}, params...)); err == nil {
		t.Error("SqueezeExcite without attributes passed")
	}
	if !LayoutSensitive(SqueezeExcite) || LayoutSensitive(Lookup) {
		t.Error("LayoutSensitive")
	}
	n := &Node{Name: "se", Op: SqueezeExcite, Attrs: attrs, Layout: NHWC,
		Inputs:  []*Value{{Name: "x"}, {Name: "w1"}, {Name: "b1"}, {Name: "w2"}, {Name: "b2"}},
		Outputs: []*Value{{Name: "y", Type: f(1, 7, 7, 16)}}}
	if got, want := n.Format(), "%y = SqueezeExcite(%x, %w1, %b1, %w2, %b2) act=relu gate=hardsigmoid(0.16666667,0.5) layout=NHWC : f32[1,7,7,16]"; got != want {
		t.Errorf("Format:\n got %s\nwant %s", got, want)
	}
	if op, ok := OpByName("SqueezeExcite"); !ok || op != SqueezeExcite {
		t.Error("OpByName(SqueezeExcite)")
	}
}

func TestLookupShapes(t *testing.T) {
	var a LookupAttrs
	for i := range a.Table {
		a.Table[i] = int8(i / 2)
	}
	a.Fn = "hardswish"
	got, err := InferNode(&Node{Name: "l", Op: Lookup, Attrs: &a}, []TensorType{{Int8, Shape{-1, 7, 7, 16}}})
	if err != nil || got[0].DType != Int8 || !got[0].Shape.Equal(Shape{-1, 7, 7, 16}) {
		t.Errorf("Lookup: %v %v", got, err)
	}
	if _, err := InferNode(&Node{Name: "l", Op: Lookup, Attrs: &a}, []TensorType{{Float32, Shape{4}}}); err == nil || !strings.Contains(err.Error(), "want i8") {
		t.Errorf("Lookup on f32: %v", err)
	}
	if _, err := InferNode(&Node{Name: "l", Op: Lookup}, []TensorType{{Int8, Shape{4}}}); err == nil {
		t.Error("Lookup without a table passed")
	}
	if s := a.String(); s != "fn=hardswish table=[0..127]" {
		t.Errorf("LookupAttrs.String = %q", s)
	}
}

func TestQuantizeDequantizeShapes(t *testing.T) {
	q := &Node{Name: "q", Op: Quantize}
	got, err := InferNode(q, []TensorType{{Float32, Shape{-1, 3, 8, 8}}})
	if err != nil || got[0].DType != Int8 || !got[0].Shape.Equal(Shape{-1, 3, 8, 8}) {
		t.Errorf("Quantize: %v %v", got, err)
	}
	if _, err := InferNode(q, []TensorType{{Int8, Shape{4}}}); err == nil || !strings.Contains(err.Error(), "want f32") {
		t.Errorf("Quantize of i8: %v", err)
	}
	d := &Node{Name: "d", Op: Dequantize}
	got, err = InferNode(d, []TensorType{{Int8, Shape{2, 10}}})
	if err != nil || got[0].DType != Float32 || !got[0].Shape.Equal(Shape{2, 10}) {
		t.Errorf("Dequantize: %v %v", got, err)
	}
	if _, err := InferNode(d, []TensorType{{Float32, Shape{4}}}); err == nil || !strings.Contains(err.Error(), "want i8") {
		t.Errorf("Dequantize of f32: %v", err)
	}
	if _, err := InferNode(&Node{Name: "d", Op: Dequantize, Attrs: &ClipAttrs{}}, []TensorType{{Int8, Shape{4}}}); err == nil {
		t.Error("Dequantize with attributes passed")
	}
	if op, ok := OpByName("Dequantize"); !ok || op != Dequantize {
		t.Error("OpByName(Dequantize)")
	}

	// A quantized chain verifies: Quantize -> Conv(i8, i8 weight, i32 bias) -> Dequantize.
	g := NewGraph("q")
	x := g.AddInput("x", TensorType{Float32, Shape{1, 2, 4, 4}})
	xq, err := g.Add(Quantize, "xq", nil, x)
	if err != nil {
		t.Fatal(err)
	}
	xq.Quant = &QuantParams{Scale: []float32{0.1}, ZeroPoint: []int32{0}}
	w := g.AddConst("w", &Tensor{DType: Int8, Shape: Shape{3, 2, 1, 1}, I8: make([]int8, 6)})
	b := g.AddConst("b", &Tensor{DType: Int32, Shape: Shape{3}, I32: make([]int32, 3)})
	c, err := g.Add(Conv, "c", &ConvAttrs{Stride: [2]int{1, 1}}, xq, w, b)
	if err != nil || c.Type.DType != Int8 {
		t.Fatalf("int8 conv: %v %v", c, err)
	}
	y, err := g.Add(Dequantize, "y", nil, c)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*Value{y}
	g.Meta = map[string]string{"preprocess": "{}", "a": "b"}
	if err := Verify(g); err != nil {
		t.Fatal(err)
	}
	if s := g.String(); !strings.Contains(s, `meta   a = "b"`) || !strings.Contains(s, "%y = Dequantize(%c) : f32[1,3,4,4]") {
		t.Errorf("dump:\n%s", s)
	}
}

func TestArgMaxShapes(t *testing.T) {
	f := func(s ...int) TensorType { return TensorType{Float32, s} }
	cases := []struct {
		name  string
		attrs Attrs
		in    TensorType
		want  TensorType
		err   string
	}{
		{"channels", &ArgMaxAttrs{Axis: 1, OutputType: Int64}, f(-1, 21, 65, 65), TensorType{Int64, Shape{-1, 65, 65}}, ""},
		{"negative axis", &ArgMaxAttrs{Axis: -3, OutputType: Int32}, f(1, 21, 65, 65), TensorType{Int32, Shape{1, 65, 65}}, ""},
		{"last axis", &ArgMaxAttrs{Axis: -1, OutputType: Int32}, f(2, 10), TensorType{Int32, Shape{2}}, ""},
		{"to a scalar", &ArgMaxAttrs{Axis: 0, OutputType: Int64}, f(5), TensorType{Int64, Shape{}}, ""},
		{"unknown axis size", &ArgMaxAttrs{Axis: 0, OutputType: Int64}, f(-1, 3), TensorType{Int64, Shape{3}}, ""},
		{"axis past the end", &ArgMaxAttrs{Axis: 4, OutputType: Int64}, f(1, 2, 3, 4), TensorType{}, "axis 4 out of range for rank 4"},
		{"axis before the start", &ArgMaxAttrs{Axis: -5, OutputType: Int64}, f(1, 2, 3, 4), TensorType{}, "axis -5 out of range for rank 4"},
		{"huge axis", &ArgMaxAttrs{Axis: 1 << 62, OutputType: Int64}, f(1, 2), TensorType{}, "out of range for rank 2"},
		{"scalar input", &ArgMaxAttrs{Axis: 0, OutputType: Int64}, f(), TensorType{}, "axis 0 out of range for rank 0"},
		{"empty axis", &ArgMaxAttrs{Axis: 1, OutputType: Int64}, f(1, 0, 3), TensorType{}, "is empty"},
		{"f32 output", &ArgMaxAttrs{Axis: 1, OutputType: Float32}, f(1, 3), TensorType{}, "output type f32, want i32 or i64"},
		{"i8 output", &ArgMaxAttrs{Axis: 1, OutputType: Int8}, f(1, 3), TensorType{}, "output type i8, want i32 or i64"},
		{"no output type", &ArgMaxAttrs{Axis: 1}, f(1, 3), TensorType{}, "output type invalid, want i32 or i64"},
		{"i8 input", &ArgMaxAttrs{Axis: 1, OutputType: Int64}, TensorType{Int8, Shape{1, 3}}, TensorType{Int64, Shape{1}}, ""},
		{"i32 input", &ArgMaxAttrs{Axis: 1, OutputType: Int64}, TensorType{Int32, Shape{1, 3}}, TensorType{}, "input is i32, want f32 or i8"},
		{"fused resize", &ArgMaxAttrs{Axis: -1, OutputType: Int32, Resize: &ResizeAttrs{Size: [2]int{513, 511}, AlignCorners: true}}, f(1, 33, 32, 21), TensorType{Int32, Shape{1, 513, 511}}, ""},
		{"fused resize, i8", &ArgMaxAttrs{Axis: 3, OutputType: Int32, Resize: &ResizeAttrs{Size: [2]int{8, 8}}}, TensorType{Int8, Shape{1, 4, 4, 3}}, TensorType{Int32, Shape{1, 8, 8}}, ""},
		{"fused resize, not the last axis", &ArgMaxAttrs{Axis: 1, OutputType: Int32, Resize: &ResizeAttrs{Size: [2]int{8, 8}}}, f(1, 4, 4, 3), TensorType{}, "NHWC [N,H,W,C] input and axis 3"},
		{"fused resize, rank 3", &ArgMaxAttrs{Axis: 2, OutputType: Int32, Resize: &ResizeAttrs{Size: [2]int{8, 8}}}, f(4, 4, 3), TensorType{}, "NHWC [N,H,W,C] input and axis 3"},
		{"fused resize, zero size", &ArgMaxAttrs{Axis: 3, OutputType: Int32, Resize: &ResizeAttrs{Size: [2]int{0, 8}}}, f(1, 4, 4, 3), TensorType{}, "must be positive"},
		{"fused resize, huge", &ArgMaxAttrs{Axis: 3, OutputType: Int32, Resize: &ResizeAttrs{Size: [2]int{1 << 20, 8}}}, f(1, 4, 4, 3), TensorType{}, "at most 65536"},
		{"fused resize, both rules", &ArgMaxAttrs{Axis: 3, OutputType: Int32, Resize: &ResizeAttrs{Size: [2]int{8, 8}, AlignCorners: true, HalfPixelCenters: true}}, f(1, 4, 4, 3), TensorType{}, "both set"},
		{"no attributes", nil, f(1, 3), TensorType{}, "attributes are <nil>, want *ir.ArgMaxAttrs"},
		{"nil attributes", (*ArgMaxAttrs)(nil), f(1, 3), TensorType{}, "want *ir.ArgMaxAttrs"},
		{"other attributes", &ConcatAttrs{Axis: 1}, f(1, 3), TensorType{}, "attributes are *ir.ConcatAttrs"},
	}
	for _, c := range cases {
		n := &Node{Name: "am", Op: ArgMax, Attrs: c.attrs}
		got, err := InferNode(n, []TensorType{c.in})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got[0].DType != c.want.DType || !got[0].Shape.Equal(c.want.Shape) {
			t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
		}
	}
}

// Verify refuses an ArgMax whose attributes were broken after it was
// built (as a hostile file or a faulty pass could leave them), and one
// whose recorded output type is not the indices'.
func TestVerifyArgMax(t *testing.T) {
	build := func(t *testing.T) *Graph {
		g := NewGraph("seg")
		x := g.AddInput("logits", TensorType{Float32, Shape{1, 21, 4, 4}})
		y, err := g.Add(ArgMax, "classes", &ArgMaxAttrs{Axis: 1, OutputType: Int64}, x)
		if err != nil {
			t.Fatal(err)
		}
		g.Outputs = []*Value{y}
		return g
	}
	g := build(t)
	if err := Verify(g); err != nil {
		t.Fatal(err)
	}
	if s := g.String(); !strings.Contains(s, "%classes = ArgMax(%logits) axis=1 output_type=i64 : i64[1,4,4]") {
		t.Errorf("dump:\n%s", s)
	}
	if op, ok := OpByName("ArgMax"); !ok || op != ArgMax {
		t.Error("OpByName(ArgMax)")
	}
	if LayoutSensitive(ArgMax) {
		t.Error("ArgMax is layout-sensitive")
	}
	for _, c := range []struct {
		name   string
		break_ func(n *Node)
		want   string
	}{
		{"axis", func(n *Node) { n.Attrs.(*ArgMaxAttrs).Axis = 7 }, `ArgMax "classes": axis 7 out of range for rank 4`},
		{"negative axis", func(n *Node) { n.Attrs.(*ArgMaxAttrs).Axis = -9 }, "axis -9 out of range"},
		{"output type", func(n *Node) { n.Attrs.(*ArgMaxAttrs).OutputType = Float32 }, "output type f32, want i32 or i64"},
		{"bad output type", func(n *Node) { n.Attrs.(*ArgMaxAttrs).OutputType = DType(200) }, "output type dtype(200), want i32 or i64"},
		{"nil attributes", func(n *Node) { n.Attrs = (*ArgMaxAttrs)(nil) }, "attributes are"},
		{"another axis", func(n *Node) { n.Attrs.(*ArgMaxAttrs).Axis = 2 }, "recorded as i64[1,4,4], inference gives i64[1,21,4]"},
		{"other index type", func(n *Node) { n.Attrs.(*ArgMaxAttrs).OutputType = Int32 }, "recorded as i64[1,4,4], inference gives i32[1,4,4]"},
		{"two inputs", func(n *Node) { n.Inputs = append(n.Inputs, n.Inputs[0]) }, "has 2 inputs, want 1"},
	} {
		g := build(t)
		c.break_(g.Nodes[0])
		if err := Verify(g); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Verify = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
