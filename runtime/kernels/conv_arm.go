//go:build !purego

package kernels

// Conv on 32-bit ARM ("neon32"): an ungrouped convolution is a GEMM of
// im2col rows (KH x KW x C values per output pixel, padded with the input
// zero point up to the kernel's read length kread) with the weights
// [O][KH*KW*C] packed by packNeon32, as on ARM64 (conv_arm64.go). The rows
// are built in a stack buffer, a chunk of output pixels at a time; grouped
// convolutions, and windows too large for the buffer, keep the generic
// layout and twin.

// neon32Im2colBytes bounds the im2col scratch of one chunk.
const neon32Im2colBytes = 16 << 10

func convOKNeon32(p *ConvParams) bool {
	return p.groups() == 1 && newArmLayout(p.O, p.KH*p.KW*p.C, false).kread <= neon32Im2colBytes
}

func packConvNeon32(p *ConvParams, w []int8) []int8 {
	if !convOKNeon32(p) {
		return w
	}
	return packNeon32(w, p.O, p.KH*p.KW*p.C)
}

func convNeon32(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	if !convOKNeon32(p) {
		Conv(p, x, w, bias, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	if len(x) < p.N*p.H*p.W*p.C || len(y) < p.N*p.OH*p.OW*p.O || lo < 0 || hi > p.Rows() {
		panic("kernels: conv slices too short for their parameters")
	}
	k := p.KH * p.KW * p.C
	kp := newArmLayout(p.O, k, false).kread
	var buf [neon32Im2colBytes]int8
	chunk := neon32Im2colBytes / kp
	zx := int8(p.XZero)
	// Pixels (n, oy, ox) flattened: [lo*OW, hi*OW).
	for q0 := lo * p.OW; q0 < hi*p.OW; q0 += chunk {
		q1 := min(q0+chunk, hi*p.OW)
		for q := q0; q < q1; q++ {
			r, ox := q/p.OW, q%p.OW
			im2col(buf[(q-q0)*kp:][:kp], p, x, r/p.OH, r%p.OH, ox, zx)
		}
		runNeon32(buf[:(q1-q0)*kp], kp, k, w, bias, y[q0*p.O:], p.O, p.XZero, p.Mult, p.YZero, p.Out, 0, q1-q0)
	}
}
