package detect

import (
	"math"

	"github.com/mncdev/mnc/runtime/kernels"
)

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
	s := kernels.FMA32(qf, -l2u, d)
	s = kernels.FMA32(qf, -l2l, s)
	u := float32(0.000198527617612853646278381)
	u = kernels.FMA32(u, s, 0.00139304355252534151077271)
	u = kernels.FMA32(u, s, 0.00833336077630519866943359)
	u = kernels.FMA32(u, s, 0.0416664853692054748535156)
	u = kernels.FMA32(u, s, 0.166666671633720397949219)
	u = kernels.FMA32(u, s, 0.5)
	u = 1 + kernels.FMA32(s*s, u, s)
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
