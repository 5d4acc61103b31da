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
// multiplier for all lanes); gs[c] holds the gate's factor (in [-255, 255])
// as a 16-bit word in the low half, zero in the high half, multiplied by
// VPMADDWD (one uop, where VPMULLD takes two); the generic twin is
// ChannelMul.
//
//go:noescape
func chanMulAVX2(x, y *int8, npix, c int, gs *int32, zx int, e *epiBlock, flags int)

// lutVBMI is LUT for n (a multiple of 64) bytes with AVX-512 VBMI: y[i] =
// t[uint8(x[i])] from two 128-entry VPERMI2B lookups.
//
//go:noescape
func lutVBMI(t *Table, x, y *int8, n int)

// lutAVX2 is LUT for n (a multiple of 32) bytes with AVX2: y[i] =
// t[uint8(x[i])], each of the 16 rows of t looked up by the low nibble
// (VPSHUFB), the row chosen by a tree of VPBLENDVBs on the high nibble's
// bits.
//
//go:noescape
func lutAVX2(t *Table, x, y *int8, n int)

func addX86(p *AddParams, a, b, y []int8) {
	n := len(y) &^ 15
	if p.S < 16 || n == 0 {
		Add(p, a, b, y)
		return
	}
	a, b = a[:len(y)], b[:len(y)]
	c := newAddConsts(p)
	addAVX2(&a[0], &b[0], &y[0], n, &c)
	if n < len(y) {
		Add(p, a[n:], b[n:], y[n:])
	}
}

// newAddConsts returns the constants addAVX2 and addAVX512 read (p.S >= 16).
func newAddConsts(p *AddParams) (c addConsts) {
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
	return c
}

// addAVX512 is addAVX2 on 512-bit registers for n a multiple of 32 (the
// same parameters and partial sums; AVX-512BW). The generic twin is Add.
//
//go:noescape
func addAVX512(a, b, y *int8, n int, c *addConsts)

// addX86Z is addX86 with the 512-bit loop for the multiples of 32
// elements (the vnni Sets).
func addX86Z(p *AddParams, a, b, y []int8) {
	n := len(y) &^ 31
	if p.S < 16 || n == 0 {
		addX86(p, a, b, y)
		return
	}
	a, b = a[:len(y)], b[:len(y)]
	c := newAddConsts(p)
	addAVX512(&a[0], &b[0], &y[0], n, &c)
	if n < len(y) {
		addX86(p, a[n:], b[n:], y[n:])
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

// chanMulAVX512 is chanMulAVX2 in blocks of 32 channels on 512-bit
// registers (AVX-512BW), the last block of c%32 under masks; gs must be
// readable up to c rounded up to 32. The generic twin is ChannelMul.
//
//go:noescape
func chanMulAVX512(x, y *int8, npix, c int, gs *int32, zx int, e *epiBlock, flags int)

func chanMulX86(p *ChannelMulParams, x, g, y []int8, lo, hi int) {
	chanMulX86Z(false, p, x, g, y, lo, hi)
}

// chanMulZ512 is ChannelMul for the VNNI Sets (chanMulAVX512).
func chanMulZ512(p *ChannelMulParams, x, g, y []int8, lo, hi int) {
	chanMulX86Z(true, p, x, g, y, lo, hi)
}

// cmChunk is a multiple of 32: chanMulAVX512 reads gs in whole blocks.
var _ [1 - cmChunk%32]struct{}

func chanMulX86Z(z bool, p *ChannelMulParams, x, g, y []int8, lo, hi int) {
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
			// The gate's factor in the low word, 0 in the high one, for
			// VPMADDWD: (x - zx) fits in 16 bits, so lo16(x - zx) gs[c]
			// + hi16(x - zx) 0 is the product.
			gs[c] = int32(uint16(int16(int32(g[n*p.C+c]) - p.GZero)))
		}
		off := (n*p.HW + a) * p.C
		if z {
			chanMulAVX512(&x[off], &y[off], b-a, p.C, &gs[0], int(p.XZero), &e, flags)
		} else {
			chanMulAVX2(&x[off], &y[off], b-a, p.C, &gs[0], int(p.XZero), &e, flags)
		}
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

func lutX86AVX2(t *Table, x, y []int8) { lutBlocks(t, x, y, 32, lutAVX2) }
func lutX86VBMI(t *Table, x, y []int8) { lutBlocks(t, x, y, 64, lutVBMI) }

// lutBlocks runs the assembly lookup fn over the whole blocks of blk
// bytes (a power of two) of x, the tail in Go.
func lutBlocks(t *Table, x, y []int8, blk int, fn func(t *Table, x, y *int8, n int)) {
	n := len(x) &^ (blk - 1)
	if n > 0 {
		_ = y[n-1]
		fn(t, &x[0], &y[0], n)
	}
	lutGo(t, x[n:], y[n:len(x)])
}
