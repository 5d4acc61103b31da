//go:build !purego

package kernels

// The 32-bit ARM (ARMv7 NEON) elementwise kernel of the "neon32" Set
// (elementwise_arm.s, written by asmgen_arm.go).

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
