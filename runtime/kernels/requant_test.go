package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// refRoundShift is floor(v / 2^s + 1/2) computed with big integers.
func refRoundShift(v *big.Int, s int32) *big.Int {
	num := new(big.Int).Lsh(v, 1)
	num.Add(num, new(big.Int).Lsh(big.NewInt(1), uint(s)))
	den := new(big.Int).Lsh(big.NewInt(1), uint(s)+1)
	// Int.Div is Euclidean division: floor for a positive divisor.
	return num.Div(num, den)
}

func refRequantize(acc int32, m Multiplier, zero int32, lo, hi int8) int8 {
	v := new(big.Int).Mul(big.NewInt(int64(acc)), big.NewInt(int64(m.M)))
	r := refRoundShift(v, m.S)
	r.Add(r, big.NewInt(int64(zero)))
	switch {
	case r.Cmp(big.NewInt(int64(lo))) < 0:
		return lo
	case r.Cmp(big.NewInt(int64(hi))) > 0:
		return hi
	}
	return int8(r.Int64())
}

func TestRoundShiftTies(t *testing.T) {
	for s := int32(1); s <= MaxShift; s++ {
		half := int64(1) << (s - 1)
		cases := []struct{ v, want int64 }{
			{0, 0}, {half, 1}, {-half, 0}, {3 * half, 2}, {-3 * half, -1},
			{half - 1, 0}, {-half - 1, -1}, {-half + 1, 0},
		}
		for _, c := range cases {
			if c.v >= 1<<62 || c.v <= -(1<<62) {
				continue
			}
			if got := RoundShift(c.v, s); got != c.want {
				t.Errorf("RoundShift(%d, %d) = %d, want %d", c.v, s, got, c.want)
			}
		}
	}
}

func TestRoundShiftRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lim := int64(1)<<62 - 1
	for range 200000 {
		s := int32(1 + r.IntN(MaxShift))
		var v int64
		switch r.IntN(4) {
		case 0:
			v = r.Int64N(2*lim+1) - lim
		case 1:
			v = r.Int64N(1<<20) - 1<<19
		case 2: // near a tie
			v = (r.Int64N(1<<20)-1<<19)<<s + int64(1)<<(s-1) + r.Int64N(3) - 1
			if v > lim || v < -lim {
				continue
			}
		case 3:
			v = []int64{lim, -lim, 0, 1, -1}[r.IntN(5)]
		}
		want := refRoundShift(big.NewInt(v), s)
		if got := RoundShift(v, s); big.NewInt(got).Cmp(want) != 0 {
			t.Fatalf("RoundShift(%d, %d) = %d, want %v", v, s, got, want)
		}
	}
}

func TestNewMultiplier(t *testing.T) {
	reals := []float64{1, 0.5, 0.75, 1e-3, 0.0123, 2, 3.999, 1 << 29, 1<<30 - 1000,
		1 - 1e-12, 0.5 - 1e-17, 2.5e-10, 1e-17, 1e-19, 1e-25, math.SmallestNonzeroFloat64, 0.1234567}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		reals = append(reals, math.Ldexp(0.5+r.Float64()/2, r.IntN(80)-60))
	}
	for _, x := range reals {
		m, err := NewMultiplier(x)
		if err != nil {
			t.Fatalf("NewMultiplier(%g): %v", x, err)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("NewMultiplier(%g) = %+v: %v", x, m, err)
		}
		// The representation error is at most half a unit of M.
		if d := math.Abs(m.Real() - x); d > math.Ldexp(0.5, -int(m.S))*(1+1e-12) {
			t.Errorf("NewMultiplier(%g) = %+v = %g, error %g", x, m, m.Real(), d)
		}
		if m.S < MaxShift && (m.M < 1<<30 || m.M < 0) {
			t.Errorf("NewMultiplier(%g) = %+v not normalised", x, m)
		}
	}
	// The rounding carry: frac rounds up to 1.
	m, err := NewMultiplier(1 - 1e-12)
	if err != nil || m.M != 1<<30 || m.S != 30 {
		t.Errorf("carry: %+v %v, want M=2^30 S=30", m, err)
	}
	if m, _ := NewMultiplier(1); m.M != 1<<30 || m.S != 30 {
		t.Errorf("NewMultiplier(1) = %+v", m)
	}
	if m, _ := NewMultiplier(1e-25); m.M != 0 || m.S != MaxShift {
		t.Errorf("NewMultiplier(1e-25) = %+v, want 0", m)
	}
	if m, _ := NewMultiplier(0); m.M != 0 || m.Validate() != nil {
		t.Errorf("NewMultiplier(0) = %+v", m)
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1), 1 << 30, 1e300} {
		if _, err := NewMultiplier(bad); err == nil {
			t.Errorf("NewMultiplier(%g) accepted", bad)
		}
	}
	for _, bad := range []Multiplier{{M: 1 << 29, S: 10}, {M: 5, S: 0}, {M: -1, S: 10}, {M: 1 << 30, S: 63}} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) accepted", bad)
		}
	}
}

func TestRequantizeExtremes(t *testing.T) {
	accs := []int32{math.MinInt32, math.MaxInt32, math.MinInt32 + 1, -1, 0, 1, 1 << 30, -(1 << 30), 12345, -12345}
	mults := []Multiplier{
		{M: math.MaxInt32, S: 1}, {M: math.MaxInt32, S: MaxShift}, {M: 1 << 30, S: 1}, {M: 1 << 30, S: 31},
		{M: 1 << 30, S: 38}, {M: 0, S: MaxShift}, {M: 1, S: MaxShift}, {M: 1518500250, S: 40},
	}
	ranges := []Range{Full, {0, 127}, {-128, -128}, {-20, 30}}
	for _, acc := range accs {
		for _, m := range mults {
			for _, z := range []int32{-128, 0, 127, -5} {
				for _, rg := range ranges {
					got := Requantize(acc, m, z, rg.Lo, rg.Hi)
					if want := refRequantize(acc, m, z, rg.Lo, rg.Hi); got != want {
						t.Fatalf("Requantize(%d, %+v, %d, %v) = %d, want %d", acc, m, z, rg, got, want)
					}
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		acc := int32(r.Uint32())
		if r.IntN(2) == 0 {
			acc = int32(r.IntN(1<<16) - 1<<15)
		}
		m, err := NewMultiplier(math.Ldexp(0.5+r.Float64()/2, -r.IntN(40)))
		if err != nil {
			t.Fatal(err)
		}
		z := int32(r.IntN(256) - 128)
		if got, want := Requantize(acc, m, z, -128, 127), refRequantize(acc, m, z, -128, 127); got != want {
			t.Fatalf("Requantize(%d, %+v, %d) = %d, want %d", acc, m, z, got, want)
		}
	}
}

// TestRequantizeMatchesReal: the fixed-point result is within one code of
// the float64 evaluation round(acc * r) + z (and equal away from ties).
func TestRequantizeMatchesReal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	exact, total := 0, 0
	for range 100000 {
		real := math.Ldexp(0.5+r.Float64()/2, -r.IntN(20)-1)
		m, _ := NewMultiplier(real)
		acc := int32(r.IntN(1<<20) - 1<<19)
		z := int32(r.IntN(256) - 128)
		got := Requantize(acc, m, z, -128, 127)
		f := math.Max(-128, math.Min(127, math.Floor(float64(acc)*real+0.5)+float64(z)))
		if d := math.Abs(float64(got) - f); d > 1 {
			t.Fatalf("acc %d r %g: %d vs float %g", acc, real, got, f)
		} else if d == 0 {
			exact++
		}
		total++
	}
	if exact < total*999/1000 {
		t.Errorf("only %d of %d match the float evaluation exactly", exact, total)
	}
}

func TestMultiplierPair(t *testing.T) {
	ma, mb, s, err := NewMultiplierPair(0.75, 0.25)
	if err != nil || ma != 3<<29 || mb != 1<<29 || s != 31 {
		t.Errorf("pair(0.75, 0.25) = %d %d %d %v", ma, mb, s, err)
	}
	ma, mb, s, err = NewMultiplierPair(1e-3, 40)
	if err != nil || math.Abs(math.Ldexp(float64(ma), -int(s))-1e-3) > 1e-7 || math.Abs(math.Ldexp(float64(mb), -int(s))-40) > 1e-6 {
		t.Errorf("pair(1e-3, 40) = %d %d %d %v", ma, mb, s, err)
	}
	if _, _, _, err := NewMultiplierPair(-1, 1); err == nil {
		t.Error("negative accepted")
	}
	if _, _, _, err := NewMultiplierPair(1, math.NaN()); err == nil {
		t.Error("NaN accepted")
	}
}

func TestValidateAccumulator(t *testing.T) {
	if err := ValidateAccumulator(1280*9, 1<<20); err != nil {
		t.Error(err)
	}
	if err := ValidateAccumulator(70000, 0); err == nil {
		t.Error("70000-long dot product accepted")
	}
	if err := ValidateAccumulator(1000, math.MaxInt32); err == nil {
		t.Error("huge bias accepted")
	}
}
