package codegen_test

import (
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/ir"
)

// TestFixedBatchReshape: a file exported at batch 1 (torch.onnx.export of
// SSDLite's head without dynamic axes) states the batch of its reshapes as
// a literal 1, [1,24,20,20] -> [1,6,4,20,20] -> ... -> [1,-1,4]. The batch-2
// probe that checks items are independent reads that 1 as the input's
// batch; it compiles, and the values pass through in order.
func TestFixedBatchReshape(t *testing.T) {
	g := ir.NewGraph("fixed")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{1, 2, 3, 8}})
	a, err := g.Add(ir.Reshape, "split", &ir.ReshapeAttrs{Shape: []int{1, 2, 3, 2, 4}}, x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Add(ir.Reshape, "flat", &ir.ReshapeAttrs{Shape: []int{1, -1, 4}}, a)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*ir.Value{b}
	blob, err := codegen.Build(g, codegen.Options{Producer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	_, it := load(t, blob)
	in := ir.NewFloat32(ir.Shape{1, 2, 3, 8}, nil)
	for i := range in.F32 {
		in.F32[i] = float32(i)
	}
	got := run(t, it, in)
	if len(got) != len(in.F32) {
		t.Fatalf("%d outputs, want %d", len(got), len(in.F32))
	}
	for i, v := range got {
		if v != in.F32[i] {
			t.Fatalf("output %d = %v, want %v", i, v, in.F32[i])
		}
	}
}
