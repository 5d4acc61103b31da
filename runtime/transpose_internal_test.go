package runtime

import (
	"slices"
	"testing"

	"github.com/mncdev/mnc/runtime/kernels"
)

// TestToNHWC: the NCHW -> NHWC loop of the input transpose equals the
// general permutation (kernels.Permute), int8 and float32, for 1..5
// channels and batch items.
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
		toNHWC(x, got, c, h*w, kernels.Interleave3[int8], 0, h*w)
		if !slices.Equal(got, want) {
			t.Fatalf("c=%d: %v, want %v", c, got, want)
		}
		xf, wantF, gotF := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
		for i := range xf {
			xf[i] = float32(i) - 0.5
		}
		kernels.Permute(&p, xf, wantF, 0, len(x))
		for _, r := range [][2]int{{0, 4}, {4, 11}, {11, h * w}} { // in parts
			toNHWC(xf, gotF, c, h*w, kernels.Interleave3[float32], r[0], r[1])
		}
		if !slices.Equal(gotF, wantF) {
			t.Fatalf("float32, c=%d: %v, want %v", c, gotF, wantF)
		}
	}
}
