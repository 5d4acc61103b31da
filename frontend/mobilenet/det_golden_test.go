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
	"github.com/mncdev/mnc/runtime/detect"
)

// detGoldenDir holds testdata/gen/make_ssd_model_golden.py's output.
const detGoldenDir = "../../testdata/det"

type detManifest struct {
	Arch        string            `json:"arch"`
	Width       float64           `json:"width"`
	Classes     int               `json:"classes"`
	ReducedTail bool              `json:"reduced_tail"`
	Resolution  int               `json:"resolution"`
	Files       map[string]string `json:"files"`
	FeatureMaps [][2]int          `json:"feature_maps"`
}

// detGolden is ssdlite.detections.json: torchvision's
// postprocess_detections of its own outputs, per image.
type detGolden struct {
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

// Tolerances of detections from mnc's float outputs against torchvision's.
// The outputs differ by float32 rounding: up to 5.5e-6 of their max for
// cls_logits (1.4e-4 of a logit) and 1.1e-5 for bbox_regression (5.4e-5).
// A softmax score moves by at most twice the logits' difference, relative
// (2.9e-4 here; 3.9e-5 is seen), and a box corner by the regression's
// difference times (1/10 + exp(dw/5)/10) of the anchor's size, at most the
// image's 320 pixels (6e-3 px here; 2.9e-4 px is seen). The labels and their
// order must be identical: make_ssd_model_golden.py checks that noise of
// three times these differences does not change them.
const (
	detScoreRelTol = 5e-4 // |score - torchvision's| / torchvision's
	detBoxTol      = 1e-2 // pixels of the 320x320 frame
)

func loadDetGolden(t *testing.T) (detManifest, detGolden) {
	t.Helper()
	var m detManifest
	var g detGolden
	data, err := os.ReadFile(filepath.Join(detGoldenDir, "manifest.json"))
	if err != nil {
		t.Skipf("no detection manifest: %v", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(filepath.Join(detGoldenDir, m.Files["detections"]))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return m, g
}

func readNpy(t *testing.T, file string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(filepath.Join(detGoldenDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDetGolden loads the SSDLite checkpoint of testdata/det without flags
// (Infer finds the architecture, width, classes and reduced tail), builds
// and binds it, runs it in the reference interpreter and compares both
// outputs with PyTorch's (max |diff| / max |PyTorch's| <= 1e-4); then
// runtime/detect's post-processing of mnc's outputs must give torchvision's
// detections: the same count and labels in the same order, scores and boxes
// within detScoreRelTol and detBoxTol; of torchvision's own outputs, the
// same bits.
func TestDetGolden(t *testing.T) {
	m, golden := loadDetGolden(t)
	sd, err := torch.Load(filepath.Join(detGoldenDir, m.Files["pth"]))
	if err != nil {
		t.Fatal(err)
	}
	inf, err := Infer(sd, Known{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := inf.Config
	if cfg.Arch != m.Arch || cfg.Width != m.Width || cfg.Classes != m.Classes || cfg.ReducedTail != m.ReducedTail {
		t.Fatalf("inferred %s, want %s width %g, %d classes, reduced_tail %v", inf.Flags(false), m.Arch, m.Width, m.Classes, m.ReducedTail)
	}
	g, err := Build(cfg) // resolution 0: SSDLite320's 320
	if err != nil {
		t.Fatal(err)
	}
	if err := Bind(g, cfg, sd); err != nil {
		t.Fatal(err)
	}
	in := readNpy(t, m.Files["input"])
	if !ir.Shape(in.Shape).Equal(ir.Shape{in.Shape[0], 3, m.Resolution, m.Resolution}) || !g.Inputs[0].Type.Shape.Equal(ir.Shape{-1, 3, 320, 320}) {
		t.Fatalf("input %v, graph input %v", in.Shape, g.Inputs[0].Type)
	}
	outs, err := interp.Run(g, []*ir.Tensor{{DType: ir.Float32, Shape: ir.Shape(in.Shape), F32: in.Data}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*npy.Array{
		OutputClsLogits:      readNpy(t, m.Files["cls_logits"]),
		OutputBBoxRegression: readNpy(t, m.Files["bbox_regression"]),
	}
	got := map[string]*ir.Tensor{}
	for i, o := range g.Outputs {
		w := want[o.Name]
		if w == nil || !outs[i].Shape.Equal(ir.Shape(w.Shape)) {
			t.Fatalf("output %s %v, PyTorch %v", o.Name, outs[i].Shape, w)
		}
		rel := relErr(t, outs[i], w)
		t.Logf("%s: max |PyTorch| %.3f, max |diff| / max |PyTorch| %.2e", o.Name, maxAbs(w.Data), rel)
		if rel > 1e-4 {
			t.Errorf("%s differs from PyTorch by %.3g of its max", o.Name, rel)
		}
		got[o.Name] = outs[i]
	}

	ac, maps, res, err := DetectionAnchors(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res != golden.ImageSize[0] || res != golden.ImageSize[1] || len(maps) != len(golden.FeatureMaps) {
		t.Fatalf("resolution %d, maps %v; torchvision %v, %v", res, maps, golden.ImageSize, golden.FeatureMaps)
	}
	for k := range maps {
		if maps[k] != golden.FeatureMaps[k] {
			t.Fatalf("feature maps %v, torchvision %v", maps, golden.FeatureMaps)
		}
	}
	anchors, err := detect.Anchors(ac, maps, res, res)
	if err != nil {
		t.Fatal(err)
	}
	p := detect.SSDLite320Params()
	if gp := golden.Params; p != (detect.Params{ScoreThresh: gp.ScoreThresh, NMSThresh: gp.NMSThresh,
		DetectionsPerImg: gp.DetectionsPerImg, TopKCandidates: gp.TopKCandidates}) {
		t.Fatalf("params %+v, torchvision %+v", p, gp)
	}
	n, a, classes := in.Shape[0], len(anchors), cfg.Classes
	if len(golden.Images) != n {
		t.Fatalf("%d images of detections for a batch of %d", len(golden.Images), n)
	}
	for i, img := range golden.Images {
		post := func(logits, reg []float32) []detect.Detection {
			rel := make([]detect.Box, a)
			for j := range rel {
				copy(rel[j][:], reg[(i*a+j)*4:])
			}
			d, err := detect.Postprocess(logits[i*a*classes:(i+1)*a*classes], classes, rel, anchors, res, res, p)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if len(img.Labels) == 0 {
			t.Fatalf("%s: torchvision has no detections: the case checks nothing", img.Image)
		}
		// torchvision's own outputs: its detections bit for bit.
		theirs := post(want[OutputClsLogits].Data, want[OutputBBoxRegression].Data)
		if len(theirs) != len(img.Labels) {
			t.Errorf("%s: %d detections of torchvision's outputs, torchvision %d", img.Image, len(theirs), len(img.Labels))
		} else {
			for j, d := range theirs {
				same := d.Label == img.Labels[j] && d.Score == float32(img.Scores[j])
				for c := 0; c < 4; c++ {
					same = same && d.Box[c] == float32(img.Boxes[j][c])
				}
				if !same {
					t.Errorf("%s: detection %d of torchvision's outputs: label %d score %.9g box %v; torchvision %d %.9g %v",
						img.Image, j, d.Label, d.Score, d.Box, img.Labels[j], img.Scores[j], img.Boxes[j])
					break
				}
			}
		}
		// mnc's outputs: the same detections within float tolerance.
		ours := post(got[OutputClsLogits].F32, got[OutputBBoxRegression].F32)
		if len(ours) != len(img.Labels) {
			t.Errorf("%s: %d detections of mnc's outputs, torchvision %d", img.Image, len(ours), len(img.Labels))
			continue
		}
		maxScore, maxBox, bits := 0.0, 0.0, 0
		for j, d := range ours {
			if d.Label != img.Labels[j] {
				t.Errorf("%s: detection %d has label %d, torchvision %d", img.Image, j, d.Label, img.Labels[j])
				break
			}
			ds := math.Abs(float64(d.Score)-img.Scores[j]) / img.Scores[j]
			maxScore = max(maxScore, ds)
			exact := d.Score == float32(img.Scores[j])
			for c := 0; c < 4; c++ {
				maxBox = max(maxBox, math.Abs(float64(d.Box[c])-img.Boxes[j][c]))
				exact = exact && d.Box[c] == float32(img.Boxes[j][c])
			}
			if exact {
				bits++
			}
		}
		t.Logf("%s: %d detections, labels identical; max score diff %.2e relative, max box diff %.2e px; %d identical to the bit",
			img.Image, len(ours), maxScore, maxBox, bits)
		if maxScore > detScoreRelTol || maxBox > detBoxTol {
			t.Errorf("%s: scores differ by up to %.3g relative (bound %g), boxes by %.3g px (bound %g)",
				img.Image, maxScore, detScoreRelTol, maxBox, detBoxTol)
		}
	}
}
