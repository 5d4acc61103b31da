package runtime

import (
	"slices"
	"testing"

	"github.com/mncdev/mnc/runtime/kernels"
)

// TestToNHWC: the NCHW -> NHWC loop of the input transpose equals the
// general permutation (kernels.Permute), for 1..5 channels and batch items.
func TestToNHWC(t *testing.T) {
	for c := 1; c <= 5; c++ {
		const n, h, w = 2, 3, 5
		x := make([]int8, n*c*h*w)
		for i := range x {
			x[i] = int8(i*7 + 3)
		}
		p, err := kernels.NewPermutation([]int{n, c, h, w}, []int{0, 2, 3, 1})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int8, len(x))
		kernels.Permute(&p, x, want, 0, len(x))
		got := make([]int8, len(x))
		toNHWC(x, got, c, h*w, kernels.Interleave3)
		if !slices.Equal(got, want) {
			t.Fatalf("c=%d: %v, want %v", c, got, want)
		}
	}
}
