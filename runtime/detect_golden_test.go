package runtime_test

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/detect"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// TestDetectGolden compiles the golden SSDLite320 .pth to a float32 .mnc
// file (compile.Run, as `mnc compile` does), runs it on the golden input
// with RunAll and compares both outputs with PyTorch's (max |diff| / max
// |PyTorch's| <= 1e-4); runtime/detect's post-processing of them must give
// torchvision's detections: the same count and labels in the same order,
// scores and boxes within golden.DetScoreRelTol and DetBoxTol.
func TestDetectGolden(t *testing.T) {
	det := golden.LoadDet(t)
	man, want0 := det.Manifest, det.Detections
	readNpy := func(kind string) *npy.Array { return det.Npy(t, kind) }

	out := filepath.Join(t.TempDir(), "ssdlite.mnc")
	if _, err := compile.Run(compile.Options{Model: det.Path("pth"), Output: out,
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

	res := want0.ImageSize[0]
	anchors, err := detect.Anchors(detect.SSDLite320(), want0.FeatureMaps, res, want0.ImageSize[1])
	if err != nil {
		t.Fatal(err)
	}
	n, a, classes := in.Shape[0], len(anchors), man.Classes
	if shape[1] != a || shape[2] != classes || len(want0.Images) != n {
		t.Fatalf("%d anchors, %d classes, %d golden images for outputs %v", a, classes, len(want0.Images), shape)
	}
	p := detect.SSDLite320Params()
	det.CheckParams(t, p)
	for i, img := range want0.Images {
		rel := make([]detect.Box, a)
		for j := range rel {
			copy(rel[j][:], reg[(i*a+j)*4:])
		}
		ours, err := detect.Postprocess(cls[i*a*classes:(i+1)*a*classes], classes, rel, anchors, res, want0.ImageSize[1], p)
		if err != nil {
			t.Fatal(err)
		}
		golden.CheckDetections(t, ours, img)
	}
}
