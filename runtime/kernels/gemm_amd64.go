//go:build !purego

package kernels

import "sync"

// The GEMM micro-kernels (gemm_amd64.s, written by asmgen.go). Each computes,
// for one block of width output channels (32, 16 or 8) starting at the packed
// block w (GEMM layout, pack.go) and npix rows of x:
//
//	for p := range npix:
//		for c := range width:
//			acc := e.corr[c] + Σ_{q < kg*g + ktail} xq(x[p*xstride + q]) * wt(w, q, c)
//			y[p*ystride + c] = requant(acc)                 // the epilogue of epilogue.go
//
// where g = 4, xq(v) = v + 128 (the unsigned operand of VPDPBUSD; e.corr
// holds bias - (zx+128) Σ w) for the VNNI kernels, and g = 2, xq(v) = v
// (sign-extended to int16, VPMADDWD; e.corr = bias - zx Σ w) for AVX2. kg
// counts full groups of g bytes; the last ktail (< g) bytes of each row are
// read one by one, never past the row. Rows are processed in register tiles
// of 12, 4 and 1 (VNNI) or 4 and 1 (AVX2) rows; flags&epiClamp selects the
// clamp step of the epilogue. The generic twin is gemmRows.
//
// gemmVNNIZ32 is gemmVNNI16 on 512-bit registers: blocks of 32 channels in
// two Z vectors of 16, the 12-row tile holding 24 of them; its epilogue
// constants are those of two consecutive epiBlocks, e[0] for channels 0-15
// and e[1] for 16-31, one Z vector per field; it stores the bytes of the
// channels c with bit c of flags>>32 set (a partial block writes only its
// valid channels). gemmVNNIZ16 is the same for a block of 16 channels in
// one Z vector (e[0] only), its store mask in bits 0-15 of flags>>32.

//go:noescape
func gemmVNNIZ16(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

//go:noescape
func gemmVNNIZ32(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

//go:noescape
func gemmVNNI16(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

//go:noescape
func gemmVNNI8(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

// gemmVNNIZ32p, gemmVNNIZ16p, gemmVNNI16p and gemmVNNI8p are the same
// kernels for rows that already hold the unsigned operand x XOR 0x80 (= x +
// 128 as a byte; xor80 makes them): their K loop has no VPXORD per
// broadcast, which on 512-bit registers shares ports 0 and 5 with VPDPBUSD
// (24 VPDPBUSD and 12 VPXORD take 18 cycles per k group of a 12-row tile,
// the 24 alone 12). The tail's bytes past k are loaded as zeros either way,
// multiplying the zero weights of the padding.

//go:noescape
func gemmVNNIZ32p(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

//go:noescape
func gemmVNNIZ16p(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

//go:noescape
func gemmVNNI16p(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

//go:noescape
func gemmVNNI8p(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

// xor80AVX512 sets dst[i] = src[i] XOR 0x80 for i < n (any n >= 0; the last
// partial vector under a mask, never past either slice). The generic twin is
// xor80Go.
//
//go:noescape
func xor80AVX512(dst, src *int8, n int)

// xor80 sets dst[i] = src[i] XOR 0x80 (the unsigned operand x + 128 of
// VPDPBUSD) for i < len(src); len(dst) >= len(src).
func xor80(dst, src []int8) {
	if len(src) == 0 {
		return
	}
	_ = dst[len(src)-1]
	xor80AVX512(&dst[0], &src[0], len(src))
}

// xor80Go is xor80AVX512's twin.
func xor80Go(dst, src []int8) {
	for i, v := range src {
		dst[i] = v ^ -128
	}
}

//go:noescape
func gemmAVX2x16(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

//go:noescape
func gemmAVX2x8(x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int)

// gemmAMX32 and gemmAMX16 compute, for one block of 32 (16) output
// channels starting at the packed block w (the AMX GEMM layout, whose
// blocks hold kc*16 groups of 4 k) and npix rows of x:
//
//	for p := range npix:
//		for c := range width:
//			acc := e.corr[c] + Σ_{q < 64 kc} x[p*xstride + q] * wt(w, q, c)
//			y[p*ystride + c] = requant(acc)                 // the epilogue of epilogue.go
//
// with e.corr = bias - zx Σ w (TDPBSSD multiplies signed bytes: no offset),
// storing the channels c with bit c of flags>>32 set (as gemmVNNIZ32 does;
// e holds two epiBlocks for gemmAMX32, one for gemmAMX16). Rows go in
// groups of 32 tile rows: the kernel reads 64 kc bytes of 32 ceil(npix/32)
// rows (bytes past K multiply zero weights; rows past npix are computed
// and dropped), so the caller makes all of them readable. acc is a scratch
// of two buffers of 32 rows x width int32, the second amxAccHalf bytes
// after the first (the tiles of one group are stored to one while the
// epilogue reads the other's). Each call loads the tile configuration and
// releases the tiles before it returns, so no tile state outlives it (a
// goroutine may move to another thread between calls). The generic twin is
// gemmRows.
//
//go:noescape
func gemmAMX32(x *int8, xstride, kc int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int, acc *int32)

//go:noescape
func gemmAMX16(x *int8, xstride, kc int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int, acc *int32)

// gemmImpl is one family of GEMM micro-kernels.
type gemmImpl struct {
	vnni bool
	g    int   // k per 32-bit lane of the packed weights
	zoff int32 // added to the input zero point in the correction (128 for VNNI)
	bw   int   // the widest block (gemmLayout): 32 runs gemmVNNIZ32
	// amx: the AMX layout, and the AMX kernels for calls of at least
	// amxMinRows rows of at least amxMinK values (the 512-bit VNNI kernels
	// otherwise). Measured on MobileNetV2's 1x1 convs (Xeon, one thread):
	// K >= 144 run in 0.42-0.78 of the VNNI time, K = 64 and 96 in
	// 0.88-0.95 (their many outputs make the epilogue dominate both), K <=
	// 32 in 1.24-1.73 (one 64-byte tile column for 16-32 values).
	amx bool
}

var (
	gemmVNNI    = &gemmImpl{vnni: true, g: 4, zoff: 128, bw: 16}
	gemmVNNI512 = &gemmImpl{vnni: true, g: 4, zoff: 128, bw: 32}
	gemmAMX     = &gemmImpl{vnni: true, g: 4, zoff: 128, bw: 32, amx: true}
	gemmAVX2    = &gemmImpl{vnni: false, g: 2, zoff: 0, bw: 16}
)

// layout is the packed layout of this family for o outputs of k values.
func (im *gemmImpl) layout(o, k int) gemmLayout {
	return gemmLayout{o: o, k: k, g: im.g, bw: im.bw, amx: im.amx}
}

// kernel calls the micro-kernel for a block of width wd. (Direct calls: a
// call through a func value would make e escape.)
func (im *gemmImpl) kernel(pre bool, wd int, x *int8, xstride, kg, ktail int, w *int8, npix int, y *int8, ystride int, e *epiBlock, flags int) {
	if pre {
		switch {
		case wd == 32:
			gemmVNNIZ32p(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
		case wd == 16 && im.bw == 32:
			gemmVNNIZ16p(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
		case wd == 16:
			gemmVNNI16p(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
		default:
			gemmVNNI8p(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
		}
		return
	}
	switch {
	case wd == 32:
		gemmVNNIZ32(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
	case wd == 16 && im.bw == 32:
		gemmVNNIZ16(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
	case im.vnni && wd == 16:
		gemmVNNI16(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
	case im.vnni:
		gemmVNNI8(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
	case wd == 16:
		gemmAVX2x16(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
	default:
		gemmAVX2x8(x, xstride, kg, ktail, w, npix, y, ystride, e, flags)
	}
}

// partialRows is how many rows a partial block computes at a time into a
// scratch buffer.
const partialRows = 64

// run computes rows [lo, hi) of y[.][o] = requant(bias + (x - zx) w^T) for x
// rows of k values at stride xstride (xstride >= k; when padded is true the
// rows hold kg*g readable bytes, the ones past k multiplying zero weights).
// w is packed (GEMM layout with this impl's g).
func (im *gemmImpl) run(x []int8, xstride, k int, padded bool, w []int8, bias []int32, y []int8, o int,
	zx int32, mult []Multiplier, yz int32, out Range, lo, hi int) {
	if lo >= hi {
		return
	}
	l := im.layout(o, k)
	kg, ktail := k/im.g, k%im.g
	rowLen := k
	if padded {
		kg, ktail = l.kg(), 0
		rowLen = kg * im.g
	}
	// The assembly trusts its arguments: check every access here.
	if len(w) < l.size() || (hi-1)*xstride+rowLen > len(x) || hi*o > len(y) || len(mult) < o || (bias != nil && len(bias) < o) {
		panic("kernels: gemm slices too short for their parameters")
	}
	if im.amxFor(hi-lo, l) {
		im.runAMX(x, xstride, k, w, l, bias, y, o, zx, mult, yz, out, lo, hi)
		return
	}
	// Loop order: channel groups of up to gemmGroup channels (their
	// epilogue constants computed once), then chunks of rows small enough
	// for the rows and their outputs to stay in L1 across the group's
	// blocks, then blocks of 32, 16 or 8 channels (l.width).
	chunk := hi - lo
	if (hi-lo)*(rowLen+o) > gemmChunkMin {
		chunk = max(48, gemmChunkBytes/(rowLen+o)/12*12)
	}
	// VNNI: each chunk's rows (contiguous: xstride = rowLen, as every
	// caller passes) are made unsigned (xor80) once into a scratch, in
	// chunks of at most gemmXorBytes, rather than in the K loop of every
	// block; rows too long for 12 of them in it keep the in-loop XOR, and
	// so do fewer than 4 rows (a GEMV's K loop is bound by its chains'
	// latency, not by the XOR, and the copy would cost more than it saves).
	if im.vnni && xstride == rowLen && hi-lo >= 4 {
		if fit := gemmXorBytes / rowLen; fit >= min(12, hi-lo) {
			if fit < chunk {
				chunk = max(1, fit/12*12)
			}
			im.runPre(x, rowLen, kg, ktail, w, l, bias, y, o, zx, mult, yz, out, lo, hi, chunk)
			return
		}
	}
	im.groups(nil, x, xstride, rowLen, kg, ktail, w, l, bias, y, o, zx, mult, yz, out, lo, hi, chunk)
}

// runPre is groups with a scratch for the unsigned rows (declared here, so
// that the other calls do not clear it).
func (im *gemmImpl) runPre(x []int8, rowLen, kg, ktail int, w []int8, l gemmLayout, bias []int32, y []int8, o int,
	zx int32, mult []Multiplier, yz int32, out Range, lo, hi, chunk int) {
	var xs [gemmXorBytes]int8
	im.groups(xs[:], x, rowLen, rowLen, kg, ktail, w, l, bias, y, o, zx, mult, yz, out, lo, hi, chunk)
}

// groups is run's loop over channel groups, row chunks and blocks; with a
// scratch xs (VNNI), each chunk's rows are made unsigned into it first and
// the kernels without the XOR read them there.
func (im *gemmImpl) groups(xs, x []int8, xstride, rowLen, kg, ktail int, w []int8, l gemmLayout, bias []int32, y []int8, o int,
	zx int32, mult []Multiplier, yz int32, out Range, lo, hi, chunk int) {
	var eb [gemmGroup / 16]epiBlock
	var flags [gemmGroup / 16]int
	eo := newEpiOut(yz, out)
	for g0 := 0; g0 < o; g0 += gemmGroup {
		g1 := min(o, g0+gemmGroup)
		im.fillGroup(&eb, &flags, eo, mult, bias, w, l, zx+im.zoff, yz, out, g0, g1)
		for p0 := lo; p0 < hi; p0 += chunk {
			p1 := min(hi, p0+chunk)
			if xs != nil {
				// The chunk's rows, unsigned, at stride rowLen from xs[0]:
				// block reads rows [0, p1-p0) of them.
				xor80(xs, x[p0*rowLen:p1*rowLen])
				for o0 := g0; o0 < g1; o0 += l.width(o0) {
					im.block(true, xs, rowLen, kg, ktail, w, l, y, o, o0, &eb[(o0-g0)/16], flags[(o0-g0)/16], p0, p1, p0)
				}
				continue
			}
			for o0 := g0; o0 < g1; o0 += l.width(o0) {
				im.block(false, x, xstride, kg, ktail, w, l, y, o, o0, &eb[(o0-g0)/16], flags[(o0-g0)/16], p0, p1, 0)
			}
		}
	}
}

// fillGroup fills eb and flags for the blocks of channels [g0, g1): entry
// (o0-g0)/16 for the block at o0 (two consecutive epiBlocks for a 32-wide
// one), with corr = bias - zc Σ w, and the flags' store mask of the 512-bit
// kernels.
func (im *gemmImpl) fillGroup(eb *[gemmGroup / 16]epiBlock, flags *[gemmGroup / 16]int, eo epiOut, mult []Multiplier, bias []int32, w []int8, l gemmLayout,
	zc int32, yz int32, out Range, g0, g1 int) {
	o, ws := l.o, l.wsumOff()
	for o0 := g0; o0 < g1; o0 += l.width(o0) {
		i := (o0 - g0) / 16
		if l.width(o0) == 32 {
			// Two epiBlocks, and the store mask of the valid channels.
			n := min(32, o-o0)
			flags[i] = fill16(&eb[i], eo, mult, bias, w, ws, zc, yz, out, o0, 16) |
				fill16(&eb[i+1], eo, mult, bias, w, ws, zc, yz, out, o0+16, n-16) |
				(1<<n-1)<<32
			continue
		}
		n := min(l.width(o0), o-o0)
		flags[i] = fill16(&eb[i], eo, mult, bias, w, ws, zc, yz, out, o0, n)
		if im.bw == 32 && l.width(o0) == 16 {
			flags[i] |= (1<<n - 1) << 32 // gemmVNNIZ16's store mask
		}
	}
}

// fill16 fills e with the epilogue constants of the n (<= 16) channels from
// o0 (corr = bias - zc Σ w, the weight sums at wsumOff in w) and returns
// its flags.
func fill16(e *epiBlock, eo epiOut, mult []Multiplier, bias []int32, w []int8, wsumOff int,
	zc int32, yz int32, out Range, o0, n int) int {
	e.out = eo
	switch n {
	case 16:
		return e.fillGroups(mult, bias, w, wsumOff, zc, [4]int{o0, o0 + 4, o0 + 8, o0 + 12})
	case 8:
		return e.fillGroups(mult, bias, w, wsumOff, zc, [4]int{o0, o0 + 4, o0, o0 + 4})
	default:
		return e.fill(mult, bias, w, wsumOff, zc, yz, out, o0, n)
	}
}

// Blocking of run.
const (
	gemmGroup      = 256      // channels whose epilogue constants are computed at once
	gemmChunkMin   = 96 << 10 // rows x (row + output bytes) above which rows are chunked
	gemmChunkBytes = 24 << 10 // rows x (row + output bytes) per chunk
	gemmXorBytes   = 16 << 10 // the unsigned rows of one chunk (VNNI)
)

// block computes rows [p0, p1) of the block of channels starting at o0;
// row p of the output reads row p-xoff of x (unsigned when pre is set).
func (im *gemmImpl) block(pre bool, x []int8, xstride, kg, ktail int, w []int8, l gemmLayout, y []int8, o, o0 int, e *epiBlock, flags, p0, p1, xoff int) {
	wd := l.width(o0)
	n := min(wd, o-o0)
	wp := &w[l.blockOff(o0)]
	if n == wd || im.bw == 32 && wd >= 16 { // the 512-bit kernels store under a mask
		im.kernel(pre, wd, &x[(p0-xoff)*xstride], xstride, kg, ktail, wp, p1-p0, &y[p0*o+o0], o, e, flags)
		return
	}
	// A partial block: compute into scratch, copy the valid channels.
	var tmp [partialRows * 16]int8
	for q0 := p0; q0 < p1; q0 += partialRows {
		m := min(partialRows, p1-q0)
		im.kernel(pre, wd, &x[(q0-xoff)*xstride], xstride, kg, ktail, wp, m, &tmp[0], wd, e, flags)
		for p := range m {
			copy(y[(q0+p)*o+o0:][:n], tmp[p*wd:][:n])
		}
	}
}

// amxFor reports whether run takes the AMX kernels for rows rows of the
// GEMM of layout l.
func (im *gemmImpl) amxFor(rows int, l gemmLayout) bool {
	return im.amx && rows >= amxMinRows && l.k >= amxMinK && l.kgs()*4 <= amxMaxK
}

// AMX blocking (runAMX).
const (
	amxMinRows    = 16       // fewer rows run the 512-bit VNNI kernels
	amxMinK       = 64       // and so do shorter rows (see gemmImpl.amx)
	amxMaxK       = 16384    // longer rows (bytes read per row, 64 kc) too
	amxChunkBytes = 32 << 10 // rows x 64 kc bytes of A per chunk
)

// amxAccHalf is the offset in bytes of the kernels' second accumulator
// buffer (asmgen.go says why).
const amxAccHalf = 4096 + 256

// amxScratch is runAMX's scratch: the accumulators of two 32-row groups,
// and a copy of rows that cannot be read in place (grown when needed: 32
// rows of the longest row met so far).
type amxScratch struct {
	acc  [(amxAccHalf + 4096) / 4]int32
	tail []int8
}

var amxScratches = sync.Pool{New: func() any { return new(amxScratch) }}

// runAMX is run on the AMX kernels: rows [lo, hi) in chunks of about
// amxChunkBytes of A (each chunk's rows then stay in cache across the
// blocks), every block of channels on each chunk. The kernels read 64 kc
// bytes of each row (kc = kgs/16) in groups of 32 rows; the rows of a chunk
// for which that stays inside x are read in place, the others (at most the
// last group or two of x) from a copy padded with zeros.
func (im *gemmImpl) runAMX(x []int8, xstride, k int, w []int8, l gemmLayout, bias []int32, y []int8, o int,
	zx int32, mult []Multiplier, yz int32, out Range, lo, hi int) {
	s := amxScratches.Get().(*amxScratch)
	defer amxScratches.Put(s)
	kb := l.kgs() * 4
	kc := kb / 64
	// Rows r with r*xstride + kb <= len(x) can be read in place.
	readable := 0
	if len(x) >= kb {
		readable = (len(x)-kb)/xstride + 1
	}
	chunk := max(32, amxChunkBytes/kb/32*32)
	var eb [gemmGroup / 16]epiBlock
	var flags [gemmGroup / 16]int
	eo := newEpiOut(yz, out)
	for g0 := 0; g0 < o; g0 += gemmGroup {
		g1 := min(o, g0+gemmGroup)
		im.fillGroup(&eb, &flags, eo, mult, bias, w, l, zx, yz, out, g0, g1)
		for p0 := lo; p0 < hi; p0 += chunk {
			p1 := min(hi, p0+chunk)
			// Rows [p0, pd) in place: whole groups of 32 readable rows,
			// or all of them when their last group is.
			pd := p1
			if p0+(p1-p0+31)/32*32 > readable {
				pd = p0 + max(0, readable-p0)/32*32
				pd = min(pd, p1)
			}
			if pd > p0 {
				im.amxBlocks(x[p0*xstride:], xstride, kc, w, l, y[p0*o:], o, &eb, &flags, g0, g1, pd-p0, s)
			}
			if pd < p1 && len(s.tail) < 32*kb {
				s.tail = make([]int8, 32*kb)
			}
			for q0 := pd; q0 < p1; q0 += 32 {
				q1 := min(p1, q0+32)
				for r := q0; r < q1; r++ {
					row := s.tail[(r-q0)*kb : (r-q0+1)*kb]
					copy(row, x[r*xstride:r*xstride+k])
					clear(row[k:])
				}
				im.amxBlocks(s.tail[:], kb, kc, w, l, y[q0*o:], o, &eb, &flags, g0, g1, q1-q0, s)
			}
		}
	}
}

// amxBlocks runs the AMX kernels over npix rows of x and the blocks of
// channels [g0, g1).
func (im *gemmImpl) amxBlocks(x []int8, xstride, kc int, w []int8, l gemmLayout, y []int8, o int,
	eb *[gemmGroup / 16]epiBlock, flags *[gemmGroup / 16]int, g0, g1, npix int, s *amxScratch) {
	// The assembly trusts its arguments: check every access here.
	rows := (npix + 31) / 32 * 32 // the rows the tiles read
	if npix < 1 || (rows-1)*xstride+64*kc > len(x) || (npix-1)*o+g1 > len(y) {
		panic("kernels: AMX gemm slices too short for their parameters")
	}
	for o0 := g0; o0 < g1; o0 += l.width(o0) {
		i := (o0 - g0) / 16
		wp := &w[l.blockOff(o0)]
		if l.width(o0) == 32 {
			gemmAMX32(&x[0], xstride, kc, wp, npix, &y[o0], o, &eb[i], flags[i], &s.acc[0])
		} else {
			gemmAMX16(&x[0], xstride, kc, wp, npix, &y[o0], o, &eb[i], flags[i], &s.acc[0])
		}
	}
}
