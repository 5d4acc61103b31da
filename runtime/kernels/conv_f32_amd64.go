//go:build !purego

package kernels

// ConvF32 on x86-64: an ungrouped convolution with DilationW = 1 is a GEMM
// of the weights [O][KH*KW*C] (the chain's k in the twin's order kh, kw,
// ci) in the GEMM layout. For the output pixels of a row whose taps are all
// inside the input, the GEMM micro-kernels read x in place: one segment per
// kernel row, the KW*C consecutive values of input row iy from column
// ox*StrideW - PadLeft, the rows StrideW*C apart. The other pixels (the
// borders) are im2col rows built in a stack buffer, +0 for the taps outside
// the input (their FMAs still run), and one segment each. Grouped or
// dilated-in-width convolutions, and chains longer than the buffer, keep
// the generic layout and twin.

// im2colF32Len bounds the im2col scratch (and the chain length of the fast
// path).
const im2colF32Len = 2048

func (g *gemmF32Impl) convOK(p *ConvF32Params) bool {
	_, dw := p.dil()
	return p.groups() == 1 && dw == 1 && p.KH <= maxSegF32 && p.KH*p.KW*p.C <= im2colF32Len
}

func (g *gemmF32Impl) packConv(p *ConvF32Params, w []float32) []float32 {
	if !g.convOK(p) {
		return w
	}
	return g.pack(w, p.O, p.KH*p.KW*p.C)
}

func (g *gemmF32Impl) conv(p *ConvF32Params, x, w, bias, y []float32, lo, hi int) {
	if !g.convOK(p) {
		ConvF32(p, x, w, bias, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	C, O := p.C, p.O
	k := p.KH * p.KW * C
	// The assembly trusts its arguments: check every access here.
	if lo < 0 || hi > p.Rows() || len(w) < g.opad(O)*k || len(x) < p.N*p.H*p.W*C || len(y) < p.N*p.OH*p.OW*O ||
		(bias != nil && len(bias) < O) {
		panic("kernels: conv slices too short for their parameters")
	}
	dh, _ := p.dil()
	var av actF32
	av.set(p.Act)
	// Output pixels [oxA, oxB) read only columns inside the input.
	oxA := (p.PadLeft + p.StrideW - 1) / p.StrideW
	oxB := 0
	if last := p.W - p.KW + p.PadLeft; last >= 0 {
		oxB = min(p.OW, last/p.StrideW+1)
	}
	oxA = min(oxA, oxB)
	var buf [im2colF32Len]float32
	chunk := im2colF32Len / k
	for r := lo; r < hi; r++ {
		n, oy := r/p.OH, r%p.OH
		iy0 := oy*p.StrideH - p.PadTop
		yrow := y[(n*p.OH+oy)*p.OW*O:][:p.OW*O]
		inside := iy0 >= 0 && iy0+(p.KH-1)*dh < p.H && oxA < oxB
		if inside {
			a := gemmF32Args{nseg: p.KH, seglen: p.KW * C, xstride: 4 * p.StrideW * C, ystride: 4 * O, act: &av, npix: oxB - oxA}
			for kh := range p.KH {
				a.seg[kh] = &x[((n*p.H+iy0+kh*dh)*p.W+oxA*p.StrideW-p.PadLeft)*C]
			}
			g.blocks(a, w, k, bias, yrow[oxA*O:], O)
		}
		// The border pixels: all of the row, or those outside [oxA, oxB).
		for ox := 0; ox < p.OW; {
			if inside && ox == oxA {
				ox = oxB
				continue
			}
			end := p.OW
			if inside && ox < oxA {
				end = oxA
			}
			end = min(end, ox+chunk)
			for q := ox; q < end; q++ {
				im2colF32(buf[(q-ox)*k:][:k], p, x, n, oy, q)
			}
			a := gemmF32Args{nseg: 1, seglen: k, xstride: 4 * k, ystride: 4 * O, act: &av, npix: end - ox}
			a.seg[0] = &buf[0]
			g.blocks(a, w, k, bias, yrow[ox*O:], O)
			ox = end
		}
	}
}
