package runtime

import (
	"slices"
	"testing"

	"github.com/mncdev/mnc/runtime/kernels"
)

// TestToNHWC: the NCHW -> NHWC loop of the input transpose equals the
// general permutation loop, for 1..5 channels, batch items and any split.
func TestToNHWC(t *testing.T) {
	for c := 1; c <= 5; c++ {
		const n, h, w = 2, 3, 5
		x := make([]int8, n*c*h*w)
		for i := range x {
			x[i] = int8(i*7 + 3)
		}
		s := &transposeStep{size: 1, rank: 4, outDims: [maxRank]int{n, h, w, c},
			stride: [maxRank]int{c * h * w, w, 1, h * w}}
		want := make([]int8, len(x))
		transposeRange(s, x, want, 0, len(x))
		for split := 0; split <= n*h*w; split += 4 {
			got := make([]int8, len(x))
			toNHWC(x, got, c, h*w, 0, split, kernels.Interleave3)
			toNHWC(x, got, c, h*w, split, n*h*w, kernels.Interleave3)
			if !slices.Equal(got, want) {
				t.Fatalf("c=%d split at pixel %d: %v, want %v", c, split, got, want)
			}
		}
	}
}
