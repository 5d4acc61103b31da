package kernels

import "math"

// FMA32 returns a*b + c rounded once to float32: IEEE 754's
// fusedMultiplyAdd in binary32 with rounding to nearest even, which is what
// VFMADD231PS (x86 FMA3, AVX-512) and FMLA (ARM64 NEON) compute lane by
// lane. It is the one arithmetic step of every float32 dot product (see the
// package documentation's float rule), so that the generic twins and the
// SIMD kernels give the same bits.
//
// math.FMA cannot serve: rounding a*b + c to float64 and then to float32
// rounds twice, and is wrong when the float64 result lands exactly on a
// float32 tie. Here the product of two float32 values is exact in float64
// (48 significant bits), the sum s = p + c is rounded once to float64, and
// only when s is such a tie is the rounding error of the sum (TwoSum)
// consulted to round the exact value the right way. Infinite and NaN
// operands give what float64 arithmetic gives.
func FMA32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	bits := math.Float64bits(s)
	exp := int(bits>>52) & 0x7ff
	const tie = 1 << 28 // the 29 fraction bits below float32's precision: 1000...0
	switch {
	case exp == 0x7ff: // Inf or NaN
		return float32(s)
	case exp >= 1023-126: // float32's normal range (and its overflow)
		if bits&(1<<29-1) != tie {
			return float32(s)
		}
	default: // float32's subnormal range, or zero
		if t := s * 0x1p149; t-math.Floor(t) != 0.5 {
			return float32(s)
		}
	}
	// s is a float32 tie: the exact sum decides, by the sign of the
	// addition's error (TwoSum: p + c == s + e exactly).
	bv := s - p
	e := (p - (s - bv)) + (float64(c) - bv)
	if e == 0 {
		return float32(s) // a true tie: to even
	}
	if exp >= 1023-126 {
		// Toward zero is s with the tie bit cleared; away from zero one
		// float32 step further (2^128 when that overflows: Inf, rightly).
		down := math.Float64frombits(bits &^ (1<<29 - 1))
		if (e > 0) == (s > 0) {
			return float32(math.Float64frombits(bits&^(1<<29-1) + 1<<29))
		}
		return float32(down)
	}
	t := s * 0x1p149 // a multiple of 2^-149 and a half
	if e > 0 {
		return float32(math.Ceil(t) * 0x1p-149)
	}
	return float32(math.Floor(t) * 0x1p-149)
}
