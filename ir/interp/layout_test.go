package interp

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// addNode appends a node with the given layout to g.
func addNode(t *testing.T, g *ir.Graph, op ir.Op, layout ir.Layout, attrs ir.Attrs, ins ...*ir.Value) *ir.Value {
	t.Helper()
	n := &ir.Node{Name: strings.ToLower(op.String()), Op: op, Attrs: attrs, Inputs: ins, Layout: layout}
	types := make([]ir.TensorType, len(ins))
	for i, v := range ins {
		types[i] = v.Type
	}
	ts, err := ir.InferNode(n, types)
	if err != nil {
		t.Fatal(err)
	}
	n.Outputs = []*ir.Value{g.NewValue(n.Name, ts[0])}
	g.Nodes = append(g.Nodes, n)
	return n.Output()
}

func TestTranspose(t *testing.T) {
	got := runOp(t, ir.Transpose, &ir.TransposeAttrs{Perm: []int{1, 0}}, seq(2, 3))
	check(t, "2-D", got, []int{3, 2}, []float32{1, 4, 2, 5, 3, 6}, exact)
	// out[i][j][0] = x[j][0][i] = 3j + i + 1.
	got = runOp(t, ir.Transpose, &ir.TransposeAttrs{Perm: []int{2, 0, 1}}, seq(2, 1, 3))
	check(t, "3-D", got, []int{3, 2, 1}, []float32{1, 4, 2, 5, 3, 6}, exact)
	got = runOp(t, ir.Transpose, &ir.TransposeAttrs{Perm: []int{0, 1}}, seq(2, 2))
	check(t, "identity", got, []int{2, 2}, []float32{1, 2, 3, 4}, exact)
	// NCHW [1,2,2,2] to NHWC: channels become the fastest dim.
	got = runOp(t, ir.Transpose, &ir.TransposeAttrs{Perm: []int{0, 2, 3, 1}}, seq(1, 2, 2, 2))
	check(t, "to NHWC", got, []int{1, 2, 2, 2}, []float32{1, 5, 2, 6, 3, 7, 4, 8}, exact)
}

func TestSqueezeExcite(t *testing.T) {
	// pooled = [2, 2]; squeeze: relu(1*2 - 1*2 + 0.5) = 0.5; excite:
	// [2*0.5, -2*0.5] = [1, -1]; gate clip(0, 1) -> [1, 0].
	x := tensor([]int{1, 2, 1, 2}, 1, 3, 2, 2)
	consts := []*ir.Tensor{tensor([]int{1, 2, 1, 1}, 1, -1), tensor([]int{1}, 0.5),
		tensor([]int{2, 1, 1, 1}, 2, -2), tensor([]int{2}, 0, 0)}
	relu := ir.Activation{Kind: ir.ActRelu}
	got := runOp(t, ir.SqueezeExcite, &ir.SqueezeExciteAttrs{Act: relu,
		Gate: ir.Activation{Kind: ir.ActClip, Min: 0, Max: 1}}, x, consts...)
	check(t, "clip gate", got, []int{1, 2, 1, 2}, []float32{1, 3, 0, 0}, exact)
	got = runOp(t, ir.SqueezeExcite, &ir.SqueezeExciteAttrs{Act: relu,
		Gate: ir.Activation{Kind: ir.ActHardSigmoid, Alpha: 1. / 6, Beta: 0.5}}, x, consts...)
	check(t, "hardsigmoid gate", got, []int{1, 2, 1, 2}, []float32{2. / 3, 2, 2. / 3, 2. / 3}, 1e-7)

	// Bit for bit the unfused graph.
	r := rand.New(rand.NewPCG(13, 14))
	const N, C, S, H, W = 2, 6, 3, 4, 5
	attrs := &ir.SqueezeExciteAttrs{Act: relu, Gate: ir.Activation{Kind: ir.ActHardSigmoid, Alpha: 1. / 6, Beta: 0.5}}
	w1, b1, w2, b2 := randTensor(r, S, C, 1, 1), randTensor(r, S), randTensor(r, C, S, 1, 1), randTensor(r, C)
	xr := randTensor(r, N, C, H, W)
	fused := runOp(t, ir.SqueezeExcite, attrs, xr, w1, b1, w2, b2)
	g := ir.NewGraph("se")
	in := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{N, C, H, W}})
	p := addNode(t, g, ir.GlobalAveragePool, ir.NCHW, nil, in)
	s := addNode(t, g, ir.Conv, ir.NCHW, &ir.ConvAttrs{Stride: [2]int{1, 1}, Act: attrs.Act}, p, g.AddConst("w1", w1), g.AddConst("b1", b1))
	e := addNode(t, g, ir.Conv, ir.NCHW, &ir.ConvAttrs{Stride: [2]int{1, 1}, Act: attrs.Gate}, s, g.AddConst("w2", w2), g.AddConst("b2", b2))
	y := addNode(t, g, ir.Mul, ir.NCHW, nil, in, e)
	g.Outputs = []*ir.Value{y}
	outs, err := Run(g, []*ir.Tensor{xr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(fused, outs[0]) {
		t.Errorf("fused SqueezeExcite differs from the unfused graph")
	}
}

// TestNHWC checks that every layout-sensitive op gives, in NHWC, exactly the
// transposed NCHW result.
func TestNHWC(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const N, C, H, W = 2, 4, 7, 6
	cases := []struct {
		op     ir.Op
		attrs  ir.Attrs
		consts []*ir.Tensor
	}{
		{ir.Conv, &ir.ConvAttrs{Stride: [2]int{2, 1}, Pads: [4]int{1, 0, 1, 2}, Act: ir.Activation{Kind: ir.ActRelu6}},
			[]*ir.Tensor{randTensor(r, 5, C, 3, 2), randTensor(r, 5)}},
		{ir.Conv, &ir.ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}, Group: C},
			[]*ir.Tensor{randTensor(r, C, 1, 3, 3)}},
		{ir.BatchNorm, &ir.BatchNormAttrs{Epsilon: 1e-3},
			[]*ir.Tensor{randTensor(r, C), randTensor(r, C), randTensor(r, C), tensor([]int{C}, 0.5, 1, 2, 3)}},
		{ir.AveragePool, &ir.PoolAttrs{Kernel: [2]int{3, 2}, Stride: [2]int{2, 2}, Pads: [4]int{1, 0, 1, 1}, CeilMode: true}, nil},
		{ir.GlobalAveragePool, nil, nil},
		{ir.SqueezeExcite, &ir.SqueezeExciteAttrs{Act: ir.Activation{Kind: ir.ActRelu},
			Gate: ir.Activation{Kind: ir.ActHardSigmoid, Alpha: 1. / 6, Beta: 0.5}},
			[]*ir.Tensor{randTensor(r, 2, C, 1, 1), randTensor(r, 2), randTensor(r, C, 2, 1, 1), randTensor(r, C)}},
	}
	x := randTensor(r, N, C, H, W)
	xt := tensor([]int{N, H, W, C})
	transpose(nchwToNHWC, x, xt)
	for _, tc := range cases {
		var outs [2]*ir.Tensor
		for i, layout := range []ir.Layout{ir.NCHW, ir.NHWC} {
			g := ir.NewGraph("layout")
			in := []*ir.Tensor{x, xt}[i]
			ins := []*ir.Value{g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: in.Shape})}
			for _, c := range tc.consts {
				ins = append(ins, g.AddConst("c", c))
			}
			g.Outputs = []*ir.Value{addNode(t, g, tc.op, layout, tc.attrs, ins...)}
			if err := ir.Verify(g); err != nil {
				t.Fatal(err)
			}
			res, err := Run(g, []*ir.Tensor{in}, &Options{Workers: 3})
			if err != nil {
				t.Fatal(err)
			}
			outs[i] = res[0]
		}
		back := tensor(permute(outs[1].Shape, nhwcToNCHW))
		transpose(nhwcToNCHW, outs[1], back)
		if !sameBits(outs[0], back) {
			t.Errorf("%v: NHWC result differs from NCHW", tc.op)
		}
	}
}

func TestQuantizedOpsRejected(t *testing.T) {
	g := ir.NewGraph("q")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{2}})
	q := addNode(t, g, ir.Quantize, ir.NCHW, nil, x)
	g.Outputs = []*ir.Value{q}
	_, err := Run(g, []*ir.Tensor{tensor([]int{2}, 1, 2)}, nil)
	if err == nil || !strings.Contains(err.Error(), `run node "quantize" (Quantize)`) {
		t.Errorf("Quantize: error %v", err)
	}
}
