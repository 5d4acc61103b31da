package mobilenet

import (
	"testing"

	"github.com/mncdev/mnc/frontend/torch"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"github.com/mncdev/mnc/runtime/detect"
)

// TestDetGolden loads the SSDLite checkpoint of testdata/det without flags
// (Infer finds the architecture, width, classes and reduced tail), builds
// and binds it, runs it in the reference interpreter and compares both
// outputs with PyTorch's (max |diff| / max |PyTorch's| <= 1e-4); then
// runtime/detect's post-processing of mnc's outputs must give torchvision's
// detections: the same count and labels in the same order, scores and boxes
// within golden.DetScoreRelTol and DetBoxTol; of torchvision's own
// outputs, the same bits.
func TestDetGolden(t *testing.T) {
	det := golden.LoadDet(t)
	m, want0 := det.Manifest, det.Detections
	sd, err := torch.Load(det.Path("pth"))
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
	in := det.Npy(t, "input")
	if !ir.Shape(in.Shape).Equal(ir.Shape{in.Shape[0], 3, m.Resolution, m.Resolution}) || !g.Inputs[0].Type.Shape.Equal(ir.Shape{-1, 3, 320, 320}) {
		t.Fatalf("input %v, graph input %v", in.Shape, g.Inputs[0].Type)
	}
	outs, err := interp.Run(g, []*ir.Tensor{{DType: ir.Float32, Shape: ir.Shape(in.Shape), F32: in.Data}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*npy.Array{
		OutputClsLogits:      det.Npy(t, "cls_logits"),
		OutputBBoxRegression: det.Npy(t, "bbox_regression"),
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
	if res != want0.ImageSize[0] || res != want0.ImageSize[1] || len(maps) != len(want0.FeatureMaps) {
		t.Fatalf("resolution %d, maps %v; torchvision %v, %v", res, maps, want0.ImageSize, want0.FeatureMaps)
	}
	for k := range maps {
		if maps[k] != want0.FeatureMaps[k] {
			t.Fatalf("feature maps %v, torchvision %v", maps, want0.FeatureMaps)
		}
	}
	anchors, err := detect.Anchors(ac, maps, res, res)
	if err != nil {
		t.Fatal(err)
	}
	p := detect.SSDLite320Params()
	det.CheckParams(t, p)
	n, a, classes := in.Shape[0], len(anchors), cfg.Classes
	if len(want0.Images) != n {
		t.Fatalf("%d images of detections for a batch of %d", len(want0.Images), n)
	}
	for i, img := range want0.Images {
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
		golden.CheckDetections(t, post(got[OutputClsLogits].F32, got[OutputBBoxRegression].F32), img)
	}
}
