package kernels

import (
	"errors"
	"fmt"
	"math"
)

// AddParams describes a quantized residual addition
// y = clamp(YZero + RoundShift((a - AZero) MA + (b - BZero) MB, S), Out).
type AddParams struct {
	AZero, BZero, YZero int32
	MA, MB              int32 // fixed-point multipliers s_a/s_y and s_b/s_y sharing the shift S
	S                   int32
	Out                 Range
}

// NewAddParams derives AddParams from the scales (NewMultiplierPair).
func NewAddParams(sa, sb, sy float64, za, zb, zy int32, out Range) (AddParams, error) {
	if !(sy > 0) || math.IsInf(sy, 0) {
		return AddParams{}, fmt.Errorf("kernels: add output scale %g is not positive", sy)
	}
	ma, mb, s, err := NewMultiplierPair(sa/sy, sb/sy)
	if err != nil {
		return AddParams{}, fmt.Errorf("add: %w", err)
	}
	return AddParams{AZero: za, BZero: zb, YZero: zy, MA: ma, MB: mb, S: s, Out: out}, nil
}

// Validate checks the parameters and that a, b and y have one length.
func (p *AddParams) Validate(a, b, y []int8) error {
	if p == nil {
		return errors.New("kernels: nil add parameters")
	}
	for _, z := range []int32{p.AZero, p.BZero, p.YZero} {
		if err := checkZero("add", z); err != nil {
			return err
		}
	}
	if p.MA < 0 || p.MB < 0 || p.S < MinShift || p.S > MaxShift {
		return fmt.Errorf("kernels: add multipliers %d, %d with shift %d out of range", p.MA, p.MB, p.S)
	}
	if err := p.Out.validate(); err != nil {
		return err
	}
	if len(a) != len(y) || len(b) != len(y) {
		return fmt.Errorf("kernels: add operands have %d and %d elements, output %d", len(a), len(b), len(y))
	}
	return nil
}

// Add computes the elementwise sum, both operands requantized and rounded
// once, together.
func Add(p *AddParams, a, b, y []int8) {
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		v := (int64(a[i])-int64(p.AZero))*int64(p.MA) + (int64(b[i])-int64(p.BZero))*int64(p.MB)
		y[i] = Clamp(int64(p.YZero)+RoundShift(v, p.S), p.Out.Lo, p.Out.Hi)
	}
}

// PoolParams describes a quantized global average pool over NHWC input
// x[N][HW][C] into y[N][C]:
// y = clamp(YZero + RoundShift(Σ_hw (x - XZero) M, S), Out) with
// M x 2^-S ≈ s_x / (HW s_y).
type PoolParams struct {
	N, HW, C     int
	XZero, YZero int32
	Mult         Multiplier
	Out          Range
}

// Validate checks the parameters against the slices.
func (p *PoolParams) Validate(x, y []int8) error {
	if p == nil {
		return errors.New("kernels: nil pool parameters")
	}
	if p.N < 1 || p.HW < 1 || p.C < 1 {
		return fmt.Errorf("kernels: pool dimensions N=%d HW=%d C=%d must be >= 1", p.N, p.HW, p.C)
	}
	if int64(p.HW)*255 >= math.MaxInt32 {
		return fmt.Errorf("kernels: a pool over %d positions may overflow int32", p.HW)
	}
	if err := checkZero("input", p.XZero); err != nil {
		return err
	}
	if err := checkZero("output", p.YZero); err != nil {
		return err
	}
	if err := p.Mult.Validate(); err != nil {
		return err
	}
	if err := p.Out.validate(); err != nil {
		return err
	}
	if err := checkLen("input", len(x), p.N, p.HW, p.C); err != nil {
		return err
	}
	return checkLen("output", len(y), p.N, p.C)
}

// GlobalAveragePool sums each channel over the HW positions in int32 and
// requantizes the sum.
func GlobalAveragePool(p *PoolParams, x, y []int8) {
	var stack [scratchLen]int32
	acc := scratch32(&stack, p.C)
	for n := range p.N {
		clear(acc)
		for i := range p.HW {
			xs := x[(n*p.HW+i)*p.C:][:p.C]
			for c, v := range xs {
				acc[c] += int32(v) - p.XZero
			}
		}
		ys := y[n*p.C:][:p.C]
		for c, a := range acc {
			ys[c] = Requantize(a, p.Mult, p.YZero, p.Out.Lo, p.Out.Hi)
		}
	}
}

// ChannelMulParams describes the scaling step of squeeze-and-excitation:
// x[N][HW][C] times a per-(n, c) gate g[N][C],
// y = clamp(YZero + RoundShift((x - XZero)(g - GZero) M, S), Out) with
// M x 2^-S ≈ s_x s_g / s_y.
type ChannelMulParams struct {
	N, HW, C            int
	XZero, GZero, YZero int32
	Mult                Multiplier
	Out                 Range
}

// Validate checks the parameters against the slices.
func (p *ChannelMulParams) Validate(x, g, y []int8) error {
	if p == nil {
		return errors.New("kernels: nil channel-mul parameters")
	}
	if p.N < 1 || p.HW < 1 || p.C < 1 {
		return fmt.Errorf("kernels: channel-mul dimensions N=%d HW=%d C=%d must be >= 1", p.N, p.HW, p.C)
	}
	for _, z := range []int32{p.XZero, p.GZero, p.YZero} {
		if err := checkZero("channel-mul", z); err != nil {
			return err
		}
	}
	if err := p.Mult.Validate(); err != nil {
		return err
	}
	if err := p.Out.validate(); err != nil {
		return err
	}
	if err := checkLen("input", len(x), p.N, p.HW, p.C); err != nil {
		return err
	}
	if err := checkLen("gate", len(g), p.N, p.C); err != nil {
		return err
	}
	return checkLen("output", len(y), p.N, p.HW, p.C)
}

// ChannelMul multiplies every position of x by its channel's gate, for
// the positions [lo, hi) of the N x HW (so that callers can split the work;
// [0, N*HW) is all of it).
func ChannelMul(p *ChannelMulParams, x, g, y []int8, lo, hi int) {
	var stack [scratchLen]int32
	gs := scratch32(&stack, p.C)
	for n := lo / max(p.HW, 1); n < p.N && n*p.HW < hi; n++ {
		a, b := p.span(n, lo, hi)
		for c := range p.C {
			gs[c] = int32(g[n*p.C+c]) - p.GZero
		}
		for i := a; i < b; i++ {
			off := (n*p.HW + i) * p.C
			xs, ys := x[off:][:p.C], y[off:][:p.C]
			for c, v := range xs {
				prod := (int32(v) - p.XZero) * gs[c] // |prod| <= 255*255
				ys[c] = Requantize(prod, p.Mult, p.YZero, p.Out.Lo, p.Out.Hi)
			}
		}
	}
}

// span returns the positions [a, b) of batch item n within positions
// [lo, hi) of the N x HW (callers loop n from lo/HW while n*HW < hi).
func (p *ChannelMulParams) span(n, lo, hi int) (a, b int) {
	return max(lo-n*p.HW, 0), min(hi-n*p.HW, p.HW)
}

// Table is a 256-entry lookup table indexed by the input code's
// two's-complement byte: y = t[uint8(x)].
type Table [256]int8

// LUT applies t elementwise: y[i] = t[uint8(x[i])]. len(y) must be len(x).
func LUT(t *Table, x, y []int8) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = t[uint8(v)]
	}
}
