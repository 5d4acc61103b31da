package interp

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mncdev/mnc/ir"
)

const exact = 0 // tolerance for results that are exact in float32

func TestConvHand(t *testing.T) {
	w2 := tensor([]int{1, 1, 2, 2}, 1, 2, 3, 4)
	tests := []struct {
		name   string
		attrs  *ir.ConvAttrs
		x      *ir.Tensor
		consts []*ir.Tensor
		shape  []int
		want   []float32
	}{
		{"valid", &ir.ConvAttrs{Stride: [2]int{1, 1}}, seq(1, 1, 3, 3), []*ir.Tensor{w2},
			[]int{1, 1, 2, 2}, []float32{37, 47, 67, 77}},
		{"bias", &ir.ConvAttrs{Stride: [2]int{1, 1}}, seq(1, 1, 3, 3), []*ir.Tensor{w2, tensor([]int{1}, 1)},
			[]int{1, 1, 2, 2}, []float32{38, 48, 68, 78}},
		{"fused relu6", &ir.ConvAttrs{Stride: [2]int{1, 1}, Act: ir.Activation{Kind: ir.ActRelu6}},
			seq(1, 1, 3, 3), []*ir.Tensor{w2, tensor([]int{1}, -45)},
			[]int{1, 1, 2, 2}, []float32{0, 2, 6, 6}},
		{"fused clip", &ir.ConvAttrs{Stride: [2]int{1, 1}, Act: ir.Activation{Kind: ir.ActClip, Min: -5, Max: 20}},
			seq(1, 1, 3, 3), []*ir.Tensor{w2, tensor([]int{1}, -50)},
			[]int{1, 1, 2, 2}, []float32{-5, -3, 17, 20}},
		// Pads top=1, left=0, bottom=0, right=1.
		{"asymmetric pads", &ir.ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{1, 0, 0, 1}}, seq(1, 1, 3, 3),
			[]*ir.Tensor{w2}, []int{1, 1, 3, 3}, []float32{11, 18, 9, 37, 47, 21, 67, 77, 33}},
		{"stride 2", &ir.ConvAttrs{Stride: [2]int{2, 2}}, seq(1, 1, 4, 4), []*ir.Tensor{w2},
			[]int{1, 1, 2, 2}, []float32{44, 64, 124, 144}},
		{"stride 2 pad 1", &ir.ConvAttrs{Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}, seq(1, 1, 4, 4),
			[]*ir.Tensor{tensor([]int{1, 1, 3, 3}, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
			[]int{1, 1, 2, 2}, []float32{14, 30, 57, 99}},
		// y = 1*x[oy][ox] + 2*x[oy][ox+2] + 3*x[oy+2][ox] + 4*x[oy+2][ox+2] = 10*(5oy+ox) + 92.
		{"dilation 2", &ir.ConvAttrs{Stride: [2]int{1, 1}, Dilation: [2]int{2, 2}}, seq(1, 1, 5, 5),
			[]*ir.Tensor{w2}, []int{1, 1, 3, 3}, []float32{92, 102, 112, 142, 152, 162, 192, 202, 212}},
		{"groups", &ir.ConvAttrs{Stride: [2]int{1, 1}, Group: 2}, seq(1, 4, 1, 1),
			[]*ir.Tensor{tensor([]int{4, 2, 1, 1}, 1, 1, 1, -1, 2, 0, 0, 3), tensor([]int{4}, 0.5, 0, 0, -2)},
			[]int{1, 4, 1, 1}, []float32{3.5, -1, 6, 10}},
		// Channel 0: box sums of 1..9; channel 1: ones convolved with kernel 1..9.
		{"depthwise", &ir.ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}, Group: 2},
			tensor([]int{1, 2, 3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1),
			[]*ir.Tensor{tensor([]int{2, 1, 3, 3}, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9)},
			[]int{1, 2, 3, 3}, []float32{
				12, 21, 16, 27, 45, 33, 24, 39, 28,
				28, 39, 24, 33, 45, 27, 16, 21, 12}},
		{"batch 2", &ir.ConvAttrs{Stride: [2]int{1, 1}}, seq(2, 1, 1, 2),
			[]*ir.Tensor{tensor([]int{2, 1, 1, 1}, 1, -1)},
			[]int{2, 2, 1, 2}, []float32{1, 2, -1, -2, 3, 4, -3, -4}},
	}
	for _, tc := range tests {
		got := runOp(t, ir.Conv, tc.attrs, tc.x, tc.consts...)
		check(t, tc.name, got, tc.shape, tc.want, exact)
	}
}

func TestBatchNorm(t *testing.T) {
	// ch0: 2*(x-1)/sqrt(3+1) + 0.5; ch1: 1*(x-3)/sqrt(0+1) - 1.
	got := runOp(t, ir.BatchNorm, &ir.BatchNormAttrs{Epsilon: 1}, seq(1, 2, 1, 2),
		tensor([]int{2}, 2, 1), tensor([]int{2}, 0.5, -1), tensor([]int{2}, 1, 3), tensor([]int{2}, 3, 0))
	check(t, "batchnorm", got, []int{1, 2, 1, 2}, []float32{0.5, 1.5, -1, 0}, exact)
	got = runOp(t, ir.BatchNorm, &ir.BatchNormAttrs{Epsilon: 1}, seq(2, 2),
		tensor([]int{2}, 2, 1), tensor([]int{2}, 0.5, -1), tensor([]int{2}, 1, 3), tensor([]int{2}, 3, 0))
	check(t, "batchnorm rank 2", got, []int{2, 2}, []float32{0.5, -2, 2.5, 0}, exact)
}

func TestActivations(t *testing.T) {
	x := func() *ir.Tensor { return tensor([]int{6}, -4, -1, 0, 0.5, 3, 7) }
	tests := []struct {
		op    ir.Op
		attrs ir.Attrs
		want  []float32
		tol   float64
	}{
		{ir.Relu, nil, []float32{0, 0, 0, 0.5, 3, 7}, exact},
		{ir.Relu6, nil, []float32{0, 0, 0, 0.5, 3, 6}, exact},
		{ir.Clip, &ir.ClipAttrs{Min: -1, Max: 2}, []float32{-1, -1, 0, 0.5, 2, 2}, exact},
		{ir.Clip, &ir.ClipAttrs{Min: float32(math.Inf(-1)), Max: 2}, []float32{-4, -1, 0, 0.5, 2, 2}, exact},
		{ir.HardSigmoid, &ir.HardSigmoidAttrs{Alpha: 0.2, Beta: 0.5}, []float32{0, 0.3, 0.5, 0.6, 1, 1}, 1e-7},
		{ir.HardSwish, nil, []float32{0, -1.0 / 3, 0, 0.5 * 3.5 / 6, 3, 7}, 1e-7},
		{ir.Sigmoid, nil, []float32{0.01798620996, 0.2689414214, 0.5, 0.6224593312, 0.9525741268, 0.9990889488}, 1e-7},
		{ir.Identity, nil, []float32{-4, -1, 0, 0.5, 3, 7}, exact},
		{ir.Dropout, nil, []float32{-4, -1, 0, 0.5, 3, 7}, exact},
	}
	for _, tc := range tests {
		got := runOp(t, tc.op, tc.attrs, x())
		check(t, tc.op.String(), got, []int{6}, tc.want, tc.tol)
	}
}

func TestBinaryBroadcast(t *testing.T) {
	tests := []struct {
		name  string
		op    ir.Op
		attrs ir.Attrs
		a, b  *ir.Tensor
		shape []int
		want  []float32
	}{
		{"NCHW*NC11", ir.Mul, nil, seq(1, 2, 2, 2), tensor([]int{1, 2, 1, 1}, 10, -1),
			[]int{1, 2, 2, 2}, []float32{10, 20, 30, 40, -5, -6, -7, -8}},
		{"same shape", ir.Sub, nil, seq(2, 2), tensor([]int{2, 2}, 4, 3, 2, 1),
			[]int{2, 2}, []float32{-3, -1, 1, 3}},
		{"rank-0 scalar", ir.Sub, nil, seq(2, 2), tensor([]int{}, 2),
			[]int{2, 2}, []float32{-1, 0, 1, 2}},
		{"[1] scalar", ir.Add, nil, seq(2, 2), tensor([]int{1}, 0.5),
			[]int{2, 2}, []float32{1.5, 2.5, 3.5, 4.5}},
		{"scalar first", ir.Div, nil, tensor([]int{}, 1), tensor([]int{4}, 1, 2, 4, 8),
			[]int{4}, []float32{1, 0.5, 0.25, 0.125}},
		{"C11", ir.Add, nil, seq(1, 2, 1, 2), tensor([]int{2, 1, 1}, 100, 200),
			[]int{1, 2, 1, 2}, []float32{101, 102, 203, 204}},
		{"last dim", ir.Add, nil, seq(1, 2, 1, 2), tensor([]int{2}, 10, 20),
			[]int{1, 2, 1, 2}, []float32{11, 22, 13, 24}},
		{"both sides", ir.Add, nil, seq(2, 1, 3), tensor([]int{4, 1}, 0, 10, 20, 30),
			[]int{2, 4, 3}, []float32{
				1, 2, 3, 11, 12, 13, 21, 22, 23, 31, 32, 33,
				4, 5, 6, 14, 15, 16, 24, 25, 26, 34, 35, 36}},
		{"middle dim", ir.Mul, nil, seq(2, 3, 2), tensor([]int{1, 3, 1}, 1, 0, -1),
			[]int{2, 3, 2}, []float32{1, 2, 0, 0, -5, -6, 7, 8, 0, 0, -11, -12}},
		{"fused relu", ir.Add, &ir.EltwiseAttrs{Act: ir.Activation{Kind: ir.ActRelu}},
			tensor([]int{2}, 1, -5), tensor([]int{2}, 2, 2), []int{2}, []float32{3, 0}},
		{"fused hardswish", ir.Mul, &ir.EltwiseAttrs{Act: ir.Activation{Kind: ir.ActHardSwish}},
			tensor([]int{2}, 1, -5), tensor([]int{2}, 1, 0.2), []int{2}, []float32{4.0 / 6, -1.0 / 3}},
		{"nil attrs struct", ir.Div, &ir.EltwiseAttrs{}, tensor([]int{2}, 1, 3), tensor([]int{2}, 4, 2),
			[]int{2}, []float32{0.25, 1.5}},
	}
	for _, tc := range tests {
		got := runOp(t, tc.op, tc.attrs, tc.a, tc.b)
		check(t, tc.name, got, tc.shape, tc.want, 1e-7)
	}
}

func TestPools(t *testing.T) {
	got := runOp(t, ir.GlobalAveragePool, nil, seq(1, 2, 2, 2))
	check(t, "global", got, []int{1, 2, 1, 1}, []float32{2.5, 6.5}, exact)

	// Ceil mode without pads: the last windows are clipped to the input, and
	// the overhang does not count even with CountIncludePad.
	for _, incl := range []bool{false, true} {
		got = runOp(t, ir.AveragePool, &ir.PoolAttrs{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2},
			CeilMode: true, CountIncludePad: incl}, seq(1, 1, 3, 3))
		check(t, "ceil", got, []int{1, 1, 2, 2}, []float32{3, 4.5, 7.5, 9}, exact)
	}
	// Symmetric pads, kernel 3, stride 2.
	pa := &ir.PoolAttrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}
	got = runOp(t, ir.AveragePool, pa, seq(1, 1, 3, 3))
	check(t, "pads exclude", got, []int{1, 1, 2, 2}, []float32{3, 4, 6, 7}, exact)
	pa.CountIncludePad = true
	got = runOp(t, ir.AveragePool, pa, seq(1, 1, 3, 3))
	check(t, "pads include", got, []int{1, 1, 2, 2}, []float32{12. / 9, 16. / 9, 24. / 9, 28. / 9}, 1e-7)

	// Asymmetric pads (top, left only) with ceil mode on a 4x4 input: windows
	// start at -1, 1, 3 and are clipped to [-pad, 4) for the padded count.
	pa = &ir.PoolAttrs{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 0, 0}, CeilMode: true}
	got = runOp(t, ir.AveragePool, pa, seq(1, 1, 4, 4))
	check(t, "ceil asym exclude", got, []int{1, 1, 3, 3}, []float32{1, 2.5, 4, 7, 8.5, 10, 13, 14.5, 16}, exact)
	pa.CountIncludePad = true
	got = runOp(t, ir.AveragePool, pa, seq(1, 1, 4, 4))
	check(t, "ceil asym include", got, []int{1, 1, 3, 3}, []float32{0.25, 1.25, 2, 3.5, 8.5, 10, 6.5, 14.5, 16}, exact)

	// Two planes, stride 1.
	got = runOp(t, ir.AveragePool, &ir.PoolAttrs{Kernel: [2]int{1, 2}, Stride: [2]int{1, 1}}, seq(1, 2, 1, 3))
	check(t, "planes", got, []int{1, 2, 1, 2}, []float32{1.5, 2.5, 4.5, 5.5}, exact)
}

func TestShapeOps(t *testing.T) {
	got := runOp(t, ir.Flatten, &ir.FlattenAttrs{Axis: 1}, seq(2, 3, 2))
	check(t, "flatten", got, []int{2, 6}, seq(12).F32, exact)
	got = runOp(t, ir.Flatten, &ir.FlattenAttrs{Axis: 0}, seq(2, 3))
	check(t, "flatten 0", got, []int{1, 6}, seq(6).F32, exact)
	got = runOp(t, ir.Reshape, &ir.ReshapeAttrs{Shape: []int{0, -1}}, seq(2, 3, 2))
	check(t, "reshape", got, []int{2, 6}, seq(12).F32, exact)
	got = runOp(t, ir.Reshape, &ir.ReshapeAttrs{Shape: []int{3, 1, 4}}, seq(2, 3, 2))
	check(t, "reshape 2", got, []int{3, 1, 4}, seq(12).F32, exact)
}

func TestConcat(t *testing.T) {
	got := runOp(t, ir.Concat, &ir.ConcatAttrs{Axis: 1}, seq(1, 2), tensor([]int{1, 3}, 7, 8, 9))
	check(t, "axis 1", got, []int{1, 5}, []float32{1, 2, 7, 8, 9}, exact)
	got = runOp(t, ir.Concat, &ir.ConcatAttrs{Axis: 0}, seq(1, 2), tensor([]int{2, 2}, 7, 8, 9, 10))
	check(t, "axis 0", got, []int{3, 2}, []float32{1, 2, 7, 8, 9, 10}, exact)
	got = runOp(t, ir.Concat, &ir.ConcatAttrs{Axis: -1}, seq(2, 1), tensor([]int{2, 2}, 3, 4, 5, 6))
	check(t, "axis -1", got, []int{2, 3}, []float32{1, 3, 4, 2, 5, 6}, exact)
	got = runOp(t, ir.Concat, &ir.ConcatAttrs{Axis: 1}, seq(2, 1, 1, 2), tensor([]int{2, 2, 1, 2}, 5, 6, 7, 8, 9, 10, 11, 12),
		tensor([]int{2, 1, 1, 2}, 0, 0, -1, -1))
	check(t, "three NCHW", got, []int{2, 4, 1, 2}, []float32{1, 2, 5, 6, 7, 8, 0, 0, 3, 4, 9, 10, 11, 12, -1, -1}, exact)
	got = runOp(t, ir.Concat, &ir.ConcatAttrs{Axis: 0}, seq(3))
	check(t, "single", got, []int{3}, []float32{1, 2, 3}, exact)
}

func TestSoftmax(t *testing.T) {
	x := func() *ir.Tensor { return tensor([]int{2, 3}, 1, 2, 3, 1, 1, 1) }
	row := []float32{0.0900305732, 0.2447284711, 0.6652409558, 1. / 3, 1. / 3, 1. / 3}
	for _, axis := range []int{1, -1} {
		got := runOp(t, ir.Softmax, &ir.SoftmaxAttrs{Axis: axis}, x())
		check(t, "softmax rows", got, []int{2, 3}, row, 1e-7)
	}
	for _, axis := range []int{0, -2} {
		got := runOp(t, ir.Softmax, &ir.SoftmaxAttrs{Axis: axis}, x())
		check(t, "softmax columns", got, []int{2, 3},
			[]float32{0.5, 0.7310585786, 0.8807970780, 0.5, 0.2689414214, 0.1192029220}, 1e-7)
	}
	// Opset 13: one axis, not the flattened trailing block.
	got := runOp(t, ir.Softmax, &ir.SoftmaxAttrs{Axis: 1}, tensor([]int{1, 2, 2}, 1, 1, 2, 1))
	check(t, "softmax middle", got, []int{1, 2, 2}, []float32{0.2689414214, 0.5, 0.7310585786, 0.5}, 1e-7)
	// Stability: large inputs do not overflow.
	got = runOp(t, ir.Softmax, &ir.SoftmaxAttrs{Axis: -1}, tensor([]int{2}, 1000, 1001))
	check(t, "softmax large", got, []int{2}, []float32{0.2689414214, 0.7310585786}, 1e-7)
}

func TestPad(t *testing.T) {
	pads := []int{1, 2, 0, 1} // begin axis 0, 1; end axis 0, 1
	got := runOp(t, ir.Pad, &ir.PadAttrs{Pads: pads, Mode: "constant", Value: 9}, seq(2, 3))
	check(t, "constant", got, []int{3, 6}, []float32{
		9, 9, 9, 9, 9, 9,
		9, 9, 1, 2, 3, 9,
		9, 9, 4, 5, 6, 9}, exact)
	got = runOp(t, ir.Pad, &ir.PadAttrs{Pads: pads, Mode: "edge"}, seq(2, 3))
	check(t, "edge", got, []int{3, 6}, []float32{
		1, 1, 1, 2, 3, 3,
		1, 1, 1, 2, 3, 3,
		4, 4, 4, 5, 6, 6}, exact)
	got = runOp(t, ir.Pad, &ir.PadAttrs{Pads: pads, Mode: "reflect"}, seq(2, 3))
	check(t, "reflect", got, []int{3, 6}, []float32{
		6, 5, 4, 5, 6, 5,
		3, 2, 1, 2, 3, 2,
		6, 5, 4, 5, 6, 5}, exact)
	// NCHW spatial padding, as a frontend emits before a conv.
	got = runOp(t, ir.Pad, &ir.PadAttrs{Pads: []int{0, 0, 1, 0, 0, 0, 0, 1}, Mode: "reflect"}, seq(1, 1, 2, 2))
	check(t, "reflect NCHW", got, []int{1, 1, 3, 3}, []float32{3, 4, 3, 1, 2, 1, 3, 4, 3}, exact)
	// Negative pads crop.
	got = runOp(t, ir.Pad, &ir.PadAttrs{Pads: []int{0, -1, 0, 1}, Mode: "constant"}, seq(1, 3))
	check(t, "crop", got, []int{1, 3}, []float32{2, 3, 0}, exact)
}

func TestGemm(t *testing.T) {
	A := func() *ir.Tensor { return seq(2, 3) }                              // [[1,2,3],[4,5,6]]
	At := func() *ir.Tensor { return tensor([]int{3, 2}, 1, 4, 2, 5, 3, 6) } // A transposed
	B := tensor([]int{3, 2}, 1, 0, 0, 1, 1, 1)
	Bt := tensor([]int{2, 3}, 1, 0, 1, 0, 1, 1)
	// A*B = [[4,5],[10,11]]; 2*AB + 0.5*[2,4] = [[9,12],[21,24]].
	C := tensor([]int{2}, 2, 4)
	want := []float32{9, 12, 21, 24}
	for _, tc := range []struct {
		name   string
		ta, tb bool
		a, b   *ir.Tensor
	}{
		{"NN", false, false, A(), B}, {"NT", false, true, A(), Bt},
		{"TN", true, false, At(), B}, {"TT", true, true, At(), Bt},
	} {
		got := runOp(t, ir.Gemm, &ir.GemmAttrs{Alpha: 2, Beta: 0.5, TransA: tc.ta, TransB: tc.tb}, tc.a, tc.b, C)
		check(t, "gemm "+tc.name, got, []int{2, 2}, want, exact)
	}
	one := func(c *ir.Tensor) *ir.Tensor {
		return runOp(t, ir.Gemm, &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, A(), Bt, c)
	}
	check(t, "no C", runOp(t, ir.Gemm, &ir.GemmAttrs{Alpha: 1, TransB: true}, A(), Bt), []int{2, 2}, []float32{4, 5, 10, 11}, exact)
	check(t, "C [M,1]", one(tensor([]int{2, 1}, 10, 20)), []int{2, 2}, []float32{14, 15, 30, 31}, exact)
	check(t, "C [1,N]", one(tensor([]int{1, 2}, 10, 20)), []int{2, 2}, []float32{14, 25, 20, 31}, exact)
	check(t, "C scalar", one(tensor([]int{}, 1)), []int{2, 2}, []float32{5, 6, 11, 12}, exact)
	check(t, "C [1]", one(tensor([]int{1}, 1)), []int{2, 2}, []float32{5, 6, 11, 12}, exact)
	check(t, "C full", one(tensor([]int{2, 2}, 1, 2, 3, 4)), []int{2, 2}, []float32{5, 7, 13, 15}, exact)
	got := runOp(t, ir.Gemm, &ir.GemmAttrs{Alpha: -1, Beta: 1, TransB: true, Act: ir.Activation{Kind: ir.ActRelu}},
		A(), Bt, tensor([]int{2}, 5, 12))
	check(t, "fused relu", got, []int{2, 2}, []float32{1, 7, 0, 1}, exact)
	// A wider product, columns split across workers.
	x := seq(1, 8)
	w := tensor([]int{5, 8})
	for i := range w.F32 {
		w.F32[i] = float32(i % 3)
	}
	got = runOp(t, ir.Gemm, &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, x, w, tensor([]int{5}, 1, 1, 1, 1, 1))
	// Row n of w is (8n + j) % 3 for j = 0..7.
	var wantW []float32
	for n := range 5 {
		s := 1
		for j := range 8 {
			s += (j + 1) * ((8*n + j) % 3)
		}
		wantW = append(wantW, float32(s))
	}
	check(t, "wide", got, []int{1, 5}, wantW, exact)
}

func TestMatMul(t *testing.T) {
	a := tensor([]int{2, 2, 3}, 1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0)
	b := tensor([]int{3, 2}, 1, 0, 0, 1, 1, 1)
	got := runOp(t, ir.MatMul, nil, a, b)
	check(t, "rank 3", got, []int{2, 2, 2}, []float32{4, 5, 10, 11, 1, 0, 0, 1}, exact)
	got = runOp(t, ir.MatMul, nil, seq(2, 3), tensor([]int{3, 1}, 1, 1, 1))
	check(t, "N=1", got, []int{2, 1}, []float32{6, 15}, exact)
}

func TestValidRange(t *testing.T) {
	for k := range 4 {
		for stride := 1; stride <= 3; stride++ {
			for dil := 1; dil <= 2; dil++ {
				for p := range 4 {
					for in := 1; in <= 6; in++ {
						for out := 1; out <= 8; out++ {
							lo, hi := validRange(k, stride, dil, p, in, out)
							for o := range out {
								i := o*stride - p + k*dil
								inside := o >= lo && o < hi
								if inside != (i >= 0 && i < in) {
									t.Fatalf("validRange(%d,%d,%d,%d,%d,%d) = [%d,%d), wrong at %d",
										k, stride, dil, p, in, out, lo, hi, o)
								}
							}
						}
					}
				}
			}
		}
	}
}

func TestActivateMatchesApply(t *testing.T) {
	xs := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), -1e-30, 1e-30,
		-3, -2.5, -0.1, 0.1, 1, 2.5, 3, 5.999999, 6, 6.000001, 7, 1e30, -1e30}
	r := rand.New(rand.NewPCG(11, 12))
	for range 200 {
		xs = append(xs, 16*r.Float64()-8)
	}
	x32 := make([]float32, len(xs))
	for i, v := range xs {
		x32[i] = float32(v)
	}
	acts := []ir.Activation{{}, {Kind: ir.ActRelu}, {Kind: ir.ActRelu6}, {Kind: ir.ActHardSwish},
		{Kind: ir.ActClip, Min: -1, Max: 2}, {Kind: ir.ActClip, Min: 0, Max: 6},
		{Kind: ir.ActClip, Min: float32(math.Inf(-1)), Max: float32(math.Inf(1))},
		{Kind: ir.ActHardSigmoid, Alpha: 0.2, Beta: 0.5}, {Kind: ir.ActHardSigmoid, Alpha: 1. / 6, Beta: 0.5},
		{Kind: ir.ActKind(99)}}
	same := func(a, b float32) bool {
		if a != a || b != b {
			return a != a && b != b
		}
		return math.Float32bits(a) == math.Float32bits(b)
	}
	for _, act := range acts {
		y64, y32 := make([]float32, len(xs)), make([]float32, len(xs))
		activate(act, y64, xs)
		activate(act, y32, x32)
		for i, v := range xs {
			if want := float32(act.Apply(v)); !same(y64[i], want) {
				t.Errorf("%v(%v) float64 = %v, Apply gives %v", act, v, y64[i], want)
			}
			if want := float32(act.Apply(float64(x32[i]))); !same(y32[i], want) {
				t.Errorf("%v(%v) float32 = %v, Apply gives %v", act, x32[i], y32[i], want)
			}
		}
	}
}
