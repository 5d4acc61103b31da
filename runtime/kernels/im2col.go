//go:build (amd64 || arm64 || arm) && !purego

package kernels

// im2col writes the receptive field of output pixel (n, oy, ox) to dst
// (KH x KW x C values, then zero points up to len(dst)): the rows the
// assembly variants (amd64, arm64, arm) feed their GEMM kernels for Conv.
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
