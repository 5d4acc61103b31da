package detect

import (
	"math"
	"math/big"
	"math/rand"
	"testing"
)

// TestFMA32: fma32 is a*b+c rounded once to float32, checked against exact
// big.Float arithmetic, including sums that land exactly half-way between
// two float32 values in float64 (where a plain float64 FMA would round twice).
func TestFMA32(t *testing.T) {
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(300).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	r := rand.New(rand.NewSource(18))
	halfway := 0
	for i := 0; i < 200000; i++ {
		a := math.Float32frombits(r.Uint32()&0x3fffffff | 0x30000000)
		b := math.Float32frombits(r.Uint32()&0x3fffffff | 0x30000000)
		c := math.Float32frombits(r.Uint32())
		if i%2 == 0 {
			// (1 + k 2^-23) * 1.5 with k odd is half-way between two float32
			// values; a c far below its float64 ulp leaves the float64 sum
			// there, and only c's sign says which way to round.
			k := float32(2*r.Intn(1<<20) + 1)
			e := float32(math.Ldexp(1, r.Intn(40)-20))
			a = (1 + k*float32(math.Ldexp(1, -23))) * e
			b = 1.5
			c = float32(math.Ldexp(1, -60)) * e
			if r.Intn(2) == 0 {
				c = -c
			}
		}
		if c != c {
			continue
		}
		s := float64(a)*float64(b) + float64(c)
		if math.Float64bits(s)&(1<<29-1) == 1<<28 {
			halfway++
		}
		if got, want := fma32(a, b, c), exact(a, b, c); math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("fma32(%g, %g, %g) = %g, exact %g", a, b, c, got, want)
		}
	}
	t.Logf("%d float64 sums were float32 half-way points", halfway)
	if halfway == 0 {
		t.Error("no half-way case exercised")
	}
}
