package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// quantizeRef is the specification of Quantize, written the obvious way:
// t = x * inv in float32, rounded half to even (in float64), plus the zero
// point, saturated; NaN gives the zero point.
func quantizeRef(v, inv float32, zero int32) int8 {
	t := v * inv
	var q int64
	switch {
	case t != t:
		q = 0
	case t >= 512:
		q = 512
	case t <= -512:
		q = -512
	default:
		q = int64(math.RoundToEven(float64(t)))
	}
	return Clamp(q+int64(zero), -128, 127)
}

func TestQuantizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	scales := []float32{1, 0.5, 1.0 / 255, 0.0078125, 0.02353, 3.7, 1e-6, 1e6}
	special := []float32{0, float32(math.Copysign(0, -1)), 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 127.5, -128.5,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, 511.5, -511.5, 4194304.5, 1 << 30}
	for _, s := range scales {
		inv := float32(1 / float64(s))
		var x []float32
		for _, v := range special {
			x = append(x, v, v*s) // v itself and v in units of the scale (exact ties)
		}
		for range 20000 {
			x = append(x, float32(r.NormFloat64()*float64(s)*100))
			x = append(x, float32(r.IntN(1200)-600)*s/2) // multiples of half a step: ties
		}
		for _, zero := range []int32{-128, -1, 0, 5, 127} {
			y := make([]int8, len(x))
			if err := Quantize(x, s, zero, y); err != nil {
				t.Fatal(err)
			}
			for i, v := range x {
				if want := quantizeRef(v, inv, zero); y[i] != want {
					t.Fatalf("scale %g zero %d: Quantize(%g) = %d, want %d", s, zero, v, y[i], want)
				}
			}
		}
	}
}

// TestSetQuantizeCodes: every Set's QuantizeCodes gives the generic twin's
// bytes, over the special values of TestQuantizeMatchesReference, random
// values, every length 0..100 and odd offsets, with guard bytes.
func TestSetQuantizeCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 127.5, -128.5,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, 511.5, -511.5, 512, -512, 512.5, -512.5, 4194304.5, 1 << 30}
	for _, set := range accelSets(t) {
		for _, s := range []float32{1, 0.5, 1.0 / 255, 0.02353, 1e-6} {
			inv := QuantizeInv(s)
			for _, zero := range []int32{-128, -3, 0, 127} {
				for n := range 101 {
					x := make([]float32, n+r.IntN(3))
					x = x[len(x)-n:] // odd offsets in the backing array
					for i := range x {
						switch r.IntN(3) {
						case 0:
							x[i] = special[r.IntN(len(special))] * s
						case 1:
							x[i] = float32(r.IntN(1200)-600) * s / 2
						default:
							x[i] = float32(r.NormFloat64() * 300 * float64(s))
						}
					}
					want := make([]int8, n)
					QuantizeCodes(x, inv, zero, want)
					g := newGuarded(r, make([]int8, n))
					set.QuantizeCodes(x, inv, zero, g.s())
					g.check(t, set.Name)
					for i := range want {
						if g.s()[i] != want[i] {
							t.Fatalf("%s: scale %g zero %d n %d: [%d] = QuantizeCodes(%g) = %d, want %d", set.Name, s, zero, n, i, x[i], g.s()[i], want[i])
						}
					}
				}
			}
		}
	}
}

func BenchmarkQuantizeCodes(b *testing.B) {
	x := make([]float32, 3*224*224)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]int8, len(x))
	for _, set := range append([]*Set{Generic}, accelSets(b)...) {
		b.Run(set.Name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				set.QuantizeCodes(x, 1/0.0078, 3, y)
			}
		})
	}
}

// TestSetInterleave3: every Set's Interleave3 gives the generic twin's
// bytes for every length 0..100, odd offsets, guard bytes.
func TestSetInterleave3(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, set := range accelSets(t) {
		for n := range 101 {
			pl := func() []int8 { return newGuarded(r, randI8(r, n, -128, 127)).s() }
			a, b, c := pl(), pl(), pl()
			want := make([]int8, 3*n)
			Interleave3(a, b, c, want)
			g := newGuarded(r, make([]int8, 3*n))
			set.Interleave3(a, b, c, g.s())
			g.check(t, set.Name)
			if !slices.Equal(g.s(), want) {
				t.Fatalf("%s: n %d: %v, want %v", set.Name, n, g.s(), want)
			}
		}
	}
}
