//go:build (arm || arm64) && !purego

package kernels

// The packed weight layout of the ARM GEMM kernels, shared by the ARM64
// Sets (gemm_arm64.go) and the ARMv7 one (gemm_arm.go), whose SMULL/SMLAL
// and VMULL/VMLAL kernels read the same 4-wide blocks.

// armLayout is the packed weight layout of an [O][K] matrix:
//
//	blocks of bw output channels (16 for dot, 4 for neon), wblk bytes
//	each; for dot, the last block is wd = 4, 8, 12 or 16 wide (the
//	remaining channels rounded up to a multiple of 4), for neon 4 wide;
//	padding channels have zero weights; opad counts the channels of all
//	blocks; each channel takes kread bytes:
//	  dot:  kg = ceil(K/4) groups of 4 k, 4 wd bytes each: lane (q, c) at
//	        4(wd q + c) holds w[c][4q .. 4q+3];
//	  neon: kq chunks of 16 k, 64 bytes each: channel c at 16c holds
//	        w[c][16q .. 16q+15]; then if kt = 1, 32 bytes: channel c at 8c
//	        holds w[c][16kq .. 16kq+7];
//	zero past K; then opad little-endian int32 wsum[o] = Σ_k w[o][k];
//	then an int32 flag: 1 if some weight is -128 (neon runs the safe kernel).
type armLayout struct {
	o, k   int
	bw     int // channels per block
	kq, kt int // the kernel's kq and kt
	kread  int // bytes of each row the kernel reads
}

// newArmLayout returns the layout of an [O][K] matrix for the dot
// product kernels (dot) or the SMULL/SMLAL ones (arm64 neon, arm neon32).
func newArmLayout(o, k int, dot bool) armLayout {
	l := armLayout{o: o, k: k}
	if dot {
		kg := (k + 3) / 4
		l.bw, l.kq, l.kt, l.kread = 16, kg/4, kg%4, kg*4
		return l
	}
	l.bw = 4
	l.kq = k / 16
	switch r := k % 16; {
	case r > 8:
		l.kq++
	case r > 0:
		l.kt = 1
	}
	l.kread = 16*l.kq + 8*l.kt
	return l
}

func (l armLayout) nblk() int { return (l.o + l.bw - 1) / l.bw }
func (l armLayout) wblk() int { return l.bw * l.kread } // bytes of a full block

// width returns the width of block b.
func (l armLayout) width(b int) int { return min(l.bw, (l.o-b*l.bw+3)/4*4) }

func (l armLayout) opad() int    { return (l.nblk()-1)*l.bw + l.width(l.nblk()-1) }
func (l armLayout) wsumOff() int { return l.opad() * l.kread }
func (l armLayout) flagOff() int { return l.wsumOff() + 4*l.opad() }
func (l armLayout) size() int    { return l.flagOff() + 4 }

// offset returns the packed position of w[c][k] (k < kread).
func (l armLayout) offset(c, k int) int {
	b, cc := c/l.bw, c%l.bw
	base := b * l.wblk()
	if l.bw == 16 {
		return base + 4*(l.width(b)*(k/4)+cc) + k%4
	}
	if k < 16*l.kq {
		return base + 64*(k/16) + 16*cc + k%16
	}
	return base + 64*l.kq + 8*cc + k - 16*l.kq
}

// packArm packs w[o][k] (row-major) into the layout l: for the 4-wide
// blocks by copying each channel's 16-k chunks and 8-k tail, for the dot
// product blocks byte by byte.
func packArm(w []int8, l armLayout) []int8 {
	o, k := l.o, l.k
	out := make([]int8, l.size())
	neg := int32(0)
	for c := range o {
		row := w[c*k : (c+1)*k]
		if l.bw == 4 {
			for q := 0; 16*q < k; q++ {
				n := min(16, k-16*q)
				copy(out[l.offset(c, 16*q):][:n], row[16*q:])
			}
		} else {
			for kk, v := range row {
				out[l.offset(c, kk)] = v
			}
		}
		var s int32
		for _, v := range row {
			s += int32(v)
			if v == -128 {
				neg = 1
			}
		}
		putInt32(out[l.wsumOff()+4*c:], s)
	}
	putInt32(out[l.flagOff():], neg)
	return out
}
