package detect

import (
	"math"
	"strings"
	"testing"
)

func TestParseBoxes(t *testing.T) {
	in := "# gt\n\nperson 1 2 3 4\n  car\t0 0 0 0  \n"
	got, err := ParseBoxes(strings.NewReader(in), "a.txt", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Labeled{{"person", [4]float64{1, 2, 3, 4}, 0}, {"car", [4]float64{}, 0}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	d, err := ParseBoxes(strings.NewReader("7 1 2 3 4 0.25\n"), "d.txt", true)
	if err != nil || len(d) != 1 || d[0].Score != 0.25 || d[0].Class != "7" {
		t.Fatalf("scored: %+v %v", d, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"a 1 2 3\n", "a.txt:1: 4 fields; want 5"},
		{"\n# c\na 1 2 3 4 5\n", "a.txt:3: 6 fields"},
		{"a 1 x 3 4\n", `a.txt:1: field 3 "x" is not a finite number`},
		{"a 1 2 NaN 4\n", "field 4"},
		{"a 1 2 3 +Inf\n", "field 5"},
		{"a 5 2 3 4\n", "a.txt:1: inverted box"},
		{"a 1 6 3 4\n", "inverted box"},
	} {
		_, err := ParseBoxes(strings.NewReader(tc.in), "a.txt", false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want %q", tc.in, err, tc.want)
		}
	}
	if _, err := ParseBoxes(strings.NewReader("a 1 2 3 4\n"), "d.txt", true); err == nil || !strings.Contains(err.Error(), "d.txt:1: 5 fields; want 6") {
		t.Errorf("detection without a score: %v", err)
	}
}

func gt(c string, x0, y0, x1, y1 float64) Labeled { return Labeled{c, [4]float64{x0, y0, x1, y1}, 0} }
func dt(c string, x0, y0, x1, y1, s float64) Labeled {
	return Labeled{c, [4]float64{x0, y0, x1, y1}, s}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestAPHandComputed(t *testing.T) {
	// Class a, two images, 3 ground truths; detections by score:
	//  .9 img0 on gt0 (TP), .8 img0 on gt0 again (duplicate: FP),
	//  .7 img1 nowhere (FP), .6 img1 on gt2 (TP), .5 img0 IoU exactly 0.5 with gt1 (FP: VOC wants > 0.5).
	// precision 1, 1/2, 1/3, 2/4, 2/5; recall 1/3, 1/3, 1/3, 2/3, 2/3.
	// All-points: 1/3 * 1 + 1/3 * 1/2 = 1/2 (recall never reaches 1).
	// Class b: one ground truth, one detection of IoU 0.81 (TP), AP 1.
	// Class c: ground truth only, AP 0. Class d: detections only, not reported.
	images := []Image{
		{
			Truth: []Labeled{gt("a", 0, 0, 10, 10), gt("a", 20, 0, 22, 1), gt("b", 0, 0, 10, 10), gt("c", 5, 5, 6, 6)},
			Detections: []Labeled{
				dt("a", 0, 0, 10, 10, 0.9), dt("a", 1, 1, 10, 10, 0.8), dt("a", 20, 0, 21, 1, 0.5),
				dt("b", 1, 1, 10, 10, 0.3), dt("d", 0, 0, 1, 1, 0.99),
			},
		},
		{
			Truth:      []Labeled{gt("a", 100, 100, 110, 110)},
			Detections: []Labeled{dt("a", 50, 50, 60, 60, 0.7), dt("a", 101, 100, 110, 110, 0.6)},
		},
	}
	aps, mAP, err := APAt50(images)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"a": 0.5, "b": 1, "c": 0}
	if len(aps) != 3 {
		t.Fatalf("%d classes reported: %+v", len(aps), aps)
	}
	for _, a := range aps {
		if w, ok := want[a.Class]; !ok || !near(a.AP, w) {
			t.Errorf("class %s: AP %v, want %v", a.Class, a.AP, w)
		}
	}
	if aps[0].TruePos != 2 || aps[0].Truth != 3 || aps[0].Detections != 5 {
		t.Errorf("class a counts %+v", aps[0])
	}
	if !near(mAP, 0.5) {
		t.Errorf("mAP %v, want 0.5", mAP)
	}
	// A perfect second pass: the envelope makes a late FP free.
	//  TP, TP, FP over 2 gt: precision 1, 1, 2/3; recall 1/2, 1, 1; AP 1.
	aps, _, _ = APAt50([]Image{{
		Truth:      []Labeled{gt("a", 0, 0, 1, 1), gt("a", 2, 2, 3, 3)},
		Detections: []Labeled{dt("a", 0, 0, 1, 1, 3), dt("a", 2, 2, 3, 3, 2), dt("a", 9, 9, 10, 10, 1)},
	}})
	if !near(aps[0].AP, 1) {
		t.Errorf("TP TP FP: AP %v, want 1", aps[0].AP)
	}
	// FP first: precision 0, 1/2, 2/3, recall 0, 1/2, 1: AP 1/2*2/3 + 1/2*2/3 = 2/3.
	aps, _, _ = APAt50([]Image{{
		Truth:      []Labeled{gt("a", 0, 0, 1, 1), gt("a", 2, 2, 3, 3)},
		Detections: []Labeled{dt("a", 0, 0, 1, 1, 2), dt("a", 2, 2, 3, 3, 1), dt("a", 9, 9, 10, 10, 3)},
	}})
	if !near(aps[0].AP, 2.0/3) {
		t.Errorf("FP TP TP: AP %v, want 2/3", aps[0].AP)
	}
	if _, _, err := APAt50([]Image{{Detections: []Labeled{dt("a", 0, 0, 1, 1, 1)}}}); err == nil {
		t.Error("no ground truth: no error")
	}
}

func TestIoUBox(t *testing.T) {
	for _, tc := range []struct {
		a, b [4]float64
		want float64
	}{
		{[4]float64{0, 0, 2, 1}, [4]float64{0, 0, 1, 1}, 0.5},
		{[4]float64{0, 0, 1, 1}, [4]float64{1, 0, 2, 1}, 0}, // touching
		{[4]float64{0, 0, 0, 0}, [4]float64{0, 0, 0, 0}, 0}, // empty
		{[4]float64{0, 0, 10, 10}, [4]float64{1, 1, 10, 10}, 0.81},
	} {
		if got := IoU(tc.a, tc.b); !near(got, tc.want) {
			t.Errorf("IoU(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestMeanIoU(t *testing.T) {
	c, err := NewConfusion(4)
	if err != nil {
		t.Fatal(err)
	}
	// truth: 0 0 1 1 255 2 ; pred: 0 1 1 1 3 255
	// class 0: TP 1, FN 1 (pred 1)            -> 1/2
	// class 1: TP 2, FP 1                      -> 2/3
	// class 2: FN 1 (predicted 255, no class)  -> 0
	// class 3: predicted only on an ignored pixel: absent -> NaN, not in the mean
	if err := c.Add([]uint8{0, 1, 1, 1, 3, 255}, []uint8{0, 0, 1, 1, 255, 2}); err != nil {
		t.Fatal(err)
	}
	iou, m := c.IoU()
	want := []float64{0.5, 2.0 / 3, 0}
	for i, w := range want {
		if !near(iou[i], w) {
			t.Errorf("class %d IoU %v, want %v", i, iou[i], w)
		}
	}
	if !math.IsNaN(iou[3]) {
		t.Errorf("class 3 IoU %v, want NaN (absent)", iou[3])
	}
	if !near(m, (0.5+2.0/3)/3) {
		t.Errorf("mIoU %v, want %v", m, (0.5+2.0/3)/3)
	}
	// A second image accumulates: class 3 now predicted where truth is 2.
	if err := c.Add([]uint8{3}, []uint8{2}); err != nil {
		t.Fatal(err)
	}
	iou, m = c.IoU()
	if !near(iou[3], 0) || !near(iou[2], 0) || !near(m, (0.5+2.0/3)/4) {
		t.Errorf("after image 2: %v, mean %v", iou, m)
	}
	if err := c.Add([]uint8{0}, []uint8{4}); err == nil || !strings.Contains(err.Error(), "label 4 of 4") {
		t.Errorf("truth label out of range: %v", err)
	}
	if err := c.Add([]uint8{0}, []uint8{0, 0}); err == nil {
		t.Error("mask size mismatch: no error")
	}
	if _, err := NewConfusion(256); err == nil {
		t.Error("256 classes: no error")
	}
	e, _ := NewConfusion(2)
	if _, m := e.IoU(); !math.IsNaN(m) {
		t.Errorf("empty matrix mIoU %v, want NaN", m)
	}
}

// FuzzParseBoxes: any bytes are boxes or an error naming the file, never a
// panic; what parses is finite and not inverted.
func FuzzParseBoxes(f *testing.F) {
	f.Add([]byte("cat 1 2 3 4 0.5\n# x\n\ndog 0 0 0 0 1e-3\n"), true)
	f.Add([]byte("a 1 2 3 4\nb 1e308 1 1e308 2\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, scored bool) {
		got, err := ParseBoxes(strings.NewReader(string(data)), "f.txt", scored)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.txt") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, l := range got {
			for _, v := range append(l.Box[:], l.Score) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("non-finite value parsed: %+v", l)
				}
			}
			if l.Box[2] < l.Box[0] || l.Box[3] < l.Box[1] || l.Class == "" {
				t.Fatalf("bad box parsed: %+v", l)
			}
		}
	})
}
