package quant

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
)

// actBiasGraph is an NHWC float graph whose first two convolutions have
// 16x16 output positions (corrected by activation bias correction) and
// whose classifier has one (left alone).
func actBiasGraph(t *testing.T, r *rand.Rand) *ir.Graph {
	t.Helper()
	g := ir.NewGraph("actbias")
	add := func(op ir.Op, name string, attrs ir.Attrs, layout ir.Layout, ins ...*ir.Value) *ir.Value {
		t.Helper()
		n := &ir.Node{Name: name, Op: op, Attrs: attrs, Inputs: ins, Layout: layout}
		types, err := ir.InferNode(n, inTypes(ins))
		if err != nil {
			t.Fatal(err)
		}
		n.Outputs = []*ir.Value{g.NewValue(name, types[0])}
		g.Nodes = append(g.Nodes, n)
		return n.Output()
	}
	c := func(name string, scale float64, shape ...int) *ir.Value {
		return g.AddConst(name, randTensor(r, ir.Shape(shape), scale))
	}
	conv := func(k, group int, act ir.Activation) *ir.ConvAttrs {
		p := (k - 1) / 2
		return &ir.ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{p, p, p, p}, Group: group, Act: act}
	}
	x := g.AddInput("input", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{-1, 3, 16, 16}})
	h := add(ir.Transpose, "input.nhwc", &ir.TransposeAttrs{Perm: []int{0, 2, 3, 1}}, ir.NCHW, x)
	h = add(ir.Conv, "stem", conv(3, 1, ir.Activation{Kind: ir.ActRelu6}), ir.NHWC, h, c("stem.w", 0.3, 8, 3, 3, 3), c("stem.b", 0.1, 8))
	h = add(ir.Conv, "dw", conv(3, 8, ir.Activation{Kind: ir.ActRelu6}), ir.NHWC, h, c("dw.w", 0.4, 8, 1, 3, 3), c("dw.b", 0.1, 8))
	h = add(ir.Conv, "pw", conv(1, 1, ir.Activation{}), ir.NHWC, h, c("pw.w", 0.4, 12, 8, 1, 1), c("pw.b", 0.1, 12))
	h = add(ir.GlobalAveragePool, "pool", nil, ir.NHWC, h)
	h = add(ir.Conv, "fc", conv(1, 1, ir.Activation{}), ir.NHWC, h, c("fc.w", 0.5, 5, 12, 1, 1), c("fc.b", 0.1, 5))
	h = add(ir.Flatten, "flat", &ir.FlattenAttrs{Axis: 1}, ir.NCHW, h)
	g.Outputs = []*ir.Value{h}
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	return g
}

// meanErrors returns, per value of q named in names, the mean over
// channels of |mean float - mean int8| on the inputs.
func meanErrors(t *testing.T, f, q *ir.Graph, in []*ir.Tensor, names []string) map[string]float64 {
	t.Helper()
	r, err := NewRunner(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	fx, err := compileGraph(f, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer fx.close()
	diff := map[string][]float64{}
	for _, x := range in {
		fl := map[string][]float32{}
		_, err := fx.run(x, func(o *runtime.Observation) {
			if slices.Contains(names, o.Name) && o.F32 != nil {
				fl[o.Name] = append(fl[o.Name], o.F32...)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Run(x, func(v *ir.Value, tq *ir.Tensor) {
			if fl[v.Name] == nil || tq.DType != ir.Int8 {
				return
			}
			ch := v.Type.Shape[len(v.Type.Shape)-1]
			d := diff[v.Name]
			if d == nil {
				d = make([]float64, ch)
				diff[v.Name] = d
			}
			s, z := float64(v.Quant.Scale[0]), float64(v.Quant.ZeroPoint[0])
			for i, c := range tq.I8 {
				d[i%ch] += float64(fl[v.Name][i]) - s*(float64(c)-z)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]float64{}
	for n, d := range diff {
		var a float64
		for _, v := range d {
			a += math.Abs(v)
		}
		out[n] = a / float64(len(d))
	}
	return out
}

// TestActBiasCorrect: activation bias correction changes only the biases
// of the convolutions with enough output positions, reduces their mean
// output error on the calibration inputs, is labelled in the method, and
// gives the same graph for any number of workers and on every run.
func TestActBiasCorrect(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	g := actBiasGraph(t, r)
	var in []*ir.Tensor
	for i := range 6 {
		in = append(in, randTensor(r, ir.Shape{1 + i%2, 3, 16, 16}, 1))
	}
	st, err := CalibrateTensors(g, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q0, err := Quantize(g, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var qs []*ir.Graph
	for _, w := range []int{1, 3, 1} {
		o := Options{ActBiasCorrect: true, Workers: w}
		q, _, err := finish(g, st, nil, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(q); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(q.Meta[MetaMethod], "+actbias") {
			t.Errorf("method label %q", q.Meta[MetaMethod])
		}
		qs = append(qs, q)
	}
	for i, q := range qs[1:] {
		if !reflect.DeepEqual(biases(q), biases(qs[0])) {
			t.Errorf("run %d: biases differ from the first run's", i+1)
		}
	}
	b0, b1 := biases(q0), biases(qs[0])
	for name, b := range b0 {
		changed := !slices.Equal(b, b1[name])
		if want := name != "fc.b"; changed != want {
			t.Errorf("bias %s changed %v, want %v", name, changed, want)
		}
	}
	names := []string{"stem", "dw", "pw"}
	e0, e1 := meanErrors(t, g, q0, in, names), meanErrors(t, g, qs[0], in, names)
	for _, n := range names {
		t.Logf("%s: mean channel error %.3g -> %.3g", n, e0[n], e1[n])
		if !(e1[n] <= e0[n]) {
			t.Errorf("%s: mean channel error %.3g, %.3g without the correction", n, e1[n], e0[n])
		}
	}
}

// biases returns the int32 biases of q by name.
func biases(q *ir.Graph) map[string][]int32 {
	m := map[string][]int32{}
	for _, n := range q.Nodes {
		if n.Op == ir.Conv && len(n.Inputs) > 2 {
			m[n.Inputs[2].Name] = n.Inputs[2].Const.I32
		}
	}
	return m
}
