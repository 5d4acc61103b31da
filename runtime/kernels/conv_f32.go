package kernels

import (
	"errors"
	"fmt"
)

// ConvF32Params describes a float32 2-D convolution over NHWC activations.
// The same parameters drive ConvF32 (any group count, weights
// [O][KH][KW][C/Groups]), DepthwiseF32 (Groups = C, weights [KH][KW][O])
// and PointwiseF32 (1x1, stride 1, no padding, Groups = 1, weights
// [O][C]); Act is applied to every output.
type ConvF32Params struct {
	N, H, W, C           int // input dimensions
	OH, OW, O            int // output dimensions
	KH, KW               int // kernel size
	StrideH, StrideW     int
	DilationH, DilationW int // 0 means 1
	PadTop, PadLeft      int // the bottom and right pads only bound OH and OW
	Groups               int // 0 means 1
	Act                  Activation
}

func (p *ConvF32Params) groups() int { return max(p.Groups, 1) }

func (p *ConvF32Params) dil() (int, int) { return max(p.DilationH, 1), max(p.DilationW, 1) }

// Rows is the number of output rows (N x OH) that ConvF32 and DepthwiseF32
// split.
func (p *ConvF32Params) Rows() int { return p.N * p.OH }

// Pixels is the number of output pixels (N x OH x OW) that PointwiseF32
// splits.
func (p *ConvF32Params) Pixels() int { return p.N * p.OH * p.OW }

// MACs returns the multiply-accumulates of the convolution.
func (p *ConvF32Params) MACs() int64 {
	return int64(p.N) * int64(p.OH) * int64(p.OW) * int64(p.O) * int64(p.KH) * int64(p.KW) * int64(p.C/p.groups())
}

// Validate checks the parameters against the lengths of the input, weight,
// bias (may be nil) and output slices, for weights [O][KH][KW][C/Groups].
func (p *ConvF32Params) Validate(x, w, bias, y []float32) error {
	if err := p.validate(); err != nil {
		return err
	}
	if err := checkLen("weights", len(w), p.O, p.KH, p.KW, p.C/p.groups()); err != nil {
		return err
	}
	return p.validateIO(x, bias, y)
}

// ValidateDepthwise is Validate for DepthwiseF32: Groups = C, weights
// [KH][KW][O] with O a multiple of C.
func (p *ConvF32Params) ValidateDepthwise(x, w, bias, y []float32) error {
	if err := p.validate(); err != nil {
		return err
	}
	if p.groups() != p.C || p.O%p.C != 0 {
		return fmt.Errorf("kernels: depthwise needs groups = C = %d and O a multiple of C, have groups %d, O %d", p.C, p.groups(), p.O)
	}
	if err := checkLen("weights", len(w), p.KH, p.KW, p.O); err != nil {
		return err
	}
	return p.validateIO(x, bias, y)
}

// ValidatePointwise is Validate for PointwiseF32: 1x1, stride 1, no
// padding, one group, weights [O][C].
func (p *ConvF32Params) ValidatePointwise(x, w, bias, y []float32) error {
	if err := p.validate(); err != nil {
		return err
	}
	if p.KH != 1 || p.KW != 1 || p.StrideH != 1 || p.StrideW != 1 || p.PadTop != 0 || p.PadLeft != 0 ||
		p.groups() != 1 || p.OH != p.H || p.OW != p.W {
		return errors.New("kernels: pointwise needs a 1x1 kernel, stride 1, no padding and one group")
	}
	if err := checkLen("weights", len(w), p.O, p.C); err != nil {
		return err
	}
	return p.validateIO(x, bias, y)
}

func (p *ConvF32Params) validate() error {
	if p == nil {
		return errors.New("kernels: nil conv parameters")
	}
	dims := []int{p.N, p.H, p.W, p.C, p.OH, p.OW, p.O, p.KH, p.KW, p.StrideH, p.StrideW}
	for _, d := range dims {
		if d < 1 {
			return fmt.Errorf("kernels: conv dimensions %v must all be >= 1", dims)
		}
	}
	if p.DilationH < 0 || p.DilationW < 0 || p.PadTop < 0 || p.PadLeft < 0 || p.Groups < 0 {
		return errors.New("kernels: conv has a negative dilation, pad or group count")
	}
	if g := p.groups(); p.C%g != 0 || p.O%g != 0 {
		return fmt.Errorf("kernels: %d input and %d output channels do not split into %d groups", p.C, p.O, g)
	}
	return p.Act.validate()
}

func (p *ConvF32Params) validateIO(x, bias, y []float32) error {
	if bias != nil && len(bias) != p.O {
		return fmt.Errorf("kernels: bias has %d values for %d outputs", len(bias), p.O)
	}
	if err := checkLen("input", len(x), p.N, p.H, p.W, p.C); err != nil {
		return err
	}
	return checkLen("output", len(y), p.N, p.OH, p.OW, p.O)
}

// ConvF32 computes output rows [lo, hi) (of N x OH) of a grouped
// convolution by the float rule:
//
//	y[n,oy,ox,o] = Act(FMA32 chain from bias[o] over kh, kw, ci of
//	               x[n,iy,ix,g*C/G+ci] * w[o,kh,kw,ci])
//
// with g = o / (O/G), iy = oy*StrideH - PadTop + kh*DilationH and likewise
// ix; taps outside the input contribute x = 0 (their FMA still runs).
func ConvF32(p *ConvF32Params, x, w, bias, y []float32, lo, hi int) {
	g := p.groups()
	cpg, opg := p.C/g, p.O/g
	dh, dw := p.dil()
	taps := p.KH * p.KW * cpg
	for r := lo; r < hi; r++ {
		n, oy := r/p.OH, r%p.OH
		for ox := range p.OW {
			yo := y[((n*p.OH+oy)*p.OW+ox)*p.O:][:p.O]
			for o := range p.O {
				acc := biasAt(bias, o)
				c0 := (o / opg) * cpg
				wo := w[o*taps:][:taps]
				for kh := range p.KH {
					iy := oy*p.StrideH - p.PadTop + kh*dh
					for kw := range p.KW {
						ix := ox*p.StrideW - p.PadLeft + kw*dw
						ws := wo[(kh*p.KW+kw)*cpg:][:cpg]
						if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
							for _, wv := range ws {
								acc = FMA32(0, wv, acc)
							}
							continue
						}
						xs := x[((n*p.H+iy)*p.W+ix)*p.C+c0:][:cpg]
						for ci, wv := range ws {
							acc = FMA32(xs[ci], wv, acc)
						}
					}
				}
				yo[o] = p.Act.apply(acc)
			}
		}
	}
}

// DepthwiseF32 computes output rows [lo, hi) of a depthwise convolution
// (Groups = C, O = C x multiplier, weights [KH][KW][O]) by the float rule:
// each output channel o is the FMA32 chain from bias[o] over the taps kh,
// kw of x[n,iy,ix,o/multiplier] * w[kh,kw,o], taps outside the input
// contributing x = 0, then Act.
func DepthwiseF32(p *ConvF32Params, x, w, bias, y []float32, lo, hi int) {
	m := p.O / p.C
	dh, dw := p.dil()
	var stack [scratchLen]float32
	acc := scratchF32(&stack, p.O)
	for r := lo; r < hi; r++ {
		n, oy := r/p.OH, r%p.OH
		for ox := range p.OW {
			if bias != nil {
				copy(acc, bias)
			} else {
				clear(acc)
			}
			for kh := range p.KH {
				iy := oy*p.StrideH - p.PadTop + kh*dh
				for kw := range p.KW {
					ix := ox*p.StrideW - p.PadLeft + kw*dw
					ws := w[(kh*p.KW+kw)*p.O:][:p.O]
					if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
						for o, wv := range ws {
							acc[o] = FMA32(0, wv, acc[o])
						}
						continue
					}
					xs := x[((n*p.H+iy)*p.W+ix)*p.C:][:p.C]
					for o, wv := range ws {
						acc[o] = FMA32(xs[o/m], wv, acc[o])
					}
				}
			}
			yo := y[((n*p.OH+oy)*p.OW+ox)*p.O:][:p.O]
			for o, a := range acc {
				yo[o] = p.Act.apply(a)
			}
		}
	}
}

// PointwiseF32 computes output pixels [lo, hi) (of N x OH x OW) of a 1x1
// convolution with weights [O][C]: the GEMM y[P][O] = Act(FMA32 chain from
// bias[o] over c of x[p][c] * w[o][c]).
func PointwiseF32(p *ConvF32Params, x, w, bias, y []float32, lo, hi int) {
	gemmRowsF32(x, w, bias, y, p.C, p.O, p.Act, lo, hi)
}

// gemmRowsF32 computes rows [lo, hi) of y[M][n] = Act(FMA32 chain from
// bias[o] over k of a[m][k] * w[o][k]).
func gemmRowsF32(a, w, bias, y []float32, k, n int, act Activation, lo, hi int) {
	for m := lo; m < hi; m++ {
		am := a[m*k:][:k]
		ym := y[m*n:][:n]
		for o := range n {
			acc := biasAt(bias, o)
			wo := w[o*k:][:k]
			for i, av := range am {
				acc = FMA32(av, wo[i], acc)
			}
			ym[o] = act.apply(acc)
		}
	}
}

// biasAt is bias[o], or +0 without a bias.
func biasAt(bias []float32, o int) float32 {
	if bias == nil {
		return 0
	}
	return bias[o]
}

// scratchF32 is scratch32 for float32.
func scratchF32(buf *[scratchLen]float32, n int) []float32 {
	if n <= len(buf) {
		return buf[:n]
	}
	return make([]float32, n)
}
