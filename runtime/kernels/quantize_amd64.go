//go:build !purego

package kernels

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
