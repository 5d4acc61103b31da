package interp

import (
	"math"
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
