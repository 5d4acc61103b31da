package onnx

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// The real pretrained MobileNets: import, verify, and reproduce ONNX
// Runtime's logits with the float reference interpreter.
func TestSharedMobileNets(t *testing.T) {
	models := golden.Shared(t, "models")
	for _, name := range []string{"mobilenet_v1_0.25_128", "mobilenet_v2_1.0_224"} {
		t.Run(name, func(t *testing.T) {
			g, err := Load(filepath.Join(models, name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Verify(g); err != nil {
				t.Fatal(err)
			}
			if len(g.Inputs) != 1 || g.Inputs[0].Name != "input" || len(g.Outputs) != 1 || g.Outputs[0].Name != "logits" {
				t.Fatalf("inputs %v outputs %v", g.Inputs, g.Outputs)
			}
			st := ir.ComputeStats(g)
			t.Logf("%s: %d nodes, %d params, %d MACs, ops %v", name, len(g.Nodes), st.Params, st.MACs, st.OpCounts)
			refs, _ := filepath.Glob(filepath.Join(models, "reference", name+".*.input.npy"))
			if len(refs) == 0 {
				t.Fatalf("no reference inputs for %s", name)
			}
			for _, in := range refs {
				image := filepath.Base(in[:len(in)-len(".input.npy")])
				x, err := npy.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				want, err := npy.ReadFile(in[:len(in)-len(".input.npy")] + ".logits.npy")
				if err != nil {
					t.Fatal(err)
				}
				out, err := interp.Run(g, []*ir.Tensor{ir.NewFloat32(x.Shape, x.Data)}, nil)
				if err != nil {
					t.Fatal(err)
				}
				got := out[0]
				if !got.Shape.Equal(want.Shape) {
					t.Fatalf("%s: logits %v, want %v", image, got.Shape, want.Shape)
				}
				maxDiff, maxLogit := 0.0, 0.0
				argGot, argWant := 0, 0
				for i, w := range want.Data {
					maxDiff = math.Max(maxDiff, math.Abs(float64(got.F32[i]-w)))
					maxLogit = math.Max(maxLogit, math.Abs(float64(w)))
					if got.F32[i] > got.F32[argGot] {
						argGot = i
					}
					if w > want.Data[argWant] {
						argWant = i
					}
				}
				t.Logf("%s: max |diff| %.3g, max |logit| %.4g, ratio %.3g, top-1 %d (want %d)",
					image, maxDiff, maxLogit, maxDiff/maxLogit, argGot, argWant)
				if maxDiff > 1e-4*maxLogit {
					t.Errorf("%s: max |diff| %g > 1e-4 * max |logit| %g", image, maxDiff, maxLogit)
				}
				if argGot != argWant {
					t.Errorf("%s: top-1 %d, want %d", image, argGot, argWant)
				}
			}
		})
	}
}
