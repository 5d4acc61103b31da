package runtime_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/detect"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// detDir holds testdata/gen/make_ssd_model_golden.py's output: a small
// SSDLite320 checkpoint, its input, PyTorch's two outputs and
// torchvision's detections.
const detDir = "../testdata/det"

// Tolerances of detections from mnc's float outputs against torchvision's:
// those of frontend/mobilenet's TestDetGolden (see detScoreRelTol there).
const (
	detScoreRelTol = 5e-4 // |score - torchvision's| / torchvision's
	detBoxTol      = 1e-2 // pixels of the 320x320 frame
)

// TestDetectGolden compiles the golden SSDLite320 .pth to a float32 .mnc
// file (compile.Run, as `mnc compile` does), runs it on the golden input
// with RunAll and compares both outputs with PyTorch's (max |diff| / max
// |PyTorch's| <= 1e-4); runtime/detect's post-processing of them must give
// torchvision's detections: the same count and labels in the same order,
// scores and boxes within detScoreRelTol and detBoxTol.
func TestDetectGolden(t *testing.T) {
	var man struct {
		Classes int               `json:"classes"`
		Files   map[string]string `json:"files"`
	}
	var golden struct {
		Params struct {
			ScoreThresh      float64 `json:"score_thresh"`
			NMSThresh        float64 `json:"nms_thresh"`
			DetectionsPerImg int     `json:"detections_per_img"`
			TopKCandidates   int     `json:"topk_candidates"`
		} `json:"params"`
		ImageSize   [2]int   `json:"image_size"`
		FeatureMaps [][2]int `json:"feature_maps"`
		Images      []struct {
			Image  string       `json:"image"`
			Boxes  [][4]float64 `json:"boxes"`
			Scores []float64    `json:"scores"`
			Labels []int        `json:"labels"`
		} `json:"images"`
	}
	data, err := os.ReadFile(filepath.Join(detDir, "manifest.json"))
	if err != nil {
		t.Skipf("no detection manifest: %v", err)
	}
	if err := json.Unmarshal(data, &man); err != nil {
		t.Fatal(err)
	}
	if data, err = os.ReadFile(filepath.Join(detDir, man.Files["detections"])); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	readNpy := func(name string) *npy.Array {
		a, err := npy.ReadFile(filepath.Join(detDir, man.Files[name]))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	out := filepath.Join(t.TempDir(), "ssdlite.mnc")
	if _, err := compile.Run(compile.Options{Model: filepath.Join(detDir, man.Files["pth"]), Output: out,
		Preprocess: preprocess.Spec{Preset: preprocess.Torchvision}}); err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	names := []string{"cls_logits", "bbox_regression"}
	if m.NumOutputs() != 2 || !slices.Equal(m.OutputNames(), names) || !slices.Equal(m.OutputShape(), m.OutputShapes()[0]) {
		t.Fatalf("outputs %v %v; want %v", m.OutputNames(), m.OutputShapes(), names)
	}
	if info := m.Info(); len(info.Outputs) != 2 || info.Outputs[0].Name != info.Output.Name || info.Outputs[1].Name != names[1] {
		t.Fatalf("Info outputs %+v, output %+v", info.Outputs, info.Output)
	}
	it, err := m.NewInterpreter()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	in := readNpy("input")
	input := runtime.Tensor{Shape: in.Shape, Data: in.Data}
	outs, err := it.RunAll(input)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 {
		t.Fatalf("RunAll returned %d outputs", len(outs))
	}
	want := make([]*npy.Array, 2)
	for i, name := range names {
		w := readNpy(name)
		want[i] = w
		if !slices.Equal(outs[i].Shape, w.Shape) {
			t.Fatalf("%s: shape %v, PyTorch %v", name, outs[i].Shape, w.Shape)
		}
		var maxW, maxD float64
		for j, v := range w.Data {
			maxW = max(maxW, math.Abs(float64(v)))
			maxD = max(maxD, math.Abs(float64(outs[i].Data[j])-float64(v)))
		}
		rel := maxD / maxW
		t.Logf("%s %v: max |PyTorch| %.3f, max |diff| / max |PyTorch| %.2e", name, outs[i].Shape, maxW, rel)
		if rel > 1e-4 {
			t.Errorf("%s differs from PyTorch by %.3g of its max", name, rel)
		}
	}
	// The results are the interpreter's: keep copies.
	cls, reg, shape := slices.Clone(outs[0].Data), slices.Clone(outs[1].Data), slices.Clone(outs[0].Shape)

	// Run returns the first output, the same values.
	first, err := it.Run(input)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first.Shape, shape) || !slices.Equal(first.Data, cls) {
		t.Errorf("Run: shape %v, not RunAll's first output %v", first.Shape, shape)
	}

	// Sized by the first Run, RunAll allocates nothing.
	if allocs := testing.AllocsPerRun(2, func() { _, _ = it.RunAll(input) }); allocs != 0 {
		t.Errorf("RunAll allocates %v times a run", allocs)
	}

	res := golden.ImageSize[0]
	anchors, err := detect.Anchors(detect.SSDLite320(), golden.FeatureMaps, res, golden.ImageSize[1])
	if err != nil {
		t.Fatal(err)
	}
	n, a, classes := in.Shape[0], len(anchors), man.Classes
	if shape[1] != a || shape[2] != classes || len(golden.Images) != n {
		t.Fatalf("%d anchors, %d classes, %d golden images for outputs %v", a, classes, len(golden.Images), shape)
	}
	p := detect.SSDLite320Params()
	if gp := golden.Params; p != (detect.Params{ScoreThresh: gp.ScoreThresh, NMSThresh: gp.NMSThresh,
		DetectionsPerImg: gp.DetectionsPerImg, TopKCandidates: gp.TopKCandidates}) {
		t.Fatalf("params %+v, torchvision %+v", p, gp)
	}
	for i, img := range golden.Images {
		if len(img.Labels) == 0 {
			t.Fatalf("%s: torchvision has no detections: the case checks nothing", img.Image)
		}
		rel := make([]detect.Box, a)
		for j := range rel {
			copy(rel[j][:], reg[(i*a+j)*4:])
		}
		ours, err := detect.Postprocess(cls[i*a*classes:(i+1)*a*classes], classes, rel, anchors, res, golden.ImageSize[1], p)
		if err != nil {
			t.Fatal(err)
		}
		if len(ours) != len(img.Labels) {
			t.Errorf("%s: %d detections of mnc's outputs, torchvision %d", img.Image, len(ours), len(img.Labels))
			continue
		}
		maxScore, maxBox := 0.0, 0.0
		for j, d := range ours {
			if d.Label != img.Labels[j] {
				t.Errorf("%s: detection %d has label %d, torchvision %d", img.Image, j, d.Label, img.Labels[j])
				break
			}
			maxScore = max(maxScore, math.Abs(float64(d.Score)-img.Scores[j])/img.Scores[j])
			for c := range 4 {
				maxBox = max(maxBox, math.Abs(float64(d.Box[c])-img.Boxes[j][c]))
			}
		}
		t.Logf("%s: %d detections, labels identical; max score diff %.2e relative, max box diff %.2e px",
			img.Image, len(ours), maxScore, maxBox)
		if maxScore > detScoreRelTol || maxBox > detBoxTol {
			t.Errorf("%s: scores differ by up to %.3g relative (bound %g), boxes by %.3g px (bound %g)",
				img.Image, maxScore, detScoreRelTol, maxBox, detBoxTol)
		}
	}
}
