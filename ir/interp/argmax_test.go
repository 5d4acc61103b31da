package interp

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// TestArgMax checks the indices on inputs worked by hand: ties go to the
// first index (TFLite, NumPy), NaN never wins and an all-NaN slice gives
// 0, negative axes count from the end.
func TestArgMax(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name     string
		shape    []int
		x        []float32
		axis     int
		want     []int64
		outShape []int
	}{
		{"tie goes to the first", []int{4}, []float32{1, 5, 5, 2}, 0, []int64{1}, []int{}},
		{"all equal", []int{3}, []float32{-2, -2, -2}, 0, []int64{0}, []int{}},
		{"negative values", []int{3}, []float32{-3, -1, -2}, -1, []int64{1}, []int{}},
		{"+inf wins", []int{3}, []float32{1, inf, 2}, 0, []int64{1}, []int{}},
		{"all -inf", []int{2}, []float32{-inf, -inf}, 0, []int64{0}, []int{}},
		{"nan first is skipped", []int{3}, []float32{nan, 1, 2}, 0, []int64{2}, []int{}},
		{"nan between ties", []int{3}, []float32{1, nan, 1}, 0, []int64{0}, []int{}},
		{"nan after the best", []int{3}, []float32{-inf, 3, nan}, 0, []int64{1}, []int{}},
		{"all nan", []int{2}, []float32{nan, nan}, 0, []int64{0}, []int{}},
		// [1,3,2,2] NCHW over the channels: pixel p's channels are x[p], x[4+p], x[8+p].
		{"channels", []int{1, 3, 2, 2}, []float32{0, 9, 1, 7, 5, 9, 1, 2, 5, 0, 3, nan}, 1, []int64{1, 0, 2, 0}, []int{1, 2, 2}},
		{"channels, axis -3", []int{1, 3, 2, 2}, []float32{0, 9, 1, 7, 5, 9, 1, 2, 5, 0, 3, nan}, -3, []int64{1, 0, 2, 0}, []int{1, 2, 2}},
		{"rows", []int{2, 3}, []float32{1, 3, 2, 6, 5, 6}, 1, []int64{1, 0}, []int{2}},
		{"columns, axis -2", []int{2, 3}, []float32{1, 3, 2, 6, 5, 6}, -2, []int64{1, 1, 1}, []int{3}},
	}
	for _, tc := range tests {
		for _, dt := range []ir.DType{ir.Int32, ir.Int64} {
			got := runOp(t, ir.ArgMax, &ir.ArgMaxAttrs{Axis: tc.axis, OutputType: dt}, tensor(tc.shape, tc.x...))
			if got.DType != dt || !got.Shape.Equal(ir.Shape(tc.outShape)) {
				t.Errorf("%s (%v): result %v%v, want %v%v", tc.name, dt, got.DType, got.Shape, dt, tc.outShape)
				continue
			}
			idx := got.I64
			if dt == ir.Int32 {
				idx = make([]int64, len(got.I32))
				for i, v := range got.I32 {
					idx[i] = int64(v)
				}
			}
			if !slices.Equal(idx, tc.want) {
				t.Errorf("%s (%v): got %v, want %v", tc.name, dt, idx, tc.want)
			}
		}
	}
}

// The indices are no operand of the float interpreter's other ops: a node
// reading them is an error naming it, not a panic.
func TestArgMaxResultNotReadable(t *testing.T) {
	g := ir.NewGraph("a")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{1, 4}})
	am, err := g.Add(ir.ArgMax, "am", &ir.ArgMaxAttrs{Axis: 1, OutputType: ir.Int64}, x)
	if err != nil {
		t.Fatal(err)
	}
	// Relu's shape rule takes any dtype, so the graph builds and verifies;
	// the interpreter refuses to run it.
	r, err := g.Add(ir.Relu, "r", nil, am)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*ir.Value{r}
	_, err = Run(g, []*ir.Tensor{tensor([]int{1, 4}, 1, 2, 3, 4)}, nil)
	if err == nil || !strings.Contains(err.Error(), `run node "r" (Relu): input 0 has dtype i64`) {
		t.Errorf("Relu of the indices: %v", err)
	}
}

// TestArgMaxFusedResize: ArgMax with a fused resize gives the indices of
// ResizeBilinear (NHWC) then ArgMax over the channels, for every rule.
func TestArgMaxFusedResize(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := ir.NewFloat32(ir.Shape{2, 5, 6, 4}, nil)
	for i := range x.F32 {
		x.F32[i] = float32(rng.IntN(7)) / 4 // many ties
	}
	for _, r := range []ir.ResizeAttrs{{Size: [2]int{9, 11}}, {Size: [2]int{9, 11}, AlignCorners: true}, {Size: [2]int{3, 13}, HalfPixelCenters: true}} {
		g := ir.NewGraph("two")
		in := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: x.Shape})
		up, err := g.Add(ir.ResizeBilinear, "up", &r, in)
		if err != nil {
			t.Fatal(err)
		}
		g.Nodes[0].Layout = ir.NHWC
		up.Type.Shape = ir.Shape{2, r.Size[0], r.Size[1], 4}
		am, err := g.Add(ir.ArgMax, "am", &ir.ArgMaxAttrs{Axis: 3, OutputType: ir.Int32}, up)
		if err != nil {
			t.Fatal(err)
		}
		g.Outputs = []*ir.Value{am}
		f := ir.NewGraph("fused")
		fin := f.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: x.Shape})
		fam, err := f.Add(ir.ArgMax, "am", &ir.ArgMaxAttrs{Axis: 3, OutputType: ir.Int32, Resize: &r}, fin)
		if err != nil {
			t.Fatal(err)
		}
		f.Outputs = []*ir.Value{fam}
		want, err := Run(g, []*ir.Tensor{x}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Run(f, []*ir.Tensor{x}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !got[0].Shape.Equal(want[0].Shape) || !slices.Equal(got[0].I32, want[0].I32) {
			t.Errorf("%v: fused %v %v, two ops %v %v", &r, got[0].Shape, got[0].I32[:8], want[0].Shape, want[0].I32[:8])
		}
	}
}
