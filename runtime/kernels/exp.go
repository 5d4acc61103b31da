package kernels

import "math"

// Exp and Log compute e^x and ln x in float64 with the same bits on every
// CPU. The standard library's are not: math.Exp runs different assembly on
// amd64 and arm64, math.Log assembly on amd64 and Go elsewhere, and their
// last bits can differ. Here every step is an IEEE operation (+, -, *, /,
// each product rounded explicitly so that no CPU fuses it with an add) on
// the reduced argument, followed by an exact scaling by a power of two;
// both are within 2 ulp of package math's results (TestExpLog). The
// compiler's figures (calibration ranges, the report) and the float32
// kernels' Softmax use them.

const (
	ln2Hi = 6.93147180369123816490e-01 // ln 2 with its low 32 bits zero: k*ln2Hi is exact for |k| < 2^21
	ln2Lo = 1.90821492927058770002e-10 // ln 2 - ln2Hi
)

// Exp returns e^x: +Inf for x > 709.78, 0 for x < -745.14 (subnormal
// results in between), NaN for NaN.
func Exp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > 709.782712893384:
		return math.Inf(1)
	case x < -745.1332191019412:
		return 0
	}
	// x = k ln 2 + r with |r| <= ln 2 / 2 (Cody and Waite).
	k := math.Floor(float64(x*math.Log2E) + 0.5)
	r := (x - float64(k*ln2Hi)) - float64(k*ln2Lo)
	// e^r by its Taylor series to r^14/14! (< 2^-56 relative for |r| <= 0.35),
	// Horner's rule.
	p := 1.0 / 87178291200 // 1/14!
	for _, c := range expCoeffs {
		p = float64(p*r) + c
	}
	return math.Ldexp(p, int(k))
}

// expCoeffs are 1/13!, 1/12!, ..., 1/1!, 1/0!.
var expCoeffs = [...]float64{
	1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320,
	1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2, 1, 1,
}

// Log returns ln x: -Inf for 0, NaN for x < 0 or NaN, +Inf for +Inf.
func Log(x float64) float64 {
	switch {
	case x != x || x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	case math.IsInf(x, 1):
		return x
	}
	// x = m 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s) with
	// s = (m-1)/(m+1), |s| <= 0.172.
	m, e := math.Frexp(x) // m in [0.5, 1)
	if m < math.Sqrt2/2 {
		m, e = 2*m, e-1
	}
	f := m - 1 // exact
	s := f / (2 + f)
	s2 := float64(s * s)
	// 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), to s^25 (< 2^-60 relative).
	p := 2.0 / 25
	for i := 23; i >= 1; i -= 2 {
		p = float64(p*s2) + 2/float64(i)
	}
	lnm := float64(p * s)
	fe := float64(e)
	return float64(fe*ln2Hi) + (float64(fe*ln2Lo) + lnm)
}
