package onnx

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
	"google.golang.org/protobuf/encoding/protowire"
)

func mustDecode(t *testing.T, data []byte) *ir.Graph {
	t.Helper()
	g, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if err := ir.Verify(g); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return g
}

func wantErr(t *testing.T, data []byte, substrs ...string) {
	t.Helper()
	g, err := Decode(data)
	if err == nil {
		t.Fatalf("Decode succeeded, want error containing %q; graph:\n%v", substrs, g)
	}
	for _, s := range substrs {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not contain %q", err, s)
		}
	}
}

// only returns the single node of op in g.
func only(t *testing.T, g *ir.Graph, op ir.Op) *ir.Node {
	t.Helper()
	var found *ir.Node
	for _, n := range g.Nodes {
		if n.Op == op {
			if found != nil {
				t.Fatalf("two %v nodes in\n%v", op, g)
			}
			found = n
		}
	}
	if found == nil {
		t.Fatalf("no %v node in\n%v", op, g)
	}
	return found
}

func x4(dims ...int64) []byte { return input("x", tFloat, dims...) }

// unaryModel is x -> op -> y.
func unaryModel(opset int64, op string, dims []int64, extra ...[]byte) []byte {
	return model(opset, x4(dims...), node(op, []string{"x"}, []string{"y"}, extra...), output("y"))
}

func TestSmallNetwork(t *testing.T) {
	w := seq(4*3*3*3, -1, 0.01)
	data := model(13,
		graphName("tiny"),
		input("input", tFloat, -1, 3, 8, 8),
		initializer(tensorF("conv.w", []int64{4, 3, 3, 3}, w...)),
		initializer(tensorFTyped("conv.b", []int64{4}, 1, 2, 3, 4)),
		initializer(tensorF("fc.w", []int64{2, 4}, seq(8, 0, 1)...)),
		initializer(tensorF("fc.b", []int64{2}, 0.5, -0.5)),
		node("Conv", []string{"input", "conv.w", "conv.b"}, []string{"c1"}, nodeName("conv1"),
			aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1), aInts("strides", 2, 2)),
		node("Relu", []string{"c1"}, []string{"r1"}),
		node("GlobalAveragePool", []string{"r1"}, []string{"p"}),
		node("Flatten", []string{"p"}, []string{"f"}, aInt("axis", 1)),
		node("Gemm", []string{"f", "fc.w", "fc.b"}, []string{"logits"}, aInt("transB", 1)),
		node("Softmax", []string{"logits"}, []string{"prob"}),
		output("prob"), output("logits"))
	g := mustDecode(t, data)
	if g.Name != "tiny" {
		t.Errorf("graph name %q", g.Name)
	}
	if len(g.Inputs) != 1 || !g.Inputs[0].Type.Shape.Equal(ir.Shape{-1, 3, 8, 8}) || g.Inputs[0].Name != "input" {
		t.Fatalf("inputs %v", g.Inputs)
	}
	var names []string
	for _, c := range g.Consts {
		names = append(names, c.Name)
	}
	if want := []string{"conv.w", "conv.b", "fc.w", "fc.b"}; !reflect.DeepEqual(names, want) {
		t.Errorf("consts %v, want %v", names, want)
	}
	conv := only(t, g, ir.Conv)
	if conv.Name != "conv1" || conv.Output().Name != "c1" {
		t.Errorf("conv node %q output %q", conv.Name, conv.Output().Name)
	}
	if a := conv.Attrs.(*ir.ConvAttrs); a.Stride != [2]int{2, 2} || a.Pads != [4]int{1, 1, 1, 1} || a.Groups() != 1 {
		t.Errorf("conv attrs %v", a)
	}
	if s := conv.Output().Type.Shape; !s.Equal(ir.Shape{-1, 4, 4, 4}) {
		t.Errorf("conv output %v", s)
	}
	if a := only(t, g, ir.Gemm).Attrs.(*ir.GemmAttrs); !a.TransB || a.TransA || a.Alpha != 1 || a.Beta != 1 {
		t.Errorf("gemm attrs %v", a)
	}
	if a := only(t, g, ir.Softmax).Attrs.(*ir.SoftmaxAttrs); a.Axis != -1 {
		t.Errorf("softmax axis %d, want -1 at opset 13", a.Axis)
	}
	if len(g.Outputs) != 2 || g.Outputs[0].Name != "prob" || g.Outputs[1].Name != "logits" {
		t.Errorf("outputs %v", g.Outputs)
	}
	if got := g.Consts[1].Const.F32; !reflect.DeepEqual(got, []float32{1, 2, 3, 4}) {
		t.Errorf("float_data bias %v", got)
	}
}

func TestUnsortedNodesAreSorted(t *testing.T) {
	data := model(13, x4(1, 2),
		node("Sigmoid", []string{"b"}, []string{"c"}),
		node("Relu", []string{"a"}, []string{"b"}),
		node("Relu", []string{"x"}, []string{"a"}),
		output("c"))
	g := mustDecode(t, data)
	var order []string
	for _, n := range g.Nodes {
		order = append(order, n.Output().Name)
	}
	if !reflect.DeepEqual(order, []string{"a", "b", "c"}) {
		t.Errorf("order %v", order)
	}
}

func TestUnsupportedOp(t *testing.T) {
	data := model(13, x4(1, 2, 3), node("LSTM", []string{"x"}, []string{"y"}, nodeName("lstm_1")), output("y"))
	_, err := Decode(data)
	if err == nil || err.Error() != `unsupported op "LSTM" (node "lstm_1", opset 13)` {
		t.Fatalf("got %v", err)
	}
	wantErr(t, model(13, x4(1, 2), node("Relu", []string{"x"}, []string{"y"}, fStr(7, "com.microsoft")), output("y")),
		`unsupported op "Relu" in domain "com.microsoft"`)
	// HardSwish appeared in opset 14.
	wantErr(t, unaryModel(13, "HardSwish", []int64{1, 2}), `unsupported op "HardSwish"`, "opset 13")
	g := mustDecode(t, unaryModel(14, "HardSwish", []int64{1, 2}))
	only(t, g, ir.HardSwish)
	// Fold-only ops on real data.
	wantErr(t, model(13, x4(1, 2), initializer(tensorI64("i", nil, 0)),
		node("Gather", []string{"x", "i"}, []string{"y"}), output("y")), `unsupported op "Gather"`)
}

func TestOpsetRange(t *testing.T) {
	wantErr(t, unaryModel(6, "Relu", []int64{1}), "opset 6 is not supported", "7 to 21")
	wantErr(t, unaryModel(22, "Relu", []int64{1}), "opset 22 is not supported")
	for _, v := range []int64{7, 11, 13, 17, 21} {
		mustDecode(t, unaryModel(v, "Relu", []int64{1}))
	}
	g := cat(x4(1), node("Relu", []string{"x"}, []string{"y"}), output("y"))
	noDefault := cat(fVarint(1, 8), fBytes(8, cat(fStr(1, "com.microsoft"), fVarint(2, 1))), fBytes(7, g))
	wantErr(t, noDefault, "no opset of the default ONNX domain")
	aiOnnx := cat(fVarint(1, 8), fBytes(8, cat(fStr(1, "ai.onnx"), fVarint(2, 13))), fBytes(7, g))
	mustDecode(t, aiOnnx)
	wantErr(t, cat(fVarint(1, 8), fBytes(7, g)), "no opset_import")
}

func TestConv(t *testing.T) {
	w := initializer(tensorF("w", []int64{4, 1, 3, 3}, seq(36, 0, 0.1)...))
	conv := func(opset int64, dims []int64, extra ...[]byte) []byte {
		return model(opset, x4(dims...), w, node("Conv", []string{"x", "w"}, []string{"y"}, extra...), output("y"))
	}
	attrs := func(data []byte) *ir.ConvAttrs {
		t.Helper()
		return only(t, mustDecode(t, data), ir.Conv).Attrs.(*ir.ConvAttrs)
	}
	a := attrs(conv(11, []int64{1, 4, 10, 10}, aInt("group", 4), aInts("dilations", 2, 2), aInts("strides", 1, 2), aInts("pads", 0, 1, 2, 3)))
	if a.Groups() != 4 || a.Dilations() != [2]int{2, 2} || a.Stride != [2]int{1, 2} || a.Pads != [4]int{0, 1, 2, 3} {
		t.Errorf("attrs %v", a)
	}
	// auto_pad: input 10, kernel 3, stride 2 -> out 5, total pad 2 (upper: 1,1).
	a = attrs(conv(11, []int64{1, 1, 10, 9}, aStr("auto_pad", "SAME_UPPER"), aInts("strides", 2, 2)))
	if a.Pads != [4]int{0, 1, 1, 1} { // H: total 1 -> 0,1; W: total 2 -> 1,1
		t.Errorf("SAME_UPPER pads %v", a.Pads)
	}
	a = attrs(conv(11, []int64{1, 1, 10, 9}, aStr("auto_pad", "SAME_LOWER"), aInts("strides", 2, 2)))
	if a.Pads != [4]int{1, 1, 0, 1} {
		t.Errorf("SAME_LOWER pads %v", a.Pads)
	}
	a = attrs(conv(11, []int64{1, 1, 10, 9}, aStr("auto_pad", "VALID")))
	if a.Pads != [4]int{} {
		t.Errorf("VALID pads %v", a.Pads)
	}
	a = attrs(conv(11, []int64{1, 1, 5, 5}, aStr("auto_pad", "NOTSET"), aInts("pads", 1, 1, 1, 1)))
	if a.Pads != [4]int{1, 1, 1, 1} {
		t.Errorf("NOTSET pads %v", a.Pads)
	}
	wantErr(t, conv(11, []int64{1, 1, -1, 9}, aStr("auto_pad", "SAME_UPPER")), "auto_pad SAME_UPPER needs known spatial sizes")
	wantErr(t, conv(11, []int64{1, 1, 5, 5}, aStr("auto_pad", "SAME_UPPER"), aInts("pads", 1, 1, 1, 1)), "both given")
	wantErr(t, conv(11, []int64{1, 1, 5, 5}, aStr("auto_pad", "SAME")), `unknown auto_pad "SAME"`)
	wantErr(t, conv(11, []int64{1, 1, 5, 5}, aInts("kernel_shape", 5, 5)), "kernel_shape [5 5] does not match the weight")
	wantErr(t, conv(11, []int64{1, 1, 5, 5}, aInts("pads", 1, 1)), "want 4")
	wantErr(t, conv(11, []int64{1, 1, 5, 5}, aInts("strides", 0, 1)), "want values >= 1")
	wantErr(t, conv(11, []int64{1, 1, 5, 5}, aInt("group", 0)), "group 0")
	wantErr(t, conv(11, []int64{1, 1, 5, 5}, aInt("groups", 1)), `unexpected attribute "groups"`)
	wantErr(t, conv(11, []int64{1, 1, 5, 5}, aFloat("group", 1)), `attribute "group" has type FLOAT, want INT`)
	wantErr(t, conv(11, []int64{1, 2, 5, 5}), "does not fit input")
	// With bias, and a 1-D convolution (refused: the ir is 2-D only).
	g := mustDecode(t, model(11, x4(1, 1, 5, 5), w, initializer(tensorF("b", []int64{4}, 1, 2, 3, 4)),
		node("Conv", []string{"x", "w", "b"}, []string{"y"}), output("y")))
	if n := only(t, g, ir.Conv); len(n.Inputs) != 3 || n.Inputs[2].Name != "b" {
		t.Errorf("bias not imported: %v", n.Format())
	}
	w1 := initializer(tensorF("w", []int64{2, 1, 3}, seq(6, 0, 1)...))
	wantErr(t, model(11, x4(1, 1, 8), w1, node("Conv", []string{"x", "w"}, []string{"y"}), output("y")),
		"2-D convolutions")
}

func TestClipForms(t *testing.T) {
	inf := float32(math.Inf(1))
	clip := func(data []byte) *ir.ClipAttrs {
		t.Helper()
		return only(t, mustDecode(t, data), ir.Clip).Attrs.(*ir.ClipAttrs)
	}
	// Attribute form before opset 11.
	if a := clip(unaryModel(7, "Clip", []int64{1, 3}, aFloat("min", 0), aFloat("max", 6))); a.Min != 0 || a.Max != 6 {
		t.Errorf("opset 7 clip %v", a)
	}
	if a := clip(unaryModel(10, "Clip", []int64{1, 3}, aFloat("max", 6))); a.Min != -inf || a.Max != 6 {
		t.Errorf("opset 10 clip with default min %v", a)
	}
	if a := clip(unaryModel(10, "Clip", []int64{1, 3})); a.Min != -inf || a.Max != inf {
		t.Errorf("opset 10 clip with defaults %v", a)
	}
	// Input form from opset 11; bounds from initializers or Constant nodes.
	mm := cat(initializer(tensorF("lo", nil, 0)), initializer(tensorF("hi", []int64{1}, 6)))
	if a := clip(model(11, x4(1, 3), mm, node("Clip", []string{"x", "lo", "hi"}, []string{"y"}), output("y"))); a.Min != 0 || a.Max != 6 {
		t.Errorf("opset 11 clip %v", a)
	}
	if a := clip(model(13, x4(1, 3), mm, node("Clip", []string{"x", "", "hi"}, []string{"y"}), output("y"))); a.Min != -inf || a.Max != 6 {
		t.Errorf("opset 13 clip without min %v", a)
	}
	if a := clip(model(13, x4(1, 3), mm, node("Clip", []string{"x", "lo"}, []string{"y"}), output("y"))); a.Min != 0 || a.Max != inf {
		t.Errorf("opset 13 clip without max %v", a)
	}
	c := node("Constant", nil, []string{"k"}, aFloat("value_float", -1))
	g := mustDecode(t, model(13, x4(1, 3), c, node("Clip", []string{"x", "k"}, []string{"y"}), output("y")))
	if a := only(t, g, ir.Clip).Attrs.(*ir.ClipAttrs); a.Min != -1 || a.Max != inf {
		t.Errorf("clip from Constant %v", a)
	}
	if len(g.Consts) != 0 {
		t.Errorf("clip bounds became graph constants: %v", g.Consts)
	}
	// Bounds computed at run time are refused; so are the wrong forms.
	wantErr(t, model(13, x4(1, 3), input("lo", tFloat), node("Clip", []string{"x", "lo"}, []string{"y"}), output("y")),
		`input 1 (min, "lo") must be a constant`)
	wantErr(t, unaryModel(13, "Clip", []int64{1, 3}, aFloat("min", 0)), `unexpected attribute "min"`)
	wantErr(t, model(10, x4(1, 3), mm, node("Clip", []string{"x", "lo"}, []string{"y"}), output("y")), "has 2 inputs, want 1")
	wantErr(t, model(13, x4(1, 3), initializer(tensorF("lo", []int64{2}, 0, 1)),
		node("Clip", []string{"x", "lo"}, []string{"y"}), output("y")), "want a single value")
	wantErr(t, unaryModel(7, "Clip", []int64{1, 3}, aFloat("min", 6), aFloat("max", 0)), "min 6 > max 0")
}

func TestPadForms(t *testing.T) {
	pad := func(data []byte) *ir.PadAttrs {
		t.Helper()
		return only(t, mustDecode(t, data), ir.Pad).Attrs.(*ir.PadAttrs)
	}
	a := pad(unaryModel(7, "Pad", []int64{1, 2, 3, 3}, aInts("pads", 0, 0, 1, 2, 0, 0, 3, 4), aFloat("value", 1.5)))
	if !reflect.DeepEqual(a.Pads, []int{0, 0, 1, 2, 0, 0, 3, 4}) || a.Mode != "constant" || a.Value != 1.5 {
		t.Errorf("opset 7 pad %v", a)
	}
	a = pad(unaryModel(10, "Pad", []int64{1, 2, 3, 3}, aInts("pads", 0, 0, 1, 1, 0, 0, 1, 1), aStr("mode", "reflect")))
	if a.Mode != "reflect" {
		t.Errorf("mode %v", a)
	}
	p := initializer(tensorI64("p", []int64{8}, 0, 0, 1, 1, 0, 0, 2, 2))
	v := initializer(tensorF("v", nil, -2))
	a = pad(model(13, x4(1, 2, 3, 3), p, v, node("Pad", []string{"x", "p", "v"}, []string{"y"}, aStr("mode", "edge")), output("y")))
	if !reflect.DeepEqual(a.Pads, []int{0, 0, 1, 1, 0, 0, 2, 2}) || a.Mode != "edge" || a.Value != -2 {
		t.Errorf("opset 13 pad %v", a)
	}
	a = pad(model(11, x4(1, 2, 3, 3), p, node("Pad", []string{"x", "p"}, []string{"y"}), output("y")))
	if a.Value != 0 || a.Mode != "constant" {
		t.Errorf("opset 11 pad defaults %v", a)
	}
	// Opset 18 axes.
	ax := cat(initializer(tensorI64("p2", []int64{4}, 1, 2, 3, 4)), initializer(tensorI64("axes", []int64{2}, -1, 2)))
	a = pad(model(18, x4(1, 2, 3, 3), ax, node("Pad", []string{"x", "p2", "", "axes"}, []string{"y"}), output("y")))
	if !reflect.DeepEqual(a.Pads, []int{0, 0, 2, 1, 0, 0, 4, 3}) {
		t.Errorf("opset 18 pad with axes %v", a.Pads)
	}
	wantErr(t, model(13, x4(1, 2, 3, 3), ax, node("Pad", []string{"x", "p2", "", "axes"}, []string{"y"}), output("y")), "want 2 to 3")
	wantErr(t, model(18, x4(1, 2, 3, 3), initializer(tensorI64("p2", []int64{4}, 1, 2, 3, 4)),
		initializer(tensorI64("axes", []int64{2}, 2, 2)), node("Pad", []string{"x", "p2", "", "axes"}, []string{"y"}), output("y")), "repeated")
	wantErr(t, model(13, x4(1, 2, 3, 3), input("p", tInt64, 8), node("Pad", []string{"x", "p"}, []string{"y"}), output("y")),
		"must be a constant")
	wantErr(t, model(13, x4(1, 2, 3, 3), initializer(tensorI64("p", []int64{8}, 0, 0, -1, 0, 0, 0, 0, 0)),
		node("Pad", []string{"x", "p"}, []string{"y"}), output("y")), "negative pads")
	wantErr(t, model(13, x4(1, 2, 3, 3), initializer(tensorI64("p", []int64{4}, 0, 0, 1, 1)),
		node("Pad", []string{"x", "p"}, []string{"y"}), output("y")), "4 pads for an input of rank 4")
	wantErr(t, model(19, x4(1, 2, 3, 3), p, node("Pad", []string{"x", "p"}, []string{"y"}, aStr("mode", "wrap")), output("y")),
		`pad mode "wrap" is not supported`)
	wantErr(t, unaryModel(10, "Pad", []int64{1, 2, 3, 3}, aInts("pads", 0, 0, 3, 0, 0, 0, 0, 0), aStr("mode", "reflect")),
		"reflect pads")
	wantErr(t, unaryModel(10, "Pad", []int64{1, 2}), "attribute pads is missing")
}

func TestAveragePool(t *testing.T) {
	pool := func(data []byte) *ir.PoolAttrs {
		t.Helper()
		return only(t, mustDecode(t, data), ir.AveragePool).Attrs.(*ir.PoolAttrs)
	}
	a := pool(unaryModel(11, "AveragePool", []int64{1, 3, 9, 9}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2),
		aInts("pads", 1, 1, 1, 1), aInt("count_include_pad", 1), aInt("ceil_mode", 1)))
	want := ir.PoolAttrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, CountIncludePad: true, CeilMode: true}
	if *a != want {
		t.Errorf("attrs %v, want %v", a, &want)
	}
	a = pool(unaryModel(11, "AveragePool", []int64{1, 3, 8, 8}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aStr("auto_pad", "SAME_UPPER")))
	if a.Pads != [4]int{0, 0, 1, 1} {
		t.Errorf("SAME_UPPER pads %v", a.Pads)
	}
	wantErr(t, unaryModel(9, "AveragePool", []int64{1, 3, 8, 8}, aInts("kernel_shape", 2, 2), aInt("ceil_mode", 1)), "ceil_mode needs opset 10")
	wantErr(t, unaryModel(19, "AveragePool", []int64{1, 3, 8, 8}, aInts("kernel_shape", 2, 2), aInts("dilations", 2, 2)), "dilated")
	pool(unaryModel(19, "AveragePool", []int64{1, 3, 8, 8}, aInts("kernel_shape", 2, 2), aInts("dilations", 1, 1)))
	wantErr(t, unaryModel(11, "AveragePool", []int64{1, 3, 8, 8}), "kernel_shape")
	wantErr(t, unaryModel(11, "AveragePool", []int64{1, 3, 8}, aInts("kernel_shape", 2)), "2-D pooling")
	only(t, mustDecode(t, unaryModel(11, "GlobalAveragePool", []int64{1, 3, 8, 8})), ir.GlobalAveragePool)
}

func TestBatchNorm(t *testing.T) {
	params := cat(
		initializer(tensorF("s", []int64{2}, 1, 2)), initializer(tensorF("b", []int64{2}, 0, 1)),
		initializer(tensorF("m", []int64{2}, 0.5, 0)), initializer(tensorF("v", []int64{2}, 1, 4)))
	bn := func(opset int64, outs []string, extra ...[]byte) []byte {
		return model(opset, x4(1, 2, 3, 3), params, node("BatchNormalization", []string{"x", "s", "b", "m", "v"}, outs, extra...), output("y"))
	}
	g := mustDecode(t, bn(15, []string{"y"}, aFloat("epsilon", 1e-3), aFloat("momentum", 0.9)))
	n := only(t, g, ir.BatchNorm)
	if a := n.Attrs.(*ir.BatchNormAttrs); a.Epsilon != 1e-3 {
		t.Errorf("epsilon %v", a.Epsilon)
	}
	if a := only(t, mustDecode(t, bn(9, []string{"y"})), ir.BatchNorm).Attrs.(*ir.BatchNormAttrs); a.Epsilon != 1e-5 {
		t.Errorf("default epsilon %v", a.Epsilon)
	}
	// Unused extra outputs are fine; used ones are refused.
	mustDecode(t, bn(7, []string{"y", "mean", "var", "sm", "sv"}, aInt("spatial", 1)))
	wantErr(t, bn(7, []string{"y"}, aInt("spatial", 0)), "spatial=0")
	wantErr(t, bn(15, []string{"y"}, aInt("training_mode", 1)), "training_mode=1 is not supported")
	wantErr(t, model(15, x4(1, 2, 3, 3), params,
		node("BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"y", "rm", "rv"}), output("y"), output("rm")),
		`output 1 ("rm") is used`)
	wantErr(t, model(15, x4(1, 2, 3, 3), params, node("BatchNormalization", []string{"x", "s", "b", "m"}, []string{"y"}), output("y")),
		"has 4 inputs, want 5")
}

func TestSoftmaxAxis(t *testing.T) {
	axis := func(data []byte) int {
		t.Helper()
		return only(t, mustDecode(t, data), ir.Softmax).Attrs.(*ir.SoftmaxAttrs).Axis
	}
	if a := axis(unaryModel(11, "Softmax", []int64{-1, 10})); a != 1 {
		t.Errorf("opset 11 default axis -> %d", a)
	}
	if a := axis(unaryModel(13, "Softmax", []int64{2, 3, 4})); a != -1 {
		t.Errorf("opset 13 default axis -> %d", a)
	}
	if a := axis(unaryModel(13, "Softmax", []int64{2, 3, 4}, aInt("axis", 1))); a != 1 {
		t.Errorf("opset 13 axis 1 -> %d", a)
	}
	// Before 13, axis 1 of [N,C,1,1] normalises over C only: same thing.
	if a := axis(unaryModel(11, "Softmax", []int64{-1, 10, 1, 1})); a != 1 {
		t.Errorf("opset 11 [N,C,1,1] -> %d", a)
	}
	if a := axis(unaryModel(11, "Softmax", []int64{2, 1, 1, 7}, aInt("axis", 1))); a != 3 {
		t.Errorf("opset 11 [2,1,1,7] axis 1 -> %d", a)
	}
	wantErr(t, unaryModel(11, "Softmax", []int64{2, 3, 4}), "before opset 13 Softmax normalises over all dimensions")
	wantErr(t, unaryModel(12, "Softmax", []int64{2, 3}, aInt("axis", 0)), "before opset 13")
	wantErr(t, unaryModel(11, "Softmax", []int64{2, -1, 1}, aInt("axis", 1)), "before opset 13")
	wantErr(t, unaryModel(13, "Softmax", []int64{2, 3}, aInt("axis", 2)), "out of range")
}

func TestReshape(t *testing.T) {
	shape := func(data []byte) []int {
		t.Helper()
		return only(t, mustDecode(t, data), ir.Reshape).Attrs.(*ir.ReshapeAttrs).Shape
	}
	s := initializer(tensorI64("s", []int64{2}, 0, -1))
	if got := shape(model(13, x4(-1, 2, 3), s, node("Reshape", []string{"x", "s"}, []string{"y"}), output("y"))); !reflect.DeepEqual(got, []int{0, -1}) {
		t.Errorf("shape %v", got)
	}
	s2 := initializer(tensorI64("s", []int64{2}, 3, 2))
	if got := shape(model(14, x4(2, 3), s2, node("Reshape", []string{"x", "s"}, []string{"y"}, aInt("allowzero", 1)), output("y"))); !reflect.DeepEqual(got, []int{3, 2}) {
		t.Errorf("allowzero without zeros: %v", got)
	}
	wantErr(t, model(14, x4(2, 3), s, node("Reshape", []string{"x", "s"}, []string{"y"}, aInt("allowzero", 1)), output("y")),
		"allowzero=1 with a 0")
	wantErr(t, model(14, x4(2, 3), input("s", tInt64, 2), node("Reshape", []string{"x", "s"}, []string{"y"}), output("y")),
		"must be a constant")
	wantErr(t, model(14, x4(2, 3), initializer(tensorI64("s", []int64{2}, 4, -2)), node("Reshape", []string{"x", "s"}, []string{"y"}), output("y")),
		"element 1 is -2")
	wantErr(t, model(14, x4(2, 3), initializer(tensorI64("s", []int64{3}, 1<<30, 1<<30, 1<<30)), node("Reshape", []string{"x", "s"}, []string{"y"}), output("y")),
		"more than")
	wantErr(t, model(14, x4(2, 3), initializer(tensorI64("s", []int64{2}, 4, 4)), node("Reshape", []string{"x", "s"}, []string{"y"}), output("y")),
		"cannot reshape")
}

// The flatten chain some exporters produce for x.view(x.size(0), -1).
func TestShapeChainFolding(t *testing.T) {
	chain := func(opset int64, dims ...int64) []byte {
		var unsq []byte
		if opset >= 13 {
			unsq = cat(initializer(tensorI64("ax", []int64{1}, 0)), node("Unsqueeze", []string{"n", "ax"}, []string{"n1"}))
		} else {
			unsq = node("Unsqueeze", []string{"n"}, []string{"n1"}, aInts("axes", 0))
		}
		return model(opset, x4(dims...),
			initializer(tensorI64("zero", nil, 0)),
			node("Shape", []string{"x"}, []string{"sh"}),
			node("Gather", []string{"sh", "zero"}, []string{"n"}, aInt("axis", 0)),
			unsq,
			node("Constant", nil, []string{"m1"}, aTensor("value", tensorI64("", []int64{1}, -1))),
			node("Concat", []string{"n1", "m1"}, []string{"target"}, aInt("axis", 0)),
			node("Reshape", []string{"x", "target"}, []string{"y"}),
			output("y"))
	}
	for _, opset := range []int64{11, 13} {
		g := mustDecode(t, chain(opset, -1, 2, 3, 4))
		if len(g.Nodes) != 1 || len(g.Consts) != 0 {
			t.Fatalf("opset %d: chain not folded:\n%v", opset, g)
		}
		n := only(t, g, ir.Reshape)
		if got := n.Attrs.(*ir.ReshapeAttrs).Shape; !reflect.DeepEqual(got, []int{0, -1}) {
			t.Errorf("opset %d: target %v, want [0 -1]", opset, got)
		}
		if s := n.Output().Type.Shape; !s.Equal(ir.Shape{-1, 24}) {
			t.Errorf("output %v", s)
		}
		g = mustDecode(t, chain(opset, 5, 2, 3, 4))
		if got := only(t, g, ir.Reshape).Attrs.(*ir.ReshapeAttrs).Shape; !reflect.DeepEqual(got, []int{5, -1}) {
			t.Errorf("static batch: target %v", got)
		}
	}
	// Gather with vector indices, Cast, Squeeze and Unsqueeze round trips,
	// negative indices.
	g0 := mustDecode(t, model(13, x4(-1, 2, 3, 4),
		initializer(tensorI64("i0", []int64{1}, -4)), initializer(tensorI64("ax", []int64{1}, 0)),
		node("Shape", []string{"x"}, []string{"sh"}, aInt("start", 0)),
		node("Gather", []string{"sh", "i0"}, []string{"n"}),
		node("Squeeze", []string{"n", "ax"}, []string{"ns"}),
		node("Unsqueeze", []string{"ns", "ax"}, []string{"nu"}),
		node("Cast", []string{"nu"}, []string{"nc"}, aInt("to", tInt64)),
		node("Shape", []string{"x"}, []string{"tail"}, aInt("start", -2)),
		node("Identity", []string{"tail"}, []string{"tail2"}),
		node("Concat", []string{"nc", "tail2"}, []string{"target"}, aInt("axis", -1)),
		node("Reshape", []string{"x", "target"}, []string{"y"}),
		output("y")))
	if got := only(t, g0, ir.Reshape).Attrs.(*ir.ReshapeAttrs).Shape; !reflect.DeepEqual(got, []int{0, 3, 4}) {
		t.Errorf("target %v, want [0 3 4]", got)
	}
	wantErr(t, model(13, x4(-1, 2), initializer(tensorI64("i0", nil, 0)),
		node("Shape", []string{"x"}, []string{"sh"}), node("Gather", []string{"sh", "i0"}, []string{"n"}),
		node("Cast", []string{"n"}, []string{"y"}, aInt("to", tFloat)), output("y")), `unsupported op "Cast"`)
	wantErr(t, model(13, x4(-1, 2), initializer(tensorI64("i0", nil, 2)),
		node("Shape", []string{"x"}, []string{"sh"}), node("Gather", []string{"sh", "i0"}, []string{"n"}), output("n")),
		"index 2 out of range")
	// A run-time shape used elsewhere is refused.
	wantErr(t, model(13, x4(-1, 2), node("Shape", []string{"x"}, []string{"sh"}), output("sh")),
		"shape computation that depends on run-time dimensions")
	// A known shape used elsewhere becomes an int64 constant.
	g := mustDecode(t, model(13, x4(3, 2), node("Shape", []string{"x"}, []string{"sh"}), output("sh")))
	if len(g.Outputs) != 1 || g.Outputs[0].Const == nil || !reflect.DeepEqual(g.Outputs[0].Const.I64, []int64{3, 2}) {
		t.Errorf("static Shape output %v", g.Outputs)
	}
	// Reshape of another value's run-time dimension.
	wantErr(t, model(13, x4(-1, 6), input("z", tFloat, -1, 2, 3),
		node("Shape", []string{"x"}, []string{"sh"}), node("Reshape", []string{"z", "sh"}, []string{"y"}), output("y")),
		"unknown until run time")
}

func TestDropout(t *testing.T) {
	g := mustDecode(t, unaryModel(10, "Dropout", []int64{1, 4}, aFloat("ratio", 0.3)))
	only(t, g, ir.Dropout)
	r := initializer(tensorF("r", nil, 0.5))
	mustDecode(t, model(13, x4(1, 4), r, node("Dropout", []string{"x", "r"}, []string{"y"}), output("y")))
	// An unused mask output is fine, a used one is not.
	mustDecode(t, model(13, x4(1, 4), node("Dropout", []string{"x"}, []string{"y", "mask"}), output("y")))
	wantErr(t, model(13, x4(1, 4), node("Dropout", []string{"x"}, []string{"y", "mask"}), output("y"), output("mask")),
		`output 1 ("mask") is used`)
	tm := cat(dimsField(nil), fVarint(2, tBool), fStr(8, "tm"), fBytes(9, []byte{1}))
	wantErr(t, model(13, x4(1, 4), r, initializer(tm), node("Dropout", []string{"x", "r", "tm"}, []string{"y"}), output("y")),
		"training_mode is true")
	tm0 := cat(dimsField(nil), fVarint(2, tBool), fStr(8, "tm"), fBytes(9, []byte{0}))
	mustDecode(t, model(13, x4(1, 4), r, initializer(tm0), node("Dropout", []string{"x", "r", "tm"}, []string{"y"}), output("y")))
	wantErr(t, model(13, x4(1, 4), r, input("tm", tUint8), node("Dropout", []string{"x", "r", "tm"}, []string{"y"}), output("y")),
		"inference mode only")
}

func TestEltwiseAndMisc(t *testing.T) {
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		irOp, _ := ir.OpByName(op)
		g := mustDecode(t, model(13, x4(-1, 3, 4, 4), initializer(tensorF("k", []int64{3, 1, 1}, 1, 2, 3)),
			node(op, []string{"x", "k"}, []string{"y"}), output("y")))
		n := only(t, g, irOp)
		if !n.Inputs[1].IsConst() || n.Inputs[1].Name != "k" || !n.Output().Type.Shape.Equal(ir.Shape{-1, 3, 4, 4}) {
			t.Errorf("%s: %v", op, n.Format())
		}
	}
	wantErr(t, model(13, x4(2, 3), initializer(tensorF("k", []int64{4}, 1, 2, 3, 4)), node("Add", []string{"x", "k"}, []string{"y"}), output("y")),
		"do not broadcast")
	// HardSigmoid defaults and attributes.
	a := only(t, mustDecode(t, unaryModel(7, "HardSigmoid", []int64{2})), ir.HardSigmoid).Attrs.(*ir.HardSigmoidAttrs)
	if a.Alpha != 0.2 || a.Beta != 0.5 {
		t.Errorf("HardSigmoid defaults %v", a)
	}
	a = only(t, mustDecode(t, unaryModel(7, "HardSigmoid", []int64{2}, aFloat("alpha", 1.0/6), aFloat("beta", 0.25))), ir.HardSigmoid).Attrs.(*ir.HardSigmoidAttrs)
	if a.Alpha != float32(1.0/6) || a.Beta != 0.25 {
		t.Errorf("HardSigmoid %v", a)
	}
	for _, op := range []string{"Relu", "Sigmoid", "Identity"} {
		irOp, _ := ir.OpByName(op)
		only(t, mustDecode(t, unaryModel(13, op, []int64{2, 3})), irOp)
	}
	// Flatten, MatMul, Concat, Gemm.
	f := only(t, mustDecode(t, unaryModel(13, "Flatten", []int64{2, 3, 4}, aInt("axis", -1))), ir.Flatten)
	if !f.Output().Type.Shape.Equal(ir.Shape{6, 4}) {
		t.Errorf("flatten %v", f.Format())
	}
	mm := only(t, mustDecode(t, model(13, x4(-1, 5, 3), initializer(tensorF("b", []int64{3, 2}, seq(6, 0, 1)...)),
		node("MatMul", []string{"x", "b"}, []string{"y"}), output("y"))), ir.MatMul)
	if !mm.Output().Type.Shape.Equal(ir.Shape{-1, 5, 2}) {
		t.Errorf("matmul %v", mm.Format())
	}
	wantErr(t, model(13, x4(5, 3), input("b", tFloat, 2, 3, 2), node("MatMul", []string{"x", "b"}, []string{"y"}), output("y")), "2-D B")
	c := only(t, mustDecode(t, model(13, x4(1, 2, 3), input("z", tFloat, 1, 5, 3),
		node("Concat", []string{"x", "z"}, []string{"y"}, aInt("axis", -2)), output("y"))), ir.Concat)
	if !c.Output().Type.Shape.Equal(ir.Shape{1, 7, 3}) {
		t.Errorf("concat %v", c.Format())
	}
	wantErr(t, model(13, x4(1, 2), node("Concat", []string{"x", "x"}, []string{"y"}), output("y")), "attribute axis is missing")
	ga := only(t, mustDecode(t, model(9, x4(4, 3), input("b", tFloat, 4, 5),
		node("Gemm", []string{"x", "b"}, []string{"y"}, aInt("transA", 1), aFloat("alpha", 2), aFloat("beta", 0.5)), output("y"))), ir.Gemm)
	if a := ga.Attrs.(*ir.GemmAttrs); !a.TransA || a.Alpha != 2 || a.Beta != 0.5 || len(ga.Inputs) != 2 {
		t.Errorf("gemm %v", ga.Format())
	}
	wantErr(t, model(9, x4(4, 3), input("b", tFloat, 4, 5), node("Gemm", []string{"x", "b"}, []string{"y"}, aInt("transA", 2)), output("y")),
		"want 0 or 1")
}

func TestConstants(t *testing.T) {
	// Constant node forms.
	for _, tc := range []struct {
		attr []byte
		want *ir.Tensor
	}{
		{aTensor("value", tensorF("", []int64{2}, 1, 2)), &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{2}, F32: []float32{1, 2}}},
		{aFloat("value_float", 3), &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{}, F32: []float32{3}}},
		{aFloats("value_floats", 3, 4), &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{2}, F32: []float32{3, 4}}},
		{aInt("value_int", 7), &ir.Tensor{DType: ir.Int64, Shape: ir.Shape{}, I64: []int64{7}}},
		{attr("value_ints", attrInts, packedVarints(8, 7, 8)), &ir.Tensor{DType: ir.Int64, Shape: ir.Shape{2}, I64: []int64{7, 8}}},
	} {
		g := mustDecode(t, model(13, graphName("g"), node("Constant", nil, []string{"k"}, tc.attr), output("k")))
		if len(g.Outputs) != 1 || g.Outputs[0].Name != "k" || !reflect.DeepEqual(g.Outputs[0].Const, tc.want) {
			t.Errorf("Constant %q: got %+v, want %+v", tc.attr, g.Outputs[0].Const, tc.want)
		}
	}
	wantErr(t, model(13, node("Constant", nil, []string{"k"}, aStr("value_string", "a")), output("k")), `attribute "value_string" is not supported`)
	wantErr(t, model(13, node("Constant", nil, []string{"k"}), output("k")), "want exactly one value attribute")
	// A graph input that is also an initializer is a constant; Identity of a
	// constant keeps it constant.
	g := mustDecode(t, model(13, x4(2, 2), input("w", tFloat, 2), initializer(tensorF("w", []int64{2}, 1, 2)),
		node("Identity", []string{"w"}, []string{"w2"}),
		node("Mul", []string{"x", "w2"}, []string{"y"}), output("y"), output("w")))
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "x" {
		t.Errorf("inputs %v", g.Inputs)
	}
	n := only(t, g, ir.Mul)
	if !n.Inputs[1].IsConst() || n.Inputs[1].Name != "w2" {
		t.Errorf("mul %v", n.Format())
	}
	if g.Outputs[1].Name != "w" || !g.Outputs[1].IsConst() || &g.Outputs[1].Const.F32[0] == &n.Inputs[1].Const.F32[0] {
		t.Errorf("constant output %v shares data with its Identity", g.Outputs[1])
	}
}

func TestTensorDTypes(t *testing.T) {
	le16 := func(vs ...uint16) []byte {
		b := make([]byte, 2*len(vs))
		for i, v := range vs {
			b[2*i], b[2*i+1] = byte(v), byte(v>>8)
		}
		return b
	}
	f64 := make([]byte, 16)
	for i, v := range []float64{1.5, -2.25} {
		protowire.AppendFixed64(f64[:8*i], math.Float64bits(v))
	}
	for _, tc := range []struct {
		name string
		data []byte
		want *ir.Tensor
	}{
		{"float raw", tensorF("t", []int64{2}, 1, -1), &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{2}, F32: []float32{1, -1}}},
		{"float typed unpacked", cat(dimsField([]int64{2}), fVarint(2, tFloat), fFixed32(4, 1), fFixed32(4, 2)),
			&ir.Tensor{DType: ir.Float32, Shape: ir.Shape{2}, F32: []float32{1, 2}}},
		{"float16 raw", cat(dimsField([]int64{4}), fVarint(2, tFloat16), fBytes(9, le16(0x3c00, 0xc000, 0x0001, 0x7c00))),
			&ir.Tensor{DType: ir.Float32, Shape: ir.Shape{4}, F32: []float32{1, -2, 5.9604645e-08, float32(math.Inf(1))}}},
		{"float16 int32_data", cat(dimsField([]int64{1}), fVarint(2, tFloat16), packedVarints(5, 0x3800)),
			&ir.Tensor{DType: ir.Float32, Shape: ir.Shape{1}, F32: []float32{0.5}}},
		{"bfloat16", cat(dimsField([]int64{1}), fVarint(2, tBfloat16), fBytes(9, le16(0x3fc0))),
			&ir.Tensor{DType: ir.Float32, Shape: ir.Shape{1}, F32: []float32{1.5}}},
		{"double raw", cat(dimsField([]int64{2}), fVarint(2, tDouble), fBytes(9, f64)),
			&ir.Tensor{DType: ir.Float32, Shape: ir.Shape{2}, F32: []float32{1.5, -2.25}}},
		{"double typed", cat(dimsField([]int64{1}), fVarint(2, tDouble), fBytes(10, f64[:8])),
			&ir.Tensor{DType: ir.Float32, Shape: ir.Shape{1}, F32: []float32{1.5}}},
		{"int64 typed", tensorI64("t", []int64{3}, -1, 0, 1<<40), &ir.Tensor{DType: ir.Int64, Shape: ir.Shape{3}, I64: []int64{-1, 0, 1 << 40}}},
		{"int64 raw", cat(dimsField([]int64{1}), fVarint(2, tInt64), fBytes(9, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})),
			&ir.Tensor{DType: ir.Int64, Shape: ir.Shape{1}, I64: []int64{-2}}},
		{"int32 typed", cat(dimsField([]int64{2}), fVarint(2, tInt32), packedVarints(5, -5, 7)),
			&ir.Tensor{DType: ir.Int32, Shape: ir.Shape{2}, I32: []int32{-5, 7}}},
		{"int32 raw", cat(dimsField([]int64{1}), fVarint(2, tInt32), fBytes(9, []byte{1, 1, 0, 0})),
			&ir.Tensor{DType: ir.Int32, Shape: ir.Shape{1}, I32: []int32{257}}},
		{"int8 raw", cat(dimsField([]int64{2}), fVarint(2, tInt8), fBytes(9, []byte{0xff, 5})),
			&ir.Tensor{DType: ir.Int8, Shape: ir.Shape{2}, I8: []int8{-1, 5}}},
		{"int8 typed", cat(dimsField([]int64{2}), fVarint(2, tInt8), packedVarints(5, -128, 127)),
			&ir.Tensor{DType: ir.Int8, Shape: ir.Shape{2}, I8: []int8{-128, 127}}},
		{"uint8 typed", cat(dimsField([]int64{2, 1}), fVarint(2, tUint8), packedVarints(5, 0, 255)),
			&ir.Tensor{DType: ir.Uint8, Shape: ir.Shape{2, 1}, U8: []uint8{0, 255}}},
		{"scalar", tensorF("t", nil, 4), &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{}, F32: []float32{4}}},
		{"empty", cat(dimsField([]int64{0, 3}), fVarint(2, tFloat)), &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{0, 3}}},
	} {
		got, err := DecodeTensor(tc.data)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.DType != tc.want.DType || !got.Shape.Equal(tc.want.Shape) || got.Len() != tc.want.Len() ||
			!reflect.DeepEqual(got.F32, tc.want.F32) && len(tc.want.F32) > 0 || !reflect.DeepEqual(got.I64, tc.want.I64) ||
			!reflect.DeepEqual(got.I32, tc.want.I32) || !reflect.DeepEqual(got.I8, tc.want.I8) || !reflect.DeepEqual(got.U8, tc.want.U8) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"short raw", "raw_data has 4 bytes, shape [2] of FLOAT needs 8", cat(dimsField([]int64{2}), fVarint(2, tFloat), fBytes(9, make([]byte, 4)))},
		{"long raw", "raw_data has 12 bytes", cat(dimsField([]int64{2}), fVarint(2, tFloat), fBytes(9, make([]byte, 12)))},
		{"few typed", "float_data has 1 values, shape [2] needs 2", cat(dimsField([]int64{2}), fVarint(2, tFloat), packedFloats(4, 1))},
		{"wrong field", "type FLOAT but data in int64_data", cat(dimsField([]int64{1}), fVarint(2, tFloat), packedVarints(7, 1))},
		{"both", "both raw_data and float_data", cat(dimsField([]int64{1}), fVarint(2, tFloat), packedFloats(4, 1), fBytes(9, make([]byte, 4)))},
		{"no data", "holds no data", cat(dimsField([]int64{3}), fVarint(2, tFloat))},
		{"negative dim", "dimension 0 is -2", cat(dimsField([]int64{-2}), fVarint(2, tFloat))},
		{"huge dims", "more than", cat(dimsField([]int64{1 << 30, 1 << 30, 1 << 30}), fVarint(2, tFloat), fBytes(9, make([]byte, 4)))},
		{"huge dim", "dimension 0 is", cat(dimsField([]int64{1 << 40}), fVarint(2, tFloat), fBytes(9, make([]byte, 4)))},
		{"int8 range", "out of range for INT8", cat(dimsField([]int64{1}), fVarint(2, tInt8), packedVarints(5, 200))},
		{"string", "element type STRING is not supported", cat(dimsField([]int64{1}), fVarint(2, tString), fStr(6, "a"))},
		{"bool", "BOOL is not supported", cat(dimsField([]int64{1}), fVarint(2, tBool), fBytes(9, []byte{1}))},
		{"undefined", "element type UNDEFINED", cat(dimsField([]int64{1}))},
		{"segment", "segmented", cat(dimsField([]int64{1}), fVarint(2, tFloat), fBytes(3, nil), fBytes(9, make([]byte, 4)))},
		{"packed float bytes", "not a multiple of 4", cat(dimsField([]int64{1}), fVarint(2, tFloat), fBytes(4, make([]byte, 5)))},
		{"bad varint run", "ends inside a varint", cat(dimsField([]int64{1}), fVarint(2, tInt64), fBytes(7, []byte{0x80}))},
		{"wire type", "has fixed32 encoding, want varint", cat(fFixed32(2, 1))},
		{"truncated", "unexpected EOF", cat(dimsField([]int64{2}), fVarint(2, tFloat), fBytes(9, make([]byte, 8)))[:9]},
	} {
		_, err := DecodeTensor(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestExternalData(t *testing.T) {
	ext := cat(dimsField([]int64{2}), fVarint(2, tFloat), fStr(8, "W"),
		fBytes(13, cat(fStr(1, "location"), fStr(2, "W.bin"))), fVarint(14, 1))
	data := model(13, x4(2), initializer(ext), node("Mul", []string{"x", "W"}, []string{"y"}), output("y"))
	_, err := Decode(data)
	want := `initializer "W": uses external data ("W.bin"); mnc reads only self-contained .onnx files: re-save with onnx.save(model, path, save_as_external_data=False)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestGraphErrors(t *testing.T) {
	relu := func(in, out string) []byte { return node("Relu", []string{in}, []string{out}) }
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"missing input", `reads "nope", which no node, graph input or initializer defines`, model(13, x4(1), relu("nope", "y"), output("y"))},
		{"duplicate outputs", `value "y" is produced by node`, model(13, x4(1), relu("x", "y"), relu("x", "y"), output("y"))},
		{"output twice", `lists output "y" twice`, model(13, x4(1), node("Relu", []string{"x"}, []string{"y", "y"}), output("y"))},
		{"redefine input", `output "x" redefines a graph input`, model(13, x4(1), relu("x", "x"), output("x"))},
		{"cycle", "cycle", model(13, x4(1), relu("b", "a"), relu("a", "b"), output("b"))},
		{"self loop", "cycle", model(13, x4(1), node("Add", []string{"x", "a"}, []string{"a"}), output("a"))},
		{"undefined output", `graph output "z" is not produced`, model(13, x4(1), relu("x", "y"), output("z"))},
		{"no outputs", "graph has no outputs", model(13, x4(1), relu("x", "y"))},
		{"no graph", "model has no graph", cat(fVarint(1, 8), fBytes(8, fVarint(2, 13)))},
		{"node without output", "has no output", model(13, x4(1), node("Relu", []string{"x"}, nil), output("x"))},
		{"too many outputs", "has 2 outputs, the op has at most 1", model(13, x4(1), node("Relu", []string{"x"}, []string{"y", "z"}), output("y"))},
		{"missing required input", "required input 0 is empty", model(13, x4(1), node("Add", []string{"", "x"}, []string{"y"}), output("y"))},
		{"duplicate initializer", `initializer "w" is defined twice`, model(13, x4(1), initializer(tensorF("w", nil, 1)), initializer(tensorF("w", nil, 1)), relu("x", "y"), output("y"))},
		{"duplicate input", `graph input "x" is listed twice`, model(13, x4(1), x4(1), relu("x", "y"), output("y"))},
		{"duplicate attribute", `attribute "axis" is given twice`, model(13, x4(1, 2), node("Flatten", []string{"x"}, []string{"y"}, aInt("axis", 1), aInt("axis", 1)), output("y"))},
		{"input type", "element type DOUBLE is not supported", model(13, input("x", tDouble, 1), relu("x", "y"), output("y"))},
		{"input no shape", "has no shape", model(13, fBytes(11, cat(fStr(1, "x"), fBytes(2, fBytes(1, fVarint(1, tFloat))))), relu("x", "y"), output("y"))},
		{"input no type", "not declared as a tensor", model(13, fBytes(11, fStr(1, "x")), relu("x", "y"), output("y"))},
		{"input absurd dim", "dimension 1 is -5", model(13, rawDimsInput("x", 1, -5), relu("x", "y"), output("y"))},
		{"input huge", "more than", model(13, x4(1<<30, 1<<30, 1<<30), relu("x", "y"), output("y"))},
		{"wire type", "field graph (7) has varint encoding", cat(fVarint(1, 8), fBytes(8, fVarint(2, 13)), fVarint(7, 3))},
		{"garbage", "malformed", []byte{0xff, 0xff, 0xff}},
		{"group", "unsupported group encoding", []byte{0x0b, 0x0c}},
		{"sparse", "sparse initializers", model(13, x4(1), fBytes(15, nil), relu("x", "y"), output("y"))},
	} {
		_, err := Decode(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	// dim_param is an unknown dimension.
	g := mustDecode(t, model(13, x4(-1, 3), relu("x", "y"), output("y")))
	if !g.Inputs[0].Type.Shape.Equal(ir.Shape{-1, 3}) {
		t.Errorf("dim_param input %v", g.Inputs[0].Type)
	}
	// A dimension without value or param is unknown too.
	noVal := fBytes(11, cat(fStr(1, "x"), fBytes(2, fBytes(1, cat(fVarint(1, tFloat), fBytes(2, cat(fBytes(1, nil), fBytes(1, fVarint(1, 3)))))))))
	g = mustDecode(t, model(13, noVal, relu("x", "y"), output("y")))
	if !g.Inputs[0].Type.Shape.Equal(ir.Shape{-1, 3}) {
		t.Errorf("missing dim %v", g.Inputs[0].Type)
	}
}

// rawDimsInput declares a float input with the given dim_values.
func rawDimsInput(name string, dims ...int64) []byte {
	var shape []byte
	for _, d := range dims {
		shape = append(shape, fBytes(1, fVarint(1, d))...)
	}
	tt := cat(fVarint(1, tFloat), fBytes(2, shape))
	return fBytes(11, cat(fStr(1, name), fBytes(2, fBytes(1, tt))))
}

// Every proper prefix of a valid model must fail cleanly.
func TestTruncated(t *testing.T) {
	data := model(13,
		x4(-1, 2, 4, 4),
		initializer(tensorF("w", []int64{2, 1, 3, 3}, seq(18, 0, 1)...)),
		initializer(tensorI64("p", []int64{8}, 0, 0, 1, 1, 0, 0, 1, 1)),
		node("Pad", []string{"x", "p"}, []string{"xp"}),
		node("Conv", []string{"xp", "w"}, []string{"c"}, aInt("group", 2), aInts("strides", 1, 1)),
		node("Clip", []string{"c"}, []string{"y"}),
		output("y"))
	mustDecode(t, data)
	for i := range len(data) {
		if g, err := Decode(data[:i]); err == nil {
			t.Fatalf("prefix of %d/%d bytes decoded:\n%v", i, len(data), g)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, unaryModel(13, "Relu", []int64{1, 2}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, unaryModel(13, "LSTM", []int64{1, 2}), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad)
	if err == nil || !strings.HasPrefix(err.Error(), "load "+bad+": ") {
		t.Fatalf("got %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.onnx")); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Fatalf("got %v", err)
	}
}
