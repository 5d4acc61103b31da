//go:build !purego

package kernels

// Conv on ARM64: an ungrouped convolution is a GEMM of im2col rows (KH x KW
// x C values per output pixel, padded with the input zero point up to the
// kernel's read length kread) with the weights [O][KH*KW*C] packed by pack.
// The rows are built in a stack buffer, a chunk of output pixels at a time;
// grouped convolutions, and windows too large for the buffer, keep the
// generic layout and twin.

// armIm2colBytes bounds the im2col scratch of one chunk.
const armIm2colBytes = 16 << 10

func (im *armImpl) convOK(p *ConvParams) bool {
	return p.groups() == 1 && im.layout(p.O, p.KH*p.KW*p.C).kread <= armIm2colBytes
}

func (im *armImpl) packConv(p *ConvParams, w []int8) []int8 {
	if !im.convOK(p) {
		return w
	}
	return im.pack(w, p.O, p.KH*p.KW*p.C)
}

func (im *armImpl) conv(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	if !im.convOK(p) {
		Conv(p, x, w, bias, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	if len(x) < p.N*p.H*p.W*p.C || len(y) < p.N*p.OH*p.OW*p.O || lo < 0 || hi > p.Rows() {
		panic("kernels: conv slices too short for their parameters")
	}
	k := p.KH * p.KW * p.C
	kp := im.layout(p.O, k).kread
	var buf [armIm2colBytes]int8
	chunk := armIm2colBytes / kp
	zx := int8(p.XZero)
	// Pixels (n, oy, ox) flattened: [lo*OW, hi*OW).
	for q0 := lo * p.OW; q0 < hi*p.OW; q0 += chunk {
		q1 := min(q0+chunk, hi*p.OW)
		for q := q0; q < q1; q++ {
			r, ox := q/p.OW, q%p.OW
			im2colARM(buf[(q-q0)*kp:][:kp], p, x, r/p.OH, r%p.OH, ox, zx)
		}
		im.run(buf[:(q1-q0)*kp], kp, k, w, bias, y[q0*p.O:], p.O, p.XZero, p.Mult, p.YZero, p.Out, 0, q1-q0)
	}
}

// im2colARM writes the receptive field of output pixel (n, oy, ox) to dst
// (KH x KW x C values, then zero points up to len(dst)).
func im2colARM(dst []int8, p *ConvParams, x []int8, n, oy, ox int, zx int8) {
	dh, dw := p.dil()
	c := p.C
	i := 0
	for kh := range p.KH {
		iy := oy*p.StrideH - p.PadTop + kh*dh
		ix0 := ox*p.StrideW - p.PadLeft
		if iy < 0 || iy >= p.H {
			fill8(dst[i:i+p.KW*c], zx)
			i += p.KW * c
			continue
		}
		row := x[(n*p.H+iy)*p.W*c : (n*p.H+iy+1)*p.W*c]
		if dw == 1 && ix0 >= 0 && ix0+p.KW <= p.W {
			i += copy(dst[i:i+p.KW*c], row[ix0*c:])
			continue
		}
		for kw := range p.KW {
			ix := ix0 + kw*dw
			if ix < 0 || ix >= p.W {
				fill8(dst[i:i+c], zx)
			} else {
				copy(dst[i:i+c], row[ix*c:])
			}
			i += c
		}
	}
	fill8(dst[i:], zx)
}

func fill8(b []int8, v int8) {
	for i := range b {
		b[i] = v
	}
}
