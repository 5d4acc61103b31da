package classify

import (
	"slices"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// Output tells a class map made by an ArgMax, with its class count, from
// logits.
func TestOutput(t *testing.T) {
	g := ir.NewGraph("seg")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{1, 21, 8, 8}})
	y, err := g.Add(ir.ArgMax, "argmax", &ir.ArgMaxAttrs{Axis: -3, OutputType: ir.Int64}, x)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*ir.Value{y}
	m, err := Graph(g)
	if err != nil {
		t.Fatal(err)
	}
	o := Output(m)
	if o.ArgMaxClasses != 21 || o.Type.DType != ir.Int64 || !o.Type.Shape.Equal(ir.Shape{1, 8, 8}) {
		t.Errorf("ArgMax output: %+v", o)
	}
	g.Outputs = []*ir.Value{x}
	if o := Output(m); o.ArgMaxClasses != 0 || !o.Type.Shape.Equal(ir.Shape{1, 21, 8, 8}) {
		t.Errorf("logits output: %+v", o)
	}
}

func TestFitLabels(t *testing.T) {
	note := []string{"a", "b", "", "a note"}
	if got := FitLabels(note, 2); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("a note after a blank line: %q", got)
	}
	for _, l := range [][]string{{"a", "b", "c"}, {"a", "", "c"}} {
		if got := FitLabels(l, 2); !slices.Equal(got, l) {
			t.Errorf("%q cut to %q", l, got)
		}
	}
}
