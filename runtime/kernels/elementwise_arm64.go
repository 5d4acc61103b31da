//go:build !purego

package kernels

// The ARM64 (NEON) elementwise kernels (elementwise_arm64.s, written by
// asmgen_arm64.go), the same for "neon" and "dotprod". Each requantizes
// with the epilogue of depthwise_arm64.go: an exact 64-bit product, SRSHL by
// -S (exactly RoundShift), then the saturating narrows, + zero point and
// clamp, which equal the rule (see there).

// addConstsARM is what addNEON reads, one value each (broadcast by VDUP).
type addConstsARM struct {
	za, zb, ma, mb, nsh, zy, lo, hi int
}

// addNEON is Add for n (a multiple of 16) elements:
//
//	for i := range n:
//		v := int64(a[i]-za)*ma + int64(b[i]-zb)*mb          // SSUBL, SXTL, SMULL, SMLAL (|v| < 2^40)
//		y[i] = clamp(zy + RoundShift(v, -nsh), lo, hi)
//
// The generic twin is Add.
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
	zx, m, nsh, zy, lo, hi int
	fast                   int // 1 if S >= 32: the 32-bit path of fillEpiARM, with nsh32
	nsh32                  int // 31 - S
}

// chanMulNEON computes, for npix pixels of c channels (a multiple of 8),
//
//	y[p*c+j] = clamp(zy + RoundShift(int64((x[p*c+j]-zx)*gs[j])*m, -nsh), lo, hi)
//
// (|(x - zx) gs| <= 255 x 255: SMULL of int16 into int32, then SMULL by m
// into int64 and SRSHL by nsh; or, if fast (S >= 32) for the 16-wide
// steps, SQDMULH by m and SRSHL by nsh32, exact as fillEpiARM shows). The
// generic twin is ChannelMul.
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

// addARM is the Add of the ARM64 Sets.
func addARM(p *AddParams, a, b, y []int8) {
	n := len(y) &^ 15
	if n == 0 {
		Add(p, a, b, y)
		return
	}
	a, b = a[:len(y)], b[:len(y)]
	c := addConstsARM{za: int(p.AZero), zb: int(p.BZero), ma: int(p.MA), mb: int(p.MB), nsh: -int(p.S),
		zy: int(p.YZero), lo: int(p.Out.Lo), hi: int(p.Out.Hi)}
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
	k := cmConstsARM{zx: int(p.XZero), m: int(p.Mult.M), nsh: -int(p.Mult.S), zy: int(p.YZero), lo: int(p.Out.Lo), hi: int(p.Out.Hi),
		nsh32: 31 - int(p.Mult.S)}
	if p.Mult.S >= 32 {
		k.fast = 1
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
