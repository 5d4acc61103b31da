package kernels

import (
	"errors"
	"fmt"
	"math"
)

// ConvParams describes a quantized 2-D convolution over NHWC int8
// activations. The same parameters drive Conv (any group count, weights
// [O][KH][KW][C/Groups]), Depthwise (Groups = C, weights [KH][KW][O]) and
// Pointwise (1x1, stride 1, no padding, Groups = 1, weights [O][C]).
type ConvParams struct {
	N, H, W, C           int // input dimensions
	OH, OW, O            int // output dimensions
	KH, KW               int // kernel size
	StrideH, StrideW     int
	DilationH, DilationW int // 0 means 1
	PadTop, PadLeft      int // the bottom and right pads only bound OH and OW
	Groups               int // 0 means 1

	XZero int32        // input zero point, in [-128, 127]
	YZero int32        // output zero point, in [-128, 127]
	Mult  []Multiplier // one per output channel: x_scale x w_scale[o] / y_scale
	Out   Range        // output clamp (fused ReLU / ReLU6), within [-128, 127]
}

func (p *ConvParams) groups() int { return max(p.Groups, 1) }

func (p *ConvParams) dil() (int, int) { return max(p.DilationH, 1), max(p.DilationW, 1) }

// Validate checks the parameters against the lengths of the input, weight,
// bias (may be nil: no bias) and output slices, and the accumulator bound
// (which depends on the bias values, hence the bias itself).
func (p *ConvParams) Validate(x, w []int8, bias []int32, y []int8) error {
	if p == nil {
		return errors.New("kernels: nil conv parameters")
	}
	g := p.groups()
	dims := []int{p.N, p.H, p.W, p.C, p.OH, p.OW, p.O, p.KH, p.KW, p.StrideH, p.StrideW}
	for _, d := range dims {
		if d < 1 {
			return fmt.Errorf("kernels: conv dimensions %v must all be >= 1", dims)
		}
	}
	if p.DilationH < 0 || p.DilationW < 0 || p.PadTop < 0 || p.PadLeft < 0 || p.Groups < 0 {
		return errors.New("kernels: conv has a negative dilation, pad or group count")
	}
	if p.C%g != 0 || p.O%g != 0 {
		return fmt.Errorf("kernels: %d input and %d output channels do not split into %d groups", p.C, p.O, g)
	}
	if err := checkZero("input", p.XZero); err != nil {
		return err
	}
	if err := checkZero("output", p.YZero); err != nil {
		return err
	}
	if err := p.Out.validate(); err != nil {
		return err
	}
	if len(p.Mult) != p.O {
		return fmt.Errorf("kernels: %d multipliers for %d output channels", len(p.Mult), p.O)
	}
	for o, m := range p.Mult {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("output channel %d: %w", o, err)
		}
	}
	if err := checkLen("input", len(x), p.N, p.H, p.W, p.C); err != nil {
		return err
	}
	if err := checkLen("weight", len(w), p.O, p.KH, p.KW, p.C/g); err != nil {
		return err
	}
	if bias != nil && len(bias) != p.O {
		return fmt.Errorf("kernels: bias has %d values, want %d", len(bias), p.O)
	}
	if err := checkLen("output", len(y), p.N, p.OH, p.OW, p.O); err != nil {
		return err
	}
	return ValidateAccumulator(p.KH*p.KW*(p.C/g), MaxAbs(bias))
}

func checkZero(what string, z int32) error {
	if z < -128 || z > 127 {
		return fmt.Errorf("kernels: %s zero point %d outside [-128, 127]", what, z)
	}
	return nil
}

// checkLen checks that n equals the product of dims, without overflow.
func checkLen(what string, n int, dims ...int) error {
	want := 1
	for _, d := range dims {
		if d < 0 || (d > 0 && want > math.MaxInt/2/d) {
			return fmt.Errorf("kernels: %s dimensions %v are too large", what, dims)
		}
		want *= d
	}
	if n != want {
		return fmt.Errorf("kernels: %s has %d elements, want %d (%v)", what, n, want, dims)
	}
	return nil
}

// Rows is the number of output rows (N x OH) that the conv kernels split.
func (p *ConvParams) Rows() int { return p.N * p.OH }

// MACs returns the multiply-accumulates of the convolution:
// N x OH x OW x O x KH x KW x C/Groups.
func (p *ConvParams) MACs() int64 {
	return int64(p.N) * int64(p.OH) * int64(p.OW) * int64(p.O) * int64(p.KH) * int64(p.KW) * int64(p.C/p.groups())
}

// OutSize returns the number of positions of a window of k taps with
// dilation d sliding with stride s over n positions padded by a before and
// b after: with span = n + a + b - d(k-1) - 1, floor(span/s) + 1, or with
// ceil the ceiling, less one when that last window would start in the end
// padding (ONNX's ceil_mode). It is the one rule for convolutions and
// pools, in the compiler's shape inference and the runtime's verifier. A
// window larger than the padded input is an error.
func OutSize(n, k, s, d, a, b int, ceil bool) (int, error) {
	if n < 0 || k < 1 || s < 1 || d < 1 || a < 0 || b < 0 {
		return 0, fmt.Errorf("kernels: window of %d taps, stride %d, dilation %d, pads %d and %d over %d positions", k, s, d, a, b, n)
	}
	span := int64(n) + int64(a) + int64(b) - int64(d)*int64(k-1) - 1
	if span < 0 {
		return 0, fmt.Errorf("window %d (dilation %d) is larger than the padded input %d", k, d, int64(n)+int64(a)+int64(b))
	}
	o := span/int64(s) + 1
	if ceil && span%int64(s) != 0 {
		o++
		if (o-1)*int64(s) >= int64(n)+int64(a) {
			o--
		}
	}
	if o > math.MaxInt32 {
		return 0, fmt.Errorf("kernels: a window over %d positions gives %d outputs", n, o)
	}
	return int(o), nil
}

// Conv computes output rows [lo, hi) (of N x OH) of a grouped convolution:
//
//	y[n,oy,ox,o] = requant(bias[o] + Σ_{kh,kw,ci} (x[n,iy,ix,g*C/G+ci] - XZero) * w[o,kh,kw,ci])
//
// with g = o / (O/G), iy = oy*StrideH - PadTop + kh*DilationH and likewise ix;
// taps outside the input contribute nothing.
func Conv(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	g := p.groups()
	cpg, opg := p.C/g, p.O/g
	dh, dw := p.dil()
	zx := p.XZero
	for r := lo; r < hi; r++ {
		n, oy := r/p.OH, r%p.OH
		for ox := range p.OW {
			yo := y[((n*p.OH+oy)*p.OW+ox)*p.O:][:p.O]
			for o := range p.O {
				var acc int32
				if bias != nil {
					acc = bias[o]
				}
				c0 := (o / opg) * cpg
				for kh := range p.KH {
					iy := oy*p.StrideH - p.PadTop + kh*dh
					if iy < 0 || iy >= p.H {
						continue
					}
					for kw := range p.KW {
						ix := ox*p.StrideW - p.PadLeft + kw*dw
						if ix < 0 || ix >= p.W {
							continue
						}
						xs := x[((n*p.H+iy)*p.W+ix)*p.C+c0:][:cpg]
						ws := w[((o*p.KH+kh)*p.KW+kw)*cpg:][:cpg]
						for ci, v := range xs {
							acc += (int32(v) - zx) * int32(ws[ci])
						}
					}
				}
				yo[o] = Requantize(acc, p.Mult[o], p.YZero, p.Out.Lo, p.Out.Hi)
			}
		}
	}
}

// ValidateDepthwise checks parameters for Depthwise: Groups = C and weights
// [KH][KW][O] with O a multiple of C (output channel o reads input channel
// o / (O/C)).
func (p *ConvParams) ValidateDepthwise(x, w []int8, bias []int32, y []int8) error {
	if p == nil {
		return errors.New("kernels: nil conv parameters")
	}
	if p.groups() != p.C {
		return fmt.Errorf("kernels: depthwise conv needs groups = channels, have %d groups for %d channels", p.groups(), p.C)
	}
	// The weight length is the same for [O][KH][KW][1] and [KH][KW][O].
	return p.Validate(x, w, bias, y)
}

// Depthwise computes output rows [lo, hi) of a depthwise convolution with
// weights in [KH][KW][O] order:
//
//	y[n,oy,ox,o] = requant(bias[o] + Σ_{kh,kw} (x[n,iy,ix,o/m] - XZero) * w[kh,kw,o]),  m = O/C.
func Depthwise(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	m := p.O / p.C
	dh, dw := p.dil()
	zx := p.XZero
	var stack [scratchLen]int32
	acc := scratch32(&stack, p.O)
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
				if iy < 0 || iy >= p.H {
					continue
				}
				for kw := range p.KW {
					ix := ox*p.StrideW - p.PadLeft + kw*dw
					if ix < 0 || ix >= p.W {
						continue
					}
					xs := x[((n*p.H+iy)*p.W+ix)*p.C:][:p.C]
					ws := w[(kh*p.KW+kw)*p.O:][:p.O]
					if m == 1 {
						a := acc[:len(xs)]
						ws = ws[:len(xs)]
						for c, v := range xs {
							a[c] += (int32(v) - zx) * int32(ws[c])
						}
						continue
					}
					for o := range acc {
						acc[o] += (int32(xs[o/m]) - zx) * int32(ws[o])
					}
				}
			}
			yo := y[((n*p.OH+oy)*p.OW+ox)*p.O:][:p.O]
			for o, a := range acc {
				yo[o] = Requantize(a, p.Mult[o], p.YZero, p.Out.Lo, p.Out.Hi)
			}
		}
	}
}

// ValidatePointwise checks parameters for Pointwise: a 1x1 kernel, stride 1,
// no padding, one group, output size equal to the input size.
func (p *ConvParams) ValidatePointwise(x, w []int8, bias []int32, y []int8) error {
	if p == nil {
		return errors.New("kernels: nil conv parameters")
	}
	if p.KH != 1 || p.KW != 1 || p.StrideH != 1 || p.StrideW != 1 || p.PadTop != 0 || p.PadLeft != 0 ||
		p.groups() != 1 || p.OH != p.H || p.OW != p.W {
		return errors.New("kernels: pointwise conv needs a 1x1 kernel, stride 1, no padding, one group and OH, OW = H, W")
	}
	return p.Validate(x, w, bias, y)
}

// Pixels is the number of output pixels (N x OH x OW) that Pointwise splits.
func (p *ConvParams) Pixels() int { return p.N * p.OH * p.OW }

// Pointwise computes output pixels [lo, hi) of a 1x1 convolution, a matrix
// product of x[P][C] and w[O][C]:
//
//	y[p,o] = requant(bias[o] + Σ_c (x[p,c] - XZero) * w[o,c]).
func Pointwise(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	gemmRows(x, w, bias, y, p.C, p.O, p.XZero, p.Mult, p.YZero, p.Out, lo, hi)
}

// gemmRows computes rows [lo, hi) of y[M][N] = requant(bias + (a - za) w^T)
// with a[M][K], w[N][K].
func gemmRows(a, w []int8, bias []int32, y []int8, k, nOut int, za int32, mult []Multiplier, yz int32, out Range, lo, hi int) {
	// Per-output-channel weight sums let the zero point be applied once:
	// Σ (a - za) w = Σ a w - za Σ w, exact in int32 (wrapping intermediate
	// sums cancel because the true result fits).
	var stack [scratchLen]int32
	wsum := scratch32(&stack, nOut)
	for o := range nOut {
		var s int32
		for _, v := range w[o*k : (o+1)*k] {
			s += int32(v)
		}
		wsum[o] = s
	}
	for r := lo; r < hi; r++ {
		ar := a[r*k : (r+1)*k]
		yr := y[r*nOut : (r+1)*nOut]
		for o := range nOut {
			acc := dot(ar, w[o*k:(o+1)*k]) - za*wsum[o]
			if bias != nil {
				acc += bias[o]
			}
			yr[o] = Requantize(acc, mult[o], yz, out.Lo, out.Hi)
		}
	}
}

// dot returns Σ a[i] w[i] in int32 (len(w) >= len(a)).
func dot(a, w []int8) int32 {
	w = w[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(w[i])
		s1 += int32(a[i+1]) * int32(w[i+1])
		s2 += int32(a[i+2]) * int32(w[i+2])
		s3 += int32(a[i+3]) * int32(w[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(w[i])
	}
	return s0 + s1 + s2 + s3
}
