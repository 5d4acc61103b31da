package runtime_test

import (
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/detect"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// compileDet compiles testdata/det's SSDLite .pth to a float32 .mnc file as
// `mnc compile` does with no preprocessing flag.
func compileDet(t *testing.T, det *golden.Det) *runtime.Model { return compileDetFrom(t, det, "pth") }

// compileDetFrom compiles the golden model file of kind (pth, onnx).
func compileDetFrom(t *testing.T, det *golden.Det, kind string) *runtime.Model {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ssdlite.mnc")
	if _, err := compile.Run(compile.Options{Model: det.Path(kind), Output: out,
		Preprocess: preprocess.Spec{Preset: preprocess.Torchvision}}); err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestDetectionMetadata: a detector's file records its post-processing
// (format 1.5): torchvision's SSDLite320 settings, the golden feature
// maps, the detection transform as its preprocessing, and anchors equal
// to detect.Anchors'.
func TestDetectionMetadata(t *testing.T) {
	det := golden.LoadDet(t)
	m := compileDet(t, det)
	if f := m.Info().Format; f != "1.6" {
		t.Errorf("format %s", f)
	}
	cfg, ok := m.Detection()
	if !ok {
		t.Fatal("no detection settings in the file")
	}
	want := detect.Config{Anchors: detect.SSDLite320(), FeatureMaps: det.Detections.FeatureMaps,
		ImageHeight: 320, ImageWidth: 320, Classes: det.Manifest.Classes, ClsOutput: 0, BoxOutput: 1,
		Params: detect.SSDLite320Params()}
	if cfg.Classes != want.Classes || cfg.ImageHeight != 320 || cfg.ImageWidth != 320 || cfg.ClsOutput != 0 || cfg.BoxOutput != 1 ||
		cfg.Params != want.Params || !slices.Equal(cfg.FeatureMaps, want.FeatureMaps) || cfg.Anchors.MinRatio != 0.2 ||
		cfg.Anchors.MaxRatio != 0.95 || !cfg.Anchors.Clip || len(cfg.Anchors.AspectRatios) != 6 {
		t.Errorf("detection settings %+v; want %+v", cfg, want)
	}
	a, err := detect.Anchors(want.Anchors, want.FeatureMaps, 320, 320)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Anchors(), a) {
		t.Error("the model's anchors are not detect.Anchors'")
	}
	spec, ok := m.Preprocess()
	if d, _ := preprocess.Detection().AtSize(320, 320); !ok || spec != d {
		t.Errorf("preprocessing %v; want %v", spec, d)
	}
	if m.Labels() != nil {
		t.Errorf("labels %q for a 21-class detector", m.Labels())
	}

	// Detect on the golden batch: torchvision's detections, in the
	// input's frame.
	it, err := m.NewInterpreter()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	in := det.Npy(t, "input")
	got, err := it.Detect(runtime.Tensor{Shape: in.Shape, Data: in.Data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(det.Detections.Images) {
		t.Fatalf("%d results for %d images", len(got), len(det.Detections.Images))
	}
	for i, img := range det.Detections.Images {
		golden.CheckDetections(t, got[i], img)
	}
	if _, err := it.Detect(runtime.Tensor{Shape: in.Shape, Data: in.Data}, [][2]int{{1, 1}}); err == nil {
		t.Error("Detect took one image size for a batch of 2")
	}
}

// TestDetectONNX: the ONNX export, which holds no anchors, is recognised
// as torchvision's SSDLite: its file records the .pth's settings and
// preprocessing, and Detect gives torchvision's detections.
func TestDetectONNX(t *testing.T) {
	det := golden.LoadDet(t)
	m, ref := compileDetFrom(t, det, "onnx"), compileDet(t, det)
	got, ok := m.Detection()
	want, _ := ref.Detection()
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("detection settings %+v; the .pth's %+v", got, want)
	}
	if a, b := m.Info().Preprocess, ref.Info().Preprocess; a == nil || *a != *b {
		t.Errorf("preprocessing %v; the .pth's %v", a, b)
	}
	it, err := m.NewInterpreter()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	in := det.Npy(t, "input")
	res, err := it.Detect(runtime.Tensor{Shape: in.Shape, Data: in.Data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range det.Detections.Images {
		golden.CheckDetections(t, res[i], img)
	}
}

// TestDetectPhotos: the file's preprocessing of the golden photos is
// torchvision's transform (ssdlite.input.npy) bit for bit, and DetectFile gives
// torchvision's detections rescaled to the photo (detect.Rescale of the
// golden boxes, within golden's tolerances scaled by the same ratios).
func TestDetectPhotos(t *testing.T) {
	det := golden.LoadDet(t)
	dir := golden.Shared(t, "images", "eval")
	m := compileDet(t, det)
	it, err := m.NewInterpreter()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	spec, _ := m.Preprocess()
	in := det.Npy(t, "input")
	per := len(in.Data) / in.Shape[0]
	for i, img := range det.Detections.Images {
		path := filepath.Join(dir, img.Image)
		x := make([]float32, per)
		if err := spec.File(path, x); err != nil {
			t.Fatal(err)
		}
		var maxD float64
		differ := 0
		for j, v := range in.Data[i*per : (i+1)*per] {
			if d := math.Abs(float64(x[j]) - float64(v)); d > 0 {
				differ++
				maxD = max(maxD, d)
			}
		}
		t.Logf("%s: preprocessing differs from torchvision's in %d of %d values, by at most %.3g", img.Image, differ, per, maxD)
		if differ > 0 {
			t.Errorf("%s: the preprocessing is not torchvision's transform bit for bit (%d values differ, by up to %g)", img.Image, differ, maxD)
		}
		photo, err := preprocess.LoadImage(path)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := it.DetectImage(photo)
		if err != nil {
			t.Fatal(err)
		}
		// Back to the 320x320 frame to compare with the golden boxes.
		b := photo.Bounds()
		if err := detect.Rescale(ours, b.Dy(), b.Dx(), 320, 320); err != nil {
			t.Fatal(err)
		}
		golden.CheckDetections(t, ours, img)
	}
}

// TestDetectionCOCOLabels: a detector of COCO's 91 classes (here
// torchvision's definition, width 0.25) gets torchvision's category names
// as its labels, "__background__" and "N/A" included; given labels win.
func TestDetectionCOCOLabels(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		labels []string
		want   []string
	}{{nil, detect.COCOCategories()}, {make([]string, 91), make([]string, 91)}} {
		out := filepath.Join(dir, "coco.mnc")
		if c.labels != nil {
			for i := range c.labels {
				c.labels[i] = "c" + strconv.Itoa(i)
			}
			c.want = c.labels
		}
		if _, err := compile.Run(compile.Options{Frontend: frontend.Options{Arch: "ssdlite320_mobilenet_v3_large", Width: 0.25},
			Output: out, Labels: c.labels}); err != nil {
			t.Fatal(err)
		}
		m, err := runtime.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		cfg, ok := m.Detection()
		if got := m.Labels(); !ok || cfg.Classes != 91 || !slices.Equal(got, c.want) {
			t.Errorf("classes %d, labels %q; want %q", cfg.Classes, got, c.want)
		}
		m.Close()
	}
	if l := detect.COCOCategories(); len(l) != 91 || l[0] != "__background__" || l[1] != "person" || l[12] != "N/A" || l[90] != "toothbrush" {
		t.Errorf("COCO categories %q", l)
	}
}
