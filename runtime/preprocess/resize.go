package preprocess

import (
	"image"
	"math"
)

// resize scales an opaque 8-bit RGBA image to w x h exactly like Pillow's
// Image.resize((w, h), Image.BILINEAR) on an RGB image (Pillow's
// Resample.c): a separable triangle filter whose support grows with the
// downscale factor (antialiasing), horizontal pass first, coefficients
// normalized in float64 then quantized to 22-bit fixed point, each pass
// rounded and clipped to 8 bits. An axis whose size does not change is not
// resampled.
//
// golang.org/x/image/draw's BiLinear.Scale computes the same filter weights
// but in float64 throughout; it agrees within one 8-bit level, yet Pillow's
// fixed-point coefficients break the frequent exact .5 ties of the first pass
// either way, so it disagrees on about 0.6% of the values of a typical
// 512x600 -> 224x224 resize. Replicating the fixed-point arithmetic (a few
// dozen lines) makes the output bit-identical, which the tests check against
// Pillow; TestResizeMatchesXImage keeps draw.BiLinear as an independent
// cross-check.
func resize(src *image.RGBA, w, h int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if sw != w {
		src = resamplePass(src, w, sh, true)
	}
	if sh != h {
		src = resamplePass(src, w, h, false)
	}
	return src
}

// precisionBits is Pillow's PRECISION_BITS for 8-bit resampling.
const precisionBits = 32 - 8 - 2

// filterCoeffs is Pillow's precompute_coeffs + normalize_coeffs_8bpc for
// the bilinear filter: output pixel i reads n[i] input pixels starting at
// start[i] with weights k[i*ksize:][:n[i]].
type filterCoeffs struct {
	ksize    int
	start, n []int
	k        []int32
}

func bilinearCoeffs(inSize, outSize int) filterCoeffs {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1)
	support := 1.0 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := filterCoeffs{
		ksize: ksize,
		start: make([]int, outSize),
		n:     make([]int, outSize),
		k:     make([]int32, outSize*ksize),
	}
	w := make([]float64, ksize)
	ss := 1.0 / filterscale
	for xx := range outSize {
		// Explicit float64 conversions keep each operation separately
		// rounded, as in C (Go could otherwise fuse a multiply-add).
		center := float64((float64(xx) + 0.5) * scale)
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		ww := 0.0
		for x := range xmax {
			t := math.Abs(float64((float64(x+xmin) - center + 0.5) * ss))
			w[x] = 0
			if t < 1 {
				w[x] = 1 - t
			}
			ww += w[x]
		}
		for x := range xmax {
			if ww != 0 {
				w[x] /= ww
			}
			// All weights are >= 0: Pillow's (int)(0.5 + w * 2^22).
			c.k[xx*ksize+x] = int32(0.5 + float64(w[x]*(1<<precisionBits)))
		}
		c.start[xx], c.n[xx] = xmin, xmax
	}
	return c
}

// resamplePass resamples src to w x h along one axis (horizontal: width
// changes, else height changes) with Pillow's 8-bit fixed-point arithmetic.
func resamplePass(src *image.RGBA, w, h int, horizontal bool) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	var c filterCoeffs
	step := 4 // distance between consecutive taps in src.Pix
	if horizontal {
		c = bilinearCoeffs(src.Rect.Dx(), w)
	} else {
		c = bilinearCoeffs(src.Rect.Dy(), h)
		step = src.Stride
	}
	for y := range h {
		for x := range w {
			var base, o int
			if horizontal {
				o = x
				base = y*src.Stride + 4*c.start[o]
			} else {
				o = y
				base = c.start[o]*src.Stride + 4*x
			}
			k := c.k[o*c.ksize : o*c.ksize+c.n[o]]
			var s0, s1, s2 int32 = 1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1)
			for i, kv := range k {
				p := src.Pix[base+i*step : base+i*step+3]
				s0 += int32(p[0]) * kv
				s1 += int32(p[1]) * kv
				s2 += int32(p[2]) * kv
			}
			d := dst.Pix[y*dst.Stride+4*x : y*dst.Stride+4*x+4]
			d[0], d[1], d[2], d[3] = clip8(s0), clip8(s1), clip8(s2), 0xff
		}
	}
	return dst
}

func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
