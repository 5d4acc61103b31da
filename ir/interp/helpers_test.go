package interp

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// tensor returns a float32 tensor; with no data it is zero-filled.
func tensor(shape []int, data ...float32) *ir.Tensor {
	if len(data) == 0 {
		data = nil
	}
	return ir.NewFloat32(ir.Shape(shape), data)
}

// seq returns a tensor holding 1, 2, 3, ... in row-major order.
func seq(shape ...int) *ir.Tensor {
	t := tensor(shape)
	for i := range t.F32 {
		t.F32[i] = float32(i + 1)
	}
	return t
}

// randTensor returns a tensor with values uniform in [-1, 1).
func randTensor(r *rand.Rand, shape ...int) *ir.Tensor {
	t := tensor(shape)
	for i := range t.F32 {
		t.F32[i] = float32(2*r.Float64() - 1)
	}
	return t
}

// runOp runs a one-node graph: x is the graph input, consts are constants.
func runOp(t *testing.T, op ir.Op, attrs ir.Attrs, x *ir.Tensor, consts ...*ir.Tensor) *ir.Tensor {
	t.Helper()
	g := ir.NewGraph("test")
	ins := []*ir.Value{g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: x.Shape})}
	for _, c := range consts {
		ins = append(ins, g.AddConst("c", c))
	}
	v, err := g.Add(op, "node", attrs, ins...)
	if err != nil {
		t.Fatalf("building %v: %v", op, err)
	}
	g.Outputs = []*ir.Value{v}
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	outs, err := Run(g, []*ir.Tensor{x}, nil)
	if err != nil {
		t.Fatalf("Run %v: %v", op, err)
	}
	return outs[0]
}

// check compares a result with the expected shape and values, to a relative
// and absolute tolerance of tol.
func check(t *testing.T, name string, got *ir.Tensor, shape []int, want []float32, tol float64) {
	t.Helper()
	if !got.Shape.Equal(ir.Shape(shape)) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape, shape)
		return
	}
	if len(got.F32) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got.F32), len(want))
		return
	}
	for i := range want {
		if !near(float64(got.F32[i]), float64(want[i]), tol) {
			t.Errorf("%s: element %d = %v, want %v\n got %v\nwant %v", name, i, got.F32[i], want[i], got.F32, want)
			return
		}
	}
}

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol*(1+math.Max(math.Abs(a), math.Abs(b)))
}

// sameBits reports whether two tensors are identical bit for bit.
func sameBits(a, b *ir.Tensor) bool {
	if !a.Shape.Equal(b.Shape) || len(a.F32) != len(b.F32) {
		return false
	}
	for i := range a.F32 {
		if math.Float32bits(a.F32[i]) != math.Float32bits(b.F32[i]) {
			return false
		}
	}
	return true
}
