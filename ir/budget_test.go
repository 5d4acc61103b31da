package ir

import (
	"math"
	"strings"
	"testing"

	"github.com/mncdev/mnc/runtime/limits"
)

func TestFootprint(t *testing.T) {
	g := NewGraph("t")
	x := g.AddInput("x", TensorType{DType: Float32, Shape: Shape{-1, 3, 4, 4}})
	w := g.AddConst("w", &Tensor{DType: Float32, Shape: Shape{8, 3, 3, 3}}) // no data: shapes only
	y, err := g.Add(Conv, "conv", &ConvAttrs{Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}, Group: 1}, x, w)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*Value{y}
	f := FootprintOf(g)
	want := Footprint{Weights: 8 * 27 * 4, Activations: (3 + 8) * 16 * 4, Largest: 8 * 16 * 4, LargestName: "conv"}
	if f != want {
		t.Errorf("footprint %+v, want %+v", f, want)
	}
	if err := CheckBudget(g); err != nil {
		t.Error(err)
	}
}

func TestCheckBudget(t *testing.T) {
	for _, c := range []struct {
		shape Shape
		want  string
	}{
		{Shape{1 << 16, 1 << 16}, "the model's weights need 16 GiB; the limit is 1 GiB"},
		{Shape{math.MaxInt32, math.MaxInt32, math.MaxInt32}, "the model's weights need 8 EiB"}, // saturates
		{Shape{math.MaxInt32, math.MaxInt32, 0}, ""},
	} {
		g := NewGraph("t")
		g.AddConst("w", &Tensor{DType: Float32, Shape: c.shape})
		err := CheckBudget(g)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%v: got %v, want %q", c.shape, err, c.want)
		}
	}
	g := NewGraph("t")
	g.AddInput("big", TensorType{DType: Float32, Shape: Shape{1, 3, 1 << 14, 1 << 14}})
	if err := CheckBudget(g); err == nil || !strings.Contains(err.Error(), `activation "big" needs 3 GiB at batch 1; the limit for one tensor is 512 MiB`) {
		t.Errorf("got %v", err)
	}
	g.AddInput("big2", TensorType{DType: Float32, Shape: Shape{-1, 3, 1 << 14, 1 << 14}})
	if err := CheckBudget(g); err == nil || !strings.Contains(err.Error(), "activations need 6 GiB at batch 1; the limit is "+limits.Bytes(limits.Activations)) {
		t.Errorf("got %v", err)
	}
}
