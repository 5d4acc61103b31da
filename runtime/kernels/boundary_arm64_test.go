//go:build !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// The ARM64 Sets run quantizeARM and interleave3ARM (boundary_arm64.go).
func TestBoundaryARMInstalled(t *testing.T) {
	for _, set := range accelSets(t) {
		if reflect.ValueOf(set.QuantizeCodes).Pointer() != reflect.ValueOf(quantizeARM).Pointer() {
			t.Errorf("%s: QuantizeCodes is not quantizeARM", set.Name)
		}
		if reflect.ValueOf(set.Interleave3).Pointer() != reflect.ValueOf(interleave3ARM).Pointer() {
			t.Errorf("%s: Interleave3 is not interleave3ARM", set.Name)
		}
	}
}

// boundaryFloats are the float32 values around the edges of quantizeNEON:
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

func TestQuantizeNEONBoundary(t *testing.T) {
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
func TestQuantizeNEONLong(t *testing.T) {
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

func TestInterleave3NEONLong(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, set := range accelSets(t) {
		for _, n := range []int{1008, 1023, 1024, 1025, 4111, 224 * 224, 224*224 + 7} {
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

// The wrappers check their slices before the assembly runs.
func TestBoundaryARMShortPanics(t *testing.T) {
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", what)
			}
		}()
		f()
	}
	mustPanic("quantizeARM short y", func() { quantizeARM(make([]float32, 32), 1, 0, make([]int8, 31)) })
	mustPanic("quantizeARM short y (16)", func() { quantizeARM(make([]float32, 32), 1, 0, make([]int8, 15)) })
	mustPanic("interleave3ARM short g", func() {
		interleave3ARM(make([]int8, 32), make([]int8, 31), make([]int8, 32), make([]int8, 96))
	})
	mustPanic("interleave3ARM short y", func() {
		interleave3ARM(make([]int8, 32), make([]int8, 32), make([]int8, 32), make([]int8, 95))
	})
	mustPanic("interleave3ARM short y (block)", func() {
		interleave3ARM(make([]int8, 32), make([]int8, 32), make([]int8, 32), make([]int8, 60))
	})
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
