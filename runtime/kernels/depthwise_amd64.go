//go:build !purego

package kernels

// The depthwise row kernels (depthwise_amd64.s, written by asmgen.go). Each
// computes one output row (for every channel in blocks) of a depthwise
// convolution with a kh x kw window (3x3 or 5x5), any stride, dilation and
// padding, from packed weights (depthwise layout, pack.go):
//
//	for ox := range a.ow:
//		for c := range channels:
//			acc := corr[c] + Σ_{kh,kw} xq(tap(kh, kw)[c]) * w[kh][kw][c]
//			y[ox*C + c] = requant(acc)                      // the epilogue of epilogue.go
//
// where tap(kh, kw) is input pixel ox*s + kwoff[kw] of row rows[kh], or the
// zero-point vector zx when that row is padding (rowMask[kh] = 0) or the
// column falls outside [0, win). As for the GEMM kernels, xq(v) = v + 128
// (VPDPBUSD, groups of 4 taps per lane, 32-channel blocks) with corr = bias -
// (zx+128) Σ w for VNNI, and xq(v) = v (VPMADDWD on pairs of taps, 16-channel
// blocks) with corr = bias - zx Σ w for AVX2. The generic twin is Depthwise.

// dwArgs is what the row kernels read; keep the offsets in sync with
// asmgen.go (TestDwArgsLayout checks them).
type dwArgs struct {
	rows    [5]*int8 // per kernel row: the input row (pixel 0, first channel of the chunk), or zx
	rowMask [5]int   // -1 if rows[kh] is an input row, 0 if it is padding
	kwoff   [5]int   // per kernel column: kw*DilationW - PadLeft, in pixels
	zx      *int8    // the input zero point, one byte per channel of the chunk
	w       *int8    // packed weights of the chunk's first block
	y       *int8    // the output row (pixel 0, first channel of the chunk)
	e       *epiBlock
	s       int // StrideW
	win     int // input width
	c       int // channels: the pixel stride of x and y, in bytes
	ow      int // output pixels
	oxA     int // [oxA, oxB): output pixels whose taps are all inside the input
	oxB     int
	nblk    int // channel blocks in the chunk
	tail    int // VNNI: byte mask of the last block's channels; AVX2: 1 if the last block is 8 wide
	flags   int
	ox0     int // first output pixel to compute ([ox0, ow))
}

//go:noescape
func dwVNNI3x3(a *dwArgs)

//go:noescape
func dwVNNI5x5(a *dwArgs)

//go:noescape
func dwAVX2x3x3(a *dwArgs)

//go:noescape
func dwAVX2x5x5(a *dwArgs)

// dwVNNI3x3s1 and dwVNNI3x3s2 compute the same as dwVNNI3x3, for stride 1
// and 2, dilation 1 and output pixels [ox0, ow): per channel block, each
// input column of the three kernel rows (zx outside the input) is
// byte-interleaved once into registers and reused by every output pixel
// that reads it.
//
//go:noescape
func dwVNNI3x3s1(a *dwArgs)

//go:noescape
func dwVNNI3x3s2(a *dwArgs)

// dwVNNI512x3s1 and dwVNNI512x3s2 are dwVNNI3x3s1 and dwVNNI3x3s2 on
// 64-channel blocks in 512-bit registers (the layout with bw = 64).
//
//go:noescape
func dwVNNI512x3s1(a *dwArgs)

//go:noescape
func dwVNNI512x3s2(a *dwArgs)

// dwImpl is one family of depthwise row kernels.
type dwImpl struct {
	vnni     bool
	bw, g    int   // block width and taps per lane of the layout
	zoff     int32 // added to the input zero point in the correction
	minAlign int   // channels must be a multiple of it (AVX2: 8)
	// narrow, when set, is the family a layer goes to unless the 512-bit
	// column kernels take it (impl): bw is then 64.
	narrow *dwImpl
}

var (
	dwVNNI    = &dwImpl{vnni: true, bw: 32, g: 4, zoff: 128, minAlign: 1}
	dwVNNI512 = &dwImpl{vnni: true, bw: 64, g: 4, zoff: 128, minAlign: 1, narrow: dwVNNI}
	dwAVX2    = &dwImpl{vnni: false, bw: 16, g: 2, zoff: 0, minAlign: 8}
)

// colKernel reports whether the column kernels (VNNI, 3x3, dilation 1
// along the width, stride 1 or 2 along it) compute p.
func colKernel(p *ConvParams) bool {
	_, dw := p.dil()
	return p.O == p.C && p.KH == 3 && p.KW == 3 && dw == 1 && (p.StrideW == 1 || p.StrideW == 2)
}

// impl returns the family that computes p: im, or im.narrow for the
// layers the 512-bit column kernels do not take, and for those of fewer
// than 192 channels, where the 256-bit ones are as fast or faster (a
// 32-channel layer fills half of each 64-channel block).
func (im *dwImpl) impl(p *ConvParams) *dwImpl {
	if im.narrow != nil && (!colKernel(p) || p.C < 192) {
		return im.narrow
	}
	return im
}

// dwChunk bounds the channels one pass handles (the stack scratch).
const dwChunk = 512

// fast reports whether p has a row kernel; if not, the weights stay in the
// generic layout and the generic twin runs.
func (im *dwImpl) fast(p *ConvParams) bool {
	return p.O == p.C && p.C%im.minAlign == 0 && p.KH == p.KW && (p.KH == 3 || p.KH == 5)
}

// kernel calls the row kernel (directly, so that a does not escape).
func (im *dwImpl) kernel(k int, a *dwArgs) {
	switch {
	case im.vnni && k == 3:
		dwVNNI3x3(a)
	case im.vnni:
		dwVNNI5x5(a)
	case k == 3:
		dwAVX2x3x3(a)
	default:
		dwAVX2x5x5(a)
	}
}

func (im *dwImpl) pack(p *ConvParams, w []int8) []int8 {
	im = im.impl(p)
	if !im.fast(p) {
		return w
	}
	return packDepthwise(w, p.KH, p.KW, p.C, im.bw, im.g)
}

func (im *dwImpl) run(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	im = im.impl(p)
	if !im.fast(p) {
		Depthwise(p, x, w, bias, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	C := p.C
	l := dwLayout{c: C, taps: p.KH * p.KW, bw: im.bw, g: im.g, slots: dwSlots(im.g, p.KH, p.KW)}
	if len(w) < l.size() || len(x) < p.N*p.H*p.W*C || len(y) < p.N*p.OH*p.OW*C || hi > p.Rows() ||
		len(p.Mult) < C || (bias != nil && len(bias) < C) {
		panic("kernels: depthwise slices too short for their parameters")
	}
	dh, dw := p.dil()
	var a dwArgs
	a.s, a.win, a.c, a.ow = p.StrideW, p.W, C, p.OW
	for kw := range p.KW {
		a.kwoff[kw] = kw*dw - p.PadLeft
	}
	// Interior pixels: ox*s + kwoff[0] >= 0 and ox*s + kwoff[KW-1] < W.
	oxA := 0
	if k0 := a.kwoff[0]; k0 < 0 {
		oxA = (-k0 + a.s - 1) / a.s
	}
	oxB := -1
	if last := p.W - 1 - a.kwoff[p.KW-1]; last >= 0 {
		oxB = last / a.s
	}
	oxB = min(oxB+1, p.OW)
	oxA = min(oxA, oxB)

	// The column kernels: VNNI, 3x3, dilation 1, stride 1 or 2.
	col := im.vnni && colKernel(p)
	var zx [dwChunk]int8
	var eb [dwChunk / 16]epiBlock
	eo := newEpiOut(p.YZero, p.Out)
	for i := range zx {
		zx[i] = int8(p.XZero)
	}
	for c0 := 0; c0 < C; c0 += dwChunk {
		cw := min(dwChunk, C-c0)
		nblk := (cw + im.bw - 1) / im.bw
		flags := 0
		var lanes [16]int
		zc := p.XZero + im.zoff
		for b := range nblk {
			cb := c0 + b*im.bw
			for half := range im.bw / 16 {
				e := &eb[b*im.bw/16+half]
				switch {
				case im.bw == 32 && cb+32 <= C:
					e.out = eo
					g := [4]int{cb, cb + 16, cb + 4, cb + 20}
					if half == 1 {
						g = [4]int{cb + 8, cb + 24, cb + 12, cb + 28}
					}
					flags |= e.fillGroups(p.Mult, bias, w, l.wsumOff(), zc, g)
				case im.bw == 64 && cb+64 <= C:
					e.out = eo
					h := 4 * half // epiBlock half serves accumulator half: channels h+16k..h+16k+3
					flags |= e.fillGroups(p.Mult, bias, w, l.wsumOff(), zc, [4]int{cb + h, cb + 16 + h, cb + 32 + h, cb + 48 + h})
				case im.bw == 16 && cb+16 <= C:
					e.out = eo
					flags |= e.fillGroups(p.Mult, bias, w, l.wsumOff(), zc, [4]int{cb, cb + 8, cb + 4, cb + 12})
				case im.bw == 16 && cb+8 == C:
					e.out = eo
					flags |= e.fillGroups(p.Mult, bias, w, l.wsumOff(), zc, [4]int{cb, cb, cb + 4, cb + 4})
				default:
					vl := l.vl()
					for i := range 16 {
						j, lane := half*16/vl+i/vl, i%vl
						ch := cb + l.ch(j, lane)
						if ch >= C {
							ch = -1
						}
						lanes[i] = ch
					}
					flags |= e.fillLanes(&lanes, p.Mult, bias, w, l.wsumOff(), zc, p.YZero, p.Out)
				}
			}
		}
		a.zx, a.e, a.nblk, a.flags = &zx[0], &eb[0], nblk, flags
		a.w = &w[(c0/im.bw)*l.blockBytes()]
		if im.bw >= 32 {
			a.tail = -1
			if r := cw % im.bw; r != 0 {
				a.tail = 1<<r - 1
			}
		} else {
			a.tail = 0
			if cw%16 != 0 {
				a.tail = 1
			}
		}
		for r := lo; r < hi; r++ {
			n, oy := r/p.OH, r%p.OH
			all := true
			for kh := range p.KH {
				iy := oy*p.StrideH - p.PadTop + kh*dh
				if iy >= 0 && iy < p.H {
					a.rows[kh], a.rowMask[kh] = &x[(n*p.H+iy)*p.W*C+c0], -1
				} else {
					a.rows[kh], a.rowMask[kh] = &zx[0], 0
					all = false
				}
			}
			a.y = &y[(n*p.OH+oy)*p.OW*C+c0]
			if col {
				a.ox0, a.ow = 0, p.OW
				switch {
				case im.bw == 64 && a.s == 1:
					dwVNNI512x3s1(&a)
				case im.bw == 64:
					dwVNNI512x3s2(&a)
				case a.s == 1:
					dwVNNI3x3s1(&a)
				default:
					dwVNNI3x3s2(&a)
				}
				continue
			}
			a.oxA, a.oxB = oxA, oxB
			if !all {
				a.oxA, a.oxB = 0, 0
			}
			a.ox0, a.ow = 0, p.OW
			im.kernel(p.KH, &a)
		}
	}
}
