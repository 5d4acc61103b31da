package kernels

import (
	"errors"
	"fmt"
	"math"
)

// Bilinear resizing of NHWC tensors (DeepLabV3's upsampling): one generic
// Go kernel per precision, the same on every Set (there is no assembly
// twin), shared by the runtime and quant's int8 reference interpreter.

// MaxResize bounds the output height and width of a resize (ir's bound).
const MaxResize = 1 << 16

// ResizeSource maps output index d of an axis resized from in to out to
// the two input indices it samples and the weight f of the second, by
// the coordinate rule (ir.ResizeAttrs states it, and its Source calls this
// function, so ir/interp and the runtime sample alike):
//
//   - alignCorners: x = d*((in-1)/(out-1)), and x = 0 when out = 1;
//   - halfPixel: x = max((d+0.5)*(in/out) - 0.5, 0);
//   - neither: x = d*(in/out);
//
// each quotient and product rounded to float64 (no fused multiply-add),
// x0 = min(floor(x), in-1), x1 = min(x0+1, in-1), f = x - x0.
func ResizeSource(d, in, out int, alignCorners, halfPixel bool) (x0, x1 int, f float64) {
	var x float64
	switch {
	case alignCorners:
		if out > 1 {
			x = float64(float64(d) * (float64(in-1) / float64(out-1)))
		}
	case halfPixel:
		x = max(float64((float64(d)+0.5)*(float64(in)/float64(out)))-0.5, 0)
	default:
		x = float64(float64(d) * (float64(in) / float64(out)))
	}
	x0 = min(int(math.Floor(x)), in-1)
	x1 = min(x0+1, in-1)
	return x0, x1, x - float64(x0)
}

// ResizeFrac is the number of fractional bits of the int8 kernel's
// coordinates and weights (TFLite's ResizeBilinearInteger has 10 too).
const ResizeFrac = 10

// ResizeSource10 is the int8 kernel's coordinate rule, in fixed point with
// ResizeFrac fractional bits (one = 2^10): the scale is
// scale10 = round_half_up(2^10 * num/den), exactly in integers, where
// num/den is (in-1)/(out-1) with alignCorners and out > 1, else in/out;
// the output index d samples s = d*scale10, minus 2^9 - scale10/2
// (integer halving) with halfPixel; x0 = min(max(floor(s/2^10), 0), in-1),
// x1 = min(x0+1, in-1), and the weight of x1 is w1 = clamp(s - x0*2^10, 0,
// 2^10), that of x0 is 2^10 - w1. This is TFLite's rule except for the
// scale (TFLite rounds a float32 quotient) and the clamps, which TFLite
// lacks (it can read past the edge when the scale rounds up).
func ResizeSource10(d, in, out int, alignCorners, halfPixel bool) (x0, x1 int, w1 int64) {
	num, den := int64(in), int64(out)
	if alignCorners && out > 1 {
		num, den = int64(in-1), int64(out-1)
	}
	const one = 1 << ResizeFrac
	scale := (2*one*num + den) / (2 * den)
	s := int64(d) * scale
	if halfPixel {
		s += scale/2 - one/2
	}
	x0 = int(min(max(floorDiv(s, one), 0), int64(in-1)))
	x1 = min(x0+1, in-1)
	w1 = min(max(s-int64(x0)*one, 0), one)
	if x1 == x0 {
		w1 = 0
	}
	return x0, x1, w1
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// resizeTap is one output coordinate: the two input indices (scaled by
// the stride of their axis) and the weight of the second.
type resizeTap struct {
	i0, i1 int
	f      float64 // float32 kernel
	w1     int64   // int8 kernel, of 2^ResizeFrac
}

// ResizeParams describes a bilinear resize of x[N][H][W][C] to
// y[N][OH][OW][C]; NewResizeParams derives the taps of both axes.
type ResizeParams struct {
	N, H, W, C, OH, OW int
	AlignCorners       bool
	HalfPixel          bool
	ys, xs             []resizeTap
}

// NewResizeParams checks the geometry (positive sizes, outputs of at most
// MaxResize a side, at most 2^31 elements either side, not both rules)
// and computes the taps.
func NewResizeParams(n, h, w, c, oh, ow int, alignCorners, halfPixel bool) (ResizeParams, error) {
	if n < 1 || h < 1 || w < 1 || c < 1 || oh < 1 || ow < 1 {
		return ResizeParams{}, fmt.Errorf("kernels: resize of [%d %d %d %d] to %dx%d: sizes must be positive", n, h, w, c, oh, ow)
	}
	if oh > MaxResize || ow > MaxResize || h > 1<<30 || w > 1<<30 {
		return ResizeParams{}, fmt.Errorf("kernels: resize of %dx%d to %dx%d: sides are at most %d out, 2^30 in", h, w, oh, ow, MaxResize)
	}
	const lim = 1 << 31
	if int64(n)*int64(c) > lim || int64(n)*int64(c)*int64(h)*int64(w) > lim || int64(n)*int64(c)*int64(oh)*int64(ow) > lim {
		return ResizeParams{}, fmt.Errorf("kernels: resize of [%d %d %d %d] to %dx%d: more than 2^31 elements", n, h, w, c, oh, ow)
	}
	if alignCorners && halfPixel {
		return ResizeParams{}, errors.New("kernels: resize with both align_corners and half_pixel_centers")
	}
	p := ResizeParams{N: n, H: h, W: w, C: c, OH: oh, OW: ow, AlignCorners: alignCorners, HalfPixel: halfPixel}
	p.ys, p.xs = p.taps(h, oh, w*c), p.taps(w, ow, c)
	return p, nil
}

// taps computes the taps of one axis for both kernels; indices are scaled
// by stride.
func (p *ResizeParams) taps(in, out, stride int) []resizeTap {
	t := make([]resizeTap, 2*out)
	for d := range out {
		x0, x1, f := ResizeSource(d, in, out, p.AlignCorners, p.HalfPixel)
		t[d] = resizeTap{i0: x0 * stride, i1: x1 * stride, f: f}
		q0, q1, w1 := ResizeSource10(d, in, out, p.AlignCorners, p.HalfPixel)
		t[out+d] = resizeTap{i0: q0 * stride, i1: q1 * stride, w1: w1}
	}
	return t
}

// Validate checks the lengths of x and y and that p was made by
// NewResizeParams.
func (p *ResizeParams) Validate(nx, ny int) error {
	if len(p.ys) != 2*p.OH || len(p.xs) != 2*p.OW {
		return errors.New("kernels: resize parameters not made by NewResizeParams")
	}
	if nx != p.N*p.H*p.W*p.C || ny != p.N*p.OH*p.OW*p.C {
		return fmt.Errorf("kernels: resize of [%d %d %d %d] to %dx%d given %d and %d elements", p.N, p.H, p.W, p.C, p.OH, p.OW, nx, ny)
	}
	return nil
}

// ResizeBilinearF32 computes output rows [lo, hi) (of N*OH) of the
// resize of x into y, by ResizeSource's coordinates: y = (1-fy)*top +
// fy*bot with top = (1-fx)*x[y0,x0] + fx*x[y0,x1] and bot likewise on
// row y1, in float64 with every product rounded (no fused multiply-add),
// stored as float32: ir/interp's ResizeBilinear, bit for bit.
func ResizeBilinearF32(p *ResizeParams, x, y []float32, lo, hi int) {
	c, ow := p.C, p.OW
	xs := p.xs[:ow]
	for r := lo; r < hi; r++ {
		b, oy := r/p.OH, r%p.OH
		ty := p.ys[oy]
		base := b * p.H * p.W * c
		row0, row1 := x[base+ty.i0:], x[base+ty.i1:]
		dst := y[r*ow*c : (r+1)*ow*c]
		fy := ty.f
		for ox, tx := range xs {
			fx := tx.f
			d := dst[ox*c : ox*c+c]
			a0, a1 := row0[tx.i0:tx.i0+c], row0[tx.i1:tx.i1+c]
			b0, b1 := row1[tx.i0:tx.i0+c], row1[tx.i1:tx.i1+c]
			a0, a1, b0, b1 = a0[:len(d)], a1[:len(d)], b0[:len(d)], b1[:len(d)] // no bounds checks below
			for ch := range d {
				d[ch] = lerp2(a0[ch], a1[ch], b0[ch], b1[ch], fx, fy)
			}
		}
	}
}

// ResizeBilinearI8 computes output rows [lo, hi) (of N*OH) of the resize
// of the int8 codes x into y (the output has x's scale and zero point),
// by ResizeSource10's coordinates: v = Σ q*wy*wx over the four taps (the
// weights of an axis in [0, 2^10] summing to 2^10, so |v| <= 2^27: exact
// in int32, in any order), y = RoundShift(v, 20) (round to nearest, ties
// toward +infinity, the package's rule; TFLite rounds ties away from
// zero), in [-128, 127] without a clamp: v is a weighted sum of codes
// whose weights sum to 2^20. Rows of at most resizeRow values are
// interpolated vertically first, once per output row, then horizontally
// (the same integer sum); a 1x1 input is copied (its sums are q*2^20).
// Generic Go on every Set.
func ResizeBilinearI8(p *ResizeParams, x, y []int8, lo, hi int) {
	const one = 1 << ResizeFrac
	const half = 1 << (2*ResizeFrac - 1)
	c, ow := p.C, p.OW
	xs := p.xs[ow:]
	if p.H == 1 && p.W == 1 { // every sum is q*2^20: a broadcast
		for r := lo; r < hi; r++ {
			src := x[r/p.OH*c : r/p.OH*c+c]
			dst := y[r*ow*c : (r+1)*ow*c]
			for ox := range ow {
				copy(dst[ox*c:ox*c+c], src)
			}
		}
		return
	}
	var buf [resizeRow]int32
	for r := lo; r < hi; r++ {
		b, oy := r/p.OH, r%p.OH
		ty := p.ys[p.OH+oy]
		base := b * p.H * p.W * c
		row0, row1 := x[base+ty.i0:], x[base+ty.i1:]
		dst := y[r*ow*c : (r+1)*ow*c]
		wy1 := int32(ty.w1)
		wy0 := one - wy1
		if wc := p.W * c; wc <= resizeRow {
			col := buf[:wc]
			r0, r1 := row0[:wc], row1[:wc]
			for i := range col {
				col[i] = int32(r0[i])*wy0 + int32(r1[i])*wy1
			}
			for ox, tx := range xs {
				wx1 := int32(tx.w1)
				wx0 := one - wx1
				d := dst[ox*c : ox*c+c]
				c0, c1 := col[tx.i0:tx.i0+c], col[tx.i1:tx.i1+c]
				c0, c1 = c0[:len(d)], c1[:len(d)] // no bounds checks below
				for ch := range d {
					v := c0[ch]*wx0 + c1[ch]*wx1
					d[ch] = int8((v + half) >> (2 * ResizeFrac)) // in [-128, 127]: the weights sum to 2^20
				}
			}
			continue
		}
		for ox, tx := range xs {
			wx1 := int32(tx.w1)
			wx0 := one - wx1
			w00, w01, w10, w11 := wy0*wx0, wy0*wx1, wy1*wx0, wy1*wx1
			d := dst[ox*c : ox*c+c]
			a0, a1 := row0[tx.i0:tx.i0+c], row0[tx.i1:tx.i1+c]
			b0, b1 := row1[tx.i0:tx.i0+c], row1[tx.i1:tx.i1+c]
			a0, a1, b0, b1 = a0[:len(d)], a1[:len(d)], b0[:len(d)], b1[:len(d)] // no bounds checks below
			for ch := range d {
				v := sum4(a0[ch], a1[ch], b0[ch], b1[ch], w00, w01, w10, w11)
				d[ch] = int8((v + half) >> (2 * ResizeFrac)) // in [-128, 127]: the weights sum to 2^20
			}
		}
	}
}

// lerp2 is the float kernels' sample: (1-fy)*top + fy*bot, top = (1-fx)*a0
// + fx*a1 and bot likewise of b0, b1, in float64 with every product
// rounded (no fused multiply-add), as float32.
func lerp2(a0, a1, b0, b1 float32, fx, fy float64) float32 {
	top := float64((1-fx)*float64(a0)) + float64(fx*float64(a1))
	bot := float64((1-fx)*float64(b0)) + float64(fx*float64(b1))
	return float32(float64((1-fy)*top) + float64(fy*bot))
}

// sum4 is the int8 kernels' interpolation sum of four codes by their
// weights (the products of the two axes'), exact in int32.
func sum4(a0, a1, b0, b1 int8, w00, w01, w10, w11 int32) int32 {
	return int32(a0)*w00 + int32(a1)*w01 + int32(b0)*w10 + int32(b1)*w11
}

// resizeRow is the longest input row (W*C values) ResizeBilinearI8
// interpolates vertically first, in a buffer on the stack.
const resizeRow = 2048

// ResizeArgMaxF32 writes, for output rows [lo, hi) (of N*OH), into y
// [N*OH*OW] the ArgMax over the channels (ArgMax's rule: the first largest,
// NaN never, 0 when all are NaN) of the values ResizeBilinearF32 stores
// (the same float64 expression, rounded to float32): the two ops fused
// (ir.ArgMaxAttrs.Resize), without storing the resized tensor.
//
// Pixels are walked by blocks (argMaxBlocks). A pixel's index is sure
// when it is larger than every other channel's value by more than 4E, E =
// max(2^-23 M, 2^-148), M the largest magnitude of the four input pixels'
// values (no NaN or infinity among them): the stored value of every
// channel is within E of the exact bilinear interpolation of the four (the
// float32 rounding, 2^-24 relative or 2^-150 among subnormals, and
// float64's, far smaller; the weights are at most 1), so the exact interpolations differ by more than 2E at the
// corners, hence everywhere between them, and the stored values still
// order the same way there.
func ResizeArgMaxF32(p *ResizeParams, x []float32, y []int32, lo, hi int) {
	c := p.C
	p.argMaxBlocks(y, lo, hi, p.ys[:p.OH], p.xs[:p.OW], func(base int, ty, tx resizeTap) (int32, bool) {
		row0, row1 := x[base+ty.i0:], x[base+ty.i1:]
		fx, fy := tx.f, ty.f
		a0, a1 := row0[tx.i0:tx.i0+c], row0[tx.i1:tx.i1+c]
		b0, b1 := row1[tx.i0:tx.i0+c], row1[tx.i1:tx.i1+c]
		a1, b0, b1 = a1[:len(a0)], b0[:len(a0)], b1[:len(a0)] // no bounds checks below
		best, second := -1, float32(math.Inf(-1))
		var top float32
		var mag float32 // the largest magnitude (NaN if any is NaN)
		finite := true
		for ch := range a0 {
			mag = max(mag, abs32(a0[ch]), abs32(a1[ch]), abs32(b0[ch]), abs32(b1[ch]))
			v := lerp2(a0[ch], a1[ch], b0[ch], b1[ch], fx, fy)
			if v != v { // NaN
				finite = false
				continue
			}
			switch {
			case best < 0:
				best, top = ch, v
			case v > top:
				second = top
				best, top = ch, v
			default:
				second = max(second, v)
			}
		}
		if best < 0 {
			return 0, false
		}
		e := max(float64(mag)*0x1p-23, 0x1p-148) // float32's rounding error is at least 2^-150 absolute
		return int32(best), finite && e < math.Inf(1) && float64(top)-float64(second) > 4*e
	})
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// ResizeArgMaxI8 writes, for output rows [lo, hi), the ArgMax over the
// channels of the int8 resize's interpolations before rounding: the sums
// v = Σ q*wy*wx of ResizeBilinearI8 (exact in int32), the first largest
// winning. Where ResizeBilinearI8's rounding makes two channels' codes
// equal, the exact sums still tell them apart. Pixels are walked by blocks
// (argMaxBlocks); every index is sure, the sums being exactly bilinear.
func ResizeArgMaxI8(p *ResizeParams, x []int8, y []int32, lo, hi int) {
	p.argMaxBlocks(y, lo, hi, p.ys[p.OH:], p.xs[p.OW:], func(base int, ty, tx resizeTap) (int32, bool) {
		return p.argMaxAt(x[base:], ty, tx), true
	})
}

// argMaxBlocks writes the fused kernels' indices of output rows [lo, hi)
// into y, given at, the index of one output pixel (base: its item's first
// input element; ty, tx: its taps in ys and xs) and whether it is sure.
//
// The index is that of every pixel computed on its own, but most pixels
// are not: the output pixels between the same two input rows and the same
// two input columns form a block whose values are, per channel, a
// bilinear function of the pixel's weights (exactly for int8; within an
// error bound for float32, which a sure index allows for), and the weights
// grow with the pixel's index, so the block's four corner pixels hold the
// extremes of both. A difference of two channels' values is bilinear too,
// and a bilinear function that is positive (or not negative) at the four
// corners of a rectangle is so inside it. So when one channel is surely
// the first largest at the four corners, it is at every pixel of the
// block (larger than every earlier channel, not smaller than any later
// one), and the block is filled. Otherwise each of its rows gets the same
// test on its two end pixels (the values are linear along a row), and a
// row that fails it is split in two at its middle pixel, recursively
// (span).
func (p *ResizeParams) argMaxBlocks(y []int32, lo, hi int, ys, xs []resizeTap, at func(base int, ty, tx resizeTap) (int32, bool)) {
	ow := p.OW
	same := func(a, b resizeTap) bool { return a.i0 == b.i0 && a.i1 == b.i1 }
	for r := lo; r < hi; {
		b, oy := r/p.OH, r%p.OH
		re := r + 1 // rows [r, re): one item, one pair of input rows
		for re < hi && re/p.OH == b && same(ys[re%p.OH], ys[oy]) {
			re++
		}
		base := b * p.H * p.W * p.C
		px := func(row, ox int) (int32, bool) { return at(base, ys[row%p.OH], xs[ox]) }
		for ca := 0; ca < ow; {
			cb := ca + 1 // columns [ca, cb): one pair of input columns
			for cb < ow && same(xs[cb], xs[ca]) {
				cb++
			}
			if (re-r)*(cb-ca) > 4 && p.uniform(px, r, re-1, ca, cb-1) {
				k, _ := px(r, ca)
				for row := r; row < re; row++ {
					fill(y[row*ow+ca:row*ow+cb], k)
				}
				ca = cb
				continue
			}
			for row := r; row < re; row++ {
				dst := y[row*ow : (row+1)*ow]
				k0, s0 := px(row, ca)
				dst[ca] = k0
				if cb-ca == 1 {
					continue
				}
				k1, s1 := px(row, cb-1)
				dst[cb-1] = k1
				span(dst, ca, cb-1, k0, k1, s0, s1, func(ox int) (int32, bool) { return px(row, ox) })
			}
			ca = cb
		}
		r = re
	}
}

// uniform reports whether the corners (r0, c0), (r0, c1), (r1, c0) and
// (r1, c1) of a block have one sure index.
func (p *ResizeParams) uniform(px func(row, ox int) (int32, bool), r0, r1, c0, c1 int) bool {
	k, sure := px(r0, c0)
	for _, c := range [3][2]int{{r0, c1}, {r1, c0}, {r1, c1}} {
		if !sure {
			return false
		}
		var kc int32
		kc, sure = px(c[0], c[1])
		if kc != k {
			return false
		}
	}
	return sure
}

// span fills d(a, b) between pixels a and b of one row of a block, whose
// indices ka and kb (sure: sa and sb) are known, by the row's test: equal
// sure ends fill it, else its middle pixel is computed (at) and both
// halves are done likewise.
func span(d []int32, a, b int, ka, kb int32, sa, sb bool, at func(int) (int32, bool)) {
	for b-a > 1 {
		if ka == kb && sa && sb {
			fill(d[a+1:b], ka)
			return
		}
		m := (a + b) / 2
		km, sm := at(m)
		d[m] = km
		span(d, a, m, ka, km, sa, sm, at)
		a, ka, sa = m, km, sm
	}
}

// argMaxAt is ResizeArgMaxI8's index of one output pixel, whose taps are ty
// and tx, in the item x.
func (p *ResizeParams) argMaxAt(x []int8, ty, tx resizeTap) int32 {
	const one = 1 << ResizeFrac
	c := p.C
	wy1, wx1 := int32(ty.w1), int32(tx.w1)
	wy0, wx0 := one-wy1, one-wx1
	w00, w01, w10, w11 := wy0*wx0, wy0*wx1, wy1*wx0, wy1*wx1
	row0, row1 := x[ty.i0:], x[ty.i1:]
	a0, a1 := row0[tx.i0:tx.i0+c], row0[tx.i1:tx.i1+c]
	b0, b1 := row1[tx.i0:tx.i0+c], row1[tx.i1:tx.i1+c]
	a1, b0, b1 = a1[:len(a0)], b0[:len(a0)], b1[:len(a0)] // no bounds checks below
	best, top := 0, sum4(a0[0], a1[0], b0[0], b1[0], w00, w01, w10, w11)
	for ch := 1; ch < len(a0); ch++ {
		v := sum4(a0[ch], a1[ch], b0[ch], b1[ch], w00, w01, w10, w11)
		if v > top { // conditional moves
			best = ch
		}
		top = max(top, v)
	}
	return int32(best)
}

func fill(d []int32, k int32) {
	for i := range d {
		d[i] = k
	}
}
