package interp

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/mncdev/mnc/ir"
)

func convGraph(b *testing.B, r *rand.Rand, x ir.Shape, w ir.Shape, a *ir.ConvAttrs) *ir.Graph {
	g := ir.NewGraph("conv")
	in := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: x})
	y, err := g.Add(ir.Conv, "conv", a, in, g.AddConst("w", randTensor(r, w...)), g.AddConst("b", randTensor(r, w[0])))
	if err != nil {
		b.Fatal(err)
	}
	g.Outputs = []*ir.Value{y}
	return g
}

// BenchmarkConv times two MobileNetV2-like convolutions: a pointwise
// 1x96x56x56 -> 24 and a depthwise 3x3 on 1x144x56x56.
func BenchmarkConv(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name string
		x, w ir.Shape
		a    *ir.ConvAttrs
	}{
		{"pointwise_96x56x56_to_24", ir.Shape{1, 96, 56, 56}, ir.Shape{24, 96, 1, 1},
			&ir.ConvAttrs{Stride: [2]int{1, 1}}},
		{"depthwise3x3_144x56x56", ir.Shape{1, 144, 56, 56}, ir.Shape{144, 1, 3, 3},
			&ir.ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}, Group: 144, Act: ir.Activation{Kind: ir.ActRelu6}}},
	}
	for _, tc := range cases {
		g := convGraph(b, r, tc.x, tc.w, tc.a)
		x := randTensor(r, tc.x...)
		macs := ir.NodeMACs(g.Nodes[0])
		for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/workers=%d", tc.name, workers), func(b *testing.B) {
				opts := &Options{Workers: workers}
				for b.Loop() {
					if _, err := Run(g, []*ir.Tensor{x}, opts); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(macs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}

// mobileNetV2 builds torchvision's MobileNetV2 (width 1.0) as an exported
// ONNX graph looks after batch-norm folding: Conv with bias, then Clip(0, 6).
func mobileNetV2(b *testing.B, r *rand.Rand, res int) *ir.Graph {
	g := ir.NewGraph("mobilenet_v2")
	must := func(v *ir.Value, err error) *ir.Value {
		if err != nil {
			b.Fatal(err)
		}
		return v
	}
	n := 0
	conv := func(x *ir.Value, cin, cout, k, stride, group int, relu6 bool) *ir.Value {
		n++
		p := k / 2
		w := randTensor(r, cout, cin/group, k, k)
		for i := range w.F32 {
			w.F32[i] *= 0.1
		}
		y := must(g.Add(ir.Conv, fmt.Sprintf("conv%d", n), &ir.ConvAttrs{Stride: [2]int{stride, stride},
			Pads: [4]int{p, p, p, p}, Group: group}, x, g.AddConst("w", w), g.AddConst("b", randTensor(r, cout))))
		if relu6 {
			y = must(g.Add(ir.Clip, fmt.Sprintf("clip%d", n), &ir.ClipAttrs{Min: 0, Max: 6}, y))
		}
		return y
	}
	x := g.AddInput("input", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{-1, 3, res, res}})
	h := conv(x, 3, 32, 3, 2, 1, true)
	cin := 32
	for _, s := range [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}} {
		t, c, reps, stride := s[0], s[1], s[2], s[3]
		for i := range reps {
			st := stride
			if i > 0 {
				st = 1
			}
			y := h
			hidden := cin * t
			if t != 1 {
				y = conv(y, cin, hidden, 1, 1, 1, true)
			}
			y = conv(y, hidden, hidden, 3, st, hidden, true)
			y = conv(y, hidden, c, 1, 1, 1, false)
			if st == 1 && cin == c {
				y = must(g.Add(ir.Add, "add", nil, h, y))
			}
			h, cin = y, c
		}
	}
	h = conv(h, cin, 1280, 1, 1, 1, true)
	h = must(g.Add(ir.GlobalAveragePool, "pool", nil, h))
	h = must(g.Add(ir.Flatten, "flatten", &ir.FlattenAttrs{Axis: 1}, h))
	h = must(g.Add(ir.Gemm, "fc", &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, h,
		g.AddConst("fc.w", randTensor(r, 1000, 1280)), g.AddConst("fc.b", randTensor(r, 1000))))
	g.Outputs = []*ir.Value{h}
	if err := ir.Verify(g); err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkMobileNetV2 times one 224x224 image through a MobileNetV2-shaped
// graph (about 300M MACs).
func BenchmarkMobileNetV2(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	g := mobileNetV2(b, r, 224)
	x := randTensor(r, 1, 3, 224, 224)
	b.Logf("MACs per image: %d", ir.ComputeStats(g).MACs)
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			opts := &Options{Workers: workers}
			for b.Loop() {
				if _, err := Run(g, []*ir.Tensor{x}, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
