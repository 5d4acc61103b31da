package kernels

import (
	"errors"
	"fmt"
)

// SEParams describes a quantized squeeze-and-excitation unit over NHWC input
// x[N][HW][C] with S squeeze channels, composed of the other kernels:
//
//	p = GlobalAveragePool(x)           into x's own quantization (Pool.YZero = Pool.XZero, r = 1/HW)
//	s = Gemm(p, w1[S][C], b1)          Squeeze: AZero = x's zero point, ReLU as its output clamp
//	e = Gemm(s, w2[C][S], b2)          Excite:  AZero = Squeeze.YZero
//	g = LUT(Gate, e)                   the gate (hard sigmoid) at a fixed [0, 1] scale
//	y = ChannelMul(x, g)               Scale: XZero = x's zero point, GZero = the gate's
//
// NewSEParams derives them from the unit's quantization. SqueezeExcite runs
// the generic kernels in that order (the reference interpreter's unit); the
// runtime runs a Set's kernels in the same order, with the intermediates in
// its arena.
type SEParams struct {
	Pool    PoolParams
	Squeeze GemmParams
	Excite  GemmParams
	Gate    Table
	Scale   ChannelMulParams
}

// Validate checks that the parts fit together and the slices.
func (p *SEParams) Validate(x, w1 []int8, b1 []int32, w2 []int8, b2 []int32, y []int8) error {
	if p == nil {
		return errors.New("kernels: nil squeeze-excite parameters")
	}
	n, c := p.Pool.N, p.Pool.C
	pooled := make([]int8, n*c)
	mid := make([]int8, n*p.Squeeze.N)
	if p.Pool.YZero != p.Pool.XZero || p.Scale.XZero != p.Pool.XZero || p.Squeeze.AZero != p.Pool.XZero {
		return errors.New("kernels: squeeze-excite pool, squeeze and scale must share the input zero point")
	}
	if p.Squeeze.M != n || p.Squeeze.K != c || p.Excite.M != n || p.Excite.K != p.Squeeze.N || p.Excite.N != c ||
		p.Excite.AZero != p.Squeeze.YZero || p.Scale.N != n || p.Scale.HW != p.Pool.HW || p.Scale.C != c {
		return errors.New("kernels: squeeze-excite parts have inconsistent dimensions or zero points")
	}
	if err := p.Pool.Validate(x, pooled); err != nil {
		return fmt.Errorf("squeeze-excite pool: %w", err)
	}
	if err := p.Squeeze.Validate(pooled, w1, b1, mid); err != nil {
		return fmt.Errorf("squeeze-excite squeeze: %w", err)
	}
	if err := p.Excite.Validate(mid, w2, b2, pooled); err != nil {
		return fmt.Errorf("squeeze-excite excite: %w", err)
	}
	if err := p.Scale.Validate(x, pooled, y); err != nil {
		return fmt.Errorf("squeeze-excite scale: %w", err)
	}
	return nil
}

// SqueezeExcite runs the unit for the whole batch.
func SqueezeExcite(p *SEParams, x, w1 []int8, b1 []int32, w2 []int8, b2 []int32, y []int8) {
	n, c := p.Pool.N, p.Pool.C
	var s1, s2, s3 [scratchLen]int8
	pooled := scratch8(&s1, n*c)
	mid := scratch8(&s2, n*p.Squeeze.N)
	exc := scratch8(&s3, n*c)
	GlobalAveragePool(&p.Pool, x, pooled)
	Gemm(&p.Squeeze, pooled, w1, b1, mid, 0, n)
	Gemm(&p.Excite, mid, w2, b2, exc, 0, n)
	LUT(&p.Gate, exc, exc)
	ChannelMul(&p.Scale, x, exc, y, 0, p.Scale.N*p.Scale.HW)
}
