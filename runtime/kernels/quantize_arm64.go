//go:build !purego

package kernels

// The ARM64 (NEON) kernels at the network's boundary (quantize_arm64.s),
// the same for "neon" and "dotprod": QuantizeCodes and Interleave3.

// quantizeNEON computes QuantizeCodes(x[:n], inv, zero, y[:n]) for n a
// multiple of 16, 16 values per iteration:
//
//	for i := range n:
//		t := x[i] * inv                            // FMUL (float32, round to nearest even)
//		q := saturate_int32(RoundToEven(t))        // FCVTNS (NaN -> 0)
//		y[i] = saturate_int8(saturate_int16(saturate_int16(q) + zero))
//		                                           // SQXTN to int16, SQADD, SQXTN to int8
//
// The generic twin is QuantizeCodes, which clamps t to [-512, 512] first:
// for |t| <= 512 both round the same, and beyond it both saturate to the
// same end (|q| >= 512 and |zero| <= 128, so every saturation above keeps
// the sign and leaves |q + zero| > 127), without the clamp's two
// instructions per vector.
//
//go:noescape
func quantizeNEON(x *float32, n int, inv float32, zero int32, y *int8)

// interleave3NEON computes Interleave3 for n a multiple of 16 pixels, 16
// per iteration (VLD1 of each plane, VST3 of the three):
//
//	for i := range n:
//		y[3*i], y[3*i+1], y[3*i+2] = pr[i], pg[i], pb[i]
//
// The generic twin is Interleave3.
//
//go:noescape
func interleave3NEON(pr, pg, pb *int8, n int, y *int8)

// quantizeARM is the QuantizeCodes of the ARM64 Sets.
func quantizeARM(x []float32, inv float32, zero int32, y []int8) {
	n := len(x) &^ 15
	if n > 0 {
		_ = y[n-1]
		quantizeNEON(&x[0], n, inv, zero, &y[0])
	}
	QuantizeCodes(x[n:], inv, zero, y[n:])
}

// interleave3ARM is the Interleave3 of the ARM64 Sets.
func interleave3ARM(r, g, b, y []int8) {
	n := len(r) &^ 15
	if n > 0 {
		_, _, _ = g[n-1], b[n-1], y[3*n-1]
		interleave3NEON(&r[0], &g[0], &b[0], n, &y[0])
	}
	Interleave3(r[n:], g[n:len(r)], b[n:len(r)], y[3*n:])
}
