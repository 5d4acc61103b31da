package preprocess

import (
	"github.com/mncdev/mnc/runtime/kernels"
	"image"
)

// linearTaps are one axis of torch's bilinear upsampling
// (upsample_bilinear2d on CPU, align_corners=False, no scale factor given):
// for each output index the two input indices and their weights.
type linearTaps struct {
	i0, i1 []int
	w0, w1 []float32
}

// bilinearTaps is PyTorch 1.13's index and weight computation for
// upsample_bilinear2d on CPU (align_corners=False, no scale factor given),
// as measured against torch: the scale input/output in float32; the source
// index scale*(d + 0.5) - 0.5 in double, clamped at 0; the indices its
// truncation and the next (the last index repeated); the weights
// l1 = float32(clamp(src - i0, 0, 1)) (the difference in double) and
// l0 = 1 - l1 in float32. Equal sizes copy.
func bilinearTaps(in, out int) linearTaps {
	t := linearTaps{make([]int, out), make([]int, out), make([]float32, out), make([]float32, out)}
	scale := float32(in) / float32(out)
	for d := range out {
		if in == out {
			t.i0[d], t.i1[d], t.w0[d], t.w1[d] = d, d, 1, 0
			continue
		}
		src := float64(float64(scale)*(float64(d)+0.5)) - 0.5
		if src < 0 {
			src = 0
		}
		i0 := int(src)
		i1 := i0
		if i0 < in-1 {
			i1++
		}
		l1 := float32(min(max(src-float64(i0), 0), 1))
		t.i0[d], t.i1[d], t.w0[d], t.w1[d] = i0, i1, 1-l1, l1
	}
	return t
}

// interpolate writes the H x W tensor of torchvision's detection transform
// for src: each pixel converted by lut (ToTensor, Normalize; network
// channel c reads RGB channel c, or 2-c with bgr), then resized by torch's
// bilinear interpolation, each output
// (x[y0,x0] w0 + x[y0,x1] w1) h0 + (x[y1,x0] w0 + x[y1,x1] w1) h1 in float32,
// operation by operation, as PyTorch's generic CPU kernel sums them.
func interpolate(src *image.RGBA, lut *[3][256]float32, bgr bool, H, W int, dst []float32) error {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	ty, tx := bilinearTaps(sh, H), bilinearTaps(sw, W)
	plane := H * W
	for c := range 3 {
		rc := c
		if bgr {
			rc = 2 - c
		}
		l := &lut[c]
		at := func(y, x int) float32 { return l[src.Pix[y*src.Stride+4*x+rc]] }
		for y := range H {
			y0, y1, h0, h1 := ty.i0[y], ty.i1[y], ty.w0[y], ty.w1[y]
			row := dst[c*plane+y*W : c*plane+(y+1)*W]
			for x := range W {
				x0, x1, w0, w1 := tx.i0[x], tx.i1[x], tx.w0[x], tx.w1[x]
				t0 := kernels.FMA32(at(y0, x0), w0, float32(at(y0, x1)*w1))
				t1 := kernels.FMA32(at(y1, x0), w0, float32(at(y1, x1)*w1))
				row[x] = kernels.FMA32(t0, h0, float32(t1*h1))
			}
		}
	}
	return nil
}
