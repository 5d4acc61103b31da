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
// bytes for every length 0..100 and long ones around multiples of 16 (up to
// a 224 x 224 image), odd offsets, guard bytes.
func TestSetInterleave3(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, set := range accelSets(t) {
		for _, n := range append(seq(0, 100), 1008, 1023, 1024, 1025, 4111, 224*224, 224*224+7) {
			pl := func() []int8 { return newGuarded(r, randI8(r, n, -128, 127)).s() }
			a, b, c := pl(), pl(), pl()
			want := make([]int8, 3*n)
			Interleave3(a, b, c, want)
			g := newGuarded(r, make([]int8, 3*n))
			set.Interleave3(a, b, c, g.s())
			g.check(t, set.Name)
			if i := firstDiff(g.s(), want); i >= 0 {
				t.Fatalf("%s: n %d: [%d] = %d, want %d", set.Name, n, i, g.s()[i], want[i])
			}
		}
	}
}

// boundaryFloats are the float32 values around the edges of the accelerated
// QuantizeCodes (VCVTPS2DQ, FCVTNS):
// every tie k + 1/2 and integer k in [-520, 520] with its neighbours, the
// clamp at ±512, the int32 range of FCVTNS, infinities, NaNs with payloads
// and signs, zeros and subnormals.
func boundaryFloats() []float32 {
	var v []float32
	near := func(f float32) {
		v = append(v, f, math.Nextafter32(f, float32(math.Inf(1))), math.Nextafter32(f, float32(math.Inf(-1))))
	}
	for k := -520; k <= 520; k++ {
		near(float32(k))
		near(float32(k) + 0.5)
	}
	for _, f := range []float32{1 << 31, -(1 << 31), 1<<31 - 128, 3e9, -3e9, 1 << 40, -(1 << 40), 4194304.5,
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-38, -1e-38} {
		near(f)
	}
	for _, b := range []uint32{0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001,
		0x7fbfffff, 0x7fffffff, 0xffffffff, 0x7fc12345, 0x00000000, 0x80000000, 0x007fffff, 0x807fffff} {
		v = append(v, math.Float32frombits(b))
	}
	return v
}

// TestSetQuantizeBoundary: every Set's QuantizeCodes on the boundary values,
// random bit patterns, odd offsets and every tail length.
func TestSetQuantizeBoundary(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	base := boundaryFloats()
	// Random bit patterns: every exponent, NaN payloads, subnormals.
	bits := make([]float32, 1<<14)
	for i := range bits {
		bits[i] = math.Float32frombits(r.Uint32())
	}
	for _, set := range accelSets(t) {
		for _, inv := range []float32{1, 0.5, 3, 255, QuantizeInv(0.02353), 1e30, 1e-30, -1, float32(math.Inf(1))} {
			for _, zero := range []int32{-128, -1, 0, 1, 127} {
				for _, src := range [][]float32{base, bits} {
					for _, off := range []int{0, 1, 5} {
						x := src[off:]
						x = x[:len(x)-r.IntN(16)] // every tail length
						want := make([]int8, len(x))
						QuantizeCodes(x, inv, zero, want)
						g := newGuarded(r, make([]int8, len(x)))
						set.QuantizeCodes(x, inv, zero, g.s())
						g.check(t, set.Name)
						for i := range want {
							if g.s()[i] != want[i] {
								t.Fatalf("%s: inv %g zero %d n %d: [%d] = QuantizeCodes(%g, bits %#08x) = %d, want %d",
									set.Name, inv, zero, len(x), i, x[i], math.Float32bits(x[i]), g.s()[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// A 224 x 224 x 3 input, the size the network quantizes, and lengths in the
// thousands around multiples of 16.
func TestSetQuantizeLong(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, set := range accelSets(t) {
		for _, n := range []int{1008, 1023, 1024, 1025, 4111, 3 * 224 * 224} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 2)
			}
			inv := QuantizeInv(0.0078125)
			want := make([]int8, n)
			QuantizeCodes(x, inv, 3, want)
			g := newGuarded(r, make([]int8, n))
			set.QuantizeCodes(x, inv, 3, g.s())
			g.check(t, set.Name)
			if i := firstDiff(g.s(), want); i >= 0 {
				t.Fatalf("%s: n %d: [%d] = %d, want %d", set.Name, n, i, g.s()[i], want[i])
			}
		}
	}
}

func firstDiff(a, b []int8) int {
	if slices.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// seq returns lo, lo+1, ..., hi.
func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}
