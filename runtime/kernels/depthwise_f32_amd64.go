//go:build !purego

package kernels

// The float32 depthwise row kernels (depthwise_f32_amd64.s, written by
// asmgen_f32.go), for a k x k window (3x3 or 5x5: the number in the name)
// and vectors of VL channels (AVX2: 8, AVX-512: 16). Each computes a.npix
// consecutive output pixels of one output row:
//
//	for v := range a.nvec:                       // channels c = v*VL + lane
//		for i := range a.npix:
//			acc := a.bias[c] (+0 if a.bias is nil)
//			for t := range k*k:                      // kh, kw row-major
//				xv := +0
//				if a.valid&(1<<t) != 0:
//					xv = *(a.taps[t] + i*a.xstep + 4*c)  // strides in bytes
//				acc = FMA32(xv, w[v][t][lane], acc)
//			*(a.y + i*a.ystep + 4*c) = act(acc)      // a.act, actF32
//
// a.taps[t] points at the input pixel that tap t of the first output pixel
// reads (any pointer when its bit of a.valid is clear: padding taps are
// FMAs of +0, as the float rule says, never skipped). On AVX-512 the last
// vector's channels are the opmask a.mask (loads and stores under it); on
// AVX2 C is a multiple of 8. Pixels run in groups of 8 (AVX-512 3x3), 4
// (AVX2 3x3, AVX-512 5x5) or 8 (AVX2 5x5) accumulators, with the weights
// of the vector in registers (except AVX2 5x5: loaded per tap). The
// generic twin is DepthwiseF32.

//go:noescape
func dwF32AVX2x3(a *dwF32Args)

//go:noescape
func dwF32AVX2x5(a *dwF32Args)

//go:noescape
func dwF32Z3(a *dwF32Args)

//go:noescape
func dwF32Z5(a *dwF32Args)

// dwF32Args is what the depthwise row kernels read; keep the offsets in
// sync with asmgen_f32.go (TestF32ArgsLayout checks them).
type dwF32Args struct {
	taps  [25]*float32
	valid int
	w     *float32
	bias  *float32
	y     *float32
	xstep int
	ystep int
	npix  int
	nvec  int
	mask  int
	act   *actF32
}

// dwF32Impl is one family of float32 depthwise row kernels.
type dwF32Impl struct {
	evex bool
	vl   int // channels per vector
}

var (
	dwF32AVX2 = &dwF32Impl{evex: false, vl: 8}
	dwF32Z    = &dwF32Impl{evex: true, vl: 16}
)

// fast reports whether p has a row kernel: one output channel per input
// channel, a 3x3 or 5x5 window (any stride, dilation and padding), and on
// AVX2 a multiple of 8 channels. Otherwise the weights keep the generic
// layout and the twin runs.
func (d *dwF32Impl) fast(p *ConvF32Params) bool {
	return p.O == p.C && p.KH == p.KW && (p.KH == 3 || p.KH == 5) && (d.evex || p.C%8 == 0)
}

func (d *dwF32Impl) nvec(c int) int { return (c + d.vl - 1) / d.vl }

// pack packs w[T][C] (T = KH*KW taps) as [nvec][T][VL]: per vector of VL
// channels, the taps' weights in order, +0 past C.
func (d *dwF32Impl) pack(p *ConvF32Params, w []float32) []float32 {
	if !d.fast(p) {
		return w
	}
	taps, c := p.KH*p.KW, p.C
	out := make([]float32, d.nvec(c)*taps*d.vl)
	for t := range taps {
		for ch, v := range w[t*c:][:c] {
			out[(ch/d.vl*taps+t)*d.vl+ch%d.vl] = v
		}
	}
	return out
}

func (d *dwF32Impl) call(k int, a *dwF32Args) {
	switch {
	case d.evex && k == 3:
		dwF32Z3(a)
	case d.evex:
		dwF32Z5(a)
	case k == 3:
		dwF32AVX2x3(a)
	default:
		dwF32AVX2x5(a)
	}
}

func (d *dwF32Impl) run(p *ConvF32Params, x, w, bias, y []float32, lo, hi int) {
	if !d.fast(p) {
		DepthwiseF32(p, x, w, bias, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	C, K := p.C, p.KH
	nv := d.nvec(C)
	// The assembly trusts its arguments: check every access here.
	if lo < 0 || hi > p.Rows() || len(w) < nv*K*K*d.vl || len(x) < p.N*p.H*p.W*C || len(y) < p.N*p.OH*p.OW*C ||
		(bias != nil && len(bias) < C) {
		panic("kernels: depthwise slices too short for their parameters")
	}
	dh, dw := p.dil()
	var av actF32
	av.set(p.Act)
	a := dwF32Args{w: &w[0], xstep: 4 * p.StrideW * C, ystep: 4 * C, nvec: nv, act: &av}
	if bias != nil {
		a.bias = &bias[0]
	}
	a.mask = 1<<(C-(nv-1)*d.vl) - 1
	// Output pixels [oxA, oxB) read only columns inside the input.
	var kwoff [5]int
	for kw := range K {
		kwoff[kw] = kw*dw - p.PadLeft
	}
	oxA := 0
	if kwoff[0] < 0 {
		oxA = (-kwoff[0] + p.StrideW - 1) / p.StrideW
	}
	oxB := 0
	if last := p.W - 1 - kwoff[K-1]; last >= 0 {
		oxB = min(p.OW, last/p.StrideW+1)
	}
	oxA = min(oxA, oxB)
	var rowOK [5]bool
	var rowOff [5]int // element offset of input row iy in x
	for r := lo; r < hi; r++ {
		n, oy := r/p.OH, r%p.OH
		for kh := range K {
			iy := oy*p.StrideH - p.PadTop + kh*dh
			rowOK[kh] = iy >= 0 && iy < p.H
			rowOff[kh] = (n*p.H + iy) * p.W * C
		}
		yrow := ((n*p.OH + oy) * p.OW) * C
		// One call per run of interior pixels, one per border pixel.
		for ox := 0; ox < p.OW; {
			npix := 1
			if ox == oxA && oxA < oxB {
				npix = oxB - oxA
			}
			a.valid = 0
			for kh := range K {
				for kw := range K {
					t := kh*K + kw
					ix := ox*p.StrideW + kwoff[kw]
					a.taps[t] = &x[0]
					if rowOK[kh] && ix >= 0 && ix < p.W {
						a.taps[t] = &x[rowOff[kh]+ix*C]
						a.valid |= 1 << t
					}
				}
			}
			a.y, a.npix = &y[yrow+ox*C], npix
			d.call(K, &a)
			ox += npix
		}
	}
}
