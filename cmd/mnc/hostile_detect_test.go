package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mncdev/mnc/runtime/mncfb"
)

var (
	detOnce  sync.Once
	detBytes []byte
	detErr   error
)

// detModel is testdata/det's SSDLite compiled to float32 (once).
func detModel(t *testing.T) []byte {
	t.Helper()
	detOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hostile-det-")
		if err != nil {
			detErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "ssd.mnc")
		src := filepath.Join("..", "..", "testdata", "det", "ssdlite.pth")
		if b, err := exec.Command(mncBin, "compile", src, "-o", out).CombinedOutput(); err != nil {
			detErr = &exec.ExitError{Stderr: b}
			return
		}
		detBytes, detErr = os.ReadFile(out)
	})
	if detErr != nil {
		t.Fatalf("compile: %v", detErr)
	}
	return append([]byte(nil), detBytes...)
}

// Cases of a detector's settings (format 1.5): a file whose detection
// metadata is absurd is refused by mnc run and mnc eval with one line.
func init() {
	detCase := func(name, want string, f func(d *mncfb.Detection)) hostileCase {
		return hostileCase{
			name: name,
			setup: func(t *testing.T, dir string) []string {
				b := detModel(t)
				m := mncfb.GetRootAsModel(b, 0)
				var md mncfb.Metadata
				var d mncfb.Detection
				if m.Metadata(&md) == nil || md.Detection(&d) == nil {
					t.Fatal("no detection metadata")
				}
				f(&d)
				p := writeFile(t, dir, "ssd.mnc", b)
				return []string{"run", p, writeFile(t, dir, "photo.png", tinyPNG(t))}
			},
			want: want,
		}
	}
	fm := func(d *mncfb.Detection, k int) *mncfb.AnchorMap {
		var m mncfb.AnchorMap
		d.FeatureMaps(&m, k)
		return &m
	}
	hostileCases = append(hostileCases,
		detCase("detect-nan-score-threshold", "detection: score threshold NaN", func(d *mncfb.Detection) { d.MutateScoreThresh(math.NaN()) }),
		detCase("detect-huge-topk", "candidates per class", func(d *mncfb.Detection) { d.MutateTopkCandidates(math.MaxInt32) }),
		detCase("detect-inf-anchor-scale", "anchor scales", func(d *mncfb.Detection) { d.MutateMaxRatio(math.Inf(1)) }),
		detCase("detect-feature-map-mismatch", "are FLOAT32 [1 3234 21]; 3354 anchors of 21 classes want float32 [1 3354 21]", func(d *mncfb.Detection) { fm(d, 0).MutateWidth(21) }),
		detCase("detect-giant-feature-map", "MaxAnchors", func(d *mncfb.Detection) {
			fm(d, 0).MutateWidth(4096)
			fm(d, 0).MutateHeight(4096)
		}),
		detCase("detect-negative-aspect-ratio", "aspect ratio -2", func(d *mncfb.Detection) { fm(d, 0).MutateAspectRatios(0, -2) }),
		detCase("detect-output-index", "two distinct outputs", func(d *mncfb.Detection) { d.MutateBboxRegression(1 << 31) }),
	)
}
