package kernels

import (
	"errors"
	"fmt"
	"math"
)

// ActKind names a float32 activation.
type ActKind uint8

// The float32 activations.
const (
	ActNone ActKind = iota
	ActReLU
	ActReLU6
	ActClip
	ActHardSigmoid
	ActHardSwish
)

// Activation is a float32 activation, fused into a kernel or applied on its
// own (ActivateF32). Every Set gives exactly the bits apply gives, which are
// those of these operations (comparisons select; a NaN input gives the
// lower bound); a variant may use other instructions where it proves them
// equal (the ARM64 kernels apply an upper bound as an integer minimum of
// the bits, exact once the lower select has left only +0 to +Inf):
//
//	ReLU         v > 0 ? v : 0
//	ReLU6        r = ReLU(v); r < 6 ? r : 6
//	Clip         r = v > Lo ? v : Lo; r < Hi ? r : Hi
//	HardSigmoid  Clip(FMA32(Alpha, v, Beta)) to [0, 1]
//	HardSwish    t = v + 3; t = Clip(t) to [0, 6]; (v * t) / 6
type Activation struct {
	Kind        ActKind
	Lo, Hi      float32 // ActClip's bounds
	Alpha, Beta float32 // ActHardSigmoid's slope and offset
}

func (a Activation) validate() error {
	if a.Kind > ActHardSwish {
		return fmt.Errorf("kernels: unknown activation %d", a.Kind)
	}
	if a.Kind == ActClip && !(a.Lo <= a.Hi) {
		return fmt.Errorf("kernels: clip range [%g, %g] is empty", a.Lo, a.Hi)
	}
	for _, v := range []float32{a.Lo, a.Hi, a.Alpha, a.Beta} {
		if math.IsNaN(float64(v)) {
			return errors.New("kernels: activation parameter is NaN")
		}
	}
	return nil
}

// clip32 is v limited to [lo, hi] by the selects of Activation.
func clip32(v, lo, hi float32) float32 {
	if !(v > lo) {
		v = lo
	}
	if !(v < hi) {
		v = hi
	}
	return v
}

func (a Activation) apply(v float32) float32 {
	switch a.Kind {
	case ActReLU:
		if v > 0 {
			return v
		}
		return 0
	case ActReLU6:
		return clip32(v, 0, 6)
	case ActClip:
		return clip32(v, a.Lo, a.Hi)
	case ActHardSigmoid:
		return clip32(FMA32(a.Alpha, v, a.Beta), 0, 1)
	case ActHardSwish:
		t := clip32(v+3, 0, 6)
		return float32(v*t) / 6
	}
	return v
}

// ActivateF32 sets y[i] = act(x[i]) (y may be x).
func ActivateF32(act Activation, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = act.apply(v)
	}
}

// AddF32 sets y[i] = act(a[i] + b[i]).
func AddF32(act Activation, a, b, y []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		y[i] = act.apply(a[i] + b[i])
	}
}

// MulF32 sets y[i] = act(a[i] * b[i]).
func MulF32(act Activation, a, b, y []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		y[i] = act.apply(float32(a[i] * b[i]))
	}
}

// ChannelMulF32Params describes x[N][HW][C] times a per-(n, c) gate
// g[N][C]: y = Act(x * g).
type ChannelMulF32Params struct {
	N, HW, C int
	Act      Activation
}

// Validate checks the parameters against the slices.
func (p *ChannelMulF32Params) Validate(x, g, y []float32) error {
	if p == nil {
		return errors.New("kernels: nil channel-mul parameters")
	}
	if p.N < 1 || p.HW < 1 || p.C < 1 {
		return fmt.Errorf("kernels: channel-mul dimensions N=%d HW=%d C=%d must be >= 1", p.N, p.HW, p.C)
	}
	if err := checkLen("input", len(x), p.N, p.HW, p.C); err != nil {
		return err
	}
	if err := checkLen("gate", len(g), p.N, p.C); err != nil {
		return err
	}
	if err := checkLen("output", len(y), p.N, p.HW, p.C); err != nil {
		return err
	}
	return p.Act.validate()
}

// ChannelMulF32 computes the positions [lo, hi) of the N x HW.
func ChannelMulF32(p *ChannelMulF32Params, x, g, y []float32, lo, hi int) {
	for n := lo / p.HW; n < p.N && n*p.HW < hi; n++ {
		a, b := max(lo-n*p.HW, 0), min(hi-n*p.HW, p.HW)
		gs := g[n*p.C:][:p.C]
		for i := a; i < b; i++ {
			off := (n*p.HW + i) * p.C
			xs, ys := x[off:][:p.C], y[off:][:p.C]
			for c, v := range xs {
				ys[c] = p.Act.apply(float32(v * gs[c]))
			}
		}
	}
}

// GlobalAveragePoolF32 averages x[N][HW][C] over its HW positions into
// y[N][C]: each channel's sum in float32, position by position from +0,
// divided by HW.
func GlobalAveragePoolF32(n, hw, c int, x, y []float32) {
	d := float32(hw)
	for b := range n {
		ys := y[b*c:][:c]
		clear(ys)
		for i := range hw {
			xs := x[(b*hw+i)*c:][:c]
			for ch, v := range xs {
				ys[ch] += v
			}
		}
		for ch := range ys {
			ys[ch] /= d
		}
	}
}
