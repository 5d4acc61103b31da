//go:build !purego

package kernels

import "slices"

// The 32-bit ARM (ARMv7 NEON) depthwise kernels of the "neon32" Set
// (depthwise_arm.s, written by asmgen_arm.go): a 3x3 or 5x5 window, any
// stride, dilation and padding, one output channel per input channel,
// channels a multiple of 8. Other depthwise layers keep the generic layout
// and twin.
//
// Arithmetic. Per block of 8 channels the taps' weights stay in D registers
// while the kernel walks the pixels of the call (5x5: two passes, kernel
// rows 0-2 into an int32 scratch per pixel, then rows 3-4 from it, each
// pass's weights in registers); per pixel and
// pair of taps a, b: VMULL.S8 of tap a's 8 input bytes by its weights into
// int16 lanes, VMLAL.S8 of tap b into the same lanes, VADDW.S16 into two
// int32x4 accumulators that start from corr = bias - zx Σ_t w[t] (the last
// tap alone: VMULL.S8). The int16 sum cannot overflow for weights in [-127,
// 127] (|x_a w_a + x_b w_b| <= 2 x 128 x 127 = 32512); a layer holding a
// weight of -128 runs dwNeon32w, which widens every tap's product on its
// own. Padding taps read bytes equal to zx, whose products cancel their
// share of corr, as in the generic Σ (x - zx) w.
//
// Requantization, per block: if every channel has S >= 32 (the usual
// case), VQDMULH.S32 by M then VRSHL.S32 by -(S-31), exact by the proof of
// fillEpiARM (depthwise_arm64.go: floor(acc M / 2^31), then a rounding
// shift whose rounding term 2^(S-32) is a multiple of the first division's
// remainder bound); else VMULL.S32 into int64 lanes and VRSHL.S64 by -S,
// which is RoundShift itself. Then VQMOVN.S32, VQADD.S16 zy, VQMOVN.S16,
// VMAX.S8 lo, VMIN.S8 hi: the saturating chain gemm_arm64.go proves equal to
// clamp(zy + v, lo, hi).
//
// Driving (dwRunNeon32): per chunk of at most dwChunkNeon32 channels and
// output row, one call for the interior pixels (every tap inside the input
// columns), reading padding rows from a buffer of zx bytes (split into
// several calls when a row's span exceeds the buffer, or for 5x5 the
// pixels the scratch), and one call per border pixel on a patch of its
// taps, zx outside the input.
//
// Packed layout (PackDepthwise), for T = KH*KW taps: per block b of 8
// channels, 8T bytes: tap t's weights w[t][8b .. 8b+7] at 8Tb + 8t; then C
// little-endian int32 wsum[c] = Σ_t w[t][c]; then one byte, 1 if a weight
// is -128. Its length differs from the generic TC, which marks a layer left
// in the generic layout.

// dwArgsNeon32 is what the depthwise kernels read (offsets in
// asmgen_arm.go; TestDwArgsNeon32Layout checks them). The kernel writes
// boff only.
type dwArgsNeon32 struct {
	row     [5]*int8 // kernel row r's tap 0 for the first pixel, first channel of the chunk
	tapStep int      // bytes between taps kw and kw+1 (DilationW x C)
	pixFix  int      // StrideW x C - (KW-1) tapStep
	w       *int8    // the chunk's packed weights
	epi     *int32   // the chunk's epilogue constants (dwEpiNeon32 per block)
	y       *int8    // output of the first pixel, first channel of the chunk
	c       int      // bytes between output pixels (C)
	npix    int      // pixels (>= 1)
	cw      int      // channels of the chunk, a multiple of 8
	boff    int      // the kernel's block offset
	acc     *int32   // 5x5: per pixel, 8 int32 (the first pass's sums)
	zy      [8]int16
	lo, hi  [8]int8
}

// dwNeon32 computes npix output pixels of a 3x3 depthwise convolution for
// the cw channels of a chunk:
//
//	for i := range npix:
//		for c := range cw:
//			acc := corr[c] + Σ_{r, kw < 3} int32(row[r][i*(pixFix + 2 tapStep) + kw*tapStep + c]) * w[3r+kw][c]
//			y[i*C + c] = clamp(zy + RoundShift(int64(acc)*M[c], S[c]), lo, hi)
//
// (corr = bias - zx Σ_t w[t]). The generic twin is Depthwise.
//
//go:noescape
func dwNeon32(a *dwArgsNeon32)

// dwNeon32w is dwNeon32 widening every tap's product on its own, for
// weights that include -128. The generic twin is Depthwise.
//
//go:noescape
func dwNeon32w(a *dwArgsNeon32)

// dwNeon32x5 is dwNeon32 for a 5x5 window (r < 5, kw < 5, pixFix + 4
// tapStep per pixel), in two passes per block through acc (npix x 8
// int32). The generic twin is Depthwise.
//
//go:noescape
func dwNeon32x5(a *dwArgsNeon32)

// dwNeon32x5w is dwNeon32x5 widening every tap's product on its own, for
// weights that include -128. The generic twin is Depthwise.
//
//go:noescape
func dwNeon32x5w(a *dwArgsNeon32)

// dwEpiNeon32 is the size in int32 of one block's epilogue constants (8
// channels, 256 bytes):
//
//	+0    corr[8]  int32  bias - zx Σ_t w[t]
//	+32   M[8]     int32
//	+64   31-S[8]  int32  (the 32-bit path)
//	+96   M[0:4] int32, -S[0:4] int64, M[4:8], -S[4:8]  (the 64-bit path)
//	+192  fast     int32  1 if S >= 32 for every channel of the block
const dwEpiNeon32 = 64

// fillEpiNeon32 fills the epilogue blocks of channels [c0, c0+cw) from the
// multipliers, bias (nil: zero) and the packed weight sums wsum.
func fillEpiNeon32(epi []int32, p *ConvParams, bias []int32, wsum []int8, c0, cw int) {
	for b := range cw / 8 {
		e := epi[b*dwEpiNeon32:][:dwEpiNeon32]
		fast := int32(1)
		for j := range 8 {
			ch := c0 + 8*b + j
			corr := -p.XZero * readInt32(wsum, 4*ch)
			if bias != nil {
				corr += bias[ch]
			}
			m, s := p.Mult[ch].M, p.Mult[ch].S
			e[j], e[8+j], e[16+j] = corr, m, 31-s
			x := 24 + 12*(j/4) // this half's M[4], then -S[4] as int64
			ns := -int64(s)
			e[x+j%4], e[x+4+2*(j%4)], e[x+5+2*(j%4)] = m, int32(ns), int32(ns>>32)
			if s < 32 {
				fast = 0
			}
		}
		e[48] = fast
	}
}

// dwChunkNeon32 bounds the channels of one pass (the stack scratch).
const dwChunkNeon32 = 256

// dwZxNeon32 is the size of the buffer of zx bytes that padding rows read.
const dwZxNeon32 = 8 << 10

// dwPixNeon32 bounds the pixels of one 5x5 call (the acc scratch).
const dwPixNeon32 = 128

// dwFastNeon32 reports whether p has a NEON kernel.
func dwFastNeon32(p *ConvParams) bool {
	return p.O == p.C && p.C%8 == 0 && p.KH == p.KW && (p.KH == 3 || p.KH == 5) &&
		(p.KW-1)*max(p.DilationW, 1)*p.C+dwChunkNeon32 <= dwZxNeon32
}

func dwPackedLenNeon32(p *ConvParams) int { return p.KH*p.KW*p.C + 4*p.C + 1 }

// packDwNeon32 is the PackDepthwise of the "neon32" Set.
func packDwNeon32(p *ConvParams, w []int8) []int8 {
	if !dwFastNeon32(p) {
		return w
	}
	C, T := p.C, p.KH*p.KW
	out := make([]int8, dwPackedLenNeon32(p))
	for c := range C {
		var s int32
		for t := range T {
			v := w[t*C+c]
			out[8*T*(c/8)+8*t+c%8] = v
			s += int32(v)
		}
		putInt32(out[T*C+4*c:], s)
	}
	if slices.Contains(w, -128) {
		out[len(out)-1] = 1 // the int16 pair sums could overflow
	}
	return out
}

// dwRunNeon32 is the Depthwise of the "neon32" Set.
func dwRunNeon32(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	K, T := p.KW, p.KH*p.KW
	if !dwFastNeon32(p) || len(w) == T*p.C {
		Depthwise(p, x, w, bias, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	C := p.C
	if len(w) != dwPackedLenNeon32(p) || len(x) < p.N*p.H*p.W*C || len(y) < p.N*p.OH*p.OW*C || hi > p.Rows() || lo < 0 ||
		len(p.Mult) < C || (bias != nil && len(bias) < C) {
		panic("kernels: depthwise slices too short for their parameters")
	}
	dh, dw := p.dil()
	s := p.StrideW
	var kwoff [5]int
	for kw := range K {
		kwoff[kw] = kw*dw - p.PadLeft
	}
	// Interior pixels: ox*s + kwoff[0] >= 0 and ox*s + kwoff[K-1] < W.
	oxA := 0
	if k0 := kwoff[0]; k0 < 0 {
		oxA = (-k0 + s - 1) / s
	}
	oxB := -1
	if last := p.W - 1 - kwoff[K-1]; last >= 0 {
		oxB = last / s
	}
	oxB = min(oxB+1, p.OW)
	oxA = min(oxA, oxB)

	var zx [dwZxNeon32]int8
	zx[0] = int8(p.XZero)
	for n := 1; n < len(zx); n *= 2 {
		copy(zx[n:], zx[:n])
	}
	var epi [dwChunkNeon32 / 8 * dwEpiNeon32]int32
	var patch [25 * dwChunkNeon32]int8
	var acc [dwPixNeon32 * 8]int32
	var a dwArgsNeon32
	a.c, a.epi, a.acc = C, &epi[0], &acc[0]
	for i := range a.zy {
		a.zy[i], a.lo[i], a.hi[i] = int16(p.YZero), p.Out.Lo, p.Out.Hi
	}
	kern := 0 // dwCallNeon32: 3x3 or 5x5 (+1), paired or not (+2)
	if K == 5 {
		kern++
	}
	if w[len(w)-1] != 0 {
		kern += 2
	}
	var rowOff [5]int
	for c0 := 0; c0 < C; c0 += dwChunkNeon32 {
		cw := min(dwChunkNeon32, C-c0)
		fillEpiNeon32(epi[:], p, bias, w[T*C:], c0, cw)
		a.w, a.cw = &w[T*c0], cw
		for r := lo; r < hi; r++ {
			n, oy := r/p.OH, r%p.OH
			padded := false
			for kh := range K {
				iy := oy*p.StrideH - p.PadTop + kh*dh
				rowOff[kh] = -1
				if iy >= 0 && iy < p.H {
					rowOff[kh] = (n*p.H+iy)*p.W*C + c0
				} else {
					padded = true
				}
			}
			yRow := (n*p.OH+oy)*p.OW*C + c0
			// Interior pixels, in segments whose padding rows fit in zx
			// (and, for 5x5, whose sums fit in acc).
			a.tapStep, a.pixFix = dw*C, s*C-(K-1)*dw*C
			seg := oxB - oxA
			if padded {
				seg = (dwZxNeon32-(K-1)*dw*C-cw)/(s*C) + 1
			}
			if K == 5 {
				seg = min(seg, dwPixNeon32)
			}
			for ox0 := oxA; ox0 < oxB; ox0 += seg {
				for kh := range K {
					a.row[kh] = &zx[0]
					if rowOff[kh] >= 0 {
						a.row[kh] = &x[rowOff[kh]+(ox0*s+kwoff[0])*C]
					}
				}
				a.y, a.npix = &y[yRow+ox0*C], min(seg, oxB-ox0)
				dwCallNeon32(kern, &a)
			}
			// Border pixels, one call each on a patch of their taps.
			for ox := range p.OW {
				if ox >= oxA && ox < oxB {
					continue
				}
				for t := range T {
					kh, kw := t/K, t%K
					ix := ox*s + kwoff[kw]
					src := zx[:cw]
					if rowOff[kh] >= 0 && ix >= 0 && ix < p.W {
						src = x[rowOff[kh]+ix*C:][:cw]
					}
					copy(patch[t*cw:][:cw], src)
				}
				for kh := range K {
					a.row[kh] = &patch[K*kh*cw]
				}
				a.tapStep, a.pixFix = cw, 0
				a.y, a.npix = &y[yRow+ox*C], 1
				dwCallNeon32(kern, &a)
			}
		}
	}
}

// dwCallNeon32 calls kernel kern (0: dwNeon32, 1: dwNeon32x5, 2: dwNeon32w,
// 3: dwNeon32x5w) directly, so that a does not escape.
func dwCallNeon32(kern int, a *dwArgsNeon32) {
	switch kern {
	case 0:
		dwNeon32(a)
	case 1:
		dwNeon32x5(a)
	case 2:
		dwNeon32w(a)
	default:
		dwNeon32x5w(a)
	}
}
