package interp

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// naiveConv is an independent direct convolution: seven nested loops over
// (n, o, oy, ox, c, kh, kw), float64 throughout, padding handled by bounds
// tests on every tap.
func naiveConv(x, w, b *ir.Tensor, a *ir.ConvAttrs) *ir.Tensor {
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	O, CG, KH, KW := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	groups := max(a.Group, 1)
	dh, dw := max(a.Dilation[0], 1), max(a.Dilation[1], 1)
	OH := (H+a.Pads[0]+a.Pads[2]-dh*(KH-1)-1)/a.Stride[0] + 1
	OW := (W+a.Pads[1]+a.Pads[3]-dw*(KW-1)-1)/a.Stride[1] + 1
	out := tensor([]int{N, O, OH, OW})
	og := O / groups
	for n := 0; n < N; n++ {
		for o := 0; o < O; o++ {
			g := o / og
			for oy := 0; oy < OH; oy++ {
				for ox := 0; ox < OW; ox++ {
					sum := 0.0
					for c := 0; c < CG; c++ {
						for kh := 0; kh < KH; kh++ {
							for kw := 0; kw < KW; kw++ {
								iy := oy*a.Stride[0] + kh*dh - a.Pads[0]
								ix := ox*a.Stride[1] + kw*dw - a.Pads[1]
								if iy < 0 || iy >= H || ix < 0 || ix >= W {
									continue
								}
								xv := float64(x.F32[((n*C+g*CG+c)*H+iy)*W+ix])
								wv := float64(w.F32[((o*CG+c)*KH+kh)*KW+kw])
								sum += xv * wv
							}
						}
					}
					if b != nil {
						sum += float64(b.F32[o])
					}
					out.F32[((n*O+o)*OH+oy)*OW+ox] = float32(a.Act.Apply(sum))
				}
			}
		}
	}
	return out
}

func TestConvAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	acts := []ir.Activation{{}, {Kind: ir.ActRelu}, {Kind: ir.ActRelu6}, {Kind: ir.ActHardSwish},
		{Kind: ir.ActClip, Min: -0.5, Max: 0.5}, {Kind: ir.ActHardSigmoid, Alpha: 0.2, Beta: 0.5}}
	for trial := range 400 {
		pointwise := trial >= 300 // force the 1x1, stride 1, unpadded path
		N := 1 + r.IntN(2)
		groups := 1
		cpg := 1 + r.IntN(4)
		switch r.IntN(3) {
		case 1:
			groups = 2
		case 2:
			groups, cpg = 1+r.IntN(6), 1 // depthwise
		}
		C := groups * cpg
		O := groups * (1 + r.IntN(3))
		if cpg == 1 && r.IntN(2) == 0 {
			O = C // plain depthwise, multiplier 1
		}
		a := &ir.ConvAttrs{
			Stride:   [2]int{1 + r.IntN(2), 1 + r.IntN(3)},
			Dilation: [2]int{r.IntN(3), r.IntN(3)},
			Pads:     [4]int{r.IntN(3), r.IntN(3), r.IntN(3), r.IntN(3)},
			Group:    groups,
			Act:      acts[r.IntN(len(acts))],
		}
		if groups == 1 && r.IntN(2) == 0 {
			a.Group = 0
		}
		KH, KW := 1+r.IntN(3), 1+r.IntN(3)
		if pointwise {
			KH, KW = 1, 1
			a.Stride, a.Pads = [2]int{1, 1}, [4]int{}
			if groups == 1 {
				cpg = 1 + r.IntN(11)
				C = cpg
			}
		}
		d := a.Dilations()
		H := max(1+r.IntN(9), d[0]*(KH-1)+1-a.Pads[0]-a.Pads[2])
		W := max(1+r.IntN(9), d[1]*(KW-1)+1-a.Pads[1]-a.Pads[3])
		x := randTensor(r, N, C, H, W)
		w := randTensor(r, O, cpg, KH, KW)
		var b *ir.Tensor
		consts := []*ir.Tensor{w}
		if r.IntN(2) == 0 {
			b = randTensor(r, O)
			consts = append(consts, b)
		}
		want := naiveConv(x, w, b, a)
		got := runOp(t, ir.Conv, a, x, consts...)
		// Both sum each element's products in the same order, in float64:
		// the results are identical.
		check(t, fmt.Sprintf("trial %d: x%v w%v %v", trial, x.Shape, w.Shape, a), got, want.Shape, want.F32, exact)
	}
}

// buildNet builds a small MobileNet-like graph with an unknown batch
// dimension and random weights, using most ops.
func buildNet(t testing.TB, r *rand.Rand, res int) *ir.Graph {
	g := ir.NewGraph("net")
	f32 := func(s ...int) ir.TensorType { return ir.TensorType{DType: ir.Float32, Shape: s} }
	c := func(name string, shape ...int) *ir.Value { return g.AddConst(name, randTensor(r, shape...)) }
	pos := func(name string, shape ...int) *ir.Value { // positive values (variances)
		tt := randTensor(r, shape...)
		for i := range tt.F32 {
			tt.F32[i] = 0.5 + tt.F32[i]*tt.F32[i]
		}
		return g.AddConst(name, tt)
	}
	must := func(v *ir.Value, err error) *ir.Value {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	x := g.AddInput("x", f32(-1, 3, res, res))
	p := must(g.Add(ir.Pad, "pad", &ir.PadAttrs{Pads: []int{0, 0, 1, 1, 0, 0, 1, 1}, Mode: "reflect"}, x))
	h := must(g.Add(ir.Conv, "stem", &ir.ConvAttrs{Stride: [2]int{2, 2}, Act: ir.Activation{Kind: ir.ActRelu6}},
		p, c("stem.w", 16, 3, 3, 3), c("stem.b", 16)))
	h = must(g.Add(ir.BatchNorm, "bn", &ir.BatchNormAttrs{Epsilon: 1e-5}, h,
		c("bn.s", 16), c("bn.b", 16), c("bn.m", 16), pos("bn.v", 16)))
	dw := must(g.Add(ir.Conv, "dw", &ir.ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}, Group: 16},
		h, c("dw.w", 16, 1, 3, 3)))
	dw = must(g.Add(ir.Clip, "clip", &ir.ClipAttrs{Min: 0, Max: 6}, dw))
	pw := must(g.Add(ir.Conv, "pw", &ir.ConvAttrs{Stride: [2]int{1, 1}}, dw, c("pw.w", 16, 16, 1, 1), c("pw.b", 16)))
	h = must(g.Add(ir.Add, "res", nil, h, pw))
	h = must(g.Add(ir.HardSwish, "hs", nil, h))
	// Squeeze-excite.
	se := must(g.Add(ir.GlobalAveragePool, "se.pool", nil, h))
	se = must(g.Add(ir.Conv, "se.fc", &ir.ConvAttrs{Stride: [2]int{1, 1}, Act: ir.Activation{Kind: ir.ActRelu}},
		se, c("se.w", 16, 16, 1, 1), c("se.b", 16)))
	se = must(g.Add(ir.HardSigmoid, "se.gate", &ir.HardSigmoidAttrs{Alpha: 1. / 6, Beta: 0.5}, se))
	h = must(g.Add(ir.Mul, "se.mul", nil, h, se))
	h = must(g.Add(ir.Sub, "sub", &ir.EltwiseAttrs{Act: ir.Activation{Kind: ir.ActRelu}}, h, c("shift", 16, 1, 1)))
	a := must(g.Add(ir.AveragePool, "avg", &ir.PoolAttrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2},
		Pads: [4]int{1, 1, 1, 1}, CeilMode: true}, h))
	s := must(g.Add(ir.Sigmoid, "sig", nil, a))
	a = must(g.Add(ir.Div, "div", nil, a, must(g.Add(ir.Add, "one", nil, s, g.AddConst("1", tensor([]int{}, 1))))))
	a = must(g.Add(ir.Concat, "cat", &ir.ConcatAttrs{Axis: 1}, a, s))
	a = must(g.Add(ir.Relu, "relu", nil, a))
	a = must(g.Add(ir.GlobalAveragePool, "gap", nil, a))
	a = must(g.Add(ir.Dropout, "drop", nil, a))
	f := must(g.Add(ir.Flatten, "flat", &ir.FlattenAttrs{Axis: 1}, a))
	f = must(g.Add(ir.Identity, "id", nil, f))
	logits := must(g.Add(ir.Gemm, "fc", &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, f, c("fc.w", 10, 32), c("fc.b", 10)))
	m := must(g.Add(ir.Reshape, "rs", &ir.ReshapeAttrs{Shape: []int{-1, 2, 5}}, logits))
	m = must(g.Add(ir.MatMul, "mm", nil, m, c("mm.w", 5, 4)))
	prob := must(g.Add(ir.Softmax, "softmax", &ir.SoftmaxAttrs{Axis: -1}, logits))
	g.Outputs = []*ir.Value{logits, prob, m}
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestBatchIndependence(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := buildNet(t, r, 12)
	const batch = 3
	x := randTensor(r, batch, 3, 12, 12)
	all, err := Run(g, []*ir.Tensor{x}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := all[0].Shape; !got.Equal(ir.Shape{batch, 10}) {
		t.Fatalf("logits shape %v", got)
	}
	per := len(x.F32) / batch
	for i := range batch {
		xi := tensor([]int{1, 3, 12, 12}, x.F32[i*per:(i+1)*per]...)
		one, err := Run(g, []*ir.Tensor{xi}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, o := range one {
			n := len(o.F32)
			slice := tensor(append([]int{1}, o.Shape[1:]...), all[k].F32[i*n:(i+1)*n]...)
			if !sameBits(o, slice) {
				t.Errorf("output %d of image %d differs between batch 3 and batch 1", k, i)
			}
		}
	}
	var sum float64
	for _, v := range all[1].F32[:10] {
		sum += float64(v)
	}
	if !near(sum, 1, 1e-6) {
		t.Errorf("softmax sums to %v", sum)
	}
}

func TestWorkerIndependence(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g := buildNet(t, r, 16)
	x := randTensor(r, 3, 3, 16, 16)
	ref, err := Run(g, []*ir.Tensor{x}, &Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{0, 2, 3, 5, 7, 64} {
		got, err := Run(g, []*ir.Tensor{x}, &Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		for k := range got {
			if !sameBits(got[k], ref[k]) {
				t.Errorf("workers=%d: output %d differs from workers=1", w, k)
			}
		}
	}
	// A larger conv whose channels split unevenly.
	cr := rand.New(rand.NewPCG(7, 8))
	cx, cw, cb := randTensor(cr, 2, 24, 9, 9), randTensor(cr, 37, 24, 3, 3), randTensor(cr, 37)
	cg := ir.NewGraph("conv")
	in := cg.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{-1, 24, 9, 9}})
	out, err := cg.Add(ir.Conv, "c", &ir.ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}},
		in, cg.AddConst("w", cw), cg.AddConst("b", cb))
	if err != nil {
		t.Fatal(err)
	}
	cg.Outputs = []*ir.Value{out}
	cref, err := Run(cg, []*ir.Tensor{cx}, &Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 3, 4, 9, 74, 100} {
		got, err := Run(cg, []*ir.Tensor{cx}, &Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if !sameBits(got[0], cref[0]) {
			t.Errorf("conv workers=%d differs from workers=1", w)
		}
	}
}

func TestObserve(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := buildNet(t, r, 8)
	x := randTensor(r, 2, 3, 8, 8)
	var order []*ir.Value
	seen := map[*ir.Value]int{}
	outs, err := Run(g, []*ir.Tensor{x}, &Options{Observe: func(v *ir.Value, tt *ir.Tensor) {
		order = append(order, v)
		seen[v]++
		if tt == nil || tt.DType != ir.Float32 || len(tt.F32) != tt.Shape.NumElements() {
			t.Errorf("observed %v: bad tensor", v)
		} else if tt.Shape[0] != 2 && v.Type.Shape[0] < 0 {
			t.Errorf("observed %v with shape %v: batch should be 2", v, tt.Shape)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]*ir.Value{}, g.Inputs...)
	for _, n := range g.Nodes {
		want = append(want, n.Output())
	}
	if len(order) != len(want) {
		t.Fatalf("observed %d values, want %d", len(order), len(want))
	}
	for i := range want {
		if order[i] != want[i] {
			t.Errorf("observation %d is %v, want %v", i, order[i], want[i])
		}
	}
	for v, k := range seen {
		if k != 1 {
			t.Errorf("%v observed %d times", v, k)
		}
	}
	if len(outs) != 3 {
		t.Errorf("%d outputs", len(outs))
	}
}

func TestOutputsOwned(t *testing.T) {
	g := ir.NewGraph("pass")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{2}})
	c := g.AddConst("c", tensor([]int{2}, 5, 6))
	y, err := g.Add(ir.Identity, "y", nil, x)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*ir.Value{x, c, y}
	in := tensor([]int{2}, 1, 2)
	outs, err := Run(g, []*ir.Tensor{in}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		o.F32[0] = 100
	}
	if in.F32[0] != 1 || c.Const.F32[0] != 5 {
		t.Errorf("outputs alias the caller's input or the graph's constants")
	}
}

func TestErrors(t *testing.T) {
	g := ir.NewGraph("err")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{-1, 2, 3, 3}})
	y, err := g.Add(ir.Conv, "conv1", &ir.ConvAttrs{Stride: [2]int{1, 1}}, x, g.AddConst("w", tensor([]int{1, 2, 3, 3})))
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*ir.Value{y}
	good := tensor([]int{1, 2, 3, 3})
	for _, tc := range []struct {
		name   string
		inputs []*ir.Tensor
		opts   *Options
		want   string
	}{
		{"count", []*ir.Tensor{good, good}, nil, "has 1 inputs, got 2"},
		{"nil", []*ir.Tensor{nil}, nil, "nil tensor"},
		{"dtype", []*ir.Tensor{{DType: ir.Int8, Shape: ir.Shape{1, 2, 3, 3}, I8: make([]int8, 18)}}, nil, "dtype i8"},
		{"rank", []*ir.Tensor{tensor([]int{2, 3, 3})}, nil, "want rank 4"},
		{"dim", []*ir.Tensor{tensor([]int{1, 3, 3, 3})}, nil, "want [N,2,3,3]"},
		{"length", []*ir.Tensor{ir.NewFloat32(ir.Shape{1, 2, 3, 3}, make([]float32, 5))}, nil, "holds 5 elements"},
		{"workers", []*ir.Tensor{good}, &Options{Workers: -1}, "negative Workers"},
		{"too small", []*ir.Tensor{tensor([]int{1, 2, 2, 2})}, nil, "want [N,2,3,3]"},
	} {
		_, err := Run(g, tc.inputs, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Run(nil, nil, nil); err == nil {
		t.Error("nil graph: no error")
	}

	// A node the float interpreter cannot run: an int32 (quantized) bias.
	g2 := ir.NewGraph("q")
	x2 := g2.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{1, 1, 1, 1}})
	bias := g2.AddConst("b", &ir.Tensor{DType: ir.Int32, Shape: ir.Shape{1}, I32: []int32{1}})
	y2, err := g2.Add(ir.Conv, "qconv", &ir.ConvAttrs{Stride: [2]int{1, 1}}, x2, g2.AddConst("w", tensor([]int{1, 1, 1, 1})), bias)
	if err != nil {
		t.Fatal(err)
	}
	g2.Outputs = []*ir.Value{y2}
	_, err = Run(g2, []*ir.Tensor{tensor([]int{1, 1, 1, 1})}, nil)
	if err == nil || !strings.Contains(err.Error(), `run node "qconv" (Conv)`) || !strings.Contains(err.Error(), "i32") {
		t.Errorf("int32 bias: error %v", err)
	}

	// An op the interpreter does not know, and a corrupted constant.
	g3 := ir.NewGraph("bad")
	x3 := g3.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{2}})
	out3 := g3.NewValue("y", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{2}})
	g3.Nodes = []*ir.Node{{Name: "weird", Op: ir.Op(999), Inputs: []*ir.Value{x3}, Outputs: []*ir.Value{out3}}}
	g3.Outputs = []*ir.Value{out3}
	_, err = Run(g3, []*ir.Tensor{tensor([]int{2})}, nil)
	if err == nil || !strings.Contains(err.Error(), `run node "weird"`) {
		t.Errorf("invalid op: error %v", err)
	}
	w := tensor([]int{1, 2, 3, 3})
	w.F32 = w.F32[:7]
	g.Consts[0].Const = w
	_, err = Run(g, []*ir.Tensor{good}, nil)
	if err == nil || !strings.Contains(err.Error(), `run node "conv1" (Conv)`) {
		t.Errorf("corrupt constant: error %v", err)
	}
}

func TestPanicsBecomeErrors(t *testing.T) {
	err := protect(func() error { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "panic: boom") {
		t.Errorf("protect: %v", err)
	}
	err = protect(func() error {
		parallelFor(10, 4, func(lo, hi int) {
			if lo > 0 {
				var s []int
				_ = s[lo] // index out of range in a worker goroutine
			}
		})
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("worker panic: %v", err)
	}
}

func TestParallelForCovers(t *testing.T) {
	for n := range 20 {
		for w := 0; w <= 25; w++ {
			hits := make([]int, n)
			parallelFor(n, w, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[i]++
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("n=%d workers=%d: index %d covered %d times", n, w, i, h)
				}
			}
		}
	}
}

func TestConcurrentRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	g := buildNet(t, r, 8)
	x := randTensor(r, 2, 3, 8, 8)
	ref, err := Run(g, []*ir.Tensor{x}, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := Run(g, []*ir.Tensor{x}, &Options{Workers: 2})
			if err == nil && !sameBits(got[0], ref[0]) {
				err = fmt.Errorf("concurrent run differs")
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
