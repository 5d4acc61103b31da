package mobilenet

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/frontend/torch"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// segGoldenDir holds testdata/gen/make_seg_golden.py's output.
const segGoldenDir = "../../testdata/seg"

type segGoldenEntry struct {
	Name       string            `json:"name"`
	Arch       string            `json:"arch"`
	Width      float64           `json:"width"`
	Resolution int               `json:"resolution"`
	Classes    int               `json:"classes"`
	Files      map[string]string `json:"files"`
}

// TestSegGolden loads each segmentation checkpoint of testdata/seg without
// flags (Infer finds the architecture, width and classes from its keys and
// shapes), builds and binds it, runs it in the reference interpreter and
// compares "out" with PyTorch's: max |diff| / max |PyTorch's out| <= 1e-4.
func TestSegGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(segGoldenDir, "manifest.json"))
	if err != nil {
		t.Skipf("no segmentation manifest: %v", err)
	}
	var entries []segGoldenEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries, want LR-ASPP and DeepLabV3", len(entries))
	}
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			sd, err := torch.Load(filepath.Join(segGoldenDir, e.Files["pth"]))
			if err != nil {
				t.Fatal(err)
			}
			inf, err := Infer(sd, Known{})
			if err != nil {
				t.Fatal(err)
			}
			cfg := inf.Config
			if cfg.Arch != e.Arch || cfg.Width != e.Width || cfg.Classes != e.Classes || cfg.ReducedTail {
				t.Fatalf("inferred %s, want %s width %g, %d classes", inf.Flags(false), e.Arch, e.Width, e.Classes)
			}
			cfg.Resolution = e.Resolution
			g, err := Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := Bind(g, cfg, sd); err != nil {
				t.Fatal(err)
			}
			got, want := runSeg(t, g, filepath.Join(segGoldenDir, e.Files["input"]), filepath.Join(segGoldenDir, e.Files["out"]))
			rel := relErr(t, got, want)
			t.Logf("%s: max |out| %.3f, max |diff| / max |out| %.2e", e.Files["pth"], maxAbs(want.Data), rel)
			if rel > 1e-4 {
				t.Errorf("out differs from PyTorch by %.3g of its max", rel)
			}
		})
	}
}

// runSeg runs g on the .npy input and returns its output and the expected
// .npy output.
func runSeg(t *testing.T, g *ir.Graph, input, output string) (*ir.Tensor, *npy.Array) {
	t.Helper()
	in, err := npy.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	want, err := npy.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := interp.Run(g, []*ir.Tensor{{DType: ir.Float32, Shape: ir.Shape(in.Shape), F32: in.Data}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !outs[0].Shape.Equal(ir.Shape(want.Shape)) {
		t.Fatalf("out %v, PyTorch %v", outs[0].Shape, want.Shape)
	}
	return outs[0], want
}

// relErr is max |got - want| / max |want|.
func relErr(t *testing.T, got *ir.Tensor, want *npy.Array) float64 {
	t.Helper()
	d := 0.0
	for i, w := range want.Data {
		if math.IsNaN(float64(got.F32[i])) {
			t.Fatalf("NaN at %d", i)
		}
		d = max(d, math.Abs(float64(got.F32[i])-float64(w)))
	}
	return d / maxAbs(want.Data)
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	return m
}
