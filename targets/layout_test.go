package targets_test

import (
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/targets"
)

// TestCodegenTargets: codegen compiles for every target and alias of this
// registry (its only one), and the file records the target's own name and,
// when not generic, its kernel variant; an unknown name is an error.
func TestCodegenTargets(t *testing.T) {
	g := ir.NewGraph("tiny")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{1, 3, 4, 4}})
	n, err := g.AddNode(ir.Relu, "relu", nil, x)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = n.Outputs
	names := targets.Names()
	for _, name := range append(names, "") {
		want, err := targets.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		blob, err := codegen.Build(g, codegen.Options{Target: name})
		if err != nil {
			t.Fatalf("target %q: %v", name, err)
		}
		m, err := runtime.Load(blob)
		if err != nil {
			t.Fatal(err)
		}
		info := m.Info()
		if info.Target != want.Name {
			t.Errorf("target %q: the file records %q, want %q", name, info.Target, want.Name)
		}
		wantKernels := want.Kernels
		if wantKernels == "generic" {
			wantKernels = ""
		}
		if k := info.Extra[runtime.TargetKernelsKey]; k != wantKernels {
			t.Errorf("target %q: the file records kernels %q, want %q", name, k, wantKernels)
		}
	}
	if _, err := codegen.Build(g, codegen.Options{Target: "generic-hwo"}); err == nil {
		t.Error("an unknown target compiled")
	}
}
