//go:build (amd64 || arm64) && !purego

package kernels

// im2colChunk writes the im2col rows of output pixels [q0, q1) (n, oy, ox
// flattened) to buf, kp bytes each from 0: the pixels whose window lies
// inside the input, when each kernel row is one run of KW*C <= 16 bytes,
// by im2colRuns (one 16-byte copy per kernel row, its overhang overwritten
// by the next run or pixel, or left in the bytes past K, which meet zero
// weights, or in buf's 16 bytes of slack), the others by im2col.
func im2colChunk(buf []int8, kp int, p *ConvParams, x []int8, q0, q1 int, zx int8) {
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
}

// im2colRuns copies, for n pixels, kh runs of 16 bytes from src + k*rs to
// dst + k*run, advancing dst by kp and src by step per pixel (the interior
// pixels of conv's im2col; the caller checks every access). The generic
// twin is im2col (the bytes it writes past each run aside).
//
//go:noescape
func im2colRuns(dst *int8, kp int, src *int8, step, rs, kh, run, n int)
