//go:build !purego

package kernels

// ConvF32 on x86-64: an ungrouped convolution with DilationW = 1 is a GEMM
// of the weights [O][KH*KW*C] (the chain's k in the twin's order kh, kw,
// ci) in the GEMM layout. For the output pixels of a row whose taps are all
// inside the input, the GEMM micro-kernels read x in place: one segment per
// kernel row, the KW*C consecutive values of input row iy from column
// ox*StrideW - PadLeft, the rows StrideW*C apart. The other pixels (the
// borders) are im2col rows built in a stack buffer, +0 for the taps outside
// the input (their FMAs still run), and one segment each. Convolutions
// dilated in width, or with chains longer than the buffer, are a GEMM of
// one segment per tap (convTaps): the C values of tap (kh, kw), or zerosF32
// for a tap outside the input. Only grouped convolutions, and those with
// more taps than segments, keep the generic layout and twin.

// im2colF32Len bounds the im2col scratch (and the chain length of the fast
// path).
const im2colF32Len = 2048

// zerosF32 is what convTaps reads for the taps outside the input: never
// written. A run of pixels reads it at the stride of x, so its length
// bounds the run's pixels times StrideW*C.
var zerosF32 [64 << 10]float32

func (g *gemmF32Impl) convOK(p *ConvF32Params) bool {
	return g.rowsOK(p) || g.tapsOK(p)
}

// rowsOK: one segment per kernel row, and border pixels in the buffer.
func (g *gemmF32Impl) rowsOK(p *ConvF32Params) bool {
	_, dw := p.dil()
	return p.groups() == 1 && dw == 1 && p.KH <= maxSegF32 && p.KH*p.KW*p.C <= im2colF32Len
}

// tapsOK: one segment per tap.
func (g *gemmF32Impl) tapsOK(p *ConvF32Params) bool {
	return p.groups() == 1 && p.KH*p.KW <= maxSegF32 && p.C <= len(zerosF32)
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
	if !g.rowsOK(p) {
		g.convTaps(p, x, w, bias, y, lo, hi)
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

// convTaps computes rows [lo, hi) with one GEMM segment per tap (kh, kw),
// in the twin's chain order: the C values of x at the tap, or zerosF32 for
// a tap outside the input (whose FMAs the twin runs too). Each row is split
// into runs of pixels whose taps are inside or outside alike; a run reads
// every segment at the stride of x (StrideW*C).
func (g *gemmF32Impl) convTaps(p *ConvF32Params, x, w, bias, y []float32, lo, hi int) {
	if lo >= hi {
		return
	}
	C, O := p.C, p.O
	k := p.KH * p.KW * C
	// The assembly trusts its arguments: check every access here.
	if lo < 0 || hi > p.Rows() || len(w) < g.opad(O)*k || len(x) < p.N*p.H*p.W*C || len(y) < p.N*p.OH*p.OW*O ||
		(bias != nil && len(bias) < O) || p.KH*p.KW > maxSegF32 || C > len(zerosF32) {
		panic("kernels: conv slices too short for their parameters")
	}
	dh, dw := p.dil()
	sw := p.StrideW
	var av actF32
	av.set(p.Act)
	maxRun := (len(zerosF32)-C)/(sw*C) + 1 // pixels a zero segment can serve
	for r := lo; r < hi; r++ {
		n, oy := r/p.OH, r%p.OH
		iy0 := oy*p.StrideH - p.PadTop
		yrow := y[(n*p.OH+oy)*p.OW*O:][:p.OW*O]
		for ox := 0; ox < p.OW; {
			// The run [ox, end): no tap column crosses the input's edges.
			end := min(p.OW, ox+maxRun)
			for kw := range p.KW {
				off := kw*dw - p.PadLeft // ix = ox*sw + off
				switch ix := ox*sw + off; {
				case ix < 0: // outside on the left until ox*sw >= -off
					end = min(end, (-off+sw-1)/sw)
				case ix < p.W: // inside while ox*sw + off <= W-1
					end = min(end, (p.W-1-off)/sw+1)
				}
			}
			a := gemmF32Args{nseg: p.KH * p.KW, seglen: C, xstride: 4 * sw * C, ystride: 4 * O, act: &av, npix: end - ox}
			for kh := range p.KH {
				iy := iy0 + kh*dh
				for kw := range p.KW {
					ix := ox*sw - p.PadLeft + kw*dw
					if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
						a.seg[kh*p.KW+kw] = &zerosF32[0]
					} else {
						a.seg[kh*p.KW+kw] = &x[((n*p.H+iy)*p.W+ix)*C]
					}
				}
			}
			g.blocks(a, w, k, bias, yrow[ox*O:], O)
			ox = end
		}
	}
}
