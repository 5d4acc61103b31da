package kernels

import (
	"errors"
	"fmt"
	"math"
)

// The scheme's derived parameters. Every kernel parameter that follows from
// the quantization of a model (scales, zero points, fused clamps) is derived
// here, once: the int8 reference interpreter (quant) and the runtime's
// planner both call these functions, as TFLite Micro's reference and
// optimized kernels share PopulateConvolutionQuantizationParams, so that
// their results cannot drift apart. Each states the expression it computes;
// the package documentation gives the rule the kernels apply with them.

// Quant is the per-tensor quantization of an activation: real value =
// Scale x (code - Zero).
type Quant struct {
	Scale float64
	Zero  int32
}

// Bounds are the real bounds [Lo, Hi] of a fused clamp (an infinite bound
// leaves that side open).
type Bounds struct{ Lo, Hi float64 }

// The fused clamps of the scheme.
var (
	NoClamp = Bounds{math.Inf(-1), math.Inf(1)}
	ReLU    = Bounds{0, math.Inf(1)}
	ReLU6   = Bounds{0, 6}
)

// Range returns the clamp in the codes of an output quantized as y
// (ClampRange): ReLU is [z, 127], ReLU6 [z, z + round(6/s)], NoClamp Full.
func (c Bounds) Range(y Quant) Range { return ClampRange(c.Lo, c.Hi, y.Scale, y.Zero) }

// Multipliers returns NewMultiplier(sx x sw[o] / sy) for every output
// channel o: the requantization of a convolution or fully connected layer
// with input scale sx, per-channel weight scales sw and output scale sy.
func Multipliers(sx float64, sw []float64, sy float64) ([]Multiplier, error) {
	ms := make([]Multiplier, len(sw))
	for o, s := range sw {
		m, err := NewMultiplier(sx * s / sy)
		if err != nil {
			return nil, fmt.Errorf("channel %d: %w", o, err)
		}
		ms[o] = m
	}
	return ms, nil
}

// MaxAbs returns the largest |b[i]| (0 for an empty b): the bias bound
// ValidateAccumulator takes.
func MaxAbs(b []int32) int64 {
	var m int64
	for _, v := range b {
		m = max(m, abs64(int64(v)))
	}
	return m
}

// Requantization returns the output stage of a convolution or fully
// connected layer reading x with per-channel weight scales sw and writing
// y with the fused clamp act: the multipliers of Multipliers(x.Scale, sw,
// y.Scale) and act's Range in y's codes.
func Requantization(x Quant, sw []float64, y Quant, act Bounds) ([]Multiplier, Range, error) {
	m, err := Multipliers(x.Scale, sw, y.Scale)
	if err != nil {
		return nil, Range{}, err
	}
	return m, act.Range(y), nil
}

// NewPoolParams returns the global average pool of n items of hw positions
// and c channels from x into y: multiplier s_x / (hw x s_y), no clamp. A
// window whose sum could overflow int32 (hw x 255 >= 2^31) is refused.
func NewPoolParams(n, hw, c int, x, y Quant) (PoolParams, error) {
	if err := checkPoolSize(hw); err != nil {
		return PoolParams{}, err
	}
	m, err := NewMultiplier(x.Scale / (float64(hw) * y.Scale))
	if err != nil {
		return PoolParams{}, err
	}
	return PoolParams{N: n, HW: hw, C: c, XZero: x.Zero, YZero: y.Zero, Mult: m, Out: Full}, nil
}

func checkPoolSize(hw int) error {
	if hw < 1 || int64(hw)*255 >= math.MaxInt32 {
		return fmt.Errorf("kernels: a pool over %d positions may overflow int32", hw)
	}
	return nil
}

// NewChannelMulParams returns the product of x (n items of hw positions
// and c channels) by a per-channel gate g into y: multiplier
// s_x x s_g / s_y, clamped to out.
func NewChannelMulParams(n, hw, c int, x, g, y Quant, out Range) (ChannelMulParams, error) {
	m, err := NewMultiplier(x.Scale * g.Scale / y.Scale)
	if err != nil {
		return ChannelMulParams{}, err
	}
	return ChannelMulParams{N: n, HW: hw, C: c, XZero: x.Zero, GZero: g.Zero, YZero: y.Zero, Mult: m, Out: out}, nil
}

// ChannelMulShape returns the positions hw and channels c when x [N,H,W,C]
// (or [N,C]) is multiplied per channel by g [N,1,1,C] (or [N,C], the same
// shape): the shapes ChannelMul computes.
func ChannelMulShape(x, g []int) (hw, c int, ok bool) {
	switch {
	case len(x) == 4 && len(g) == 4 && g[0] == x[0] && g[1] == 1 && g[2] == 1 && g[3] == x[3]:
		return x[1] * x[2], x[3], true
	case len(x) == 2 && len(g) == 2 && x[0] == g[0] && x[1] == g[1]:
		return 1, x[1], true
	}
	return 0, 0, false
}

// SEQuant is the quantization of an int8 squeeze-and-excitation unit (see
// SEParams): its input, the results of its stages, the per-channel scales
// of its two weight matrices (squeeze W1 [S][C], excite W2 [C][S]), the
// squeeze layer's fused clamp, and the gate table from the excite result's
// codes to the gate's.
type SEQuant struct {
	X, Squeeze, Excite, Gate, Y Quant
	W1, W2                      []float64
	Act                         Bounds
	Table                       Table
}

// NewSEParams returns the unit over n items of hw positions, with
// C = len(W2) channels and S = len(W1) squeeze channels: the pool averages
// into x's own quantization (multiplier 1/hw), the squeeze requantizes by
// s_x x s_w1[o] / s_squeeze with its clamp, the excite by
// s_squeeze x s_w2[o] / s_excite, the table makes the gate, and the scale
// multiplies by s_x x s_gate / s_y. b1 and b2 (nil: none) are the biases,
// checked against the accumulator bound.
func NewSEParams(n, hw int, q *SEQuant, b1, b2 []int32) (SEParams, error) {
	c, s := len(q.W2), len(q.W1)
	if c < 1 || s < 1 {
		return SEParams{}, errors.New("kernels: squeeze-excite needs at least one channel and one squeeze channel")
	}
	if err := checkPoolSize(hw); err != nil {
		return SEParams{}, err
	}
	pm, err := NewMultiplier(1 / float64(hw))
	if err != nil {
		return SEParams{}, err
	}
	m1, out1, err := Requantization(q.X, q.W1, q.Squeeze, q.Act)
	if err != nil {
		return SEParams{}, fmt.Errorf("squeeze: %w", err)
	}
	m2, out2, err := Requantization(q.Squeeze, q.W2, q.Excite, NoClamp)
	if err != nil {
		return SEParams{}, fmt.Errorf("excite: %w", err)
	}
	if err := ValidateAccumulator(max(c, s), max(MaxAbs(b1), MaxAbs(b2))); err != nil {
		return SEParams{}, err
	}
	scale, err := NewChannelMulParams(n, hw, c, q.X, q.Gate, q.Y, Full)
	if err != nil {
		return SEParams{}, err
	}
	return SEParams{
		Pool:    PoolParams{N: n, HW: hw, C: c, XZero: q.X.Zero, YZero: q.X.Zero, Mult: pm, Out: Full},
		Squeeze: GemmParams{M: n, K: c, N: s, AZero: q.X.Zero, YZero: q.Squeeze.Zero, Mult: m1, Out: out1},
		Excite:  GemmParams{M: n, K: s, N: c, AZero: q.Squeeze.Zero, YZero: q.Excite.Zero, Mult: m2, Out: out2},
		Gate:    q.Table,
		Scale:   scale,
	}, nil
}
