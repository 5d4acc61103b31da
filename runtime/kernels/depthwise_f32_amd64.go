//go:build !purego

package kernels

// The float32 depthwise row kernels (depthwise_f32_amd64.s, written by
// asmgen_f32.go), for a k x k window (3x3 or 5x5: the number in the name)
// and vectors of VL channels (AVX2: 8, AVX-512: 16). Each computes a.npix
// consecutive output pixels of a.nrows output rows:
//
//	for v := range a.nvec:                       // channels c = v*VL + lane
//		for j := range a.nrows:
//			for i := range a.npix:
//				acc := a.bias[c] (+0 if a.bias is nil)
//				for t := range k*k:                  // kh, kw row-major
//					xv := +0
//					if a.valid&(1<<t) != 0:          // strides in bytes:
//						xv = *(a.taps[t] + j*a.xrow + i*a.xstep + 4*c)
//					acc = FMA32(xv, w[v][t][lane], acc)
//				*(a.y + j*a.yrow + i*a.ystep + 4*c) = act(acc)  // a.act, actF32
//
// a.taps[t] points at the input pixel that tap t of the first output pixel
// reads (any pointer when its bit of a.valid is clear: padding taps are
// FMAs of +0, as the float rule says, never skipped). On AVX-512 the last
// vector's channels are the opmask a.mask (loads and stores under it); on
// AVX2 C is a multiple of 8. Pixels run in groups of 8 (AVX-512 3x3), 4
// (AVX2 3x3, AVX-512 5x5) or 8 (AVX2 5x5) accumulators, with the weights
// of the vector in registers (except AVX2 5x5: loaded per tap). The
// generic twin is DepthwiseF32. The vector loop is outermost so that a
// vector's column slice of the input rows stays in L1 from row to row.
//
// The *s1 kernels compute the same for stride 1 and dilation 1 over
// interior pixels only (every column of the window inside the input, so
// that a kernel row is valid or padding as a whole: the bit of its first
// tap) and whole vectors (no opmask: the caller runs a partial last vector
// in the general kernel): per kernel row, the npix+k-1 input columns of a
// group of pixels are loaded once and each feeds the k FMAs that read it,
// in the same order of taps; groups of 12 pixels on AVX-512, 5 (3x3) or 4
// (5x5) on AVX2, the weights loaded per tap.

//go:noescape
func dwF32AVX2x3(a *dwF32Args)

//go:noescape
func dwF32AVX2x5(a *dwF32Args)

//go:noescape
func dwF32Z3(a *dwF32Args)

//go:noescape
func dwF32Z5(a *dwF32Args)

//go:noescape
func dwF32AVX2x3s1(a *dwF32Args)

//go:noescape
func dwF32AVX2x5s1(a *dwF32Args)

//go:noescape
func dwF32Z3s1(a *dwF32Args)

//go:noescape
func dwF32Z5s1(a *dwF32Args)

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
	nrows int
	xrow  int
	yrow  int
	_     [3]int // the kernels' scratch
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

// dwF32BandBytes bounds the input bytes of the rows one depthwise call
// computes: the kernels run vector by vector over the rows, which keeps a
// vector's columns in L1 while the rows' lines stay in L2.
const dwF32BandBytes = 256 << 10

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

// call runs the kernel for a k x k window; col selects the stride-1
// column kernels (interior pixels only).
func (d *dwF32Impl) call(k int, col bool, a *dwF32Args) {
	switch {
	case col && d.evex && k == 3:
		dwF32Z3s1(a)
	case col && d.evex:
		dwF32Z5s1(a)
	case col && k == 3:
		dwF32AVX2x3s1(a)
	case col:
		dwF32AVX2x5s1(a)
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
	a := dwF32Args{xstep: 4 * p.StrideW * C, ystep: 4 * C, act: &av}
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
	col := p.StrideW == 1 && dw == 1
	// Rows per call: as many as keep their input (per vector pass) in L2.
	maxRows := max(1, dwF32BandBytes/(4*p.StrideH*p.W*C))
	a.xrow, a.yrow = 4*p.StrideH*p.W*C, 4*p.OW*C
	var rowOK [5]bool
	for r := lo; r < hi; {
		n, oy := r/p.OH, r%p.OH
		inside := true
		for kh := range K {
			iy := oy*p.StrideH - p.PadTop + kh*dh
			rowOK[kh] = iy >= 0 && iy < p.H
			inside = inside && rowOK[kh]
		}
		// A run of rows of one image whose kernel rows are all inside
		// the input takes one call per column range; others one each.
		nrows := 1
		if inside {
			for r+nrows < hi && (r+nrows)/p.OH == n && nrows < maxRows {
				oy1 := (r + nrows) % p.OH
				if oy1*p.StrideH-p.PadTop+(K-1)*dh >= p.H {
					break
				}
				nrows++
			}
		}
		a.nrows = nrows
		yrow := ((n*p.OH + oy) * p.OW) * C
		// One call per run of interior pixels, one per border pixel.
		for ox := 0; ox < p.OW; {
			npix := 1
			if ox == oxA && oxA < oxB {
				npix = oxB - oxA
			}
			a.valid = 0
			var at [25]int // element offsets of the taps (-1: outside)
			for kh := range K {
				iy := oy*p.StrideH - p.PadTop + kh*dh
				for kw := range K {
					t := kh*K + kw
					ix := ox*p.StrideW + kwoff[kw]
					at[t] = -1
					if rowOK[kh] && ix >= 0 && ix < p.W {
						at[t] = ((n*p.H+iy)*p.W + ix) * C
						a.valid |= 1 << t
					}
				}
			}
			// The column kernels load whole vectors: a partial last
			// vector runs in the general kernel, under its mask.
			cols := 0
			if col && npix > 1 {
				cols = nv
				if C%d.vl != 0 {
					cols--
				}
			}
			for _, part := range [2][2]int{{0, cols}, {cols, nv}} {
				if part[0] == part[1] {
					continue
				}
				c0 := part[0] * d.vl
				for t := range K * K {
					a.taps[t] = &x[0]
					if at[t] >= 0 {
						a.taps[t] = &x[at[t]+c0]
					}
				}
				a.w, a.y, a.npix, a.nvec = &w[part[0]*K*K*d.vl], &y[yrow+ox*C+c0], npix, part[1]-part[0]
				a.bias = nil
				if bias != nil {
					a.bias = &bias[c0]
				}
				a.mask = 0xffff
				if part[1] == nv {
					a.mask = 1<<(C-(nv-1)*d.vl) - 1
				}
				d.call(K, part[0] == 0 && cols > 0, &a)
			}
			ox += npix
		}
		r += nrows
	}
}
