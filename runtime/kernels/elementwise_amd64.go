//go:build !purego

package kernels

// addConsts is what addAVX2 reads (offsets in elementwise_amd64.s).
type addConsts struct {
	za, zb [16]int16 // +0, +32
	c0     [16]int16 // +64: (A0, B0) pairs
	c1     [16]int16 // +96: (A1, B1)
	c2     [16]int16 // +128: (A2, B2)
	round  [8]int32  // +160
	sh     [4]int64  // +192 (only the first is used)
	zy     [16]int16 // +224
	lo, hi [16]int8  // +256, +272
}

// addAVX2 is Add for n (a multiple of 16) elements. It splits each
// multiplier into 15-bit pieces, M = M2 2^30 + M1 2^15 + M0, so that
// VPMADDWD on (a - za, b - zb) word pairs gives the exact int32 partial
// sums P_i = (a - za) A_i + (b - zb) B_i, and with U = P2 2^15 + P1 + (P0 >> 15)
// (|U| < 2^25), for S' = min(S, 46) >= 16,
//
//	RoundShift((a - za) MA + (b - zb) MB, S) = (U + 2^(S'-16)) >> (S'-15)
//
// (S > 46 gives 0 either way: the sum is below 2^40 in magnitude). The
// generic twin is Add; parameters with S < 16 run it instead.
//
//go:noescape
func addAVX2(a, b, y *int8, n int, c *addConsts)

// gapSumAVX2 sums x[hw][c] over hw into acc[0:32*nblk] (int16 partial sums
// of at most 128 rows, widened to int32); the generic twin is the sum loop
// of GlobalAveragePool.
//
//go:noescape
func gapSumAVX2(x *int8, hw, c, nblk int, acc *int32)

// chanMulAVX2 computes, for npix pixels of c channels (a multiple of 8),
// y[p][c] = requant((x[p][c] - zx) gs[c]) with the epilogue constants e (one
// multiplier for all lanes); the generic twin is ChannelMul.
//
//go:noescape
func chanMulAVX2(x, y *int8, npix, c int, gs *int32, zx int, e *epiBlock, flags int)

// lutVBMI is LUT for n (a multiple of 64) bytes with AVX-512 VBMI: y[i] =
// t[uint8(x[i])] from two 128-entry VPERMI2B lookups.
//
//go:noescape
func lutVBMI(t *Table, x, y *int8, n int)

func addX86(p *AddParams, a, b, y []int8) {
	n := len(y) &^ 15
	if p.S < 16 || n == 0 {
		Add(p, a, b, y)
		return
	}
	a, b = a[:len(y)], b[:len(y)]
	var c addConsts
	for i := range 16 {
		c.za[i], c.zb[i], c.zy[i] = int16(p.AZero), int16(p.BZero), int16(p.YZero)
		c.lo[i], c.hi[i] = p.Out.Lo, p.Out.Hi
	}
	for i := 0; i < 16; i += 2 {
		c.c0[i], c.c0[i+1] = int16(p.MA&0x7fff), int16(p.MB&0x7fff)
		c.c1[i], c.c1[i+1] = int16(p.MA>>15&0x7fff), int16(p.MB>>15&0x7fff)
		c.c2[i], c.c2[i+1] = int16(p.MA>>30), int16(p.MB>>30)
	}
	s := min(p.S, 46)
	for i := range c.round {
		c.round[i] = 1 << (s - 16)
	}
	c.sh[0] = int64(s - 15)
	addAVX2(&a[0], &b[0], &y[0], n, &c)
	if n < len(y) {
		Add(p, a[n:], b[n:], y[n:])
	}
}

// gapChunk bounds the channels of one pass of the pool (stack scratch).
const gapChunk = 2048

func gapX86(p *PoolParams, x, y []int8) {
	if len(x) < p.N*p.HW*p.C || len(y) < p.N*p.C {
		panic("kernels: pool slices too short for their parameters")
	}
	var acc [gapChunk]int32
	for n := range p.N {
		for c0 := 0; c0 < p.C; c0 += gapChunk {
			cw := min(gapChunk, p.C-c0)
			nblk := cw / 32
			xs := x[n*p.HW*p.C+c0:]
			if nblk > 0 {
				gapSumAVX2(&xs[0], p.HW, p.C, nblk, &acc[0])
			}
			gapFinish(p, xs, acc[:], nblk*32, y[n*p.C+c0:][:cw])
		}
	}
}

// cmChunk bounds the channels ChannelMul handles in assembly (stack scratch).
const cmChunk = 4096

func chanMulX86(p *ChannelMulParams, x, g, y []int8, lo, hi int) {
	if lo >= hi {
		return
	}
	if p.C%8 != 0 || p.C > cmChunk {
		ChannelMul(p, x, g, y, lo, hi)
		return
	}
	if len(x) < p.N*p.HW*p.C || len(g) < p.N*p.C || len(y) < p.N*p.HW*p.C || lo < 0 || hi > p.N*p.HW {
		panic("kernels: channel-mul slices too short for their parameters")
	}
	var e epiBlock
	var lanes [16]int
	flags := e.fillLanes(&lanes, []Multiplier{p.Mult}, nil, nil, -1, 0, p.YZero, p.Out)
	var gs [cmChunk]int32
	for n := lo / max(p.HW, 1); n < p.N && n*p.HW < hi; n++ {
		a, b := p.span(n, lo, hi)
		for c := range p.C {
			gs[c] = int32(g[n*p.C+c]) - p.GZero
		}
		off := (n*p.HW + a) * p.C
		chanMulAVX2(&x[off], &y[off], b-a, p.C, &gs[0], int(p.XZero), &e, flags)
	}
}

func lutGo(t *Table, x, y []int8) {
	y = y[:len(x)]
	i := 0
	for ; i+8 <= len(x); i += 8 {
		xs, ys := x[i:i+8:i+8], y[i:i+8:i+8]
		ys[0], ys[1], ys[2], ys[3] = t[uint8(xs[0])], t[uint8(xs[1])], t[uint8(xs[2])], t[uint8(xs[3])]
		ys[4], ys[5], ys[6], ys[7] = t[uint8(xs[4])], t[uint8(xs[5])], t[uint8(xs[6])], t[uint8(xs[7])]
	}
	for ; i < len(x); i++ {
		y[i] = t[uint8(x[i])]
	}
}

func lutX86VBMI(t *Table, x, y []int8) {
	n := len(x) &^ 63
	if n > 0 {
		_ = y[n-1]
		lutVBMI(t, &x[0], &y[0], n)
	}
	lutGo(t, x[n:], y[n:len(x)])
}

// epiFillAVX2 fills the per-lane constants corr to sh of e (not lo, hi, z):
// lanes 4i..4i+3 from channels gi..gi+3 of mult, bias (nil: zeros) and wsum
// (nil: zeros; little-endian int32 at 4 bytes per channel), corr = bias -
// zc x wsum. It returns the flags. The generic twin is epiBlock.fillLanes.
//
//go:noescape
func epiFillAVX2(e *epiBlock, mult *Multiplier, bias *int32, wsum *int8, zc int, g0, g1, g2, g3 int) int

// fillGroups fills e from four groups of four channels starting at the
// given channels (all < len(mult)), with the assembly; lo, hi and z must
// already be set (setOut).
func (e *epiBlock) fillGroups(mult []Multiplier, bias []int32, w []int8, wsumOff int, zc int32, g [4]int) int {
	top := max(g[0], g[1], g[2], g[3]) + 4
	if min(g[0], g[1], g[2], g[3]) < 0 || top > len(mult) || (bias != nil && top > len(bias)) || (wsumOff >= 0 && wsumOff+4*top > len(w)) {
		panic("kernels: epilogue channel groups out of range")
	}
	var bp *int32
	if bias != nil {
		bp = &bias[0]
	}
	var wp *int8
	if wsumOff >= 0 {
		wp = &w[wsumOff]
	}
	return epiFillAVX2(e, &mult[0], bp, wp, int(zc), g[0], g[1], g[2], g[3])
}

// quantizeAVX2 computes QuantizeCodes(x[:n], inv, zero, y[:n]) for n a
// multiple of 32, 32 values per iteration: VMULPS by inv, VMAXPS/VMINPS
// with -512 and 512, NaN lanes zeroed (VCMPPS ordered mask, VANDPS),
// VCVTPS2DQ (round half to even, the MXCSR default Go keeps), VPADDD zero,
// VPACKSSDW and VPACKSSWB (the int8 saturation), VPERMD to undo the packs'
// lane interleaving. The generic twin is QuantizeCodes.
//
//go:noescape
func quantizeAVX2(x *float32, n int, inv float32, zero int32, y *int8)

func quantizeX86(x []float32, inv float32, zero int32, y []int8) {
	n := len(x) &^ 31
	if n > 0 {
		_ = y[n-1]
		quantizeAVX2(&x[0], n, inv, zero, &y[0])
	}
	QuantizeCodes(x[n:], inv, zero, y[n:])
}

// interleave3AVX computes Interleave3 for n a multiple of 16 pixels, 16 per
// iteration: each 16 output bytes are the VPOR of three VPSHUFBs of the r,
// g and b vectors (masks interleave3Masks). The generic twin is
// Interleave3.
//
//go:noescape
func interleave3AVX(pr, pg, pb *int8, n int, y *int8)

func interleave3X86(r, g, b, y []int8) {
	n := len(r) &^ 15
	if n > 0 {
		_, _, _ = g[n-1], b[n-1], y[3*n-1]
		interleave3AVX(&r[0], &g[0], &b[0], n, &y[0])
	}
	Interleave3(r[n:], g[n:len(r)], b[n:len(r)], y[3*n:])
}

// im2colRuns copies, for n pixels, kh runs of 16 bytes from src + k*rs to
// dst + k*run, advancing dst by kp and src by step per pixel (the interior
// pixels of conv's im2col; the caller checks every access).
//
//go:noescape
func im2colRuns(dst *int8, kp int, src *int8, step, rs, kh, run, n int)
