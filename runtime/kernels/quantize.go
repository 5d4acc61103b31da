package kernels

import (
	"fmt"
	"math"
)

// Quantize converts float32 values at the graph boundary:
// y = saturate(RoundToEven(x * inv) + zero) with inv = float32(1/scale)
// (computed in float64) and the product in float32; NaN becomes zero.
func Quantize(x []float32, scale float32, zero int32, y []int8) error {
	if !(scale > 0) || math.IsInf(float64(scale), 0) {
		return fmt.Errorf("kernels: quantize scale %g is not positive and finite", scale)
	}
	if err := checkZero("quantize", zero); err != nil {
		return err
	}
	if len(x) != len(y) {
		return fmt.Errorf("kernels: quantize of %d values into %d", len(x), len(y))
	}
	QuantizeCodes(x, QuantizeInv(scale), zero, y)
	return nil
}

// Interleave3 writes three planes as pixels: y[3i], y[3i+1], y[3i+2] =
// r[i], g[i], b[i] for i < len(r) (the NCHW -> NHWC permutation of a
// 3-channel image), for int8 codes and float32 inputs alike. g and b must
// be as long as r, y three times.
func Interleave3[T any](r, g, b, y []T) {
	y = y[:3*len(r)]
	g, b = g[:len(r)], b[:len(r)]
	for i := range r {
		d := y[3*i : 3*i+3 : 3*i+3]
		d[0], d[1], d[2] = r[i], g[i], b[i]
	}
}

// QuantizeInv is the reciprocal Quantize multiplies by: float32(1/scale),
// the division in float64.
func QuantizeInv(scale float32) float32 { return float32(1 / float64(scale)) }

// QuantizeCodes is the loop of Quantize, without its checks: for each i,
// t = x[i] * inv (float32), q = RoundToEven(t) (NaN: 0; t limited to
// [-512, 512] first), y[i] = saturate_int8(q + zero). zero must be in
// [-128, 127] and len(y) >= len(x).
//
// The rounding adds and subtracts 1.5 x 2^23 in float32: for |t| <= 512 the
// sum lies in [2^23, 2^24), where float32 holds exactly the integers, so the
// addition rounds t to an integer, half to even (the constant is even), and
// the subtraction is exact. (The explicit float32 conversions forbid fusing
// the operations into one multiply-add.)
func QuantizeCodes(x []float32, inv float32, zero int32, y []int8) {
	const magic = 0x1.8p23
	y = y[:len(x)]
	for i, v := range x {
		t := float32(v * inv)
		if !(t > -512) { // t <= -512, or NaN
			if t != t {
				t = 0
			} else {
				t = -512
			}
		} else if t > 512 {
			t = 512
		}
		q := int32(float32(t+magic)-magic) + zero
		y[i] = int8(min(max(q, -128), 127))
	}
}

// Dequantize converts int8 codes to float32: y = float32(x - zero) * scale.
func Dequantize(x []int8, scale float32, zero int32, y []float32) error {
	if len(x) != len(y) {
		return fmt.Errorf("kernels: dequantize of %d values into %d", len(x), len(y))
	}
	for i, v := range x {
		y[i] = float32(int32(v)-zero) * scale
	}
	return nil
}
