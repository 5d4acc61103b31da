package detect

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestAPReference: the box files of testdata/eval and the AP of
// make_eval_golden.py's port of the VOC devkit.
func TestAPReference(t *testing.T) {
	var want struct {
		AP   map[string]float64 `json:"ap"`
		MAP  float64            `json:"map"`
		N    int                `json:"classes"`
		IoU  []*float64         `json:"iou"`
		MIoU float64            `json:"miou"`
	}
	b, err := os.ReadFile("testdata/eval/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/eval/gt/*.txt")
	if len(files) != 24 {
		t.Fatalf("%d ground-truth files, want 24", len(files))
	}
	var images []Image
	for _, f := range files {
		g, err := ReadBoxFile(f, false)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ReadBoxFile(filepath.Join("testdata/eval/det", filepath.Base(f)), true)
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, Image{Truth: g, Detections: d})
	}
	aps, mAP, err := APAt50(images)
	if err != nil {
		t.Fatal(err)
	}
	if len(aps) != len(want.AP) {
		t.Fatalf("%d classes, reference %d", len(aps), len(want.AP))
	}
	for _, a := range aps {
		if w, ok := want.AP[a.Class]; !ok || math.Abs(a.AP-w) > 1e-12 {
			t.Errorf("class %s: AP %.15g, reference %.15g", a.Class, a.AP, w)
		}
	}
	if math.Abs(mAP-want.MAP) > 1e-12 {
		t.Errorf("mAP %.15g, reference %.15g", mAP, want.MAP)
	}

	var masks []struct{ Truth, Pred []uint8 }
	b, err = os.ReadFile("testdata/eval/masks.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &masks); err != nil {
		t.Fatal(err)
	}
	c, err := NewConfusion(want.N)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range masks {
		if err := c.Add(m.Pred, m.Truth); err != nil {
			t.Fatal(err)
		}
	}
	iou, m := c.IoU()
	for i, w := range want.IoU {
		if w == nil && !math.IsNaN(iou[i]) || w != nil && math.Abs(iou[i]-*w) > 1e-12 {
			t.Errorf("class %d: IoU %v, reference %v", i, iou[i], fmt.Sprint(w))
		}
	}
	if math.Abs(m-want.MIoU) > 1e-12 {
		t.Errorf("mIoU %.15g, reference %.15g", m, want.MIoU)
	}
}
