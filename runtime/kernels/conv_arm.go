//go:build !purego

package kernels

// Conv on 32-bit ARM ("neon32"): an ungrouped convolution is a GEMM of
// im2col rows (KH x KW x C values per output pixel, padded with the input
// zero point up to the kernel's read length kread) with the weights
// [O][KH*KW*C] packed by packNeon32, as on ARM64 (conv_arm64.go). The rows
// are built in a stack buffer, a chunk of output pixels at a time; grouped
// convolutions, and windows too large for the buffer, keep the generic
// layout and twin.

// neon32Im2colBytes bounds the im2col scratch of one chunk.
const neon32Im2colBytes = 16 << 10

func convOKNeon32(p *ConvParams) bool {
	return p.groups() == 1 && newNeon32Layout(p.O, p.KH*p.KW*p.C).kread <= neon32Im2colBytes
}

func packConvNeon32(p *ConvParams, w []int8) []int8 {
	if !convOKNeon32(p) {
		return w
	}
	return packNeon32(w, p.O, p.KH*p.KW*p.C)
}

func convNeon32(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	if !convOKNeon32(p) {
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
	kp := newNeon32Layout(p.O, k).kread
	var buf [neon32Im2colBytes]int8
	chunk := neon32Im2colBytes / kp
	zx := int8(p.XZero)
	// Pixels (n, oy, ox) flattened: [lo*OW, hi*OW).
	for q0 := lo * p.OW; q0 < hi*p.OW; q0 += chunk {
		q1 := min(q0+chunk, hi*p.OW)
		for q := q0; q < q1; q++ {
			r, ox := q/p.OW, q%p.OW
			im2colNeon32(buf[(q-q0)*kp:][:kp], p, x, r/p.OH, r%p.OH, ox, zx)
		}
		runNeon32(buf[:(q1-q0)*kp], kp, k, w, bias, y[q0*p.O:], p.O, p.XZero, p.Mult, p.YZero, p.Out, 0, q1-q0)
	}
}

// im2colNeon32 writes the receptive field of output pixel (n, oy, ox) to
// dst (KH x KW x C values, then zero points up to len(dst)). It is
// driver.go's im2col, which that file builds for amd64 and arm64 only.
func im2colNeon32(dst []int8, p *ConvParams, x []int8, n, oy, ox int, zx int8) {
	dh, dw := p.dil()
	c := p.C
	i := 0
	fill := func(d []int8) {
		for j := range d {
			d[j] = zx
		}
	}
	for kh := range p.KH {
		iy := oy*p.StrideH - p.PadTop + kh*dh
		ix0 := ox*p.StrideW - p.PadLeft
		if iy < 0 || iy >= p.H {
			fill(dst[i : i+p.KW*c])
			i += p.KW * c
			continue
		}
		row := x[(n*p.H+iy)*p.W*c : (n*p.H+iy+1)*p.W*c]
		if dw == 1 && ix0 >= 0 && ix0+p.KW <= p.W {
			i += copy(dst[i:i+p.KW*c], row[ix0*c:])
			continue
		}
		for kw := range p.KW {
			if ix := ix0 + kw*dw; ix < 0 || ix >= p.W {
				fill(dst[i : i+c])
			} else {
				copy(dst[i:i+c], row[ix*c:])
			}
			i += c
		}
	}
	fill(dst[i:])
}
