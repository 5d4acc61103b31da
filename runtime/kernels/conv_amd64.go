//go:build !purego

package kernels

import "sync"

// Conv on x86-64: an ungrouped convolution is a GEMM of im2col rows (KH x KW
// x C values, padded with the input zero point, per output pixel) with the
// weights [O][KH*KW*C] in the GEMM layout. The rows are built in a stack
// buffer, a chunk of output pixels at a time, and fed to the GEMM
// micro-kernels; grouped convolutions keep the generic layout and twin.
// On "amx", calls the AMX kernels take (amxFor) build the rows in a pooled
// buffer of up to 1 MiB instead (convAMX): chunks of 32 pixels or more.

// im2colBytes bounds the im2col row of one pixel; im2colChunkBytes the
// scratch of one chunk: 16 KiB, or up to 64 KiB for rows over 2 KiB. Each
// chunk streams all the weights once, and a chunk of one pixel (DeepLabV3's
// ASPP, 3x3 over 960 channels: 8640 bytes per row) made the GEMM a GEMV,
// weight bound at 32 GMAC/s; seven pixels run at 65-140. (A larger buffer
// would leave the stack: Go moves variables over 128 KiB to the heap.)
const (
	im2colBytes      = 16 << 10
	im2colChunkBytes = 4 * im2colBytes
)

func (im *gemmImpl) convOK(p *ConvParams) bool {
	k := p.KH * p.KW * p.C
	return p.groups() == 1 && (k+im.g-1)/im.g*im.g <= im2colBytes
}

func (im *gemmImpl) packConv(p *ConvParams, w []int8) []int8 {
	if !im.convOK(p) {
		return w
	}
	return packGemm(w, im.layout(p.O, p.KH*p.KW*p.C))
}

func (im *gemmImpl) conv(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
	if !im.convOK(p) {
		Conv(p, x, w, bias, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	if len(x) < p.N*p.H*p.W*p.C || len(y) < p.N*p.OH*p.OW*p.O || hi > p.Rows() {
		panic("kernels: conv slices too short for their parameters")
	}
	k := p.KH * p.KW * p.C
	kp := (k + im.g - 1) / im.g * im.g
	if l := im.layout(p.O, k); im.amxFor((hi-lo)*p.OW, l) {
		im.convAMX(p, x, w, bias, y, lo, hi, k, kp, l)
		return
	}
	var buf [im2colChunkBytes + 16]int8 // 16 bytes of slack for whole-vector copies
	chunk := im2colBytes / kp
	if chunk < 8 {
		chunk = im2colChunkBytes / kp
	}
	zx := int8(p.XZero)
	// Pixels (n, oy, ox) flattened: [lo*OW, hi*OW).
	for q0 := lo * p.OW; q0 < hi*p.OW; q0 += chunk {
		q1 := min(q0+chunk, hi*p.OW)
		im2colChunk(buf[:], kp, p, x, q0, q1, zx)
		im.run(buf[:], kp, k, true, w, bias, y[q0*p.O:], p.O, p.XZero, p.Mult, p.YZero, p.Out, 0, q1-q0)
	}
}

// amxConvChunkBytes is the im2col scratch of one chunk of the AMX path:
// at least 32 pixels, so that the tiles run whole groups of rows and each
// chunk streams the weights once for 32 pixels or more (DeepLabV3's ASPP,
// rows of 8640 bytes: 96 pixels a chunk against the stack buffer's 7).
const amxConvChunkBytes = 1 << 20

// im2colScratches holds the AMX path's im2col buffers (too large for the
// stack).
var im2colScratches = sync.Pool{New: func() any { return new([]int8) }}

// convAMX is conv on the AMX kernels: the im2col rows of a chunk of pixels
// (a whole number of 32-row groups where the chunk is full) in a pooled
// buffer with room for the tiles' reads past the last row, so that run
// reads every row in place.
func (im *gemmImpl) convAMX(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi, k, kp int, l gemmLayout) {
	kb := l.kgs() * 4
	chunk := min(1024, max(32, amxConvChunkBytes/kp/32*32))
	bp := im2colScratches.Get().(*[]int8)
	defer im2colScratches.Put(bp)
	if need := chunk*kp + kb + 16; len(*bp) < need {
		*bp = make([]int8, need)
	}
	buf := *bp
	zx := int8(p.XZero)
	for q0 := lo * p.OW; q0 < hi*p.OW; q0 += chunk {
		q1 := min(q0+chunk, hi*p.OW)
		im2colChunk(buf, kp, p, x, q0, q1, zx)
		im.run(buf, kp, k, true, w, bias, y[q0*p.O:], p.O, p.XZero, p.Mult, p.YZero, p.Out, 0, q1-q0)
	}
}
