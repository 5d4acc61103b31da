package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// fmaExact is a*b + c computed exactly and rounded once to float32.
func fmaExact(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(400).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(400).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(400).SetFloat64(float64(c)))
	f, _ := x.Float32()
	if f == 0 { // big.Float has no signed zero result of a sum: IEEE's rules
		return float32(float64(a)*float64(b) + float64(c))
	}
	return f
}

// TestFMA32 compares FMA32 with the exactly rounded value: random operands
// over the whole exponent range, and constructed cases where the float64
// sum lands on a float32 tie (where rounding twice, float32(math.FMA),
// goes wrong), in the normal and subnormal ranges and at the overflow
// threshold.
func TestFMA32(t *testing.T) {
	check := func(a, b, c float32) {
		t.Helper()
		got, want := FMA32(a, b, c), fmaExact(a, b, c)
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("FMA32(%g, %g, %g) = %g (%#x), want %g (%#x)", a, b, c, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	rnd := func() float32 {
		switch r.IntN(8) {
		case 0:
			return math.Float32frombits(r.Uint32()) // any bits: NaN, Inf, subnormals
		case 1:
			return float32(r.NormFloat64()) * 1e-40 // subnormal products
		default:
			return float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(40)-20)))
		}
	}
	for range 200000 {
		a, b, c := rnd(), rnd(), rnd()
		finite := func(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
		if !finite(a) || !finite(b) || !finite(c) {
			// big.Float has no NaN: NaN and Inf operands give what
			// float64 arithmetic gives.
			if got, want := FMA32(a, b, c), float32(float64(a)*float64(b)+float64(c)); math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
				t.Fatalf("FMA32(%g, %g, %g) = %g, want %g", a, b, c, got, want)
			}
			continue
		}
		check(a, b, c)
	}
	ties := 0
	for range 20000 {
		// a*b with 25 significant bits: a float32 tie when exact.
		m := float32(1 + float64(r.IntN(1<<12))/(1<<12))
		n := float32(1 + float64(r.IntN(1<<12))/(1<<12))
		scale := float32(math.Pow(2, float64(r.IntN(200)-100)))
		a, b := m*scale, n
		_, e := math.Frexp(float64(a) * float64(b))
		for _, tiny := range []float64{math.Ldexp(1, e-60), -math.Ldexp(1, e-60), math.Ldexp(1, e-30), math.Ldexp(-1, e-40), 0} {
			c := float32(tiny)
			if float64(c) != tiny {
				continue
			}
			if float32(math.FMA(float64(a), float64(b), float64(c))) != fmaExact(a, b, c) {
				ties++ // a case that rounding twice gets wrong
			}
			check(a, b, c)
		}
	}
	t.Logf("%d constructed cases where float32(math.FMA(...)) is wrong", ties)
	if ties == 0 {
		t.Error("no constructed case defeats double rounding: the tie cases test nothing")
	}
	// Subnormal ties: a*b an odd multiple of 2^-150.
	for k := 1; k < 1000; k += 2 {
		a, b := float32(k)*0x1p-75, float32(0x1p-75)
		for _, c := range []float32{0x1p-149 * 0, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32} {
			check(a, b, c)
		}
		check(a, b, float32(1e-45))
	}
	// The overflow threshold, MaxFloat32 + half an ulp.
	half := float32(0x1p103)
	check(math.MaxFloat32, 1, half)
	check(math.MaxFloat32, 1, half/2)
	check(-math.MaxFloat32, 1, -half)
	check(0, 0, float32(math.Copysign(0, -1)))
	check(float32(math.Copysign(0, -1)), 1, float32(math.Copysign(0, -1)))
}

func BenchmarkFMA32(b *testing.B) {
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i%97) * 0.37
	}
	acc := float32(0)
	for b.Loop() {
		for _, v := range x {
			acc = FMA32(v, 1.0001, acc)
		}
	}
	_ = acc
}
