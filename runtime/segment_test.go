package runtime_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// segGraph is a small DeepLab-like head, NCHW as a frontend makes it:
// x [1,3,6,6] resized to 8x8 (half-pixel centres), a 1x1 convolution with
// ReLU, its global average pooled and resized back to 8x8 (TFLite's
// legacy rule), the three concatenated over the channels, a 1x1
// convolution to 3 classes resized to 15x15 (align_corners) and ArgMax
// over the channels (i64, as TFLite's ARG_MAX gives it).
func segGraph(t testing.TB) *ir.Graph {
	t.Helper()
	g := ir.NewGraph("seg")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{1, 3, 6, 6}})
	must := func(v *ir.Value, err error) *ir.Value {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	weights := func(o, c int, seed float32) *ir.Value {
		w := make([]float32, o*c)
		for i := range w {
			w[i] = float32(math.Sin(float64(seed)+float64(i)*1.7)) / float32(c)
		}
		return g.AddConst("w", ir.NewFloat32(ir.Shape{o, c, 1, 1}, w))
	}
	conv := func(name string, in *ir.Value, o, c int, seed float32, act ir.ActKind) *ir.Value {
		b := make([]float32, o)
		for i := range b {
			b[i] = 0.1 * float32(i%3-1)
		}
		return must(g.Add(ir.Conv, name, &ir.ConvAttrs{Stride: [2]int{1, 1}, Group: 1, Act: ir.Activation{Kind: act}},
			in, weights(o, c, seed), g.AddConst(name+".b", ir.NewFloat32(ir.Shape{o}, b))))
	}
	r := must(g.Add(ir.ResizeBilinear, "up_x", &ir.ResizeAttrs{Size: [2]int{8, 8}, HalfPixelCenters: true}, x))
	a := conv("branch", r, 4, 3, 0.3, ir.ActRelu)
	p := must(g.Add(ir.GlobalAveragePool, "pool", nil, a))
	pr := must(g.Add(ir.ResizeBilinear, "up_pool", &ir.ResizeAttrs{Size: [2]int{8, 8}}, p))
	c := must(g.Add(ir.Concat, "concat", &ir.ConcatAttrs{Axis: 1}, a, pr, r))
	l := conv("logits", c, 3, 11, 1.1, ir.ActNone)
	u := must(g.Add(ir.ResizeBilinear, "up_logits", &ir.ResizeAttrs{Size: [2]int{15, 15}, AlignCorners: true}, l))
	out := must(g.Add(ir.ArgMax, "argmax", &ir.ArgMaxAttrs{Axis: 1, OutputType: ir.Int64}, u))
	g.Outputs = []*ir.Value{out}
	return g
}

// segInputs are a few deterministic inputs of segGraph.
func segInputs() []*ir.Tensor {
	var ins []*ir.Tensor
	for k := range 4 {
		x := ir.NewFloat32(ir.Shape{1, 3, 6, 6}, nil)
		for i := range x.F32 {
			x.F32[i] = float32(math.Sin(float64(i*(k+2))*0.37+float64(k))) * 2
		}
		ins = append(ins, x)
	}
	return ins
}

// nchwOf returns an observed NHWC [1,H,W,C] float32 tensor in NCHW order.
func nchwOf(x []float32, shape []int) []float32 {
	h, w, c := shape[1], shape[2], shape[3]
	y := make([]float32, len(x))
	for p := range h * w {
		for ch := range c {
			y[ch*h*w+p] = x[p*c+ch]
		}
	}
	return y
}

// TestSegmentationFloat: RESIZE_BILINEAR (the three coordinate rules),
// CONCATENATION and ARG_MAX in a float32 model file compute as ir/interp:
// the resize of the graph input bit for bit, the class map (INT32, the
// ArgMax over NHWC's channels without a transpose) the same.
func TestSegmentationFloat(t *testing.T) {
	g := segGraph(t)
	f, err := quant.Prepare(segGraph(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range f.Nodes {
		if n.Op == ir.Transpose && n.Inputs[0] != f.Inputs[0] {
			t.Errorf("the prepared graph transposes %s (ArgMax should read NHWC)", n.Inputs[0])
		}
	}
	data, err := codegen.Build(f, codegen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.OutputShape(); !slices.Equal(s, []int{1, 15, 15}) || m.Info().Output.DType != "int32" {
		t.Fatalf("output %s %v, want int32 [1 15 15]", m.Info().Output.DType, s)
	}
	it, err := m.NewInterpreter()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for k, in := range segInputs() {
		var want []float32
		ref, err := interp.Run(g, []*ir.Tensor{in}, &interp.Options{Observe: func(v *ir.Value, x *ir.Tensor) {
			if v.Name == "up_x" {
				want = slices.Clone(x.F32)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		var have []float32
		it.SetObserver(func(o *runtime.Observation) {
			if o.Name == "up_x" {
				have = nchwOf(o.F32, o.Shape)
			}
		})
		out, err := it.Run(runtime.Tensor{Shape: in.Shape, Data: in.F32})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(have, want) {
			t.Errorf("input %d: the resize of the input differs from ir/interp's", k)
		}
		if out.Data != nil || len(out.I32) != 225 {
			t.Fatalf("input %d: output %d float32 and %d int32 values", k, len(out.Data), len(out.I32))
		}
		for i, c := range out.I32 {
			if int64(c) != ref[0].I64[i] {
				t.Fatalf("input %d: class %d at pixel %d, ir/interp %d", k, c, i, ref[0].I64[i])
			}
		}
		// A batch of two runs item by item.
		both := append(slices.Clone(in.F32), in.F32...)
		out2, err := it.Run(runtime.Tensor{Shape: []int{2, 3, 6, 6}, Data: both})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out2.Shape, []int{2, 15, 15}) || !slices.Equal(out2.I32[:225], out2.I32[225:]) {
			t.Fatalf("input %d: batch output %v", k, out2.Shape)
		}
	}
}

// segFile is segGraph as a float32 model file.
func segFile(t testing.TB) []byte {
	t.Helper()
	f, err := quant.Prepare(segGraph(t))
	if err != nil {
		t.Fatal(err)
	}
	data, err := codegen.Build(f, codegen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// segFile8 is segGraph quantized (calibrated on segInputs) as an int8
// model file.
func segFile8(t testing.TB) []byte {
	t.Helper()
	q, _, err := quant.CompileInputs(segGraph(t), segInputs(), nil, quant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := codegen.Build(q, codegen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// opsOf returns the operators of m with the given code, in order.
func opsOf(m *mncfb.Model, code mncfb.BuiltinOp) []*mncfb.Operator {
	var ops []*mncfb.Operator
	for i := range m.OperatorsLength() {
		o := new(mncfb.Operator)
		m.Operators(o, i)
		var c mncfb.OperatorCode
		m.OperatorCodes(&c, int(o.OpcodeIndex()))
		if c.BuiltinCode() == code {
			ops = append(ops, o)
		}
	}
	return ops
}

// options returns the options table of o.
func options(t *testing.T, o *mncfb.Operator) flatbuffers.Table {
	t.Helper()
	var tb flatbuffers.Table
	if !o.Options(&tb) {
		t.Fatal("operator has no options")
	}
	return tb
}

func resizeOpts(t *testing.T, m *mncfb.Model, k int) *mncfb.ResizeBilinearOptions {
	tb := options(t, opsOf(m, mncfb.BuiltinOpRESIZE_BILINEAR)[k])
	var r mncfb.ResizeBilinearOptions
	r.Init(tb.Bytes, tb.Pos)
	return &r
}

// argResizeOpts is the fused resize of the file's ARG_MAX.
func argResizeOpts(t *testing.T, m *mncfb.Model) *mncfb.ResizeBilinearOptions {
	tb := options(t, opsOf(m, mncfb.BuiltinOpARG_MAX)[0])
	var a mncfb.ArgMaxOptions
	a.Init(tb.Bytes, tb.Pos)
	r := a.Resize(nil)
	if r == nil {
		t.Fatal("the ARG_MAX has no fused resize")
	}
	return r
}

// TestSegmentationCorrupt: hostile options and shapes of the new operators
// are clear errors, never panics: resize sizes zero, absurd or not the
// output's, argmax and concat axes out of range, outputs of the wrong
// type or shape, an int32 activation read by another operator.
func TestSegmentationCorrupt(t *testing.T) {
	good := segFile(t)
	if _, err := runtime.Load(good); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		f          func(t *testing.T, m *mncfb.Model)
	}{
		{"resize height zero", "must be positive", func(t *testing.T, m *mncfb.Model) { resizeOpts(t, m, 0).MutateHeight(0) }},
		{"resize height negative", "must be positive", func(t *testing.T, m *mncfb.Model) { resizeOpts(t, m, 1).MutateHeight(-8) }},
		{"resize absurd size", "at most 65536", func(t *testing.T, m *mncfb.Model) {
			r := resizeOpts(t, m, 1)
			r.MutateHeight(1 << 30)
			r.MutateWidth(1 << 30)
		}},
		{"resize size not the output's", "want [1 16 8 4]", func(t *testing.T, m *mncfb.Model) { resizeOpts(t, m, 1).MutateHeight(16) }},
		// The logits' resize is fused into the ARG_MAX (fuse-resize-argmax).
		{"fused resize absurd size", "at most 65536", func(t *testing.T, m *mncfb.Model) {
			r := argResizeOpts(t, m)
			r.MutateHeight(1 << 30)
			r.MutateWidth(1 << 30)
		}},
		{"fused resize zero", "must be positive", func(t *testing.T, m *mncfb.Model) { argResizeOpts(t, m).MutateWidth(0) }},
		{"fused resize size not the output's", "want [1 16 15]", func(t *testing.T, m *mncfb.Model) { argResizeOpts(t, m).MutateHeight(16) }},
		{"resize output layout", "output shape [1 3 8 8], want [1 8 8 3]", func(t *testing.T, m *mncfb.Model) {
			o := tensorAt(m, int(opsOf(m, mncfb.BuiltinOpRESIZE_BILINEAR)[0].Outputs(0)))
			o.MutateShape(1, 3)
			o.MutateShape(3, 8)
		}},
		{"argmax axis", "axis 7 outside", func(t *testing.T, m *mncfb.Model) {
			tb := options(t, opsOf(m, mncfb.BuiltinOpARG_MAX)[0])
			var a mncfb.ArgMaxOptions
			a.Init(tb.Bytes, tb.Pos)
			a.MutateAxis(7)
		}},
		{"argmax negative axis", "axis -1 outside", func(t *testing.T, m *mncfb.Model) {
			tb := options(t, opsOf(m, mncfb.BuiltinOpARG_MAX)[0])
			var a mncfb.ArgMaxOptions
			a.Init(tb.Bytes, tb.Pos)
			a.MutateAxis(-1)
		}},
		{"argmax on another axis", "needs axis 3", func(t *testing.T, m *mncfb.Model) {
			tb := options(t, opsOf(m, mncfb.BuiltinOpARG_MAX)[0])
			var a mncfb.ArgMaxOptions
			a.Init(tb.Bytes, tb.Pos)
			a.MutateAxis(2)
		}},
		{"argmax output float32", "must be an int32 activation", func(t *testing.T, m *mncfb.Model) {
			tensorAt(m, int(opsOf(m, mncfb.BuiltinOpARG_MAX)[0].Outputs(0))).MutateDtype(mncfb.DTypeFLOAT32)
		}},
		{"concat axis", "axis 9 outside", func(t *testing.T, m *mncfb.Model) {
			tb := options(t, opsOf(m, mncfb.BuiltinOpCONCATENATION)[0])
			var a mncfb.ConcatenationOptions
			a.Init(tb.Bytes, tb.Pos)
			a.MutateAxis(9)
		}},
		{"concat on another axis", "differ outside axis 2", func(t *testing.T, m *mncfb.Model) {
			tb := options(t, opsOf(m, mncfb.BuiltinOpCONCATENATION)[0])
			var a mncfb.ConcatenationOptions
			a.Init(tb.Bytes, tb.Pos)
			a.MutateAxis(2)
		}},
		{"concat sizes", "inputs sum to 12", func(t *testing.T, m *mncfb.Model) {
			o := opsOf(m, mncfb.BuiltinOpCONCATENATION)[0]
			o.MutateInputs(2, o.Inputs(1)) // 4 channels instead of 3
		}},
		{"int32 activation read", "int32", func(t *testing.T, m *mncfb.Model) {
			tensorAt(m, int(opsOf(m, mncfb.BuiltinOpCONCATENATION)[0].Outputs(0))).MutateDtype(mncfb.DTypeINT32)
		}},
		{"options of another op", "has options", func(t *testing.T, m *mncfb.Model) {
			opsOf(m, mncfb.BuiltinOpARG_MAX)[0].MutateOptionsType(mncfb.OpOptionsResizeBilinearOptions)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, fixLowerBound(mutate(good, func(m *mncfb.Model) { c.f(t, m) })), c.want)
		})
	}
}

// fixLowerBound returns data with the arena's recorded lower bound set to
// the one its lifetimes give, when that is all the verifier objects to
// first (so that a change of an operator's inputs reaches the planner).
func fixLowerBound(data []byte) []byte {
	_, err := runtime.Load(data)
	if err == nil {
		return data
	}
	var lb uint64
	const key = "the tensors' lifetimes give "
	if i := strings.Index(err.Error(), key); i < 0 {
		return data
	} else if _, e := fmt.Sscan(err.Error()[i+len(key):], &lb); e != nil {
		return data
	}
	return mutate(data, func(m *mncfb.Model) {
		var a mncfb.ArenaPlan
		m.Arena(&a)
		a.MutateLowerBound(lb)
	})
}

// TestSegmentationInt8: segGraph calibrated on its inputs and quantized
// (ResizeBilinear in its input's quantization, Concat requantizing the
// inputs whose range is not the output's, ArgMax on the codes) runs as an
// int8 model file equal to quant's reference interpreter on every kernel
// set: every int8 tensor byte for byte and the class map.
func TestSegmentationInt8(t *testing.T) {
	ins := segInputs()
	q, _, err := quant.CompileInputs(segGraph(t), ins, nil, quant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var concat *ir.Node
	for _, n := range q.Nodes {
		if n.Op == ir.Concat {
			concat = n
		}
	}
	if concat == nil || concat.Output().Type.DType != ir.Int8 {
		t.Fatal("no int8 Concat in the quantized graph")
	}
	requantized := 0
	for _, v := range concat.Inputs {
		if v.Quant.Scale[0] != concat.Output().Quant.Scale[0] {
			requantized++
		}
	}
	if requantized == 0 {
		t.Error("the Concat requantizes none of its inputs: the test does not exercise it")
	}
	data, err := codegen.Build(q, codegen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := quant.NewRunner(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range kernels.Available() {
		m, err := runtime.LoadWith(data, runtime.Options{Kernels: set})
		if err != nil {
			t.Fatal(err)
		}
		if m.Info().Precision != "int8" {
			t.Fatalf("precision %s", m.Info().Precision)
		}
		it, err := m.NewInterpreter()
		if err != nil {
			t.Fatal(err)
		}
		for k, in := range ins {
			want := map[string][]int8{}
			ref, err := r.Run(in, func(v *ir.Value, x *ir.Tensor) {
				if x.DType == ir.Int8 {
					want[v.Name] = slices.Clone(x.I8)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			it.SetObserver(func(o *runtime.Observation) {
				if o.I8 == nil {
					return
				}
				if w, ok := want[o.Name]; !ok || !slices.Equal(w, o.I8) {
					t.Errorf("kernels %s, input %d: tensor %q differs from the reference interpreter's", set, k, o.Name)
				}
				seen++
			})
			out, err := it.Run(runtime.Tensor{Shape: in.Shape, Data: in.F32})
			if err != nil {
				t.Fatal(err)
			}
			if seen < 6 {
				t.Errorf("observed %d int8 tensors", seen)
			}
			for i, c := range out.I32 {
				if int64(c) != ref[0].I64[i] {
					t.Fatalf("kernels %s, input %d: class %d at pixel %d, the reference %d", set, k, c, i, ref[0].I64[i])
				}
			}
		}
		it.Close()
	}
}
