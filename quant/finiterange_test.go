package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFiniteRange: finiteRange equals its specification, finiteRangeExact,
// bit for bit (signed zeros, subnormals, NaNs and infinities anywhere,
// every length to 40).
func TestFiniteRange(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}
	for trial := range 4000 {
		x := make([]float32, trial%41)
		for i := range x {
			switch r.IntN(4) {
			case 0:
				x[i] = special[r.IntN(len(special))]
			default:
				x[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-10)))
			}
		}
		lo, hi, bad := finiteRange(x)
		wlo, whi, wbad := finiteRangeExact(x)
		if math.Float64bits(lo) != math.Float64bits(wlo) || math.Float64bits(hi) != math.Float64bits(whi) || bad != wbad {
			t.Fatalf("%v: finiteRange = %v, %v, %d; want %v, %v, %d", x, lo, hi, bad, wlo, whi, wbad)
		}
	}
}

// BenchmarkFiniteRange compares finiteRange with its specification on
// 64K normal values.
func BenchmarkFiniteRange(b *testing.B) {
	x := make([]float32, 1<<16)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, f := range []struct {
		name string
		fn   func([]float32) (float64, float64, int64)
	}{{"keys", finiteRange}, {"exact", finiteRangeExact}} {
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				f.fn(x)
			}
		})
	}
}
