//go:build !purego

package kernels

// The SDOT depthwise kernels of the "dotprod" Set (depthwise_arm64.s,
// written by asmgen_arm64.go): 3x3 windows, stride 1 or 2, no dilation,
// channels a multiple of 16 (dwDot3x3s1, dwDot3x3s2, described below); 5x5
// windows, and 3x3 ones of channels not a multiple of 16, stride 1 or 2, no
// dilation, channels a multiple of 8, W*C <= dwZRowMax (the 8-channel
// kernels: see packDwDot8 and asmgen_arm64.go's dwDot8); the other layers
// run the NEON kernels of depthwise_arm64.go. They compute whole rows, the
// columns outside the input reading the zx vector.
//
// Arithmetic. Two output rows oy, oy+1 read input rows oy-PadTop .. +3.
// For each input column and 16 channels, ZIP1/ZIP2 interleave the 4 rows'
// bytes so that 32-bit lane c holds x[row 0..3][c]; SDOT with the packed
// weights [w0, w1, w2, 0] of a kernel column (its 3 rows' taps) adds the
// column's taps of output row oy, and with [0, w0, w1, w2] those of row
// oy+1. The sums are exact in int32 (no int16 pairs: weights of -128 are
// fine) and start at corr = bias - zx Σ_t w[t] as in the NEON kernels, the
// padding rows reading zx; each column of a 16-channel block is
// interleaved once and used by the three pixels whose window holds it.
// Stride 2 (one output row, 3 input rows) interleaves rows 0 and 1 by
// ZIP1/ZIP2 and adds row 2 and a zero byte by TBL (x[row 0..2][c], 0).
// The requantization is depthwise_arm64.go's 32-bit path (SQDMULH, SRSHL
// by -(S-31), after SQSHL by 32-S in blocks with an S < 32, fillEpiARM
// proves both), then the saturating narrows, the zero point and the clamp
// unless it is [-128, 127], with the NEON kernels' shortcuts (SQRSHRN #k
// for a block of uniform shift, SQXTUN and EOR 0x80 for a zero point of
// -128), and the SQRDMLAH path of blocks whose every S is 30 or 31
// (fillRdm).
//
// Packed layout (packDwDot): packDwARM's, then for each 16-channel block b
// and kernel column kw, at dwPackedLenARM + b*dwDotBlk + kw*128: 4 vectors
// of 16 bytes for output row oy (vector v, lane j: channel 16b+4v+j, bytes
// w[0][kw], w[1][kw], w[2][kw], 0 of it, w[kh][kw] the tap kh*3+kw), then 4
// for row oy+1 (bytes 0, w[0][kw], w[1][kw], w[2][kw]).

// dwDotArgs is what dwDot3x3s1 reads (offsets in asmgen_arm64.go;
// TestDwDotArgsLayout checks them).
type dwDotArgs struct {
	rows  [4]*int8 // input rows oy-PadTop+k at column 0, first channel of the chunk (or zx)
	steps [4]int   // bytes between input columns (C, or 0 for zx)
	w     *int8    // SDOT weights of the chunk's first block
	y0    *int8    // output row oy at pixel 0
	y1    *int8    // output row oy+1 (y0 for a single row: row 1 is stored first)
	epi   *int32   // epilogue constants (fillEpiARM)
	c     int      // bytes between pixels (C)
	npix  int      // output pixels (OW >= 1)
	nblk  int      // 16-channel blocks of the chunk
	zy    int
	lo    int
	hi    int
	clamp int   // 1 unless [lo, hi] = [-128, 127]
	zx    *int8 // the chunk's zx vector, read for columns outside the input
	wcols int   // input columns (W)
	ix0   int   // input column of pixel 0's first tap (-PadLeft)
}

// dwDot3x3s1 computes the pixels ox = 0 .. npix-1 of output rows oy (y0)
// and oy+1 (y1) of a 3x3 stride-1 depthwise convolution for the channels
// of one chunk:
//
//	for i := range npix:
//		for c := range 16 nblk:
//			for r := range 2:
//				acc := corr[c] + Σ_{kh, kw < 3} int32(in(r+kh, ix0+i+kw, c)) * w[kh][kw][c]
//				y_r[i*C + c] = clamp(zy + RoundShift(int64(acc)*M[c], S[c]), lo, hi)
//
// with in(k, ix, c) = rows[k][ix*steps[k] + c] for 0 <= ix < wcols, else zx[c].
//
// The generic twin is Depthwise.
//
//go:noescape
func dwDot3x3s1(a *dwDotArgs)

// dwDot3x3s2 is dwDot3x3s1 for stride 2 and one output row (y0):
//
//	for i := range npix:
//		for c := range 16 nblk:
//			acc := corr[c] + Σ_{kh, kw < 3} int32(in(kh, ix0+2i+kw, c)) * w[kh][kw][c]
//			y0[i*C + c] = clamp(zy + RoundShift(int64(acc)*M[c], S[c]), lo, hi)
//
// (rows[3] and y1 are not used). The generic twin is Depthwise.
//
//go:noescape
func dwDot3x3s2(a *dwDotArgs)

// dwDot8Args is what the 8-channel SDOT kernels (dwDot5x5s1, dwDot5x5s2,
// dwDot3x3s1n8, dwDot3x3s2n8) read (offsets in asmgen_arm64.go;
// TestDwDot8ArgsLayout checks them).
type dwDot8Args struct {
	rows  [8]*int8 // input rows oy*s-PadTop+k at column 0, first channel of the chunk (or the zx row)
	w     *int8    // SDOT weights of the chunk's first block
	y0    *int8    // output row oy at pixel 0
	y1    *int8    // output row oy+1 (y0 for a single row: row 1 is stored first)
	epi   *int32   // epilogue constants (fillEpiARM)
	c     int      // bytes between pixels and between input columns (C)
	npix  int      // output pixels (OW >= 1)
	nblk  int      // 8-channel blocks of the chunk
	zy    int
	lo    int
	hi    int
	clamp int   // 1 unless [lo, hi] = [-128, 127]
	zx    *int8 // the chunk's zx vector, 64 bytes past each block readable
	wcols int   // input columns (W)
	ix0   int   // input column of pixel 0's first tap (-PadLeft)
}

// dwDot5x5s1 computes the pixels ox = 0 .. npix-1 of output rows oy (y0)
// and oy+1 (y1) of a 5x5 stride-1 depthwise convolution for the channels
// of one chunk:
//
//	for i := range npix:
//		for c := range 8 nblk:
//			for r := range 2:
//				acc := corr[c] + Σ_{kh, kw < 5} int32(in(r+kh, ix0+i+kw, c)) * w[kh][kw][c]
//				y_r[i*C + c] = clamp(zy + RoundShift(int64(acc)*M[c], S[c]), lo, hi)
//
// with in(k, ix, c) = rows[k][ix*C + c] for 0 <= ix < wcols, else zx[c].
//
// The generic twin is Depthwise.
//
//go:noescape
func dwDot5x5s1(a *dwDot8Args)

// dwDot5x5s2 is dwDot5x5s1 for stride 2: output row r of the pair reads
// input rows 2r+kh and columns ix0+2i+kw. The generic twin is Depthwise.
//
//go:noescape
func dwDot5x5s2(a *dwDot8Args)

// dwDot3x3s1n8 is dwDot5x5s1 for a 3x3 window (kh, kw < 3), for layers
// whose channels are not a multiple of 16. The generic twin is Depthwise.
//
//go:noescape
func dwDot3x3s1n8(a *dwDot8Args)

// dwDot3x3s2n8 is dwDot5x5s2 for a 3x3 window. The generic twin is
// Depthwise.
//
//go:noescape
func dwDot3x3s2n8(a *dwDot8Args)

// dwZRowMax bounds W*C of the 8-channel SDOT layers: their rows outside
// the input read a zx row of W*C bytes on the stack.
const dwZRowMax = 16384

// dwDot8Packed reports whether packDwDot adds the 8-channel SDOT weights
// for p: 5x5 windows, and 3x3 ones whose channels are not a multiple of
// 16 (the others have dwDot3x3s1 and dwDot3x3s2), of stride 1 or 2.
func dwDot8Packed(p *ConvParams) bool {
	dh, dw := p.dil()
	return dwFastARM(p) && (p.KH == 5 || p.C%16 != 0) && p.StrideH == p.StrideW && p.StrideW <= 2 &&
		dh == 1 && dw == 1 && p.W*p.C <= dwZRowMax
}

// dwDotBlk is the size of the SDOT weights of one 16-channel block.
const dwDotBlk = 3 * 2 * 64

// dwDotPacked reports whether packDwDot adds the SDOT weights for p.
func dwDotPacked(p *ConvParams) bool {
	dh, dw := p.dil()
	return dwFastARM(p) && p.KH == 3 && p.C%16 == 0 && p.StrideH == p.StrideW && p.StrideW <= 2 && dh == 1 && dw == 1
}

// dwDotLen is the size of the SDOT weights of p (0 if it has none).
func dwDotLen(p *ConvParams) int {
	switch {
	case dwDotPacked(p):
		return p.C / 16 * dwDotBlk
	case dwDot8Packed(p):
		return p.C / 8 * dwDot8Blk(p)
	}
	return 0
}

// packDwDot is the PackDepthwise of the "dotprod" Set.
func packDwDot(p *ConvParams, w []int8) []int8 {
	out := packDwARM(p, w)
	if dwDot8Packed(p) {
		return append(out, packDwDot8(p, w)...)
	}
	if !dwDotPacked(p) {
		return out
	}
	C := p.C
	d := make([]int8, dwDotLen(p))
	for c := range C {
		b, v, j := c/16, c%16/4, c%4
		for kw := range 3 {
			o := b*dwDotBlk + kw*128 + v*16 + 4*j
			for kh := range 3 {
				t := w[(kh*3+kw)*C+c]
				d[o+kh] = t      // row oy: byte kh
				d[o+64+kh+1] = t // row oy+1: byte kh+1
			}
		}
	}
	return append(out, d...)
}

// dotRows runs output rows r and, if nr = 2 (stride 1), r+1 (of the same
// image) on dwDot3x3s1 or dwDot3x3s2.
func (st *dwState) dotRows(epi *int32, nblk int, zx *[dwZxLen]int8, w *int8, x, y []int8, r, nr int) {
	p, C := st.p, st.p.C
	var d dwDotArgs
	n, oy := r/p.OH, r%p.OH
	for k := range 4 {
		iy := oy*st.s - p.PadTop + k
		if st.s == 2 && k == 3 {
			iy-- // not read: the third row again
		}
		d.rows[k], d.steps[k] = &zx[0], 0
		if iy >= 0 && iy < p.H {
			d.rows[k], d.steps[k] = &x[(n*p.H+iy)*p.W*C+st.c0], C
		}
	}
	d.y0 = &y[(n*p.OH+oy)*p.OW*C+st.c0]
	d.y1 = d.y0
	if nr == 2 {
		d.y1 = &y[(n*p.OH+oy+1)*p.OW*C+st.c0]
	}
	d.w, d.epi, d.zx = w, epi, &zx[0]
	d.c, d.npix, d.nblk = C, p.OW, nblk
	d.wcols, d.ix0 = p.W, -p.PadLeft
	d.zy, d.lo, d.hi = int(p.YZero), int(p.Out.Lo), int(p.Out.Hi)
	d.clamp = 0
	if p.Out != Full {
		d.clamp = 1
	}
	if st.s == 2 {
		dwDot3x3s2(&d)
		return
	}
	dwDot3x3s1(&d)
}

// dot8Pairs returns the (output row, group) pairs with SDOTs in a k x k
// window of the given stride, in the order of their weights (the list of
// asmgen_arm64.go's dot8Pairs): group 0 (A) holds input rows 0-3, group 1
// (B) rows 4 up; output row r reads rows r*stride to r*stride+k-1.
//
// It returns them in an array (no allocation: dwRun calls it per chunk).
func dot8Pairs(k, stride int) (ps [4][2]int, n int) {
	for r := range 2 {
		for g := range 2 {
			if r*stride <= 4*g+3 && r*stride+k-1 >= 4*g {
				ps[n] = [2]int{r, g}
				n++
			}
		}
	}
	return ps, n
}

// dwDot8Blk is the size of the 8-channel SDOT weights of one block of p
// (k kernel columns x the pairs x 2 vectors of 16 bytes).
func dwDot8Blk(p *ConvParams) int {
	_, n := dot8Pairs(p.KW, p.StrideW)
	return p.KW * 32 * n
}

// packDwDot8 returns the 8-channel SDOT weights: for each 8-channel block
// b, kernel column kw and pair (output row r, group g) of dot8Pairs, at
// b*dwDot8Blk + (kw*npairs + pair)*32, 2 vectors (lane j: channel 8b+j,
// 8b+4+j), whose byte i stands for input row i (group A) or 4+i (group B,
// i < the rows past 3 that the kernel reads; the bytes of repeated rows
// are 0) and holds w[row-r*stride][kw], or 0 outside the window.
func packDwDot8(p *ConvParams, w []int8) []int8 {
	C, s, k := p.C, p.StrideW, p.KW
	ps, np := dot8Pairs(k, s)
	pairs := ps[:np]
	nb := s + k - 4 // rows in group B
	blk := dwDot8Blk(p)
	d := make([]int8, C/8*blk)
	for c := range C {
		b, j := c/8, c%8
		for kw := range k {
			for pi, pr := range pairs {
				o := b*blk + (kw*len(pairs)+pi)*32 + j/4*16 + 4*(j%4)
				for i := range 4 {
					row := 4*pr[1] + i
					kh := row - pr[0]*s
					if pr[1] == 1 && i >= nb || kh < 0 || kh >= k {
						continue
					}
					d[o+i] = w[(kh*k+kw)*C+c]
				}
			}
		}
	}
	return d
}

// dot8Rows runs output rows r and, if nr = 2, r+1 (of the same image) on
// the 8-channel SDOT kernel of p; zrow (W*C bytes of zx, filled if a row
// falls outside the input) stands for the rows outside the input.
func (st *dwState) dot8Rows(epi *int32, nblk int, zx *[dwZxLen]int8, zrow []int8, w *int8, x, y []int8, r, nr int) {
	p, C := st.p, st.p.C
	var d dwDot8Args
	n, oy := r/p.OH, r%p.OH
	for k := range 8 {
		iy := oy*st.s - p.PadTop + k
		if iy >= 0 && iy < p.H {
			d.rows[k] = &x[(n*p.H+iy)*p.W*C+st.c0]
		} else {
			d.rows[k] = &zrow[st.c0]
		}
	}
	d.y0 = &y[(n*p.OH+oy)*p.OW*C+st.c0]
	d.y1 = d.y0
	if nr == 2 {
		d.y1 = &y[(n*p.OH+oy+1)*p.OW*C+st.c0]
	}
	d.w, d.epi, d.zx = w, epi, &zx[0]
	d.c, d.npix, d.nblk = C, p.OW, nblk
	d.wcols, d.ix0 = p.W, -p.PadLeft
	d.zy, d.lo, d.hi = int(p.YZero), int(p.Out.Lo), int(p.Out.Hi)
	d.clamp = 0
	if p.Out != Full {
		d.clamp = 1
	}
	switch {
	case p.KH == 5 && st.s == 2:
		dwDot5x5s2(&d)
	case p.KH == 5:
		dwDot5x5s1(&d)
	case st.s == 2:
		dwDot3x3s2n8(&d)
	default:
		dwDot3x3s1n8(&d)
	}
}

// dot8Chunk runs output rows [lo, hi) of the chunk on the 8-channel SDOT
// kernels, by pairs of rows of one image (the last one alone). The zx
// row, W*C bytes, is filled once the first pair reads a row outside the
// input.
func (st *dwState) dot8Chunk(epi *int32, nblk int, zx *[dwZxLen]int8, w *int8, x, y []int8, lo, hi int) {
	p := st.p
	var zbuf [dwZRowMax]int8
	zrow := zbuf[:p.W*p.C]
	nrows := st.s + p.KH // input rows the kernel reads
	filled := false
	for r := lo; r < hi; r++ {
		nr := 1
		if r+1 < hi && (r+1)%p.OH != 0 {
			nr = 2 // rows r and r+1 (same image)
		}
		if iy := r%p.OH*st.s - p.PadTop; !filled && (iy < 0 || iy+nrows > p.H) {
			zrow[0] = int8(p.XZero)
			for n := 1; n < len(zrow); n *= 2 {
				copy(zrow[n:], zrow[:n])
			}
			filled = true
		}
		st.dot8Rows(epi, nblk, zx, zrow, w, x, y, r, nr)
		r += nr - 1
	}
}
