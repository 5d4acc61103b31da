//go:build !purego

package kernels

// Conv on ARM64: an ungrouped convolution is a GEMM of im2col rows (KH x KW
// x C values per output pixel, padded with the input zero point up to the
// kernel's read length kread) with the weights [O][KH*KW*C] packed by pack.
// The rows are built in a stack buffer, a chunk of output pixels at a time
// (im2colChunk: interior pixels of kernel rows of at most 16 bytes by
// im2colRuns, the stem convolutions);
// grouped convolutions, and windows too large for the buffer, keep the
// generic layout and twin.

// armIm2colBytes bounds the im2col row of one pixel; armIm2colChunkBytes
// the scratch of one chunk: 16 KiB, or up to 64 KiB for rows over 2 KiB
// (each chunk streams all the weights once: a chunk of one 8640-byte row,
// DeepLabV3's ASPP, made the GEMM a weight-bound GEMV; conv_amd64.go).
const (
	armIm2colBytes      = 16 << 10
	armIm2colChunkBytes = 4 * armIm2colBytes
)

func (im *armImpl) convOK(p *ConvParams) bool {
	return p.groups() == 1 && im.layout(p.O, p.KH*p.KW*p.C).kread <= armIm2colBytes
}

func (im *armImpl) packConv(p *ConvParams, w []int8) []int8 {
	if !im.convOK(p) {
		return w
	}
	return im.pack(w, p.O, p.KH*p.KW*p.C)
}

func (im *armImpl) conv(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	if !im.convOK(p) {
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
	kp := im.layout(p.O, k).kread
	var buf [armIm2colChunkBytes + 16]int8 // 16 bytes of slack for whole-vector copies
	chunk := armIm2colBytes / kp
	if chunk < 8 {
		chunk = armIm2colChunkBytes / kp
	}
	zx := int8(p.XZero)
	// Pixels (n, oy, ox) flattened: [lo*OW, hi*OW).
	for q0 := lo * p.OW; q0 < hi*p.OW; q0 += chunk {
		q1 := min(q0+chunk, hi*p.OW)
		im2colChunk(buf[:], kp, p, x, q0, q1, zx)
		im.run(buf[:(q1-q0)*kp], kp, k, w, bias, y[q0*p.O:], p.O, p.XZero, p.Mult, p.YZero, p.Out, 0, q1-q0)
	}
}
