//go:build !purego

package kernels

// The 32-bit ARM (ARMv7 NEON) elementwise kernels of the "neon32" Set
// (elementwise_arm.s, written by asmgen_arm.go): Add, ChannelMul,
// QuantizeCodes and GlobalAveragePool.

// addConstsNeon32 is what addNeon32 reads (80 bytes, by three VLD1).
type addConstsNeon32 struct {
	za, zb [8]int8  // the input zero points (broadcast)
	ma, mb [2]int32 // the multipliers
	nsh    [2]int64 // -S
	zy     [8]int16 // the output zero point
	lo, hi [8]int8  // the output clamp
}

// addNeon32 is Add for n (a multiple of 8) elements:
//
//	for i := range n:
//		v := int64(a[i]-za)*ma + int64(b[i]-zb)*mb   // VSUBL.S8, VMOVL.S16, VMULL.S32, VMLAL.S32 (|v| < 2^40)
//		y[i] = clamp(zy + RoundShift(v, S), lo, hi)   // VRSHL.S64 by -S, then the saturating chain
//
// The saturating chain (VQMOVN.S64, VQMOVN.S32, VQADD.S16 zy, VQMOVN.S16,
// VMAX.S8 lo, VMIN.S8 hi) equals the rule's clamp, as gemm_arm64.go proves.
// The generic twin is Add.
//
//go:noescape
func addNeon32(a, b, y *int8, n int, c *addConstsNeon32)

// addRunNeon32 is the Add of the "neon32" Set.
func addRunNeon32(p *AddParams, a, b, y []int8) {
	n := len(y) &^ 7
	if n == 0 {
		Add(p, a, b, y)
		return
	}
	a, b = a[:len(y)], b[:len(y)]
	var c addConstsNeon32
	for i := range 8 {
		c.za[i], c.zb[i] = int8(p.AZero), int8(p.BZero)
		c.zy[i], c.lo[i], c.hi[i] = int16(p.YZero), p.Out.Lo, p.Out.Hi
	}
	c.ma = [2]int32{p.MA, p.MA}
	c.mb = [2]int32{p.MB, p.MB}
	c.nsh = [2]int64{-int64(p.S), -int64(p.S)}
	addNeon32(&a[0], &b[0], &y[0], n, &c)
	if n < len(y) {
		Add(p, a[n:], b[n:], y[n:])
	}
}

// cmConstsNeon32 is what chanMulNeon32 reads (100 bytes: three VLD1 and
// the flag).
type cmConstsNeon32 struct {
	zx    [8]int8  // the input zero point (broadcast)
	m     [2]int32 // M, for VMULL.S32
	nsh   [2]int64 // -S
	m4    [4]int32 // M, for VQDMULH
	nsh32 [4]int32 // 31 - S
	zy    [8]int16 // the output zero point
	lo    [8]int8  // the output clamp
	hi    [8]int8
	fast  int32 // 1 if S >= 32: VQDMULH and VRSHL by 31 - S
}

// chanMulNeon32 computes, for npix pixels of c channels (a multiple of 8),
//
//	y[p*c+j] = clamp(zy + RoundShift(int64((x[p*c+j]-zx)*gs[j])*M, S), lo, hi)
//
// (|(x - zx) gs| <= 255 x 255: VSUBL.S8 and VMULL.S16 into int32; then, if
// fast, VQDMULH.S32 by M and VRSHL.S32 by 31 - S, exact for S >= 32 as
// fillEpiARM (depthwise_arm64.go) proves, else VMULL.S32 into int64 and
// VRSHL.S64 by -S; then the saturating chain of addNeon32). The generic
// twin is ChannelMul.
//
//go:noescape
func chanMulNeon32(x, y *int8, npix, c int, gs *int16, k *cmConstsNeon32)

// cmChunkNeon32 bounds the channels ChannelMul handles in assembly (stack
// scratch).
const cmChunkNeon32 = 4096

// chanMulRunNeon32 is the ChannelMul of the "neon32" Set.
func chanMulRunNeon32(p *ChannelMulParams, x, g, y []int8, lo, hi int) {
	if lo >= hi {
		return
	}
	if p.C%8 != 0 || p.C > cmChunkNeon32 {
		ChannelMul(p, x, g, y, lo, hi)
		return
	}
	if len(x) < p.N*p.HW*p.C || len(g) < p.N*p.C || len(y) < p.N*p.HW*p.C || lo < 0 || hi > p.N*p.HW {
		panic("kernels: channel-mul slices too short for their parameters")
	}
	var k cmConstsNeon32
	for i := range 8 {
		k.zx[i], k.zy[i], k.lo[i], k.hi[i] = int8(p.XZero), int16(p.YZero), p.Out.Lo, p.Out.Hi
	}
	for i := range 4 {
		k.m4[i], k.nsh32[i] = p.Mult.M, 31-p.Mult.S
	}
	k.m = [2]int32{p.Mult.M, p.Mult.M}
	k.nsh = [2]int64{-int64(p.Mult.S), -int64(p.Mult.S)}
	if p.Mult.S >= 32 {
		k.fast = 1
	}
	var gs [cmChunkNeon32]int16
	for n := lo / max(p.HW, 1); n < p.N && n*p.HW < hi; n++ {
		a, b := p.span(n, lo, hi)
		for c := range p.C {
			gs[c] = int16(int32(g[n*p.C+c]) - p.GZero)
		}
		off := (n*p.HW + a) * p.C
		chanMulNeon32(&x[off], &y[off], b-a, p.C, &gs[0], &k)
	}
}

// qConstsNeon32 is what quantizeNeon32 reads (80 bytes, by three VLD1).
type qConstsNeon32 struct {
	inv, magic, lo, hi [4]float32
	zero               [4]int32
}

// quantizeNeon32 is QuantizeCodes for n (a multiple of 8) values, with its
// float32 steps in NEON (VMUL, VCEQ and VAND for NaN, VMAX and VMIN, VADD
// and VSUB of 1.5 x 2^23, VCVT, then the zero point and saturating
// narrows). ARMv7 NEON flushes subnormal operands and results to zero,
// which changes nothing when inv is a normal float32 below 2^125: a
// subnormal t rounds to 0 anyway, and a subnormal x gives |x inv| < 2^-1
// (0 too). The generic twin is QuantizeCodes.
//
//go:noescape
func quantizeNeon32(x *float32, y *int8, n int, k *qConstsNeon32)

// quantizeRunNeon32 is the QuantizeCodes of the "neon32" Set.
func quantizeRunNeon32(x []float32, inv float32, zero int32, y []int8) {
	n := len(x) &^ 7
	if n == 0 || !(inv >= 0x1p-126 && inv < 0x1p125) {
		QuantizeCodes(x, inv, zero, y)
		return
	}
	y = y[:len(x)]
	var k qConstsNeon32
	for i := range 4 {
		k.inv[i], k.magic[i], k.lo[i], k.hi[i], k.zero[i] = inv, 0x1.8p23, -512, 512, zero
	}
	quantizeNeon32(&x[0], &y[0], n, &k)
	if n < len(x) {
		QuantizeCodes(x[n:], inv, zero, y[n:])
	}
}

// gapSumNeon32 sums x[hw][c] over hw for nblk blocks of 16 channels:
// acc[16j+l] = Σ_i x[i*c + 16j + l] (VADDW.S8 into int16 partial sums of at
// most 256 pixels, then VADDW.S16 into int32). The generic twin is the sum
// loop of GlobalAveragePool (without the zero point, which the caller
// subtracts).
//
//go:noescape
func gapSumNeon32(x *int8, hw, c, nblk int, acc *int32)

// gapChunkNeon32 bounds the channels of one pass of the pool (stack
// scratch).
const gapChunkNeon32 = 2048

// gapRunNeon32 is the GlobalAveragePool of the "neon32" Set: the sums of
// whole 16-channel blocks in assembly, the others here, then Σ (x - zx) =
// Σ x - HW zx (exact in int32, as Validate bounds HW) requantized as the
// twin does.
func gapRunNeon32(p *PoolParams, x, y []int8) {
	if len(x) < p.N*p.HW*p.C || len(y) < p.N*p.C {
		panic("kernels: pool slices too short for their parameters")
	}
	var acc [gapChunkNeon32]int32
	zsum := int32(p.HW) * p.XZero
	for n := range p.N {
		for c0 := 0; c0 < p.C; c0 += gapChunkNeon32 {
			cw := min(gapChunkNeon32, p.C-c0)
			nblk := cw / 16
			xs := x[n*p.HW*p.C+c0:]
			if nblk > 0 {
				gapSumNeon32(&xs[0], p.HW, p.C, nblk, &acc[0])
			}
			for c := 16 * nblk; c < cw; c++ {
				var s int32
				for i := range p.HW {
					s += int32(xs[i*p.C+c])
				}
				acc[c] = s
			}
			ys := y[n*p.C+c0:][:cw]
			for c, s := range acc[:cw] {
				ys[c] = Requantize(s-zsum, p.Mult, p.YZero, p.Out.Lo, p.Out.Hi)
			}
		}
	}
}
