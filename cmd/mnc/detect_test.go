package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestInspectDetector: mnc inspect describes torchvision's SSDLite320 by
// --arch and from testdata/det's checkpoint, at its 320x320 input unless
// --resolution says otherwise, with both outputs; the parameter counts are
// torchvision's (3,440,060 for the COCO model's reduced tail).
func TestInspectDetector(t *testing.T) {
	det := filepath.Join("..", "..", "testdata", "det", "ssdlite.pth")
	for _, c := range []struct {
		args    []string
		input   []int
		anchors int
		classes int
		params  float64
		note    string
	}{
		{[]string{"--arch", "ssdlite320_mobilenet_v3_large", "--reduced-tail"}, []int{-1, 3, 320, 320}, 3234, 91, 3440060, ""},
		{[]string{"--arch", "ssdlite320_mobilenet_v3_large"}, []int{-1, 3, 320, 320}, 3234, 91, 5198540, ""},
		{[]string{"--arch", "ssdlite", "--classes", "21", "--resolution", "224"}, []int{-1, 3, 224, 224}, 1602, 21, 0, ""},
		{[]string{det}, []int{-1, 3, 320, 320}, 3234, 21, 1132940,
			"mnc: inferred --arch ssdlite320_mobilenet_v3_large --width 0.5 --classes 21 --reduced-tail\n"},
	} {
		stdout, stderr, code := mnc(t, append([]string{"inspect", "--json"}, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: %s", c.args, stderr)
		}
		if stderr != c.note {
			t.Errorf("%v: stderr %q, want %q", c.args, stderr, c.note)
		}
		var s struct {
			Params  float64
			Inputs  []struct{ Shape []int } `json:"inputs"`
			Outputs []struct {
				Name  string `json:"name"`
				Shape []int  `json:"shape"`
			} `json:"outputs"`
		}
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Inputs) != 1 || !reflect.DeepEqual(s.Inputs[0].Shape, c.input) {
			t.Errorf("%v: inputs %+v, want %v", c.args, s.Inputs, c.input)
		}
		type out = struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
		}
		want := []out{{"cls_logits", []int{-1, c.anchors, c.classes}}, {"bbox_regression", []int{-1, c.anchors, 4}}}
		if got := []out(s.Outputs); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: outputs %v, want %v", c.args, got, want)
		}
		if c.params != 0 && s.Params != c.params {
			t.Errorf("%v: %.0f params, torchvision %.0f", c.args, s.Params, c.params)
		}
	}
}

// TestCompileDetector: testdata/det's SSDLite320 compiles to a float32
// .mnc file with both outputs, which mnc inspect lists (text and JSON);
// mnc run takes the compiled file and tells to compile the checkpoint.
func TestCompileDetector(t *testing.T) {
	det := filepath.Join("..", "..", "testdata", "det", "ssdlite.pth")
	out := filepath.Join(t.TempDir(), "ssdlite.mnc")
	if _, stderr, code := mnc(t, "compile", det, "-o", out); code != 0 {
		t.Fatalf("compile: %s", stderr)
	}
	stdout, stderr, code := mnc(t, "inspect", out)
	if code != 0 {
		t.Fatalf("inspect: %s", stderr)
	}
	if lines := "\noutput cls_logits float32 [1,3234,21]\noutput bbox_regression float32 [1,3234,4]\n"; !strings.Contains(stdout, lines) {
		t.Errorf("inspect does not print %q:\n%s", lines, stdout)
	}
	for _, line := range []string{
		"\npreprocessing torchvision 320x320 (mean [0.5 0.5 0.5], std [0.5 0.5 0.5], normalized then interpolated to the input size)\n",
		"\ndetection: SSD, 21 classes, 3234 anchors on 20x20 10x10 5x5 3x3 2x2 1x1 (scales 0.2 to 0.95) for 320x320; scores > 0.001, NMS IoU 0.55, 300 per class, 300 per image\n",
	} {
		if !strings.Contains(stdout, line) {
			t.Errorf("inspect does not print %q:\n%s", line, stdout)
		}
	}
	stdout, stderr, code = mnc(t, "inspect", "--json", out)
	if code != 0 {
		t.Fatalf("inspect --json: %s", stderr)
	}
	var s struct {
		Output  struct{ Name string }
		Outputs []struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.Output.Name != "cls_logits" || len(s.Outputs) != 2 || s.Outputs[0].Name != "cls_logits" || s.Outputs[1].Name != "bbox_regression" ||
		!reflect.DeepEqual(s.Outputs[1].Shape, []int{1, 3234, 4}) {
		t.Errorf("inspect --json: output %+v, outputs %+v", s.Output, s.Outputs)
	}
	input := filepath.Join("..", "..", "testdata", "det", "ssdlite.input.npy")
	if _, stderr, code = mnc(t, "run", out, "--tensor", input); code != 0 {
		t.Errorf("run %s: exit %d, %s", out, code, stderr)
	}
	_, stderr, code = mnc(t, "run", det, "--tensor", input)
	if code != 1 || !strings.Contains(stderr, "is a detector: compile it (mnc compile MODEL -o model.mnc)") {
		t.Errorf("run %s: exit %d, %s", det, code, stderr)
	}
}

// detFiles compiles testdata/det's SSDLite to a float32 and an int8 .mnc
// file (calibrated on a few generated photos: the weights are random, int8
// quality is not judged), once per test binary.
func detFiles(t *testing.T) (f32, i8, dir string) {
	t.Helper()
	dir = t.TempDir()
	det := filepath.Join("..", "..", "testdata", "det", "ssdlite.pth")
	f32, i8 = filepath.Join(dir, "ssdlite.mnc"), filepath.Join(dir, "ssdlite8.mnc")
	calib := filepath.Join(dir, "calib")
	if err := os.Mkdir(calib, 0o755); err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 4; k++ {
		writePNG(t, filepath.Join(calib, fmt.Sprintf("p%d.png", k)), segPhoto(4*k))
	}
	if _, stderr, code := mnc(t, "compile", det, "-o", f32); code != 0 {
		t.Fatalf("compile: %s", stderr)
	}
	if _, stderr, code := mnc(t, "compile", det, "--quant", "int8", "--calib", calib, "-o", i8); code != 0 {
		t.Fatalf("compile int8: %s", stderr)
	}
	return f32, i8, dir
}

// TestRunDetector: mnc run on a detector prints torchvision's boxes (the
// golden detections, in the input's frame for --tensor) best first, those
// at or above --min-score and at most --top; --json has every field;
// --save-image draws the boxes over a photo of the photo's size; the int8
// file runs too; bad flags are usage errors.
func TestRunDetector(t *testing.T) {
	f32, i8, dir := detFiles(t)
	golden := loadDetGolden(t)
	input := filepath.Join("..", "..", "testdata", "det", "ssdlite.input.npy")

	stdout, stderr, code := mnc(t, "run", f32, "--tensor", input, "--min-score", "0.1")
	if code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	want := "ssdlite.input.npy[0] (320x320): 2 of 41 boxes\n" +
		"  19             0.476    150.9   112.8   218.7   146.1\n" +
		"  9              0.167    172.8   122.0   268.1   181.9\n" +
		"ssdlite.input.npy[1] (320x320): 0 of 24 boxes\n"
	if stdout != want {
		t.Errorf("run --min-score 0.1:\n%s\nwant\n%s", stdout, want)
	}
	if stdout, _, _ = mnc(t, "run", f32, "--tensor", input, "--min-score", "0", "--top", "1"); !strings.Contains(stdout, ": 1 of 41 boxes\n  19 ") {
		t.Errorf("--top 1:\n%s", stdout)
	}

	stdout, stderr, code = mnc(t, "run", f32, "--tensor", input, "--min-score", "0", "--json")
	if code != 0 {
		t.Fatalf("run --json: %s", stderr)
	}
	var res []struct {
		Input      string
		Width      int
		Detections int
		Boxes      []struct {
			Label int
			Score float64
			Box   [4]float64
		}
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != len(golden) {
		t.Fatalf("%d results for %d images", len(res), len(golden))
	}
	for i, r := range res {
		g := golden[i]
		if r.Detections != len(g.Labels) || len(r.Boxes) != len(g.Labels) || r.Width != 320 {
			t.Fatalf("image %d: %d boxes of %d, width %d; torchvision has %d", i, len(r.Boxes), r.Detections, r.Width, len(g.Labels))
		}
		for j, b := range r.Boxes {
			if b.Label != g.Labels[j] || math.Abs(b.Score-g.Scores[j]) > 5e-4*g.Scores[j] {
				t.Errorf("image %d box %d: label %d score %v; torchvision %d %v", i, j, b.Label, b.Score, g.Labels[j], g.Scores[j])
			}
			for c := range 4 {
				if math.Abs(b.Box[c]-g.Boxes[j][c]) > 1e-2 {
					t.Errorf("image %d box %d: %v; torchvision %v", i, j, b.Box, g.Boxes[j])
					break
				}
			}
		}
	}

	// A photo: the boxes drawn at its size.
	photo := writePNG(t, filepath.Join(dir, "photo.png"), segPhoto(30))
	saved := filepath.Join(dir, "boxes.png")
	stdout, stderr, code = mnc(t, "run", f32, photo, "--min-score", "0", "--top", "3", "--save-image", saved)
	if code != 0 {
		t.Fatalf("run photo: %s", stderr)
	}
	if !strings.HasPrefix(stdout, "photo.png (480x480): 3 of ") || !strings.Contains(stdout, "saved "+saved) {
		t.Errorf("run photo:\n%s", stdout)
	}
	if img := readPNG(t, saved); img.Bounds().Dx() != 480 || img.Bounds().Dy() != 480 {
		t.Errorf("saved image %v", img.Bounds())
	}

	// int8: it runs and prints boxes (random weights: not judged).
	stdout, stderr, code = mnc(t, "run", i8, "--tensor", input, "--min-score", "0", "--top", "2")
	if code != 0 || strings.Count(stdout, "\n") != 6 || !strings.HasPrefix(stdout, "ssdlite.input.npy[0] (320x320): 2 of ") {
		t.Errorf("run int8: exit %d\n%s%s", code, stdout, stderr)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--min-score", "1.5"}, 2, "--min-score 1.5: want a score from 0 to 1"},
		{[]string{"--overlay", "--save-image", filepath.Join(dir, "x.png")}, 2, "--overlay is for segmentation"},
		{[]string{"--save-output", filepath.Join(dir, "x.npy")}, 1, "a detector has two"},
	} {
		_, stderr, code := mnc(t, append([]string{"run", f32, photo}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want %d, %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

type detGoldenImage struct {
	Image  string
	Boxes  [][4]float64
	Scores []float64
	Labels []int
}

func loadDetGolden(t *testing.T) []detGoldenImage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "det", "ssdlite.detections.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ Images []detGoldenImage }
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return g.Images
}

// TestEvalDetector: mnc eval --boxes scores detectors against box files:
// a ground truth made of the float model's best box gives it AP 1 on that
// class; the int8 file is scored beside it, with the pair's agreement;
// photos without a box file are left out; bad box files and models are
// one-line errors.
func TestEvalDetector(t *testing.T) {
	f32, i8, dir := detFiles(t)
	photos := filepath.Join(dir, "photos")
	boxes := filepath.Join(dir, "boxes")
	for _, d := range []string{photos, boxes} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	photo := writePNG(t, filepath.Join(photos, "a.png"), segPhoto(30))
	writePNG(t, filepath.Join(photos, "b.png"), segPhoto(20)) // no box file
	stdout, stderr, code := mnc(t, "run", f32, photo, "--min-score", "0", "--top", "1", "--json")
	if code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	var res []struct {
		Boxes []struct {
			Label int
			Box   [4]float64
		}
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res) != 1 || len(res[0].Boxes) != 1 {
		t.Fatalf("run --json: %v\n%s", err, stdout)
	}
	b := res[0].Boxes[0]
	truth := fmt.Sprintf("# the float model's best box\n%d %g %g %g %g\n", b.Label, b.Box[0], b.Box[1], b.Box[2], b.Box[3])
	if err := os.WriteFile(filepath.Join(boxes, "a.txt"), []byte(truth), 0o644); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code = mnc(t, "eval", f32, i8, "--images", photos, "--boxes", boxes, "--min-score", "0.01")
	if code != 0 {
		t.Fatalf("eval: %s", stderr)
	}
	for _, want := range []string{
		"1 photo with box files (1 ground-truth box); 1 without, left out\n",
		"\nssdlite.mnc   float32     1.0000",
		"\nssdlite8.mnc  int8     ",
		fmt.Sprintf("\n%-5d      1       1.0000", b.Label),
		"agreement: B's mAP@0.5 with A's boxes scoring >= 0.01 as ground truth\n  ssdlite.mnc -> ssdlite8.mnc: ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("eval output lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _, code = mnc(t, "eval", f32, "--images", photos, "--boxes", boxes, "--json")
	var rep struct {
		ImageCount   int      `json:"image_count"`
		WithoutBoxes []string `json:"without_boxes"`
		Models       []struct {
			MAP      float64 `json:"map50"`
			PerClass []struct {
				Class string  `json:"class"`
				AP    float64 `json:"ap50"`
			} `json:"per_class"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 || rep.ImageCount != 1 || len(rep.WithoutBoxes) != 1 ||
		len(rep.Models) != 1 || rep.Models[0].MAP != 1 || len(rep.Models[0].PerClass) != 1 || rep.Models[0].PerClass[0].Class != fmt.Sprint(b.Label) {
		t.Errorf("eval --json: exit %d, %v, %+v\n%s", code, err, rep, stdout)
	}

	bad := filepath.Join(dir, "bad")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "a.txt"), []byte("3 10 10 5 20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	det := filepath.Join("..", "..", "testdata", "det", "ssdlite.pth")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{f32, "--images", photos, "--boxes", bad}, 1, "a.txt:1: inverted box"},
		{[]string{f32, "--images", photos, "--boxes", photos}, 1, "none of the 2 photos"},
		{[]string{det, "--images", photos, "--boxes", boxes}, 1, "detectors are evaluated from their .mnc file"},
		{[]string{f32, "--images", photos, "--boxes", boxes, "--masks", boxes}, 2, "not both"},
		{[]string{f32, "--images", photos, "--boxes", boxes, "--min-score", "-1"}, 2, "--min-score -1"},
		{[]string{f32, "--images", photos, "--min-score", "0.3"}, 2, "--min-score is for detectors"},
		{[]string{f32, "--images", photos}, 1, "is a detector: mnc run prints its boxes, mnc eval scores it against box files with --boxes DIR"},
	} {
		_, stderr, code := mnc(t, append([]string{"eval"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("eval %v: exit %d, %q; want %d, %q", c.args, code, stderr, c.code, c.want)
		}
	}
}
