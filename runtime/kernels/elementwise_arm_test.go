//go:build !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNeon32QuantizeSubnormal checks quantizeRunNeon32 where NEON's flush
// to zero could matter: subnormal inputs and products, with inv at the ends
// of the range it accepts (and beyond, where it runs the twin).
func TestNeon32QuantizeSubnormal(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 78))
	for _, inv := range []float32{0x1p-126, 0x1p-100, 1e-30, 1, 1e30, 0x1p124, 0x1.fffffep124, 0x1p125, 0x1p127, 0x1p-127, float32(math.Inf(1))} {
		for _, zero := range []int32{-128, 0, 127} {
			x := make([]float32, 203)
			for i := range x {
				switch r.IntN(4) {
				case 0:
					x[i] = math.Float32frombits(uint32(r.IntN(1 << 23))) // subnormal (or 0)
				case 1:
					x[i] = -math.Float32frombits(uint32(r.IntN(1 << 23)))
				case 2:
					x[i] = float32(r.NormFloat64()) * 0x1p-120
				default:
					x[i] = float32(r.NormFloat64() * 200 / float64(inv))
				}
			}
			want, got := make([]int8, len(x)), make([]int8, len(x))
			QuantizeCodes(x, inv, zero, want)
			quantizeRunNeon32(x, inv, zero, got)
			if !slices.Equal(got, want) {
				t.Errorf("inv %g zero %d: %v, want %v", inv, zero, got, want)
			}
		}
	}
}
