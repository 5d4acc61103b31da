package runtime_test

import (
	"math"
	"testing"

	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// detMeta calls f on the Detection table of m's metadata.
func detMeta(t testing.TB, good []byte, f func(d *mncfb.Detection)) []byte {
	return mutate(good, func(m *mncfb.Model) {
		var md mncfb.Metadata
		var d mncfb.Detection
		if m.Metadata(&md) == nil || md.Detection(&d) == nil {
			t.Fatal("no detection metadata")
		}
		f(&d)
	})
}

func featureMap(d *mncfb.Detection, k int) *mncfb.AnchorMap {
	var fm mncfb.AnchorMap
	d.FeatureMaps(&fm, k)
	return &fm
}

// TestCorruptDetection: every value of a detector's settings (format 1.5)
// is checked before use, and a bad one refused with one line naming it:
// counts and sizes within runtime/detect's limits, finite ratios and
// thresholds, distinct outputs of the right shapes, feature maps whose
// anchors are the outputs' rows, anchors for the model's input size.
func TestCorruptDetection(t *testing.T) {
	good := detBlob(t)
	if _, err := runtime.Load(good); err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	for _, c := range []struct {
		name, want string
		f          func(d *mncfb.Detection)
	}{
		{"classes", "want float32 [1 3234 20]", func(d *mncfb.Detection) { d.MutateClasses(20) }}, // logits [1 3234 21]
		{"one class", "2 to 4096", func(d *mncfb.Detection) { d.MutateClasses(1) }},
		{"huge classes", "classes", func(d *mncfb.Detection) { d.MutateClasses(math.MaxInt32) }},
		{"same outputs", "two distinct outputs", func(d *mncfb.Detection) { d.MutateBboxRegression(0) }},
		{"output out of range", "two distinct outputs", func(d *mncfb.Detection) { d.MutateBboxRegression(7) }},
		{"huge output", "two distinct outputs", func(d *mncfb.Detection) { d.MutateBboxRegression(math.MaxUint32) }},
		{"image size", "but the model's input is", func(d *mncfb.Detection) { d.MutateImageHeight(300) }},
		{"negative image", "pixels a side", func(d *mncfb.Detection) { d.MutateImageWidth(-320) }},
		{"NaN ratio", "anchor scales", func(d *mncfb.Detection) { d.MutateMinRatio(nan) }},
		{"Inf ratio", "anchor scales", func(d *mncfb.Detection) { d.MutateMaxRatio(math.Inf(1)) }},
		{"negative ratio", "anchor scales", func(d *mncfb.Detection) { d.MutateMinRatio(-1) }},
		{"NaN score", "score threshold", func(d *mncfb.Detection) { d.MutateScoreThresh(nan) }},
		{"NMS above 1", "NMS threshold", func(d *mncfb.Detection) { d.MutateNmsThresh(2) }},
		{"no candidates", "candidates per class", func(d *mncfb.Detection) { d.MutateTopkCandidates(0) }},
		{"huge topk", "candidates per class", func(d *mncfb.Detection) { d.MutateTopkCandidates(1 << 30) }},
		{"negative detections", "detections per image", func(d *mncfb.Detection) { d.MutateDetectionsPerImg(-1) }},
		{"feature map size", "anchors of 21 classes", func(d *mncfb.Detection) { featureMap(d, 0).MutateHeight(19) }},
		{"zero feature map", "feature map 2 is 0x5", func(d *mncfb.Detection) { featureMap(d, 2).MutateHeight(0) }},
		{"huge feature map", "feature map 0", func(d *mncfb.Detection) { featureMap(d, 0).MutateWidth(1 << 30) }},
		{"too many anchors", "MaxAnchors", func(d *mncfb.Detection) {
			featureMap(d, 0).MutateWidth(4096)
			featureMap(d, 0).MutateHeight(4096)
		}},
		{"aspect ratio 0", "aspect ratio 0", func(d *mncfb.Detection) { featureMap(d, 1).MutateAspectRatios(0, 0) }},
		{"negative aspect ratio", "aspect ratio -3", func(d *mncfb.Detection) { featureMap(d, 1).MutateAspectRatios(1, -3) }},
		{"changed aspect ratio", "", func(d *mncfb.Detection) { featureMap(d, 1).MutateAspectRatios(1, 4) }}, // same anchor count: loads
	} {
		t.Run(c.name, func(t *testing.T) {
			b := detMeta(t, good, c.f)
			if c.want == "" {
				if _, err := runtime.Load(b); err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			wantError(t, b, c.want)
		})
	}
}
