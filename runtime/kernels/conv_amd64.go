//go:build !purego

package kernels

// Conv on x86-64: an ungrouped convolution is a GEMM of im2col rows (KH x KW
// x C values, padded with the input zero point, per output pixel) with the
// weights [O][KH*KW*C] in the GEMM layout. The rows are built in a stack
// buffer, a chunk of output pixels at a time, and fed to the GEMM
// micro-kernels; grouped convolutions keep the generic layout and twin.

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
	return packGemm(w, p.O, p.KH*p.KW*p.C, im.g, im.bw)
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
	var buf [im2colChunkBytes + 16]int8 // 16 bytes of slack for whole-vector copies
	chunk := im2colBytes / kp
	if chunk < 8 {
		chunk = im2colChunkBytes / kp
	}
	zx := int8(p.XZero)
	dh, dw := p.dil()
	run := p.KW * p.C // contiguous bytes per kernel row (dilation 1)
	fast := dw == 1 && run <= 16
	// Output pixels whose taps are inside the input horizontally.
	oxA, oxB := 0, 0
	if fast {
		oxA = (p.PadLeft + p.StrideW - 1) / p.StrideW
		if last := p.W - p.KW + p.PadLeft; last >= 0 {
			oxB = min(p.OW, last/p.StrideW+1)
		}
		oxA = min(oxA, oxB)
	}
	// Pixels (n, oy, ox) flattened: [lo*OW, hi*OW).
	for q0 := lo * p.OW; q0 < hi*p.OW; q0 += chunk {
		q1 := min(q0+chunk, hi*p.OW)
		for q := q0; q < q1; {
			r, ox := q/p.OW, q%p.OW
			n, oy := r/p.OH, r%p.OH
			end := min(q1, (r+1)*p.OW) // this row's pixels in the chunk
			iy0 := oy*p.StrideH - p.PadTop
			rowOK := fast && iy0 >= 0 && iy0+(p.KH-1)*dh < p.H
			for q < end {
				if rowOK && ox >= oxA && ox < oxB {
					// A run of interior pixels: KH 16-byte copies each.
					n1 := min(end-q, oxB-ox)
					rs := dh * p.W * p.C // bytes between kernel rows
					last := (p.KH - 1) * rs
					src := ((n*p.H+iy0)*p.W + ox*p.StrideW - p.PadLeft) * p.C
					step := p.StrideW * p.C
					d := (q - q0) * kp
					// Pixels whose last read stays inside x.
					if avail := len(x) - (src + last + 16); avail < 0 {
						n1 = 0
					} else {
						n1 = min(n1, avail/step+1)
					}
					if n1 > 0 {
						_ = buf[d+(n1-1)*kp+(p.KH-1)*run+15] // the last write
						im2colRuns(&buf[d], kp, &x[src], step, rs, p.KH, run, n1)
						q, ox = q+n1, ox+n1
					}
					if q < end && ox < oxB {
						// Stopped by the end of x: the general path below.
						im2col(buf[(q-q0)*kp:][:kp], p, x, n, oy, ox, zx)
						q, ox = q+1, ox+1
					}
					continue
				}
				im2col(buf[(q-q0)*kp:][:kp], p, x, n, oy, ox, zx)
				q, ox = q+1, ox+1
			}
		}
		im.run(buf[:], kp, k, true, w, bias, y[q0*p.O:], p.O, p.XZero, p.Mult, p.YZero, p.Out, 0, q1-q0)
	}
}

// im2colRuns copies, for n pixels, kh runs of 16 bytes from src + k*rs to
// dst + k*run, advancing dst by kp and src by step per pixel (the interior
// pixels of conv's im2col; the caller checks every access).
//
//go:noescape
func im2colRuns(dst *int8, kp int, src *int8, step, rs, kh, run, n int)
