//go:build (amd64 || arm64) && !purego

package kernels

// Go helpers the x86-64 and ARM64 assembly drivers share (conv_amd64.go,
// conv_arm64.go, elementwise_amd64.go, elementwise_arm64.go, and the
// float32 GEMM drivers).

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
