package mobilenet

import (
	"math"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// TestStats checks parameter and MAC counts at 224x224, 1000 classes against
// the published figures (torchvision's num_params; MACs as commonly reported).
func TestStats(t *testing.T) {
	for _, tc := range []struct {
		arch   string
		width  float64
		params float64
		macs   float64
	}{
		{"mobilenet_v1", 1.0, 4.23e6, 569e6},
		{"mobilenet_v2", 1.0, 3.50e6, 301e6},
		{"mobilenet_v3_large", 1.0, 5.48e6, 217e6},
		{"mobilenet_v3_small", 1.0, 2.54e6, 56.5e6},
	} {
		g, err := Build(Config{Arch: tc.arch, Width: tc.width})
		if err != nil {
			t.Fatal(err)
		}
		s := ir.ComputeStats(g)
		t.Logf("%s width %g: %d params, %d MACs", tc.arch, tc.width, s.Params, s.MACs)
		if d := math.Abs(float64(s.Params)-tc.params) / tc.params; d > 0.01 {
			t.Errorf("%s: %d params, want %.4g (within 1%%)", tc.arch, s.Params, tc.params)
		}
		if d := math.Abs(float64(s.MACs)-tc.macs) / tc.macs; d > 0.01 {
			t.Errorf("%s: %d MACs, want %.4g (within 1%%)", tc.arch, s.MACs, tc.macs)
		}
	}
}
