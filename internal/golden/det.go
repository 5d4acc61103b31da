package golden

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/runtime/detect"
)

// Det is testdata/det, testdata/gen/make_ssd_model_golden.py's output: a
// small SSDLite320 checkpoint, its input, PyTorch's two outputs and
// torchvision's detections of them.
type Det struct {
	Dir      string
	Manifest struct {
		Arch        string            `json:"arch"`
		Width       float64           `json:"width"`
		Classes     int               `json:"classes"`
		ReducedTail bool              `json:"reduced_tail"`
		Resolution  int               `json:"resolution"`
		Files       map[string]string `json:"files"`
		FeatureMaps [][2]int          `json:"feature_maps"`
	}
	// Detections is ssdlite.detections.json: torchvision's
	// postprocess_detections of its own outputs, per image.
	Detections struct {
		Params struct {
			ScoreThresh      float64 `json:"score_thresh"`
			NMSThresh        float64 `json:"nms_thresh"`
			DetectionsPerImg int     `json:"detections_per_img"`
			TopKCandidates   int     `json:"topk_candidates"`
		} `json:"params"`
		ImageSize   [2]int     `json:"image_size"`
		FeatureMaps [][2]int   `json:"feature_maps"`
		Images      []DetImage `json:"images"`
	}
}

// DetImage is torchvision's detections of one image.
type DetImage struct {
	Image  string       `json:"image"`
	Boxes  [][4]float64 `json:"boxes"`
	Scores []float64    `json:"scores"`
	Labels []int        `json:"labels"`
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
	DetScoreRelTol = 5e-4 // |score - torchvision's| / torchvision's
	DetBoxTol      = 1e-2 // pixels of the 320x320 frame
)

// LoadDet reads testdata/det's manifest and detections, skipping the test
// when the manifest is absent.
func LoadDet(t testing.TB) *Det {
	t.Helper()
	d := &Det{Dir: filepath.Join(RepoRoot(t), "testdata", "det")}
	data, err := os.ReadFile(filepath.Join(d.Dir, "manifest.json"))
	if err != nil {
		t.Skipf("no detection manifest: %v", err)
	}
	if err := json.Unmarshal(data, &d.Manifest); err != nil {
		t.Fatal(err)
	}
	if data, err = os.ReadFile(filepath.Join(d.Dir, d.Manifest.Files["detections"])); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &d.Detections); err != nil {
		t.Fatal(err)
	}
	return d
}

// Path is the file of kind (pth, onnx, input, cls_logits, ...).
func (d *Det) Path(kind string) string { return filepath.Join(d.Dir, d.Manifest.Files[kind]) }

// Npy reads the .npy file of kind.
func (d *Det) Npy(t testing.TB, kind string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(d.Path(kind))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// CheckParams fails the test unless p are the post-processing parameters
// torchvision used.
func (d *Det) CheckParams(t testing.TB, p detect.Params) {
	t.Helper()
	gp := d.Detections.Params
	if p != (detect.Params{ScoreThresh: gp.ScoreThresh, NMSThresh: gp.NMSThresh, DetectionsPerImg: gp.DetectionsPerImg, TopKCandidates: gp.TopKCandidates}) {
		t.Fatalf("params %+v, torchvision %+v", p, gp)
	}
}

// CheckDetections fails the test unless ours, the detections of mnc's
// outputs for img, are torchvision's: the same count and labels in the
// same order, scores within DetScoreRelTol and boxes within DetBoxTol; it
// logs the largest differences and how many detections are identical to
// the bit.
func CheckDetections(t testing.TB, ours []detect.Detection, img DetImage) {
	t.Helper()
	if len(img.Labels) == 0 {
		t.Fatalf("%s: torchvision has no detections: the case checks nothing", img.Image)
	}
	if len(ours) != len(img.Labels) {
		t.Errorf("%s: %d detections of mnc's outputs, torchvision %d", img.Image, len(ours), len(img.Labels))
		return
	}
	maxScore, maxBox, bits := 0.0, 0.0, 0
	for j, d := range ours {
		if d.Label != img.Labels[j] {
			t.Errorf("%s: detection %d has label %d, torchvision %d", img.Image, j, d.Label, img.Labels[j])
			return
		}
		maxScore = max(maxScore, math.Abs(float64(d.Score)-img.Scores[j])/img.Scores[j])
		exact := d.Score == float32(img.Scores[j])
		for c := range 4 {
			maxBox = max(maxBox, math.Abs(float64(d.Box[c])-img.Boxes[j][c]))
			exact = exact && d.Box[c] == float32(img.Boxes[j][c])
		}
		if exact {
			bits++
		}
	}
	t.Logf("%s: %d detections, labels identical; max score diff %.2e relative, max box diff %.2e px; %d identical to the bit",
		img.Image, len(ours), maxScore, maxBox, bits)
	if maxScore > DetScoreRelTol || maxBox > DetBoxTol {
		t.Errorf("%s: scores differ by up to %.3g relative (bound %g), boxes by %.3g px (bound %g)",
			img.Image, maxScore, DetScoreRelTol, maxBox, DetBoxTol)
	}
}
