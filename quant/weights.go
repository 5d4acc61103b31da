package quant

import (
	"fmt"
	"math"
	"slices"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/kernels"
)

// Weight and bias quantization: per-channel symmetric weights, int32 biases at
// the input scale times the weights'.

// weights quantizes a float weight constant per output channel (axis 0):
// symmetric, scale max|w|/127 (1 for an all-zero channel), codes in
// [-127, 127]. When the whole tensor already lies on a uniform grid
// (weights of a model trained with quantization in the loop and stored
// dequantized: every w an integer multiple of one step, see weightGrid), a
// channel whose multiples fit in [-127, 127] takes that step as its scale
// and is represented exactly. Without bias correction (no calibration
// images, or Options.NoBiasCorrect) a channel that is not represented
// exactly is rounded so that its codes keep the channel's weight sum
// (keepSum): the data-free form of the correction. Where Options.Rounding
// asks for rounding by output error and calibration measured the layer's
// input patches (Stats.Grams), such a channel's codes are chosen by the
// layer's output error instead (rounding.go): on the inputs' covariance
// when centered (the bias is corrected afterwards), on their second moment
// otherwise, plus the rounding noise of the int8 input (step inScale).
func (qz *quantizer) weights(w *ir.Value, name string, centered bool, inScale float32) (*ir.Value, []float32, error) {
	t, scales, err := qz.weightCodes(w, name, centered, inScale)
	if err != nil {
		return nil, nil, err
	}
	c := qz.q.AddConst(name, t)
	c.Quant = &ir.QuantParams{Scale: scales, ZeroPoint: make([]int32, len(scales)), Axis: 0}
	return c, scales, nil
}

// weightCodes returns the int8 codes and per-channel scales of weights
// (see weights) without adding them to the quantized graph.
func (qz *quantizer) weightCodes(w *ir.Value, name string, centered bool, inScale float32) (*ir.Tensor, []float32, error) {
	if !w.IsConst() || w.Const.DType != ir.Float32 {
		return nil, nil, fmt.Errorf("weight %s is not a float32 constant", w)
	}
	t := w.Const
	if len(t.Shape) < 1 || t.Shape[0] < 1 {
		return nil, nil, fmt.Errorf("weight %s has shape %v", w, t.Shape)
	}
	o := t.Shape[0]
	per := len(t.F32) / o
	scales := make([]float32, o)
	q := make([]int8, len(t.F32))
	step := weightGrid(t.F32)
	gram := qz.gram(name, step, o, per)
	var moments, factor []float64 // of the group last used
	group := -1
	for c := range o {
		row := t.F32[c*per : (c+1)*per]
		var m float64
		for _, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, nil, fmt.Errorf("weight %s holds %v", w, v)
			}
			m = max(m, math.Abs(float64(v)))
		}
		s := float32(m / 127)
		exact := step > 0 && m/float64(step) <= 127.001
		if exact {
			s = step
		}
		if !(s > 0) || math.IsInf(float64(s), 0) {
			s = 1
		}
		scales[c] = s
		codes := q[c*per : (c+1)*per]
		for i, v := range row {
			codes[i] = int8(max(-127, min(127, math.RoundToEven(float64(v)/float64(s)))))
		}
		switch {
		case exact:
		case gram != nil:
			if g := c / (o / gram.Groups); g != group {
				moments, group = gram.moments(g, centered, inScale), g
				factor = roundFactor(moments, per)
			}
			roundByOutput(codes, row, s, moments, factor)
			qz.byOutput = true
		case qz.o.NoBiasCorrect:
			keepSum(row, codes, s)
		}
	}
	return &ir.Tensor{DType: ir.Int8, Shape: t.Shape.Clone(), I8: q}, scales, nil
}

// weightGrid returns the step of the uniform grid the weights lie on, or 0:
// the smallest gap between distinct values, refined as top/round(top/gap)
// on the largest magnitude top (the gap itself carries the rounding of two
// float32 values, which over 200 steps exceeds the tolerance), accepted when
// every weight is within 1e-3 steps of an integer multiple of it and top is
// at most 255 steps (an 8-bit grid). Float weights of an ordinary model fail
// the test.
func weightGrid(w []float32) float32 {
	if len(w) < 16 {
		return 0
	}
	vals := make([]float64, len(w))
	for i, v := range w {
		vals[i] = float64(v)
	}
	slices.Sort(vals)
	step := math.Inf(1)
	for i := 1; i < len(vals); i++ {
		if d := vals[i] - vals[i-1]; d > 0 {
			step = min(step, d)
		}
	}
	if math.IsInf(step, 1) || !(step > 0) {
		return 0
	}
	top := max(-vals[0], vals[len(vals)-1])
	n := math.Round(top / step)
	if n > 255 {
		return 0
	}
	step = top / n
	for _, v := range vals {
		r := v / step
		if math.Abs(r-math.Round(r)) > 1e-3 {
			return 0
		}
	}
	return float32(step)
}

// keepSum moves codes of one channel (quantized at scale s from row) by one
// step at a time, each time the code whose rounding error grows least, until
// the channel's total error sum(codes*s - row) is within s/2: rounding that
// keeps each output's expected shift under an input of constant mean, where
// bias correction would measure and remove it. Codes stay in [-127, 127].
func keepSum(row []float32, codes []int8, s float32) {
	sf := float64(s)
	var e float64
	for i, v := range row {
		e += float64(float64(codes[i])*sf) - float64(v)
	}
	for math.Abs(e) > sf/2 {
		dir := 1.0
		if e > 0 {
			dir = -1
		}
		best, cost := -1, math.Inf(1)
		for i, v := range row {
			n := float64(codes[i]) + dir
			if n < -127 || n > 127 {
				continue
			}
			if c := math.Abs(float64(n*sf)-float64(v)) - math.Abs(float64(float64(codes[i])*sf)-float64(v)); c < cost {
				best, cost = i, c
			}
		}
		if best < 0 {
			return
		}
		codes[best] += int8(dir)
		e += float64(dir * sf)
	}
}

// maxBias bounds the magnitude of quantized biases so that no accumulator
// can overflow (see kernels.ValidateAccumulator).
func maxBias(k int) int64 {
	return kernels.MaxAccumulator - int64(k)*255*128 - 1
}

// bias quantizes a float bias (nil: none) at scale sx*sw[o], rounding half
// away from zero and saturating at ±maxBias(k).
func (qz *quantizer) bias(b []float32, sx float32, sw []float32, name string, k int) (*ir.Value, error) {
	if b == nil {
		return nil, nil
	}
	if len(b) != len(sw) {
		return nil, fmt.Errorf("bias %s has %d values for %d channels", name, len(b), len(sw))
	}
	lim := maxBias(k)
	if lim <= 0 {
		return nil, fmt.Errorf("a dot product of length %d may overflow int32", k)
	}
	q := make([]int32, len(b))
	scales := make([]float32, len(b))
	for i, v := range b {
		s := float64(sx) * float64(sw[i])
		scales[i] = float32(s)
		r := math.Round(float64(v) / s)
		if math.IsNaN(r) {
			return nil, fmt.Errorf("bias %s holds %v", name, v)
		}
		q[i] = int32(max(-float64(lim), min(float64(lim), r)))
	}
	c := qz.q.AddConst(name, &ir.Tensor{DType: ir.Int32, Shape: ir.Shape{len(b)}, I32: q})
	c.Quant = &ir.QuantParams{Scale: scales, ZeroPoint: make([]int32, len(b)), Axis: 0}
	return c, nil
}

func floatBias(v *ir.Value) ([]float32, error) {
	if v == nil {
		return nil, nil
	}
	if !v.IsConst() || v.Const.DType != ir.Float32 {
		return nil, fmt.Errorf("bias %s is not a float32 constant", v)
	}
	return v.Const.F32, nil
}
