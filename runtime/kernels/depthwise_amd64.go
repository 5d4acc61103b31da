//go:build !purego

package kernels

import (
	"slices"
	"sync"
	"unsafe"
)

// epiShift is an epiBlock flag of the x86 depthwise kernels (without
// epiClamp; the flat kernels set it): apply L but not B, as every channel's
// accumulator is known to be below 2^(S-2) in magnitude (and S >= 22), so
// that acc << L does not overflow and the clamp to [-B, B] changes no
// output (a clamped accumulator saturates the output, and so does an
// unclamped one: |acc M / 2^S| >= 2^(S-21) 2^30 / 2^S = 512).
const epiShift = 2

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
//
// The 512-bit Set (dwVNNI512.impl) also has kernels that read padded input
// rows offset by 128 once per row into a small cache (dwXorRow,
// dwSplitRow), so that no load needs a border test or an XOR: the flat
// kernels (dwFlat3, dwFlat3x2, dwFlat5, dwFlatT5) work on 64-byte vectors
// of the flat output row whatever C (small and odd channel counts fill
// every lane), and dwColPair512 computes two output rows per interleaved
// column. Their epiBlocks are cached per layer (epiFor).

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
	ox0     int       // first output pixel to compute ([ox0, ow))
	y2      *int8     // dwFlat3x2: the second output row
	tp      [25]*int8 // dwFlatT3, dwFlatT5: per tap, the byte output byte 0 reads
}

//go:noescape
func dwVNNI3x3(a *dwArgs)

//go:noescape
func dwVNNI5x5(a *dwArgs)

// dwVNNI512x5x5 is dwVNNI5x5 on 64-channel blocks in 512-bit registers
// (the layout with bw = 64).
//
//go:noescape
func dwVNNI512x5x5(a *dwArgs)

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

// dwFlat3 and dwFlat5 compute output bytes [ox0*C, ox0*C + 64*nblk) of
// one row (the last vector's bytes masked by a.tail) of a 3x3 and a 5x5
// depthwise convolution of stride 1 and dilation 1 along the width, on the
// flat row: 64 bytes per vector whatever C, the channel of byte f being
// f mod C, so that the weights (packFlat) and epiBlocks (4 per vector)
// repeat with a period of a.oxA vectors. rows[kh] are padded input rows
// offset by 128 (runFlat): byte f of the output reads byte
// f + (kwoff[0] + ox0 + kw)*C of each, and every such read is inside it.
//
//go:noescape
func dwFlat3(a *dwArgs)

//go:noescape
func dwFlat5(a *dwArgs)

// dwFlat3x2 is dwFlat3 for two output rows at once, y and y2 (the row
// below, for a stride and dilation of 1 along the height): rows[0..3] are
// the 4 input rows the two read, interleaved together once for both, with
// the pair weights of packFlat.
//
//go:noescape
func dwFlat3x2(a *dwArgs)

// dwFlatT5 is dwFlat5 with ox0 = 0 and tap t
// (kh*KW + kw) of output byte f at a.tp[t] + f: for stride 2, rows split
// into even and odd (padded) pixels (dwSplitRow), where the taps of
// consecutive output pixels are consecutive again.
//
//go:noescape
func dwFlatT5(a *dwArgs)

// dwSplitRow copies the n pixels of c bytes of src, offset by 128: pixel i
// to e + (q/2)*c if q = q0 + i is even, else to o + (q/2)*c; mask is
// 1<<r - 1 (r = (c-1)%64 + 1), or -1 for r = 64.
//
//go:noescape
func dwSplitRow(e, o, src *int8, n, c, q0, mask int)

// dwXorRow sets dst[i] = src[i] ^ 0x80 (= src[i] + 128 as a byte) for i in
// [0, n).
//
//go:noescape
func dwXorRow(dst, src *int8, n int)

// dwImpl is one family of depthwise row kernels.
type dwImpl struct {
	vnni     bool
	bw, g    int   // block width and taps per lane of the layout
	zoff     int32 // added to the input zero point in the correction
	minAlign int   // channels must be a multiple of it (AVX2: 8)
	// narrow, when set, is the family a layer goes to unless the 512-bit
	// column kernels take it (impl): bw is then 64.
	narrow *dwImpl
	// flat, when set, is the family of the layers the flat kernels take
	// (flatTakes); isFlat marks that family: the bw = 32 layout for the
	// border pixels and padded rows after the flat weights.
	flat   *dwImpl
	isFlat bool
	// pair, when set, is the family of the layers of the 512-bit column
	// kernels of stride and dilation 1 (dwColPair512); isPair marks it.
	pair   *dwImpl
	isPair bool
}

var (
	dwVNNI    = &dwImpl{vnni: true, bw: 32, g: 4, zoff: 128, minAlign: 1}
	dwFlat    = &dwImpl{vnni: true, bw: 32, g: 4, zoff: 128, minAlign: 1, isFlat: true}
	dwPair    = &dwImpl{vnni: true, bw: 64, g: 4, zoff: 128, minAlign: 1, isPair: true}
	dwVNNI512 = &dwImpl{vnni: true, bw: 64, g: 4, zoff: 128, minAlign: 1, narrow: dwVNNI, flat: dwFlat, pair: dwPair}
	dwAVX2    = &dwImpl{vnni: false, bw: 16, g: 2, zoff: 0, minAlign: 8}
)

// colKernel reports whether the column kernels (VNNI, 3x3, dilation 1
// along the width, stride 1 or 2 along it) compute p.
func colKernel(p *ConvParams) bool {
	_, dw := p.dil()
	return p.O == p.C && p.KH == 3 && p.KW == 3 && dw == 1 && (p.StrideW == 1 || p.StrideW == 2)
}

// impl returns the family that computes p: im; for the 512-bit family,
// the 512-bit column kernels (3x3; of stride and dilation 1, the pair
// kernel dwColPair512: 28x28x192 47-52 -> 54-60 GMAC/s, 14x14x184 35-39 ->
// 46-51) or row kernel (5x5 of stride 2) when
// its 64-channel blocks are at least 90% full (vnni512 112x112x64 3x3 s2:
// 34 -> 44 GMAC/s, 14x14x184 s1: 30 -> 34 against the 256-bit ones;
// 14x14x672 5x5 s2: 46 against 40 for the flat kernel), else the flat
// kernels when they take p, else the column kernels from 192 channels, the
// 512-bit row kernel for 5x5, else im.narrow (a 96-channel layer of stride
// 2 fills 3/4 of its blocks, and the 256-bit kernels are faster: 33
// against 28 GMAC/s at 112x112, and 35 against 31 for the flat kernel).
func (im *dwImpl) impl(p *ConvParams) *dwImpl {
	if im.narrow == nil {
		return im
	}
	col := colKernel(p)
	full := 10*p.C >= 9*((p.C+63)/64*64)
	k5 := p.KH == 5 && p.KW == 5
	dh, _ := p.dil()
	// The pair kernel computes a last single row with a scratch second row:
	// not for few rows of odd count (7x7x960: 39 against 35 GMAC/s).
	pair := col && p.StrideW == 1 && p.StrideH == 1 && dh == 1 && im.pair != nil && (p.OH%2 == 0 || p.OH >= 14)
	switch {
	case pair && full:
		return im.pair
	case col && full, k5 && p.StrideW == 2 && full:
		return im
	case im.flat != nil && flatTakes(p):
		return im.flat
	case pair && p.C >= 192:
		return im.pair
	case col && p.C >= 192, k5 && full:
		return im
	}
	return im.narrow
}

// flatMaxPeriod bounds the period (in vectors) of the flat kernels' weights
// and epiBlocks.
const flatMaxPeriod = 24

// flatPeriod is the number of 64-byte vectors after which the channels of
// a flat row repeat.
func flatPeriod(c int) int {
	g := 64
	for c%g != 0 {
		g /= 2
	}
	return c / g
}

// flatTakes reports whether the flat kernels compute p: 3x3 or 5x5,
// stride 1 (or 2 for 5x5) and dilation 1 along the width, a dilation along the height
// prime with the kernel size (runFlat's row cache), a period of at most
// flatMaxPeriod, and for 3x3 fewer than 192 channels (from 192 the 512-bit
// column kernels reuse each interleaved column for 3 pixels and are
// faster).
func flatTakes(p *ConvParams) bool {
	dh, dw := p.dil()
	if p.O != p.C || p.KH != p.KW || p.StrideW > 2 || dw != 1 || dh%p.KH == 0 || flatPeriod(p.C) > flatMaxPeriod {
		return false
	}
	return p.KH == 5 || p.KH == 3 && p.C < 192 && p.StrideW == 1
}

// flatLane is the channel of lane i of accumulator j of vector v of a
// flat row of c channels (the byte order the interleave leaves, dwLayout.ch
// with bw = 64).
func flatLane(c, v, j, i int) int {
	return (64*v + 16*(i/4) + 4*j + i%4) % c
}

// flatSize is the size of the flat weights: per vector of the period and
// group of 4 taps, 4 accumulators of 16 lanes of 4 bytes. The weight sums
// (int32 per channel) follow them.
func flatSize(p *ConvParams) int {
	return flatPeriod(p.C) * dwSlots(4, p.KH, p.KW) / 4 * 256
}

// packFlat packs depthwise weights w[KH][KW][C] for the flat kernels.
func packFlat(w []int8, k, c int) []int8 {
	order := dwTapOrder(4, k, k)
	ng := len(order) / 4
	out := make([]int8, flatPeriod(c)*ng*256)
	for v := range flatPeriod(c) {
		for q := range ng {
			for j := range 4 {
				for i := range 16 {
					ch := flatLane(c, v, j, i)
					off := ((v*ng+q)*4+j)*64 + 4*i
					for b := range 4 {
						if t := order[4*q+b]; t >= 0 {
							out[off+b] = w[t*c+ch]
						}
					}
				}
			}
		}
	}
	for ch := range c {
		var s int32
		for t := range k * k {
			s += int32(w[t*c+ch])
		}
		u := uint32(s)
		out = append(out, int8(uint8(u)), int8(uint8(u>>8)), int8(uint8(u>>16)), int8(uint8(u>>24)))
	}
	if k != 3 {
		return append(out, flatAbsSums(w, k, c)...)
	}
	// The pair weights of dwFlat3x2: per vector, kernel column and output
	// row h of the pair, 4 accumulators of 16 lanes of the bytes of input
	// rows 0-3: (w0, w1, w2, 0) for h = 0, (0, w0, w1, w2) for h = 1.
	pair := make([]int8, flatPeriod(c)*3*2*256)
	for v := range flatPeriod(c) {
		for col := range 3 {
			for h := range 2 {
				for j := range 4 {
					for i := range 16 {
						ch := flatLane(c, v, j, i)
						off := (((v*3+col)*2+h)*4+j)*64 + 4*i
						for kh := range 3 {
							pair[off+h+kh] = w[(kh*3+col)*c+ch]
						}
					}
				}
			}
		}
	}
	return append(append(out, pair...), flatAbsSums(w, k, c)...)
}

// flatAbsSums returns the sums of |w| over the taps of each channel (the
// last 4C bytes of packFlat's output).
func flatAbsSums(w []int8, k, c int) []int8 {
	out := make([]int8, 0, 4*c)
	for ch := range c {
		var s int32
		for t := range k * k {
			s += max(int32(w[t*c+ch]), -int32(w[t*c+ch]))
		}
		u := uint32(s)
		out = append(out, int8(uint8(u)), int8(uint8(u>>8)), int8(uint8(u>>16)), int8(uint8(u>>24)))
	}
	return out
}

// flatState is the scratch of runFlat: the row cache.
type flatState struct {
	buf []int8
}

// flatEpi is the epiBlocks of one layer's flat kernels (4 per vector of
// the period) with what they were computed from. Filling them costs 64
// lanes per vector of the period (up to 8 times the channels), as much as
// a small layer, so runFlat keeps them in flatCache by the address of the
// packed weights; an entry serves a call only when everything the blocks
// depend on is equal, so a reused address is safe.
type flatEpi struct {
	key    uintptr
	xz, yz int32
	out    Range
	bias   []int32
	mult   []Multiplier
	wsum   []int8
	absw   []int8 // the sums of |w| (epiShift depends on them)
	flags  int
	eb     []epiBlock
}

// flatCache maps the address of the packed weights to a *flatEpi.
var flatCache epiCache[flatEpi]

// flatEpiFor returns the epiBlocks of p, w, bias for runFlat.
func flatEpiFor(p *ConvParams, w []int8, bias []int32, fs, absOff int) *flatEpi {
	return epiFor(p, w, bias, fs, absOff, flatPeriod(p.C), func(v, j, i int) int { return flatLane(p.C, v, j, i) })
}

// epiFor returns the cached epiBlocks of nvec vectors of 64 lanes, lane i
// of accumulator j of vector v being channel lane(v, j, i) (-1: none), for
// weights w with the weight sums at fs and the sums of |w| at absOff.
func epiFor(p *ConvParams, w []int8, bias []int32, fs, absOff, nvec int, lane func(v, j, i int) int) *flatEpi {
	C := p.C
	key := uintptr(unsafe.Pointer(&w[0]))
	wsum, absw := w[fs:fs+4*C], w[absOff:absOff+4*C]
	if bias != nil {
		bias = bias[:C]
	}
	mult := p.Mult[:C]
	if e := flatCache.get(key); e != nil && e.key == key && len(e.eb) == 4*nvec && e.xz == p.XZero && e.yz == p.YZero && e.out == p.Out &&
		(e.bias == nil) == (bias == nil) && sameInt32(e.bias, bias) && sameMult(e.mult, mult) && sameInt8(e.wsum, wsum) && sameInt8(e.absw, absw) {
		return e
	}
	e := &flatEpi{key: key, xz: p.XZero, yz: p.YZero, out: p.Out, bias: slices.Clone(bias), mult: slices.Clone(mult),
		wsum: slices.Clone(wsum), absw: slices.Clone(absw), eb: make([]epiBlock, 4*nvec)}
	zc := p.XZero + 128
	var lanes [16]int
	for v := range nvec {
		for j := range 4 {
			for i := range 16 {
				lanes[i] = lane(v, j, i)
			}
			e.flags |= e.eb[4*v+j].fillLanes(&lanes, p.Mult, bias, w, fs, zc, p.YZero, p.Out)
		}
	}
	if e.flags&epiClamp != 0 {
		// epiShift when |acc| <= |corr| + 255 Σ|w| < 2^(S-2) in every channel.
		shift := true
		for c := range C {
			corr := int64(-zc) * int64(readInt32(w, fs+4*c))
			if bias != nil {
				corr += int64(bias[c])
			}
			bound := max(corr, -corr) + 255*int64(readInt32(w, absOff+4*c))
			if s := p.Mult[c].S; s < 22 || s < 33 && bound >= 1<<(s-2) {
				shift = false
				break
			}
		}
		if shift {
			e.flags = e.flags&^epiClamp | epiShift
		}
	}
	flatCache.put(key, e)
	return e
}

var flatPool = sync.Pool{New: func() any { return new(flatState) }}

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
	case im.bw == 64 && k == 5:
		dwVNNI512x5x5(a)
	case im.bw == 64:
		panic("kernels: no 512-bit 3x3 row kernel")
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
	if im.isFlat {
		return packFlat(w, p.KH, p.C)
	}
	if im.isPair {
		return packColPair(w, p.C)
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
	if im.isFlat {
		runFlat(p, x, w, bias, y, lo, hi)
		return
	}
	if im.isPair {
		runColPair(p, x, w, bias, y, lo, hi)
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
			im.row(p, &a, col, all, oxA, oxB, 0, p.OW)
		}
	}
}

// row computes output pixels [ox0, ox1) of the row of a.
func (im *dwImpl) row(p *ConvParams, a *dwArgs, col, all bool, oxA, oxB, ox0, ox1 int) {
	a.ox0, a.ow = ox0, ox1
	if col {
		switch {
		case im.bw == 64 && a.s == 1:
			dwVNNI512x3s1(a)
		case im.bw == 64:
			dwVNNI512x3s2(a)
		case a.s == 1:
			dwVNNI3x3s1(a)
		default:
			dwVNNI3x3s2(a)
		}
		return
	}
	a.oxA, a.oxB = oxA, oxB
	if !all {
		a.oxA, a.oxB = 0, 0
	}
	im.kernel(p.KH, a)
}

// runFlat computes rows [lo, hi) of a layer flatTakes takes with the flat
// kernels, from weights packFlat packed. Each input row the rows read is
// copied once, offset by 128 (dwXorRow), into a cache of KH padded rows
// (slot iy mod KH: distinct for the KH rows of an output row as the
// dilation is prime with KH): input pixel ix at padded pixel ix +
// PadLeft, the padding pixels and a padded row of zero-point bytes
// (XZero+128), and 64 bytes of slack for the last vector's loads.
func runFlat(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	C, K := p.C, p.KH
	fs := flatSize(p)
	pw := 0
	if K == 3 {
		pw = flatPeriod(C) * 3 * 2 * 256
	}
	if len(w) < fs+4*C+pw+4*C || len(x) < p.N*p.H*p.W*C || len(y) < p.N*p.OH*p.OW*C || hi > p.Rows() ||
		len(p.Mult) < C || (bias != nil && len(bias) < C) {
		panic("kernels: depthwise slices too short for their parameters")
	}
	ep := flatEpiFor(p, w, bias, fs, fs+4*C+pw)
	st := flatPool.Get().(*flatState)
	defer flatPool.Put(st)
	if p.StrideW == 2 {
		runFlat2(p, x, w, bias, y, lo, hi, ep, st)
		return
	}
	dh, _ := p.dil()
	pairs := K == 3 && p.StrideH == 1 && dh == 1 // dwFlat3x2
	slots := K
	if pairs {
		slots = K + 1 // the 4 rows of a pair
	}
	wp := max(p.OW+K-1, p.PadLeft+p.W) // padded pixels
	rb := wp*C + 64
	need := (slots + 1) * rb
	if cap(st.buf) < need {
		st.buf = make([]int8, need)
	}
	buf := st.buf[:need]
	buf[0] = int8(uint8(p.XZero) ^ 0x80)
	for n := 1; n < need; n *= 2 {
		copy(buf[n:], buf[:n])
	}
	var tags [5]int
	for i := range tags {
		tags[i] = -1
	}
	zrow := &buf[slots*rb]
	var a dwArgs
	n := p.OW * C
	a.w, a.e, a.flags, a.c = &w[0], &ep.eb[0], ep.flags, C
	a.nblk, a.oxA = (n+63)/64, flatPeriod(C)
	a.tail = -1
	if r := n % 64; r != 0 {
		a.tail = 1<<r - 1
	}
	// row sets rows[i] to the cached input row iy of image nn.
	row := func(i, nn, iy int) {
		if iy < 0 || iy >= p.H {
			a.rows[i] = zrow
			return
		}
		s := iy % slots
		if tag := nn*p.H + iy; tags[s] != tag {
			dwXorRow(&buf[s*rb+p.PadLeft*C], &x[tag*p.W*C], p.W*C)
			tags[s] = tag
		}
		a.rows[i] = &buf[s*rb]
	}
	for r := lo; r < hi; r++ {
		nn, oy := r/p.OH, r%p.OH
		a.y = &y[(nn*p.OH+oy)*p.OW*C]
		if pairs && r+1 < hi && oy+1 < p.OH {
			for i := range 4 {
				row(i, nn, oy-p.PadTop+i)
			}
			a.y2 = &y[(nn*p.OH+oy+1)*p.OW*C]
			a.w = &w[fs+4*C]
			dwFlat3x2(&a)
			a.w = &w[0]
			r++
			continue
		}
		for kh := range K {
			row(kh, nn, oy*p.StrideH-p.PadTop+kh*dh)
		}
		if K == 3 {
			dwFlat3(&a)
		} else {
			dwFlat5(&a)
		}
	}
}

// runFlat2 is runFlat for stride 2 along the width: the cached rows are
// split into even and odd padded pixels q = ix + PadLeft (dwSplitRow), so
// that tap kw of output pixel ox, padded pixel 2ox + kw, is pixel ox +
// kw/2 of the half of parity kw%2, and the taps of consecutive output
// bytes are consecutive (dwFlatT5).
func runFlat2(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int, ep *flatEpi, st *flatState) {
	C, K := p.C, p.KH
	qn := max(2*(p.OW-1)+K, p.PadLeft+p.W) // padded pixels
	ne := (qn + 1) / 2
	half := ne*C + 64
	rb := 2 * half
	need := (K + 1) * rb
	if cap(st.buf) < need {
		st.buf = make([]int8, need)
	}
	buf := st.buf[:need]
	buf[0] = int8(uint8(p.XZero) ^ 0x80)
	for n := 1; n < need; n *= 2 {
		copy(buf[n:], buf[:n])
	}
	mask := -1
	if r := (C-1)%64 + 1; r < 64 {
		mask = 1<<r - 1
	}
	var tags [5]int
	for i := range tags {
		tags[i] = -1
	}
	var a dwArgs
	n := p.OW * C
	a.w, a.e, a.flags, a.c = &w[0], &ep.eb[0], ep.flags, C
	a.nblk, a.oxA = (n+63)/64, flatPeriod(C)
	a.tail = -1
	if r := n % 64; r != 0 {
		a.tail = 1<<r - 1
	}
	dh, _ := p.dil()
	for r := lo; r < hi; r++ {
		nn, oy := r/p.OH, r%p.OH
		for kh := range K {
			iy := oy*p.StrideH - p.PadTop + kh*dh
			b := K * rb // the zero-point row
			if iy >= 0 && iy < p.H {
				s := iy % K
				b = s * rb
				if tag := nn*p.H + iy; tags[s] != tag {
					dwSplitRow(&buf[b], &buf[b+half], &x[tag*p.W*C], p.W, C, p.PadLeft, mask)
					tags[s] = tag
				}
			}
			for kw := range K {
				a.tp[kh*K+kw] = &buf[b+kw%2*half+kw/2*C]
			}
		}
		a.y = &y[(nn*p.OH+oy)*p.OW*C]
		dwFlatT5(&a)
	}
}

// dwColPair512 computes two output rows, y and y2 (the row below), of a 3x3
// depthwise convolution of stride and dilation 1, for output pixels [0,
// ow), every 64-channel block (nblk, the last one's bytes masked by
// a.tail), from padded input rows offset by 128 (rows[0..3], the 4 rows the
// pair reads: pixel q of a padded row is input pixel q - PadLeft; see
// runColPair) and the weights of packColPair: each interleaved column of
// the 4 rows serves up to 3 output pixels of both rows.
//
//go:noescape
func dwColPair512(a *dwArgs)

// packColPair packs depthwise 3x3 weights w[3][3][C] for dwColPair512: per
// 64-channel block, kernel column and output row h of the pair, 4
// accumulators of 16 lanes (the channels of dwLayout.ch with bw = 64) of
// the bytes of input rows 0-3, (w0, w1, w2, 0) for h = 0 and (0, w0, w1,
// w2) for h = 1; then the weight sums and the sums of |w| (int32 per
// channel).
func packColPair(w []int8, c int) []int8 {
	nb := (c + 63) / 64
	out := make([]int8, nb*3*2*256, nb*3*2*256+8*c)
	for b := range nb {
		for col := range 3 {
			for h := range 2 {
				for j := range 4 {
					for i := range 16 {
						ch := 64*b + 16*(i/4) + 4*j + i%4
						if ch >= c {
							continue
						}
						off := (((b*3+col)*2+h)*4+j)*64 + 4*i
						for kh := range 3 {
							out[off+h+kh] = w[(kh*3+col)*c+ch]
						}
					}
				}
			}
		}
	}
	for ch := range c {
		var s int32
		for t := range 9 {
			s += int32(w[t*c+ch])
		}
		u := uint32(s)
		out = append(out, int8(uint8(u)), int8(uint8(u>>8)), int8(uint8(u>>16)), int8(uint8(u>>24)))
	}
	return append(out, flatAbsSums(w, 3, c)...)
}

// runColPair computes rows [lo, hi) of a layer for dwColPair512, two rows
// at a time (a last single row with a scratch second row), from a cache of
// 4 padded input rows offset by 128 as runFlat's.
func runColPair(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	C := p.C
	nb := (C + 63) / 64
	fs := nb * 3 * 2 * 256
	if len(w) < fs+8*C || len(x) < p.N*p.H*p.W*C || len(y) < p.N*p.OH*p.OW*C || hi > p.Rows() ||
		len(p.Mult) < C || (bias != nil && len(bias) < C) {
		panic("kernels: depthwise slices too short for their parameters")
	}
	ep := epiFor(p, w, bias, fs, fs+4*C, nb, func(b, j, i int) int {
		if ch := 64*b + 16*(i/4) + 4*j + i%4; ch < C {
			return ch
		}
		return -1
	})
	st := flatPool.Get().(*flatState)
	defer flatPool.Put(st)
	const slots = 4
	wp := max(p.OW+2, p.PadLeft+p.W) // padded pixels
	rb := wp*C + 64
	sc := p.OW*C + 64 // the scratch output row
	need := (slots+1)*rb + sc
	if cap(st.buf) < need {
		st.buf = make([]int8, need)
	}
	buf := st.buf[:need]
	buf[0] = int8(uint8(p.XZero) ^ 0x80)
	for n := 1; n < need; n *= 2 {
		copy(buf[n:], buf[:n])
	}
	var tags [slots]int
	for i := range tags {
		tags[i] = -1
	}
	zrow := &buf[slots*rb]
	var a dwArgs
	a.w, a.e, a.flags, a.c = &w[0], &ep.eb[0], ep.flags, C
	a.nblk, a.ow = nb, p.OW
	a.tail = -1
	if r := C % 64; r != 0 {
		a.tail = 1<<r - 1
	}
	for r := lo; r < hi; r += 2 {
		nn, oy := r/p.OH, r%p.OH
		for i := range 4 {
			iy := oy - p.PadTop + i
			if iy < 0 || iy >= p.H {
				a.rows[i] = zrow
				continue
			}
			s := iy % slots
			if tag := nn*p.H + iy; tags[s] != tag {
				dwXorRow(&buf[s*rb+p.PadLeft*C], &x[tag*p.W*C], p.W*C)
				tags[s] = tag
			}
			a.rows[i] = &buf[s*rb]
		}
		a.y = &y[(nn*p.OH+oy)*p.OW*C]
		if r+1 < hi && oy+1 < p.OH {
			a.y2 = &y[(nn*p.OH+oy+1)*p.OW*C]
		} else {
			a.y2 = &buf[(slots+1)*rb]
			r--
		}
		dwColPair512(&a)
	}
}
