package kernels

import (
	"errors"
	"fmt"
)

// GemmF32Params describes a float32 fully connected layer
// y[M][N] = Act(FMA32 chain from bias[n] over k of a[m,k] * w[n,k]).
type GemmF32Params struct {
	M, K, N int
	Act     Activation
}

// MACs returns the multiply-accumulates of the layer: M x N x K.
func (p *GemmF32Params) MACs() int64 { return int64(p.M) * int64(p.N) * int64(p.K) }

// Validate checks the parameters against the slices (bias may be nil).
func (p *GemmF32Params) Validate(a, w, bias, y []float32) error {
	if p == nil {
		return errors.New("kernels: nil gemm parameters")
	}
	if p.M < 1 || p.K < 1 || p.N < 1 {
		return fmt.Errorf("kernels: gemm dimensions M=%d K=%d N=%d must be >= 1", p.M, p.K, p.N)
	}
	if bias != nil && len(bias) != p.N {
		return fmt.Errorf("kernels: bias has %d values for %d outputs", len(bias), p.N)
	}
	if err := checkLen("a", len(a), p.M, p.K); err != nil {
		return err
	}
	if err := checkLen("weights", len(w), p.N, p.K); err != nil {
		return err
	}
	if err := checkLen("output", len(y), p.M, p.N); err != nil {
		return err
	}
	return p.Act.validate()
}

// GemmF32 computes rows [lo, hi) of the layer, weights [N][K].
func GemmF32(p *GemmF32Params, a, w, bias, y []float32, lo, hi int) {
	gemmRowsF32(a, w, bias, y, p.K, p.N, p.Act, lo, hi)
}
