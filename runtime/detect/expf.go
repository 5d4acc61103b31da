package detect

import "math"

// fma32 is a fused multiply-add in float32: a*b is exact in float64, so the
// only roundings are the float64 sum's and float32's (double rounding can
// differ from one float32 rounding only when the float64 sum lies exactly
// half-way between two float32 values; fma32 corrects that case with the
// exact error of the sum).
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact: 24+24 bits
	s := p + float64(c)
	// TwoSum: s + e == p + c exactly.
	bb := s - p
	e := (p - (s - bb)) + (float64(c) - bb)
	if e != 0 && !math.IsInf(s, 0) && !math.IsNaN(s) {
		// Half-way between two float32 values: the low 29 bits of the
		// float64 mantissa are 1 followed by zeros.
		bits := math.Float64bits(s)
		if bits&(1<<29-1) == 1<<28 {
			if e > 0 {
				s = math.Nextafter(s, math.Inf(1))
			} else {
				s = math.Nextafter(s, math.Inf(-1))
			}
		}
	}
	return float32(s)
}

// rint32 is vcvtps2dq with the default rounding (to nearest, ties to even);
// out of range and NaN give math.MinInt32 as the instruction does.
func rint32(x float32) int32 {
	if !(x > -2147483648.0 && x < 2147483648.0) {
		return math.MinInt32
	}
	return int32(math.RoundToEven(float64(x)))
}

func pow2i(q int32) float32 { return math.Float32frombits(uint32((q + 0x7f) << 23)) }

// expf is SLEEF's expf (u10, the FMA variant PyTorch's AVX2 Vectorized<float>
// exp calls), operation for operation.
func expf(d float32) float32 {
	const (
		rln2 = float32(1.442695040888963407359924681001892137426645954152985934135449406931)
		l2u  = float32(0.693145751953125)
		l2l  = float32(1.428606765330187045e-06)
	)
	q := rint32(d * rln2)
	qf := float32(q)
	s := fma32(qf, -l2u, d)
	s = fma32(qf, -l2l, s)
	u := float32(0.000198527617612853646278381)
	u = fma32(u, s, 0.00139304355252534151077271)
	u = fma32(u, s, 0.00833336077630519866943359)
	u = fma32(u, s, 0.0416664853692054748535156)
	u = fma32(u, s, 0.166666671633720397949219)
	u = fma32(u, s, 0.5)
	u = 1 + fma32(s*s, u, s)
	h := q >> 1
	u = u * pow2i(h)
	u = u * pow2i(q-h)
	if d < -104 {
		u = 0
	}
	if d > 100 {
		u = float32(math.Inf(1))
	}
	return u
}
