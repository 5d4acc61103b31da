package kernels

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPermute compares Permute over random shapes, permutations and output
// ranges with the index formula of its doc comment.
func TestPermute(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 400 {
		r := rng.IntN(6)
		shape := make([]int, r)
		for i := range shape {
			shape[i] = 1 + rng.IntN(5)
		}
		perm := rng.Perm(r)
		p, err := NewPermutation(shape, perm)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]int32, p.Len())
		for i := range x {
			x[i] = int32(i)
		}
		want := make([]int32, p.Len())
		in := make([]int, r) // input strides
		s := 1
		for i := r - 1; i >= 0; i-- {
			in[i] = s
			s *= shape[i]
		}
		for o := range want {
			off, rest := 0, o
			for i := r - 1; i >= 0; i-- {
				d := shape[perm[i]]
				off += rest % d * in[perm[i]]
				rest /= d
			}
			want[o] = x[off]
		}
		lo := rng.IntN(p.Len() + 1)
		hi := lo + rng.IntN(p.Len()-lo+1)
		y := make([]int32, p.Len())
		for i := range y {
			y[i] = -1
		}
		Permute(&p, x, y, lo, hi)
		for o := range y {
			if in := o >= lo && o < hi; (in && y[o] != want[o]) || (!in && y[o] != -1) {
				t.Fatalf("trial %d: shape %v perm %v range [%d,%d): element %d = %d, want %d", trial, shape, perm, lo, hi, o, y[o], want[o])
			}
		}
		if dims := p.Dims(); !slices.Equal(dims, permutedShape(shape, perm)) {
			t.Fatalf("Dims %v, want %v", dims, permutedShape(shape, perm))
		}
	}
	for _, bad := range [][]int{{0, 0}, {0, 2}, {1}, {-1, 0}} {
		if _, err := NewPermutation([]int{2, 3}, bad); err == nil {
			t.Errorf("NewPermutation([2 3], %v) accepted", bad)
		}
	}
}

func permutedShape(s, perm []int) []int {
	out := make([]int, len(s))
	for i, a := range perm {
		out[i] = s[a]
	}
	return out
}
