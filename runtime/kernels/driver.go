//go:build (amd64 || arm64) && !purego

package kernels

// Go helpers the x86-64 and ARM64 assembly drivers share (conv_amd64.go,
// conv_arm64.go, elementwise_amd64.go, elementwise_arm64.go, and the
// float32 GEMM drivers).

// im2col writes the receptive field of output pixel (n, oy, ox) to dst
// (KH x KW x C values, then zero points up to len(dst)): the rows the
// assembly variants feed their GEMM kernels for Conv.
func im2col(dst []int8, p *ConvParams, x []int8, n, oy, ox int, zx int8) {
	dh, dw := p.dil()
	c := p.C
	i := 0
	for kh := range p.KH {
		iy := oy*p.StrideH - p.PadTop + kh*dh
		ix0 := ox*p.StrideW - p.PadLeft
		if iy < 0 || iy >= p.H {
			for j := range p.KW * c {
				dst[i+j] = zx
			}
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
				for j := range c {
					dst[i+j] = zx
				}
			} else {
				copy(dst[i:i+c], row[ix*c:])
			}
			i += c
		}
	}
	for ; i < len(dst); i++ {
		dst[i] = zx
	}
}

// gapFinish completes a vectorized pool pass over channels [c0, c0+len(ys))
// of item xs (HW pixels of p.C channels): acc[:from] holds the sums of the
// first from channels; it sums the others here, then requantizes all into
// ys, as GlobalAveragePool does.
func gapFinish(p *PoolParams, xs []int8, acc []int32, from int, ys []int8) {
	for c := from; c < len(ys); c++ {
		var s int32
		for i := range p.HW {
			s += int32(xs[i*p.C+c])
		}
		acc[c] = s
	}
	zsum := int32(p.HW) * p.XZero
	for c, s := range acc[:len(ys)] {
		ys[c] = Requantize(s-zsum, p.Mult, p.YZero, p.Out.Lo, p.Out.Hi)
	}
}

// im2colF32 writes the KH*KW*C inputs of output pixel (n, oy, ox) to row,
// in (kh, kw, c) order, zeros for taps outside the input: the rows the
// float32 GEMM drivers (conv_f32_amd64.go, gemm_f32_arm64.go) feed their
// kernels for Conv.
func im2colF32(row []float32, p *ConvF32Params, x []float32, n, oy, ox int) {
	C := p.C
	dh, dw := p.dil()
	for kh := range p.KH {
		iy := oy*p.StrideH - p.PadTop + kh*dh
		for kw := range p.KW {
			ix := ox*p.StrideW - p.PadLeft + kw*dw
			dst := row[(kh*p.KW+kw)*C:][:C]
			if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
				clear(dst)
				continue
			}
			copy(dst, x[((n*p.H+iy)*p.W+ix)*C:][:C])
		}
	}
}
