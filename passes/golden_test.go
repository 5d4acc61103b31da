package passes

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/frontend/mobilenet"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

const relTol = 1e-5 // max |diff| <= relTol * max |logit|

func goldenOptions(e golden.Model) frontend.Options {
	return frontend.Options{Arch: e.Arch, Width: e.Width, Classes: e.Classes, Resolution: e.Resolution, ReducedTail: e.ReducedTail}
}

// modelFiles lists the model files of an entry: the checkpoint and every
// ONNX export.
func goldenModelFiles(e golden.Model) []string {
	var files []string
	for _, k := range []string{"pth", "onnx_opset11", "onnx_opset17", "onnx_opset17_bn"} {
		if f, ok := e.Files[k]; ok {
			files = append(files, f)
		}
	}
	return files
}

func readInput(t *testing.T, path string) *ir.Tensor {
	t.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ir.NewFloat32(ir.Shape(a.Shape), a.Data)
}

func run(t *testing.T, g *ir.Graph, in *ir.Tensor) *ir.Tensor {
	t.Helper()
	outs, err := interp.Run(g, []*ir.Tensor{in}, nil)
	if err != nil {
		t.Fatalf("interp: %v", err)
	}
	return outs[0]
}

// compile runs Pipeline with checks on and dumps the graph on failure.
func compile(t *testing.T, g *ir.Graph) *Report {
	t.Helper()
	rep, err := Run(g, Options{Check: true})
	if err != nil {
		t.Fatalf("pipeline: %v\n%s", err, g)
	}
	return rep
}

// checkSame runs the pipeline on g and compares the interpreter's logits on
// in before and after. It returns the report and the worst relative error.
func checkSame(t *testing.T, g *ir.Graph, in *ir.Tensor) (*Report, float64) {
	t.Helper()
	before := run(t, g, in)
	rep := compile(t, g)
	after := run(t, g, in)
	if !before.Shape.Equal(after.Shape) {
		t.Fatalf("logits shape %v, before %v", after.Shape, before.Shape)
	}
	maxAbs, maxDiff := 0.0, 0.0
	for i, v := range before.F32 {
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		maxDiff = math.Max(maxDiff, math.Abs(float64(v)-float64(after.F32[i])))
	}
	rel := maxDiff / maxAbs
	if !(rel <= relTol) {
		t.Errorf("max |diff| %.3g = %.3g of max |logit| %.3g, want <= %g", maxDiff, rel, maxAbs, relTol)
	}
	return rep, rel
}

// checkStructure asserts what every compiled MobileNet satisfies.
func checkStructure(t *testing.T, g *ir.Graph) {
	t.Helper()
	uses := g.Uses()
	for _, n := range g.Nodes {
		switch n.Op {
		case ir.BatchNorm, ir.Dropout, ir.Identity, ir.Clip, ir.MatMul, ir.Pad:
			t.Errorf("%s %q remains", n.Op, n.Name)
		case ir.Relu, ir.Relu6, ir.HardSigmoid, ir.HardSwish:
			// Standalone activations remain only after something that
			// cannot carry them (or whose result has other readers).
			if p := g.Producers()[n.Inputs[0]]; p != nil && (p.Op == ir.Conv || p.Op == ir.Gemm) && len(uses[n.Inputs[0]]) == 1 {
				t.Errorf("%s %q after %s %q is not fused", n.Op, n.Name, p.Op, p.Name)
			}
		case ir.Conv, ir.AveragePool, ir.GlobalAveragePool, ir.SqueezeExcite:
			if n.Layout != ir.NHWC {
				t.Errorf("%s %q is %v", n.Op, n.Name, n.Layout)
			}
		}
	}
	if c := Summarize(g).Ops["Transpose"]; c != 1 {
		t.Errorf("%d Transposes, want 1 (after the input)", c)
	}
}

// TestGoldenPipeline compiles every golden model (checkpoint and ONNX
// exports) and checks logits, structure and reports.
func TestGoldenPipeline(t *testing.T) {
	for _, e := range golden.Manifest(t) {
		t.Run(e.Name, func(t *testing.T) {
			in := readInput(t, filepath.Join(golden.Dir(t), e.Files["input"]))
			summaries := map[string]Summary{}
			for _, file := range goldenModelFiles(e) {
				path := filepath.Join(golden.Dir(t), file)
				if _, err := os.Stat(path); err != nil {
					t.Logf("skipping %s: %v", file, err)
					continue
				}
				g, err := frontend.Load(path, goldenOptions(e))
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				rep, rel := checkSame(t, g, in)
				t.Logf("%s: worst |diff| / max |logit| = %.3g", file, rel)
				checkStructure(t, g)
				summaries[file] = rep.Summary
				if strings.HasPrefix(e.Arch, "mobilenet_v3") {
					want := 8
					if strings.Contains(e.Arch, "small") {
						want = 9
					}
					if got := len(rep.Summary.SEUnits); got != want {
						t.Errorf("%s: %d SE units, want %d", file, got, want)
					}
				}
			}
			a, b := summaries[e.Files["onnx_opset11"]], summaries[e.Files["onnx_opset17"]]
			if a.Ops != nil && b.Ops != nil && !reflect.DeepEqual(a, b) {
				t.Errorf("opset-11 and opset-17 summaries differ:\n%+v\n%+v", a, b)
			}
		})
	}
}

// TestV3LargeStructure counts the SE units and fused HardSwish convolutions
// of a full-size MobileNetV3-Large built with zero weights.
func TestV3LargeStructure(t *testing.T) {
	g, err := mobilenet.Build(mobilenet.Config{Arch: "mobilenet_v3_large"})
	if err != nil {
		t.Fatal(err)
	}
	rep := compile(t, g)
	checkStructure(t, g)
	s := rep.Summary
	if len(s.SEUnits) != 8 {
		t.Errorf("%d SE units, want 8: %v", len(s.SEUnits), s.SEUnits)
	}
	for _, name := range s.SEUnits {
		if !strings.HasPrefix(name, "features.") || !strings.HasSuffix(name, ".block.2") && !strings.HasSuffix(name, ".block.1") {
			t.Errorf("SE unit %q is not a block's SqueezeExcitation module", name)
		}
	}
	// torchvision's V3-Large: the stem, 9 blocks with hardswish expansion
	// (all with a 1x1 expansion), their depthwise convs, the last conv
	// and the first classifier Gemm.
	if got := len(s.FusedActivations["hardswish"]); got != 1+9+9+1+1 {
		t.Errorf("%d fused hardswish, want 21: %v", got, s.FusedActivations["hardswish"])
	}
	if len(s.UnfoldedBatchNorms) != 0 || s.Ops["BatchNorm"] != 0 || s.Ops["Dropout"] != 0 {
		t.Errorf("summary %+v", s)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"squeeze-excite units (8): features.4.block.2", "hardswish (21): features.0.0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	t.Logf("report:\n%s", b.String())
}

// TestSharedModels compiles the real pretrained models of /work/shared.
func TestSharedModels(t *testing.T) {
	sharedDir := golden.Shared(t, "models")
	cases := []struct {
		file, ref string
		opts      frontend.Options
	}{
		{"mobilenet_v2_1.0_224.onnx", "mobilenet_v2_1.0_224.grace_hopper", frontend.Options{}},
		{"mobilenet_v1_0.25_128.onnx", "mobilenet_v1_0.25_128.grace_hopper", frontend.Options{}},
		{"mobilenet_v2_1.0_224_tv.pth", "mobilenet_v2_1.0_224.grace_hopper", frontend.Options{Arch: "mobilenet_v2", Classes: 1001}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := golden.Shared(t, "models", c.file)
			g, err := frontend.Load(path, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			in := readInput(t, filepath.Join(sharedDir, "reference", c.ref+".input.npy"))
			_, rel := checkSame(t, g, in)
			t.Logf("%s: worst |diff| / max |logit| = %.3g", c.file, rel)
			checkStructure(t, g)
		})
	}
}
