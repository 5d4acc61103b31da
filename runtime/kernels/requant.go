package kernels

import (
	"errors"
	"fmt"
	"math"
)

// Multiplier is a real multiplier r ≈ M x 2^-S in fixed point (see the
// package documentation for the rule).
type Multiplier struct {
	M int32 // in [2^30, 2^31), or smaller only when S == MaxShift
	S int32 // in [1, MaxShift]
}

// Shift bounds of a Multiplier.
const (
	MinShift = 1
	MaxShift = 62
)

// MaxReal bounds the real multipliers NewMultiplier accepts (exclusive).
const MaxReal = 1 << 30

// NewMultiplier converts a real multiplier r >= 0 to fixed point:
// frac, exp = frexp(r); M = round_half_away(frac x 2^31); S = 31 - exp, with
// the carry M = 2^31 -> (2^30, S-1), and S capped at 62 (then
// M = round_half_away(r x 2^62), possibly 0). It fails on NaN, negative,
// infinite or r >= 2^30.
func NewMultiplier(r float64) (Multiplier, error) {
	if math.IsNaN(r) || r < 0 || r >= MaxReal {
		return Multiplier{}, fmt.Errorf("kernels: real multiplier %g is outside [0, 2^30)", r)
	}
	if r == 0 {
		return Multiplier{M: 0, S: MaxShift}, nil
	}
	frac, exp := math.Frexp(r)
	m := int64(math.Round(frac * (1 << 31)))
	s := 31 - exp
	if m == 1<<31 {
		m, s = 1<<30, s-1
	}
	if s > MaxShift {
		m = int64(math.Round(math.Ldexp(r, MaxShift)))
		s = MaxShift
	}
	if s < MinShift {
		return Multiplier{}, fmt.Errorf("kernels: real multiplier %g needs shift %d < %d", r, s, MinShift)
	}
	return Multiplier{M: int32(m), S: int32(s)}, nil
}

// Real returns the value M x 2^-S the multiplier represents.
func (m Multiplier) Real() float64 { return math.Ldexp(float64(m.M), -int(m.S)) }

// Validate checks the ranges of M and S.
func (m Multiplier) Validate() error {
	if m.S < MinShift || m.S > MaxShift {
		return fmt.Errorf("kernels: multiplier shift %d outside [%d, %d]", m.S, MinShift, MaxShift)
	}
	if m.M < 0 {
		return fmt.Errorf("kernels: negative multiplier %d", m.M)
	}
	if m.S < MaxShift && m.M != 0 && m.M < 1<<30 {
		return fmt.Errorf("kernels: multiplier %d is not normalised (want >= 2^30 unless the shift is %d)", m.M, MaxShift)
	}
	return nil
}

// NewMultiplierPair converts two real multipliers to fixed point with one
// shared shift S (that of the larger, as NewMultiplier gives it); the smaller
// is round_half_away(r x 2^S). Add uses it so that its two terms are rounded
// once, together.
func NewMultiplierPair(ra, rb float64) (ma, mb int32, s int32, err error) {
	big := max(ra, rb)
	if math.IsNaN(ra) || math.IsNaN(rb) || min(ra, rb) < 0 {
		return 0, 0, 0, fmt.Errorf("kernels: real multipliers %g, %g are not both >= 0", ra, rb)
	}
	m, err := NewMultiplier(big)
	if err != nil {
		return 0, 0, 0, err
	}
	conv := func(r float64) int32 {
		if r == big {
			return m.M
		}
		return int32(math.Round(math.Ldexp(r, int(m.S))))
	}
	return conv(ra), conv(rb), m.S, nil
}

// RoundShift returns v / 2^s rounded to the nearest integer, ties toward
// +infinity: (v + 2^(s-1)) >> s with an arithmetic shift. s must be in
// [1, 62] and |v| < 2^62.
func RoundShift(v int64, s int32) int64 {
	return (v + int64(1)<<(s-1)) >> s
}

// Clamp returns v limited to [lo, hi] as an int8.
func Clamp(v int64, lo, hi int8) int8 {
	if v < int64(lo) {
		return lo
	}
	if v > int64(hi) {
		return hi
	}
	return int8(v)
}

// Requantize applies the rule to one int32 accumulator:
// clamp(zero + RoundShift(acc x M, S), lo, hi).
func Requantize(acc int32, m Multiplier, zero int32, lo, hi int8) int8 {
	return Clamp(int64(zero)+RoundShift(int64(acc)*int64(m.M), m.S), lo, hi)
}

// Range is the clamp of an output, [Lo, Hi] within [-128, 127].
type Range struct{ Lo, Hi int8 }

// Full is the whole int8 range.
var Full = Range{-128, 127}

func (r Range) validate() error {
	if r.Lo > r.Hi {
		return fmt.Errorf("kernels: empty clamp range [%d, %d]", r.Lo, r.Hi)
	}
	return nil
}

// MaxAccumulator bounds the magnitude of every int32 accumulator: with
// |x - z| <= 255 and |w| <= 128 a dot product of length K plus a bias stays
// below it when ValidateAccumulator accepts them.
const MaxAccumulator = math.MaxInt32

// ValidateAccumulator checks that a dot product of length k over int8 data
// (|x - z| <= 255) and int8 weights (|w| <= 128), plus a bias of magnitude
// maxBias, cannot overflow int32.
func ValidateAccumulator(k int, maxBias int64) error {
	if k < 0 {
		return errors.New("kernels: negative dot-product length")
	}
	if int64(k)*255*128+maxBias >= MaxAccumulator {
		return fmt.Errorf("kernels: a dot product of length %d (x 255 x 128) plus bias %d may overflow int32", k, maxBias)
	}
	return nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// scratchLen bounds the per-call scratch the generic kernels keep on the
// stack (channels, or batch x channels); larger shapes allocate.
const scratchLen = 2048

// scratch32 returns n int32 from buf if they fit, else a new slice.
func scratch32(buf *[scratchLen]int32, n int) []int32 {
	if n <= len(buf) {
		return buf[:n]
	}
	return make([]int32, n)
}

// scratch8 is scratch32 for int8.
func scratch8(buf *[scratchLen]int8, n int) []int8 {
	if n <= len(buf) {
		b := buf[:n]
		clear(b)
		return b
	}
	return make([]int8, n)
}

// ClampRange is a fused clamp min(max(x, lo), hi) of real bounds in the
// quantized domain of the output (scale s, zero point z): a bound b becomes
// z + round_half_away(b/s) saturated to [-128, 127], and an infinite bound
// (or one beyond float32) leaves that side open. ReLU is ClampRange(0, +Inf),
// ReLU6 ClampRange(0, 6). An empty range collapses to its lower end. The
// reference interpreter and the runtime both derive clamps here.
func ClampRange(lo, hi, s float64, z int32) Range {
	bound := func(b float64) int8 {
		if math.IsInf(b, 1) || b >= math.MaxFloat32 {
			return 127
		}
		if math.IsInf(b, -1) || b <= -math.MaxFloat32 {
			return -128
		}
		v := float64(z) + math.Round(b/s)
		return int8(max(-128, min(127, v)))
	}
	r := Range{Lo: bound(lo), Hi: bound(hi)}
	if r.Lo > r.Hi {
		r.Hi = r.Lo
	}
	return r
}
