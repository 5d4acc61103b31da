//go:build !purego

package kernels

// The ARM64 (NEON) elementwise kernels (elementwise_arm64.s, written by
// asmgen_arm64.go), the same for "neon" and "dotprod". ChannelMul
// requantizes with the epilogue of depthwise_arm64.go (SQSHL by 32-S if
// S < 32, SQDMULH, SRSHL, the saturating narrows, + zero point and clamp,
// which equal the rule: see there and fillEpiARM); Add in 32-bit lanes as
// addARM shows, or, for the parameters that does not cover, with exact
// 64-bit products and SRSHL by -S.

// addConstsARM is what addNEON reads, one value each (broadcast by VDUP).
type addConstsARM struct {
	za, zb, ma, mb, nsh, zy, lo, hi int
	fast                            int // 1: the 32-bit path with the fields below (addARM)
	mah, mbh, mal, mbl              int // MA = mah 2^16 + mal, MB likewise, each in [-2^15, 2^15)
	nsh16                           int // -min(S-16, 31)
	leaf                            int // the 32-bit path's epiLeaf (SQRSHRN #S-16 when S-16 <= 16, the zero point)
	clamp                           int // 1 unless [lo, hi] = [-128, 127]
}

// addNEON is Add for n (a multiple of 16) elements:
//
//	for i := range n:
//		v := int64(a[i]-za)*ma + int64(b[i]-zb)*mb
//		y[i] = clamp(zy + RoundShift(v, -nsh), lo, hi)
//
// If fast, in 32-bit lanes (SSUBL; SMULL, SMLAL of the int16 halves; SSRA;
// SQRSHRN #S-16 to int16 for S-16 <= 16, else SRSHL by nsh16 and SQXTN: the
// same values, as in the depthwise epilogue, then the zero point, the
// clamp if any, as its shortcuts), else in 64-bit ones (SSUBL, SXTL,
// SMULL, SMLAL, |v| < 2^40; SRSHL by nsh). The generic twin is Add.
//
//go:noescape
func addNEON(a, b, y *int8, n int, c *addConstsARM)

// gapSumNEON sums x[hw][c] over hw for nblk blocks of 16 channels:
// acc[16j+l] = Σ_i x[i*c + 16j + l] (int16 partial sums of at most 256
// pixels, widened into int32). The generic twin is the sum loop of
// GlobalAveragePool (without the zero point, which the caller subtracts).
//
//go:noescape
func gapSumNEON(x *int8, hw, c, nblk int, acc *int32)

// cmConstsARM is what chanMulNEON reads, one value each (broadcast).
type cmConstsARM struct {
	zx, m, pre, zy, lo, hi int // pre: max(0, 32-S)
	fast                   int // 1 if S >= 32 (no SQSHL by pre)
	nsh32                  int // 31 - max(S, 32)
	leaf                   int // epiLeaf (SQRSHRN #max(S, 32)-31 when it is <= 16, the zero point)
	clamp                  int // 1 unless [lo, hi] = [-128, 127]
}

// chanMulNEON computes, for npix pixels of c channels (a multiple of 8),
//
//	y[p*c+j] = clamp(zy + RoundShift(int64((x[p*c+j]-zx)*gs[j])*m, S), lo, hi)
//
// (|(x - zx) gs| <= 255 x 255: SMULL of int16 into int32), requantized in
// 32-bit lanes as the depthwise epilogue: unless fast, SQSHL by pre; then
// SQDMULH by m and SRSHL by nsh32, exact as fillEpiARM shows (the product
// plays the accumulator; with M = 0, possible at any S, every step gives
// 0, as the rule), or SQRSHRN by 31-max(S, 32) (at most 16) for SRSHL and
// the narrow to int16, and the zero point and clamp with the depthwise
// epilogue's shortcuts (requantTail's leaves). The generic twin is
// ChannelMul.
//
//go:noescape
func chanMulNEON(x, y *int8, npix, c int, gs *int16, k *cmConstsARM)

// lutNEON is LUT for n (a multiple of 16) bytes: y[i] = t[uint8(x[i])] by
// TBL on t[0:64] and TBX on t[64:128], t[128:192], t[192:256] with the
// index lowered by 64 each time (an index out of a table's range keeps the
// byte). The generic twin is LUT.
//
//go:noescape
func lutNEON(t *Table, x, y *int8, n int)

// addFastMaxM bounds the multipliers of Add's 32-bit path (exclusive):
// below it M splits into int16 halves.
const addFastMaxM = 1<<31 - 1<<15

// addConstsFor returns the constants of addNEON for p.
//
// The 32-bit path, and why it is exact. With S >= 17 and MA, MB <
// 2^31 - 2^15, each multiplier splits as M = Mh 2^16 + Ml with Ml =
// ((M + 2^15) mod 2^16) - 2^15 in [-2^15, 2^15) and Mh = (M + 2^15) >> 16
// in [0, 2^15), both int16. With da = a - za and db = b - zb in [-255, 255]
// (SSUBL into int16), SMULL and SMLAL give, exactly in int32,
// H = da MAh + db MBh and L = da MAl + db MBl (|H|, |L| <= 2 x 255 x 2^15 <
// 2^24), and v = da MA + db MB = 2^16 H + L. Let n = S - 16 >= 1; as
// 2^(S-1) = 2^16 2^(n-1),
//
//	RoundShift(v, S) = floor((2^16 (H + 2^(n-1)) + L) / 2^16 / 2^n)
//	                 = floor((H + 2^(n-1) + floor(L / 2^16)) / 2^n)
//	                 = RoundShift(H + (L >> 16), n)
//
// (nested floors of divisions by powers of two compose; integers leave a
// floor unchanged), which is SSRA #16 (H += L >> 16, arithmetic) and SRSHL
// by -n, exact in 32-bit lanes (|H + (L >> 16)| < 2^25). For n > 31 the
// shift is by 31 instead: both give 0, since x + 2^(k-1) lies in
// [0, 2^k) for |x| < 2^25 and k >= 26. The narrows, the zero point and
// the clamp follow as in the depthwise epilogue (depthwise_arm64.go).
// Other parameters (S <= 16, which no realistic scales give, or a
// multiplier within 2^15 of 2^31) take the 64-bit path.
func addConstsFor(p *AddParams) addConstsARM {
	c := addConstsARM{za: int(p.AZero), zb: int(p.BZero), ma: int(p.MA), mb: int(p.MB), nsh: -int(p.S),
		zy: int(p.YZero), lo: int(p.Out.Lo), hi: int(p.Out.Hi)}
	if p.S >= 17 && p.MA < addFastMaxM && p.MB < addFastMaxM {
		split := func(m int32) (h, l int) {
			h = int(m+1<<15) >> 16
			return h, int(m) - h<<16
		}
		c.fast = 1
		c.mah, c.mal = split(p.MA)
		c.mbh, c.mbl = split(p.MB)
		c.nsh16 = -min(int(p.S)-16, 31)
		k := int32(0) // SQRSHRN #k needs 1 <= k <= 16
		if p.S-16 <= uniformLeavesARM {
			k = p.S - 16
		}
		c.leaf = int(epiLeaf(k, p.YZero, false))
	}
	if p.Out != Full {
		c.clamp = 1
	}
	return c
}

// uniformLeavesARM is asmgen_arm64.go's uniformLeaves, the largest shift of
// the leaves of SQRSHRN.
const uniformLeavesARM = 16

// addARM is the Add of the ARM64 Sets.
func addARM(p *AddParams, a, b, y []int8) {
	n := len(y) &^ 15
	if n == 0 {
		Add(p, a, b, y)
		return
	}
	a, b = a[:len(y)], b[:len(y)]
	c := addConstsFor(p)
	addNEON(&a[0], &b[0], &y[0], n, &c)
	if n < len(y) {
		Add(p, a[n:], b[n:], y[n:])
	}
}

// gapChunkARM bounds the channels of one pass of the pool (stack scratch).
const gapChunkARM = 2048

// gapARM is the GlobalAveragePool of the ARM64 Sets.
func gapARM(p *PoolParams, x, y []int8) {
	if len(x) < p.N*p.HW*p.C || len(y) < p.N*p.C {
		panic("kernels: pool slices too short for their parameters")
	}
	var acc [gapChunkARM]int32
	for n := range p.N {
		for c0 := 0; c0 < p.C; c0 += gapChunkARM {
			cw := min(gapChunkARM, p.C-c0)
			nblk := cw / 16
			xs := x[n*p.HW*p.C+c0:]
			if nblk > 0 {
				gapSumNEON(&xs[0], p.HW, p.C, nblk, &acc[0])
			}
			gapFinish(p, xs, acc[:], nblk*16, y[n*p.C+c0:][:cw])
		}
	}
}

// cmChunkARM bounds the channels ChannelMul handles in assembly (stack
// scratch).
const cmChunkARM = 4096

// chanMulARM is the ChannelMul of the ARM64 Sets.
func chanMulARM(p *ChannelMulParams, x, g, y []int8, lo, hi int) {
	if lo >= hi {
		return
	}
	if p.C%8 != 0 || p.C > cmChunkARM {
		ChannelMul(p, x, g, y, lo, hi)
		return
	}
	if len(x) < p.N*p.HW*p.C || len(g) < p.N*p.C || len(y) < p.N*p.HW*p.C || lo < 0 || hi > p.N*p.HW {
		panic("kernels: channel-mul slices too short for their parameters")
	}
	k := cmConstsARM{zx: int(p.XZero), m: int(p.Mult.M), pre: max(0, 32-int(p.Mult.S)), zy: int(p.YZero), lo: int(p.Out.Lo), hi: int(p.Out.Hi),
		nsh32: 31 - max(int(p.Mult.S), 32)}
	if p.Mult.S >= 32 {
		k.fast = 1
	}
	k.leaf = int(epiLeaf(max(uniformK(-1, p.Mult.S), 0), p.YZero, false))
	if p.Out != Full {
		k.clamp = 1
	}
	var gs [cmChunkARM]int16
	for n := lo / max(p.HW, 1); n < p.N && n*p.HW < hi; n++ {
		a, b := p.span(n, lo, hi)
		for c := range p.C {
			gs[c] = int16(int32(g[n*p.C+c]) - p.GZero)
		}
		off := (n*p.HW + a) * p.C
		chanMulNEON(&x[off], &y[off], b-a, p.C, &gs[0], &k)
	}
}

// lutARM is the LUT of the ARM64 Sets.
func lutARM(t *Table, x, y []int8) {
	y = y[:len(x)]
	n := len(x) &^ 15
	if n > 0 {
		lutNEON(t, &x[0], &y[0], n)
	}
	for i := n; i < len(x); i++ {
		y[i] = t[uint8(x[i])]
	}
}

// armElementwise installs the ARM64 kernels of this file and of
// quantize_arm64.go into s (the same for both variants).
func armElementwise(s *Set, dot bool) {
	s.Add = addARM
	s.GlobalAveragePool = gapARM
	s.ChannelMul = chanMulARM
	s.LUT = lutARM
	s.QuantizeCodes = quantizeARM
	s.Interleave3 = interleave3ARM
}
