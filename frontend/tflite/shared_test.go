package tflite

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// The ../shared TFLite MobileNets are the uint8 QAT originals of the
// ../shared ONNX files: loaded as float (dequantized), they reproduce ONNX
// Runtime's logits on the ONNX files to 1e-4 of the largest logit. Their
// final SOFTMAX is left out, so the graph output is the logits.
func TestSharedMobileNets(t *testing.T) {
	models := golden.Shared(t, "models")
	for _, name := range []string{"mobilenet_v1_0.25_128", "mobilenet_v2_1.0_224"} {
		t.Run(name, func(t *testing.T) {
			g, err := Load(filepath.Join(models, "tflite", name+"_quant.tflite"))
			if err != nil {
				t.Fatal(err)
			}
			res := 224
			if name == "mobilenet_v1_0.25_128" {
				res = 128
			}
			if len(g.Inputs) != 1 || !g.Inputs[0].Type.Shape.Equal(ir.Shape{1, 3, res, res}) ||
				len(g.Outputs) != 1 || !g.Outputs[0].Type.Shape.Equal(ir.Shape{1, 1001}) {
				t.Fatalf("inputs %v outputs %v", g.Inputs[0].Type, g.Outputs[0].Type)
			}
			if r := g.Inputs[0].FileRange; r == nil || r[0] != -1 || math.Abs(float64(r[1])-127.0/128) > 1e-6 {
				t.Errorf("input range %v, want [-1, 127/128]", r)
			}
			for _, n := range g.Nodes {
				if n.Output().FileRange == nil {
					t.Errorf("%s has no file range", n)
				}
			}
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
				t.Logf("%s: max |diff| %.3g, max |logit| %.4g, relative %.3g, top-1 %d (want %d)",
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
