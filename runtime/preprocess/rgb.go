package preprocess

import (
	"image"
	"image/color"
)

// toRGB converts img to an opaque 8-bit *image.RGBA with origin (0, 0),
// following PIL's convert("RGB") (see Tensor).
func toRGB(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	set := func(x, y int, r, g, bl uint8) {
		i := y*dst.Stride + 4*x
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = r, g, bl, 0xff
	}
	switch m := img.(type) {
	case *image.NYCbCrA:
		return toRGB(&m.YCbCr) // drop alpha
	case *image.YCbCr:
		ycbcrToRGB(dst, m)
	case *image.Gray:
		for y := range h {
			row := m.Pix[(y)*m.Stride:]
			for x := range w {
				v := row[x]
				set(x, y, v, v, v)
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride:]
			for x := range w {
				set(x, y, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.RGBA: // PNG RGB and BMP decode to it
		for y := range h {
			row := m.Pix[y*m.Stride:]
			for x := range w {
				if p := row[4*x : 4*x+4 : 4*x+4]; p[3] == 0xff { // opaque: premultiplied is straight
					set(x, y, p[0], p[1], p[2])
				} else {
					p := straightRGB(m.RGBAAt(b.Min.X+x, b.Min.Y+y))
					set(x, y, p[0], p[1], p[2])
				}
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range m.Palette {
			lut[i] = straightRGB(c)
		}
		for y := range h {
			row := m.Pix[y*m.Stride:]
			for x := range w {
				p := lut[row[x]]
				set(x, y, p[0], p[1], p[2])
			}
		}
	default:
		// Generic path, covering RGBA64, NRGBA64,
		// Gray16, CMYK.
		for y := range h {
			for x := range w {
				p := straightRGB(img.At(b.Min.X+x, b.Min.Y+y))
				set(x, y, p[0], p[1], p[2])
			}
		}
	}
	return dst
}

// straightRGB returns the non-premultiplied 8-bit RGB of c, keeping the high
// byte of 16-bit samples. Colors that are already non-premultiplied are read
// directly, so that their RGB survives even at alpha 0 (PIL keeps it too).
func straightRGB(c color.Color) [3]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]uint8{c.R, c.G, c.B}
	case color.NRGBA64:
		return [3]uint8{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8)}
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return [3]uint8{uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)}
}

// ycbcrToRGB converts a YCbCr image (a decoded JPEG or lossy WebP) to RGB
// the way libjpeg(-turbo), and hence PIL, does by default: chroma planes
// subsampled 2x horizontally and/or vertically are upsampled with libjpeg's
// "fancy" triangle filter (jdsample.c), and the color conversion uses
// libjpeg's fixed-point tables (jdcolor.c). Other subsampling ratios, and
// sub-images not anchored at (0, 0), replicate chroma samples.
func ycbcrToRGB(dst *image.RGBA, m *image.YCbCr) {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	hf, vf := 1, 1 // chroma subsampling factors
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hf = 2
	case image.YCbCrSubsampleRatio420:
		hf, vf = 2, 2
	case image.YCbCrSubsampleRatio440:
		vf = 2
	}
	cw, ch := (w+hf-1)/hf, (h+vf-1)/vf
	fancy := b.Min == image.Point{} && (hf > 1 || vf > 1)
	if hf > 1 && cw <= 2 {
		// libjpeg falls back to replication for narrow planes, except in
		// the vertical-only (4:4:0) case.
		fancy = false
	}
	if !fancy {
		for y := range h {
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := jpegYCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i := y*dst.Stride + 4*x
				dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = r, g, bl, 0xff
			}
		}
		return
	}
	// Upsampled chroma rows and the vertical blend (column sums) buffers.
	cb := make([]uint8, hf*cw)
	cr := make([]uint8, hf*cw)
	sumB := make([]int32, cw)
	sumR := make([]int32, cw)
	for y := range h {
		inrow := y / vf
		src := func(p []uint8, row int) []uint8 { return p[row*m.CStride : row*m.CStride+cw] }
		if vf == 2 {
			// Blend the nearest chroma row (weight 3) with the next nearest
			// (weight 1); rows beyond the edges replicate the edge row.
			nb := inrow - 1
			if y%2 == 1 {
				nb = inrow + 1
			}
			nb = min(max(nb, 0), ch-1)
			b0, b1 := src(m.Cb, inrow), src(m.Cb, nb)
			r0, r1 := src(m.Cr, inrow), src(m.Cr, nb)
			for c := range cw {
				sumB[c] = 3*int32(b0[c]) + int32(b1[c])
				sumR[c] = 3*int32(r0[c]) + int32(r1[c])
			}
		} else {
			b0, r0 := src(m.Cb, inrow), src(m.Cr, inrow)
			for c := range cw {
				sumB[c], sumR[c] = int32(b0[c]), int32(r0[c])
			}
		}
		switch {
		case hf == 2 && vf == 2: // h2v2_fancy_upsample
			h2Fancy(cb, sumB, 4, 8, 7)
			h2Fancy(cr, sumR, 4, 8, 7)
		case hf == 2: // h2v1_fancy_upsample
			h2Fancy(cb, sumB, 2, 1, 2)
			h2Fancy(cr, sumR, 2, 1, 2)
		default: // h1v2_fancy_upsample
			bias := int32(1)
			if y%2 == 1 {
				bias = 2
			}
			for c := range cw {
				cb[c] = uint8((sumB[c] + bias) >> 2)
				cr[c] = uint8((sumR[c] + bias) >> 2)
			}
		}
		yrow := m.Y[y*m.YStride:]
		drow := dst.Pix[y*dst.Stride:]
		for x := range w {
			r, g, bl := jpegYCbCrToRGB(yrow[x], cb[x], cr[x])
			drow[4*x], drow[4*x+1], drow[4*x+2], drow[4*x+3] = r, g, bl, 0xff
		}
	}
}

// h2Fancy doubles a row of chroma (column sums scaled by 2^(shift-2)... see
// libjpeg's h2v1/h2v2_fancy_upsample): each output sample is 3/4 of the
// nearest input plus 1/4 of the next nearest, with libjpeg's alternating
// rounding biases; the first and last outputs copy the edge input.
func h2Fancy(out []uint8, sum []int32, shift uint, biasL, biasR int32) {
	n := len(sum)
	// Edges: libjpeg writes in*4 (h2v2: colsum*4) with the bias of that side,
	// which equals the edge value for h2v1 (shift 2, in*4 >> 2).
	out[0] = uint8((sum[0]*4 + biasL) >> shift)
	for c := range n {
		if c > 0 {
			out[2*c] = uint8((3*sum[c] + sum[c-1] + biasL) >> shift)
		}
		if c < n-1 {
			out[2*c+1] = uint8((3*sum[c] + sum[c+1] + biasR) >> shift)
		}
	}
	out[2*n-1] = uint8((sum[n-1]*4 + biasR) >> shift)
}

// libjpeg's YCbCr -> RGB tables (jdcolor.c build_ycc_rgb_table).
var jpegCrR, jpegCbB, jpegCrG, jpegCbG [256]int32

func init() {
	const scaleBits = 16
	const oneHalf = 1 << (scaleBits - 1)
	fix := func(x float64) int32 { return int32(float64(x*(1<<scaleBits)) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		jpegCrR[i] = (fix(1.40200)*x + oneHalf) >> scaleBits
		jpegCbB[i] = (fix(1.77200)*x + oneHalf) >> scaleBits
		jpegCrG[i] = -fix(0.71414) * x
		jpegCbG[i] = -fix(0.34414)*x + oneHalf
	}
}

func jpegYCbCrToRGB(y, cb, cr uint8) (r, g, b uint8) {
	yy := int32(y)
	return clamp8(yy + jpegCrR[cr]), clamp8(yy + (jpegCbG[cb]+jpegCrG[cr])>>16), clamp8(yy + jpegCbB[cb])
}

func clamp8(v int32) uint8 {
	return uint8(min(max(v, 0), 255))
}
