package kernels

import (
	"errors"
	"fmt"
)

// GemmParams describes a quantized fully connected layer
// y[M][N] = requant(bias[n] + Σ_k (a[m,k] - AZero) * w[n,k]).
type GemmParams struct {
	M, K, N int
	AZero   int32
	YZero   int32
	Mult    []Multiplier // one per output column n: a_scale x w_scale[n] / y_scale
	Out     Range
}

// MACs returns the multiply-accumulates of the layer: M x N x K.
func (p *GemmParams) MACs() int64 { return int64(p.M) * int64(p.N) * int64(p.K) }

// Validate checks the parameters against the slices (bias may be nil).
func (p *GemmParams) Validate(a, w []int8, bias []int32, y []int8) error {
	if p == nil {
		return errors.New("kernels: nil gemm parameters")
	}
	if p.M < 1 || p.K < 1 || p.N < 1 {
		return fmt.Errorf("kernels: gemm dimensions M=%d K=%d N=%d must be >= 1", p.M, p.K, p.N)
	}
	if err := checkZero("input", p.AZero); err != nil {
		return err
	}
	if err := checkZero("output", p.YZero); err != nil {
		return err
	}
	if err := p.Out.validate(); err != nil {
		return err
	}
	if len(p.Mult) != p.N {
		return fmt.Errorf("kernels: %d multipliers for %d outputs", len(p.Mult), p.N)
	}
	for n, m := range p.Mult {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("output %d: %w", n, err)
		}
	}
	if err := checkLen("input", len(a), p.M, p.K); err != nil {
		return err
	}
	if err := checkLen("weight", len(w), p.N, p.K); err != nil {
		return err
	}
	if bias != nil && len(bias) != p.N {
		return fmt.Errorf("kernels: bias has %d values, want %d", len(bias), p.N)
	}
	if err := checkLen("output", len(y), p.M, p.N); err != nil {
		return err
	}
	return ValidateAccumulator(p.K, MaxAbs(bias))
}

// Gemm computes rows [lo, hi) of M.
func Gemm(p *GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int) {
	gemmRows(a, w, bias, y, p.K, p.N, p.AZero, p.Mult, p.YZero, p.Out, lo, hi)
}
