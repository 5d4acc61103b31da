//go:build !purego

package kernels

import "slices"

// The ARM64 (NEON) depthwise kernels (depthwise_arm64.s, written by
// asmgen_arm64.go), of "neon", and of "dotprod" for the layers its SDOT
// kernels (depthwise_dot_arm64.go) do not take: a 3x3 or 5x5 window, any
// stride, dilation and padding, channels a multiple of 8.
//
// Arithmetic. Per block of 16 channels (the last one 8 if C % 16 = 8) and
// pair of taps a, b: SMULL/SMULL2 of tap a's input bytes by its weights into
// int16 lanes, SMLAL/SMLAL2 of tap b into the same lanes, SADDW/SADDW2 into
// four int32x4 accumulators (an odd last tap: SMULL alone). The int16 sum
// cannot overflow: x is in [-128, 127] and the weights in [-127, 127]
// (symmetric quantization), so |x_a w_a + x_b w_b| <= 2 x 128 x 127 = 32512.
// A weight of -128 could reach 2 x 16384 = 32768 (mnc's quantizer never
// produces one, but a layer may hold one), so such a layer runs the "w"
// kernels instead, which widen every tap's int16 product on its own
// (SMULL/SMULL2, then four SADDW/SADDW2 per tap). The input zero
// point is folded into the accumulator's start, corr = bias - zx Σ_t w[t],
// with the raw input bytes multiplied: padding taps read a vector of zx
// bytes, whose product zx w[t] cancels its share of the correction, as in
// the generic Σ (x - zx) w. Sums wrap in int32 exactly as the generic ones
// (the true result fits).
//
// Requantization (the epilogue, per 16 channels), in 32-bit lanes: in a
// block with an S < 32, SQSHL of the accumulator by max(0, 32-S); then
// SQDMULH by M[c] and SRSHL by -(max(S, 32)-31), which give v =
// RoundShift(acc M, S) exactly, or, when the SQSHL saturates, a value
// beyond 2^29 in magnitude of v's sign (fillEpiARM proves it); then SQXTN
// to int16, SQADD of the output zero point (int16), SQXTN to int8, SMAX
// lo, SMIN hi. Two shortcuts give the same values (see gemm_arm64.go):
// in a block whose channels share k = max(S, 32) - 31 <= 16, SQRSHRN #k
// instead of SRSHL and SQXTN; when z = -128, SQXTUN and an EOR of 0x80
// instead of SQADD z and SQXTN. The saturating chain equals clamp(z + v, lo, hi):
// saturation is monotone and [lo, hi] lies inside [-128, 127]. If v fits
// in int16, the narrow to int16 leaves it unchanged, z + v (|z| <= 128) is
// saturated to int16 and then to int8, and clamping a saturated value to a
// sub-range of the saturation range gives the clamp of the unsaturated
// one. If v > 32767 (v < -32768), the chain gives 32767 + z >= 32639
// (-32768 + z <= -32641), saturated to 127 (-128), clamped to hi (lo),
// which is also clamp(z + v, lo, hi) since z + v > 127 (< -128).
//
// Driving (dwRunARM): per chunk of at most 512 channels, per output row,
// one call for the interior pixels (every tap inside the input columns; a
// padding row's taps read zx with pixel step 0) and one call per border
// pixel (its out-of-range taps read zx). The kernel loops over pixels, then
// blocks; each tap's input pointer advances 16 bytes per block.
//
// Packed layout (PackDepthwise), for T = KH*KW taps in groups (3x3: taps
// 0-8; 5x5: taps 0-11 and 12-24, T0 the first tap of a group, n its size)
// and nb = ceil(C/16) blocks: from byte T0*nb*16, for each block b and tap t
// of the group, 16 weights w[t][16b+j] (zero past C) at
// (b*n + t - T0)*16; then, from byte T*nb*16, C little-endian int32
// wsum[c] = Σ_t w[t][c]; then one byte, 1 if a weight is -128 (the "w"
// kernels), else 0. Its length always differs from the generic T*C, which
// marks a layer left in the generic layout.

// dwArgsARM is what the depthwise kernels read (offsets in
// asmgen_arm64.go; TestDwArgsARMLayout checks them).
type dwArgsARM struct {
	base [25]*int8 // per tap: its input vector for pixel 0 of the call (first channel of the chunk), or zx
	step [25]int   // per tap: bytes between consecutive output pixels (StrideW*C, or 0 for zx)
	w0   *int8     // packed weights of the chunk's first block, first group
	w1   *int8     // same, second group (5x5)
	y    *int8     // output pixel 0 of the call, first channel of the chunk
	epi  *int32    // per block of 16 channels: epiWords int32 (fillEpiARM)
	acc  *int32    // per block: 16 int32 (5x5: the first group's sums)
	c    int       // output pixel stride in bytes (C)
	npix int       // output pixels
	nblk int       // full 16-channel blocks in the chunk
	tail int       // 1 if an 8-channel block follows them
	zy   int       // output zero point
	lo   int       // output clamp
	hi   int
}

// dwNEON3x3 computes npix output pixels of a 3x3 depthwise convolution for
// the channels of one chunk (nblk blocks of 16, then an 8-wide block if
// tail):
//
//	for i := range npix:
//		for c := range chunk:
//			acc := corr[c] + Σ_{t<9} int32(base[t][i*step[t] + c]) * w[t][c]
//			y[i*C + c] = clamp(zy + RoundShift(int64(acc)*M[c], S[c]), lo, hi)
//
// (corr = bias - zx Σ_t w[t]). The generic twin is Depthwise.
//
//go:noescape
func dwNEON3x3(a *dwArgsARM)

// dwNEON5x5 is dwNEON3x3 for 25 taps: per pixel and block, taps 0-11 are
// summed into the acc scratch, then taps 12-24 from it (the tap pointers
// of one group fill the general registers). The generic twin is Depthwise.
//
//go:noescape
func dwNEON5x5(a *dwArgsARM)

// dwNEON3x3w is dwNEON3x3 widening every tap's product on its own, for
// weights that include -128. The generic twin is Depthwise.
//
//go:noescape
func dwNEON3x3w(a *dwArgsARM)

// dwNEON5x5w is dwNEON5x5 widening every tap's product on its own, for
// weights that include -128. The generic twin is Depthwise.
//
//go:noescape
func dwNEON5x5w(a *dwArgsARM)

// epiWords is the size of one block of epilogue constants, in int32 (the
// offsets are in asmgen_arm64.go):
//
//	+0    corr[16]           int32  bias - zx Σ_t w[t]
//	+64   M[16]              int32
//	+128  31-max(S, 32)[16]  int32
//	+192  max(0, 32-S)[16]   int32  (the pre-shift for S < 32; R of fillRdm when fast = 2)
//	+256  fast               int64  1 if S >= 32 for every channel of the block, 2 the SQRDMLAH path (SDOT kernels)
//	+264  leaf               int64  epiLeaf (the channels' shift if the same for all, the zero point)
//
// Lanes past the channels have M = 0 and S = 62.
const epiWords = 68

// fillEpiARM fills the epilogue blocks of channels [c0, c0+cw) (cw <= the
// blocks of epi) from the multipliers, bias (nil: zero) and the packed
// weight sums wsum (little-endian int32 per channel); rdm (for the SDOT
// kernels) puts the blocks whose every S is 30 or 31 on the SQRDMLAH path
// (fillRdm), those of mixed shifts within fillMixed's reach on the leaves
// of mixed shifts (their SRSHL words then hold int16 shifts), and indexes
// the SDOT kernels' table (epiLeaf16).
//
// Why the 32-bit path is exact for S >= 32: with v = acc M, SQDMULH gives
// h = floor(2v / 2^32) = floor(v / 2^31) (it saturates only for
// acc = M = -2^31, impossible with M >= 0), and SRSHL by -(S-31) gives
// floor((h + 2^(S-32)) / 2^(S-31)) = floor((v + 2^(S-1)) / 2^S) because
// 2^(S-1) is a multiple of 2^31 (nested floors of divisions by 2^31 and
// 2^(S-31) compose), the rule's RoundShift(v, S). For S < 32 (blocks not
// fast) the accumulator is first
// shifted left by j = 32 - S with SQSHL (saturating): if acc 2^j fits in
// int32, RoundShift(acc 2^j M, 32) = RoundShift(acc M, S) exactly and the
// above applies with S = 32; if it saturates, |acc| >= 2^(31-j) and M >=
// 2^30 (M < 2^30 only with S = 62) give |acc M 2^-S| >= 2^(61-j-S) = 2^29,
// so the rule saturates, and the saturated acc' (|acc'| >= 2^31 - 1, its
// sign) gives |floor(acc' M / 2^31)| >= 2^30 - 1 and after the shift by 1
// at least 2^29 - 1 in magnitude, of the same sign: the same end.
func fillEpiARM(epi []int32, p *ConvParams, bias []int32, wsum []int8, c0, cw int, rdm bool) {
	nb := (cw + 15) / 16
	clear(epi[:nb*epiWords])
	for b := range nb {
		e := epi[b*epiWords:][:epiWords]
		fast, k := true, int32(-1)
		for j := range 16 {
			ch := c0 + 16*b + j
			s := int32(MaxShift)
			if 16*b+j < cw {
				ws := int32(uint32(uint8(wsum[4*ch])) | uint32(uint8(wsum[4*ch+1]))<<8 | uint32(uint8(wsum[4*ch+2]))<<16 | uint32(uint8(wsum[4*ch+3]))<<24)
				corr := -p.XZero * ws
				if bias != nil {
					corr += bias[ch]
				}
				e[j], e[16+j], s = corr, p.Mult[ch].M, p.Mult[ch].S
				k = uniformK(k, s)
			}
			e[32+j] = 31 - max(s, 32)
			e[48+j] = max(0, 32-s)
			fast = fast && s >= 32
		}
		if fast {
			e[64] = 1
		}
		n := min(16, cw-16*b)
		useRdm := rdm && fillRdm(e[48:48+n], p.Mult[c0+16*b:][:n])
		if useRdm {
			e[64] = 2
		}
		e[66] = epiLeaf(max(k, 0), p.YZero, useRdm)
		if rdm { // the SDOT kernels' table (requantTail16)
			leaf := epiLeaf(max(k, 0), 0, useRdm)
			if !useRdm && k == 0 {
				if i, ok := mixedShift(p.Mult[c0+16*b:][:n]); ok {
					// The int16 shifts of channels 8g.. at word 32+8g
					// (where the 8-channel kernels load each half's
					// SRSHL shifts), the rest of the words cleared.
					clear(e[32:48])
					for j, m := range p.Mult[c0+16*b:][:n] {
						setLane16(e[32+8*(j/8):], j%8, -(max(m.S, 32) - 31 - i))
					}
					leaf = 18 + i
				}
			}
			e[66] = epiLeaf16(leaf, p.YZero)
		}
	}
}

// uniformK folds a channel of shift s into k, the block's uniform shift
// after SQDMULH so far (-1: no channel yet; 0: not uniform): the block
// keeps k = max(s, 32) - 31 while every channel has the same one and it is
// at most 16, the range of SQRSHRN to 16 bits (the lanes past the channels,
// with M = 0, give 0 for any k and are not folded in).
func uniformK(k, s int32) int32 {
	ks := max(s, 32) - 31
	switch {
	case ks > 16 || k == 0 || (k > 0 && k != ks):
		return 0
	}
	return ks
}

// epiLeaf returns the leaf of the epilogues' table (asmgen_arm64.go's
// requantTail) for a block of uniform shift k (0: none) and output zero
// point yz: k-1 (SQRSHRN #k) or 16 (SRSHL by register), or 17 (SQXTN
// alone) for a block on the SQRDMLAH path (rdm, see fillRdm), plus 18 if
// yz is -128 (SQXTUN and EOR 0x80 instead of SQADD yz and SQXTN).
func epiLeaf(k, yz int32, rdm bool) int32 {
	i := int32(16)
	switch {
	case rdm:
		i = 17
	case k > 0:
		i = k - 1
	}
	if yz == -128 {
		i += 18
	}
	return i
}

// fillRdm reports whether the SDOT kernels requantize the channels of
// multipliers ms on the SQRDMLAH path (every S is 30 or 31), and if so
// writes each one's R = M 2^(31-S) - 2^31 to r (which has room for them).
//
// Why it is exact: M is in [2^30, 2^31) (Multiplier.Validate; S < 62), so
// R is in [-2^30, 2^31) and fits int32. With P = M 2^(31-S) = 2^31 + R,
// RoundShift(acc M, S) = floor((acc P + 2^30) / 2^31) = acc + floor((acc R
// + 2^30) / 2^31), and SQRDMLAH Vd, Vn, Vm with Vd = Vn = acc and Vm = R
// computes saturate((acc 2^32 + 2 acc R + 2^31) >> 32), that same sum
// rounded once, saturated to int32. Where it saturates, |RoundShift(acc M,
// S)| >= 2^31 - 1 and the rule saturates to the same end. The saturating
// narrows, the zero point and the clamp follow as on the other paths. One
// SQRDMLAH and the SQXTN leaf replace SQSHL, SQDMULH and SQRSHRN #1 for
// these S. (The lanes past the channels keep R = 0: their accumulators are
// 0, corr and weights being 0, and stay 0.)
func fillRdm(r []int32, ms []Multiplier) bool {
	if len(ms) == 0 {
		return false
	}
	for _, m := range ms {
		if m.S != 30 && m.S != 31 {
			return false
		}
	}
	for j, m := range ms {
		r[j] = int32(int64(m.M)<<(31-m.S) - 1<<31)
	}
	return true
}

// dwChunkARM bounds the channels of one pass (the stack scratch).
const dwChunkARM = 512

// dwZxLen is the length of the zx vector: a chunk, and 64 bytes more that
// the 8-channel SDOT kernels read past their last block.
const dwZxLen = dwChunkARM + 64

// dwFastARM reports whether p has a NEON kernel (weights permitting).
func dwFastARM(p *ConvParams) bool {
	return p.O == p.C && p.C%8 == 0 && p.KH == p.KW && (p.KH == 3 || p.KH == 5)
}

// dwGroupsARM returns the tap groups (first, count) of a k x k window.
func dwGroupsARM(k int) [][2]int {
	if k == 3 {
		return [][2]int{{0, 9}}
	}
	return [][2]int{{0, 12}, {12, 13}}
}

func dwPackedLenARM(p *ConvParams) int {
	nb := (p.C + 15) / 16
	return p.KH*p.KW*nb*16 + 4*p.C + 1
}

// packDwARM is the PackDepthwise of the ARM64 Sets.
func packDwARM(p *ConvParams, w []int8) []int8 {
	if !dwFastARM(p) {
		return w
	}
	C, T := p.C, p.KH*p.KW
	nb := (C + 15) / 16
	out := make([]int8, dwPackedLenARM(p))
	for _, g := range dwGroupsARM(p.KH) {
		base := g[0] * nb * 16
		for b := range nb {
			for t := g[0]; t < g[0]+g[1]; t++ {
				dst := out[base+(b*g[1]+t-g[0])*16:][:16]
				for j := range 16 {
					if c := 16*b + j; c < C {
						dst[j] = w[t*C+c]
					}
				}
			}
		}
	}
	for c := range C {
		var s int32
		for t := range T {
			s += int32(w[t*C+c])
		}
		putInt32(out[T*nb*16+4*c:], s)
	}
	if slices.Contains(w, -128) {
		out[len(out)-1] = 1 // the int16 pair sums could overflow
	}
	return out
}

// dwRunARM is the Depthwise of the "neon" Set.
func dwRunARM(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	dwRun(p, x, w, bias, y, lo, hi, false)
}

// dwRunDot is the Depthwise of the "dotprod" Set: dwRunARM, with the SDOT
// kernels for 3x3 and 5x5 layers of stride 1 and 2 (packDwDot).
func dwRunDot(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	dwRun(p, x, w, bias, y, lo, hi, true)
}

// dwState is what the row passes of one chunk share (no pointers: those
// are the passes' arguments, so that the scratch stays on the stack).
type dwState struct {
	p        *ConvParams
	kern     int // dwCallARM
	c0       int // the chunk's first channel
	s, dh    int // stride and dilation of the columns and rows
	kwoff    [5]int
	oxA, oxB int // the interior pixels
}

func dwRun(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int, dot bool) {
	T := p.KH * p.KW
	if !dwFastARM(p) || len(w) == T*p.C {
		Depthwise(p, x, w, bias, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	C := p.C
	nb := (C + 15) / 16
	n := dwPackedLenARM(p)
	dot8 := dot && dwDot8Packed(p)
	dot = dot && dwDotPacked(p)
	if dot || dot8 {
		n += dwDotLen(p)
	}
	if len(w) != n || len(x) < p.N*p.H*p.W*C || len(y) < p.N*p.OH*p.OW*C || hi > p.Rows() || lo < 0 ||
		len(p.Mult) < C || (bias != nil && len(bias) < C) {
		panic("kernels: depthwise slices too short for their parameters")
	}
	groups := dwGroupsARM(p.KH)
	st := dwState{p: p, s: p.StrideW}
	var dw int
	st.dh, dw = p.dil()
	s := st.s
	for kw := range p.KW {
		st.kwoff[kw] = kw*dw - p.PadLeft
	}
	// Interior pixels: ox*s + kwoff[0] >= 0 and ox*s + kwoff[KW-1] < W.
	oxA := 0
	if k0 := st.kwoff[0]; k0 < 0 {
		oxA = (-k0 + s - 1) / s
	}
	oxB := -1
	if last := p.W - 1 - st.kwoff[p.KW-1]; last >= 0 {
		oxB = last / s
	}
	oxB = min(oxB+1, p.OW)
	st.oxA, st.oxB = min(oxA, oxB), oxB

	var zx [dwZxLen]int8
	for i := range zx {
		zx[i] = int8(p.XZero)
	}
	var epi [dwChunkARM / 16 * epiWords]int32
	var acc [dwChunkARM]int32
	var a dwArgsARM
	var dotW *int8 // the chunk's SDOT weights
	a.c, a.zy, a.lo, a.hi = C, int(p.YZero), int(p.Out.Lo), int(p.Out.Hi)
	a.epi, a.acc = &epi[0], &acc[0]
	st.kern = 0 // dwCallARM: 3x3 or 5x5 (+1), paired or not (+2)
	if p.KH == 5 {
		st.kern++
	}
	if w[dwPackedLenARM(p)-1] != 0 {
		st.kern += 2
	}
	for c0 := 0; c0 < C; c0 += dwChunkARM {
		cw := min(dwChunkARM, C-c0)
		fillEpiARM(epi[:], p, bias, w[T*nb*16:], c0, cw, dot || dot8)
		a.nblk, a.tail = cw/16, 0
		if cw%16 != 0 {
			a.tail = 1
		}
		a.w0 = &w[groups[0][0]*nb*16+(c0/16)*groups[0][1]*16]
		a.w1 = a.w0
		if len(groups) > 1 {
			a.w1 = &w[groups[1][0]*nb*16+(c0/16)*groups[1][1]*16]
		}
		st.c0 = c0
		useDot := dot
		if useDot {
			dotW = &w[dwPackedLenARM(p)+c0/16*dwDotBlk]
		}
		if dot8 {
			st.dot8Chunk(&epi[0], cw/8, &zx, &w[dwPackedLenARM(p)+c0/8*dwDot8Blk(p)], x, y, lo, hi)
			continue
		}
		for r := lo; r < hi; r++ {
			if !useDot {
				st.row(&a, &zx, x, y, r)
				continue
			}
			nr := 1
			if p.StrideH == 1 && r+1 < hi && (r+1)%p.OH != 0 {
				nr = 2 // rows r and r+1 (same image)
			}
			st.dotRows(&epi[0], a.nblk, &zx, dotW, x, y, r, nr)
			r += nr - 1
		}
	}
}

// row runs output row r of the chunk on the NEON kernel: its interior
// pixels in one call, then each border pixel.
func (st *dwState) row(proto *dwArgsARM, zx *[dwZxLen]int8, x, y []int8, r int) {
	p, C, s := st.p, st.p.C, st.s
	a := *proto // a local: its pointers then stay off the heap

	n, oy := r/p.OH, r%p.OH
	var rowOff [5]int
	for kh := range p.KH {
		iy := oy*p.StrideH - p.PadTop + kh*st.dh
		rowOff[kh] = -1
		if iy >= 0 && iy < p.H {
			rowOff[kh] = (n*p.H+iy)*p.W*C + st.c0
		}
	}
	yRow := (n*p.OH+oy)*p.OW*C + st.c0
	if st.oxA < st.oxB {
		for kh := range p.KH {
			for kw := range p.KW {
				t := kh*p.KW + kw
				if rowOff[kh] < 0 {
					a.base[t], a.step[t] = &zx[0], 0
					continue
				}
				a.base[t], a.step[t] = &x[rowOff[kh]+(st.oxA*s+st.kwoff[kw])*C], s*C
			}
		}
		a.y, a.npix = &y[yRow+st.oxA*C], st.oxB-st.oxA
		dwCallARM(st.kern, &a)
	}
	// Border pixels, one call each: out-of-range taps read zx.
	for ox := range p.OW {
		if ox >= st.oxA && ox < st.oxB {
			continue
		}
		for kh := range p.KH {
			for kw := range p.KW {
				t := kh*p.KW + kw
				ix := ox*s + st.kwoff[kw]
				a.base[t], a.step[t] = &zx[0], 0
				if rowOff[kh] >= 0 && ix >= 0 && ix < p.W {
					a.base[t] = &x[rowOff[kh]+ix*C]
				}
			}
		}
		a.y, a.npix = &y[yRow+ox*C], 1
		dwCallARM(st.kern, &a)
	}
}

// dwCallARM calls kernel kern (0: dwNEON3x3, 1: dwNEON5x5, 2: dwNEON3x3w,
// 3: dwNEON5x5w) directly, so that a does not escape.
func dwCallARM(kern int, a *dwArgsARM) {
	switch kern {
	case 0:
		dwNEON3x3(a)
	case 1:
		dwNEON5x5(a)
	case 2:
		dwNEON3x3w(a)
	default:
		dwNEON5x5w(a)
	}
}

// armDepthwise installs the ARM64 depthwise kernels into s: those of this
// file, plus for dotprod the SDOT kernels of 3x3 and 5x5 layers of stride
// 1 and 2 (depthwise_dot_arm64.go).
func armDepthwise(s *Set, dot bool) {
	s.PackDepthwise = packDwARM
	s.Depthwise = dwRunARM
	if dot {
		s.PackDepthwise = packDwDot
		s.Depthwise = dwRunDot
	}
}
