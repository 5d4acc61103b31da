package codegen_test

import (
	"strings"
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/passes"
	"github.com/mncdev/mnc/runtime/limits"
)

// TestRuntimeLimits: a valid graph whose activations exceed the runtime's
// limits is refused before it is written, naming the limit (it used to be
// written and then fail as "does not verify (a bug)"). Two 3x3
// convolutions of a 4000x4000 input into 8 channels: every tensor is within
// the readers' budget (ir.CheckBudget: 488 MiB at most, 1.2 GiB in all),
// but both outputs live at once in the arena.
func TestRuntimeLimits(t *testing.T) {
	const size = 4000
	g := ir.NewGraph("two-convs")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{1, 3, size, size}})
	conv := func(name string, in *ir.Value, cin int) *ir.Value {
		w := ir.NewFloat32(ir.Shape{8, cin, 3, 3}, make([]float32, 8*cin*9))
		y, err := g.Add(ir.Conv, name, &ir.ConvAttrs{Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}, Group: 1}, in, g.AddConst(name+".w", w))
		if err != nil {
			t.Fatal(err)
		}
		return y
	}
	g.Outputs = []*ir.Value{conv("c2", conv("c1", x, 3), 8)}
	if err := ir.CheckBudget(g); err != nil {
		t.Fatalf("the graph should be within the readers' budget: %v", err)
	}
	if _, err := passes.Run(g, passes.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := codegen.Build(g, codegen.Options{})
	want := "the runtime's limit is " + limits.Bytes(limits.ModelArena)
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "a bug") {
		t.Fatalf("got %v, want an error saying %q", err, want)
	}
	t.Log(err)
}
