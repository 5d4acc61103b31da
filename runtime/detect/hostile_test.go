package detect

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

var (
	nan  = float32(math.NaN())
	inf  = float32(math.Inf(1))
	ninf = float32(math.Inf(-1))
)

// checkDetections: the invariants every Postprocess result keeps, whatever
// the input.
func checkDetections(t *testing.T, d []Detection, classes int, p Params) {
	t.Helper()
	if len(d) > p.DetectionsPerImg {
		t.Fatalf("%d detections, more than %d", len(d), p.DetectionsPerImg)
	}
	for i, x := range d {
		if x.Label < 1 || x.Label >= classes {
			t.Fatalf("detection %d has label %d of %d classes", i, x.Label, classes)
		}
		if !(x.Score > float32(p.ScoreThresh)) {
			t.Fatalf("detection %d has score %v, not above %v", i, x.Score, p.ScoreThresh)
		}
		if i > 0 && x.Score > d[i-1].Score {
			t.Fatalf("detection %d: score %v after %v", i, x.Score, d[i-1].Score)
		}
	}
}

func TestHostileBoxes(t *testing.T) {
	anchors := []Box{
		{nan, 0, 10, 10}, {0, 0, inf, 10}, {ninf, ninf, inf, inf}, {10, 10, 0, 0}, // NaN, Inf, inverted
		{5, 5, 5, 5}, {0, 0, -10, -10}, {1, 1, 2, 2}, {1, 1, 2, 2}, // zero size, negative size, duplicates
	}
	rel := []Box{{0, 0, 0, 0}, {nan, 0, 0, 0}, {0, 0, inf, inf}, {0, 0, ninf, 0},
		{1e30, -1e30, 1e30, 1e30}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}}
	const classes = 3
	logits := []float32{
		0, 1, 2, nan, 1, 1, inf, 0, 0, 0, inf, inf,
		ninf, 0, 0, 0, 0, 0, 0, 5, 5, 0, 5, 5,
	}
	p := Params{ScoreThresh: -1, NMSThresh: 0.5, DetectionsPerImg: 100, TopKCandidates: 100}
	d, err := Postprocess(logits, classes, rel, anchors, 32, 32, p)
	if err != nil {
		t.Fatal(err)
	}
	// NaN scores (rows 1, 3, and the Inf rows) never pass the threshold.
	for _, x := range d {
		if x.Score != x.Score {
			t.Fatalf("NaN score reported: %+v", x)
		}
	}
	if len(d) == 0 {
		t.Fatal("no detections at all, though the finite rows all pass a threshold of -1")
	}
	// Rows 6 and 7 are the same box with the same scores. With NaN boxes
	// among the candidates torchvision's coordinate trick shifts every box
	// by NaN (boxes.max() is NaN), so nothing is suppressed: both are kept.
	if n := count(d, Box{1, 1, 2, 2}, 2); n != 2 {
		t.Errorf("identical boxes 6 and 7 of label 2 kept %d times next to NaN boxes; torchvision keeps 2", n)
	}
	checkDetections(t, d, classes, p)
	// Without the NaN rows NMS keeps one of them.
	d, err = Postprocess(logits[5*classes:], classes, rel[5:], anchors[5:], 32, 32, p)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(d, Box{1, 1, 2, 2}, 2); n != 1 {
		t.Errorf("identical boxes 6 and 7 of label 2 kept %d times; want 1", n)
	}
	checkDetections(t, d, classes, p)
}

func count(d []Detection, b Box, label int) int {
	n := 0
	for _, x := range d {
		if x.Box == b && x.Label == label {
			n++
		}
	}
	return n
}

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"huge feature map", errOf(Anchors(SSDLite320(), [][2]int{{1 << 13, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, 320, 320)), "feature map 0"},
		{"too many anchors", errOf(Anchors(SSDLite320(), [][2]int{{4096, 4096}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, 320, 320)), "MaxAnchors"},
		{"negative ratio", errOf(Anchors(AnchorConfig{AspectRatios: [][]int{{-2}}, MinRatio: 0.2, MaxRatio: 0.9}, [][2]int{{1, 1}}, 32, 32)), "aspect ratio -2"},
		{"NaN min ratio", errOf(Anchors(AnchorConfig{AspectRatios: [][]int{{2}}, MinRatio: math.NaN(), MaxRatio: 0.9}, [][2]int{{1, 1}}, 32, 32)), "ratios"},
		{"zero image", errOf(Anchors(SSDLite320(), [][2]int{{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, 0, 320)), "image 0x320"},
		{"map count", errOf(Anchors(SSDLite320(), [][2]int{{1, 1}}, 32, 32)), "1 feature maps"},
		{"classes", errOf(Softmax(make([]float32, 10), MaxClasses+1)), "classes"},
		{"ragged logits", errOf(Softmax(make([]float32, 10), 3)), "multiple"},
		{"decode mismatch", errOf(Decode(make([]Box, 2), make([]Box, 3))), "2 box regressions for 3"},
		{"topk", errOf(Postprocess(nil, 2, nil, nil, 32, 32, Params{TopKCandidates: MaxTopK + 1})), "topk"},
		{"NaN nms", errOf(Postprocess(nil, 2, nil, nil, 32, 32, Params{NMSThresh: math.NaN()})), "NaN"},
		{"logit count", errOf(Postprocess(make([]float32, 3), 2, make([]Box, 2), make([]Box, 2), 32, 32, SSDLite320Params())), "3 logits for 2 anchors"},
		{"candidates", errOf(Select(make([]float32, 600*4000), 4000, make([]Box, 600), Params{TopKCandidates: 600, DetectionsPerImg: 1})), "MaxCandidates"},
		{"nms count", errOf(NMS(make([]Box, MaxCandidates+1), make([]float32, MaxCandidates+1), 0.5)), "limit"},
		{"label", errOf(BatchedNMS([]Box{{}}, []float32{1}, []int{-1}, 0.5)), "label -1"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", tc.name, tc.err, tc.want)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

// FuzzPostprocess: arbitrary anchors, regressions and logits (any bits:
// NaN, Inf, subnormals), arbitrary settings. No panic, and the output keeps
// its invariants.
func FuzzPostprocess(f *testing.F) {
	f.Add(uint8(3), uint8(4), uint16(50), uint8(1), []byte{0, 0, 0x80, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(uint8(91), uint8(2), uint16(550), uint8(0), make([]byte, 800))
	f.Fuzz(func(t *testing.T, classes, topk uint8, nmsThr uint16, thr uint8, data []byte) {
		c := int(classes)%20 + 1
		word := func(i int) float32 {
			if len(data) < 4 {
				return float32(i % 7)
			}
			j := (4 * i) % (len(data) - 3)
			v := math.Float32frombits(binary.LittleEndian.Uint32(data[j:]))
			if i%3 == 0 { // keep some values in a sensible range, so boxes overlap
				return float32(int8(data[j])) / 4
			}
			return v
		}
		n := len(data) / 4
		if n > 400 {
			n = 400
		}
		anchors := make([]Box, n)
		rel := make([]Box, n)
		logits := make([]float32, n*c)
		k := 0
		for i := range anchors {
			for j := 0; j < 4; j++ {
				anchors[i][j] = word(k)
				rel[i][j] = word(k + 1)
				k += 2
			}
			for j := 0; j < c; j++ {
				logits[i*c+j] = word(k)
				k++
			}
		}
		p := Params{ScoreThresh: float64(thr) / 256, NMSThresh: float64(nmsThr) / 1000, DetectionsPerImg: int(topk) + 1, TopKCandidates: int(topk)}
		d, err := Postprocess(logits, c, rel, anchors, 64, 48, p)
		if err != nil {
			t.Fatal(err) // every input here is within the limits
		}
		checkDetections(t, d, c, p)
	})
}
