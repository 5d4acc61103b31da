//go:build !purego

package kernels

// The x86-64 packed layouts (see pack.go).
//
// GEMM layout (Pointwise, Gemm, and Conv through im2col), for an [O][K]
// weight matrix, with g = 4 (VNNI: four int8 of one output channel per
// 32-bit lane, the operand of VPDPBUSD) or g = 2 (AVX2: two int16 per lane,
// the operand of VPMADDWD):
//
//	Kg = ceil(K/g) groups of g consecutive k; output channels in blocks of
//	bw = 16 channels (32 for the 512-bit kernels of "vnni512"), the last
//	block 8 wide if at most 8 channels remain, 16 wide if at most 16 (Opad
//	= O rounded up accordingly); block b starting at channel o0 holds, from byte
//	o0*Kg*4, Kg x width lanes of 4 bytes: lane (q, c) = w[o0+c][q*g .. q*g+g-1]
//	(int8 for g = 4, little-endian int16 for g = 2), zero past K or O.
//	Then Opad little-endian int32: wsum[o] = Σ_k w[o][k].
//
// The AMX layout ("amx") is the 512-bit one with two changes: each block
// holds Kgs = Kg rounded up to a multiple of 16 groups (zeros past K), so
// that a B tile of 16 groups never reads past its block; and there are no
// 8-wide blocks (the last block is 16 wide when at most 16 channels
// remain), since AMX B tiles are 16 channels wide.
type gemmLayout struct {
	o, k int  // output channels and dot-product length
	g    int  // k per 32-bit lane: 4 (int8) or 2 (int16)
	bw   int  // the widest block: 16 or 32
	amx  bool // the AMX layout
}

func (l gemmLayout) kg() int { return (l.k + l.g - 1) / l.g }

// kgs is the number of groups each block holds: kg, rounded up to a
// multiple of 16 for AMX.
func (l gemmLayout) kgs() int {
	if l.amx {
		return (l.kg() + 15) / 16 * 16
	}
	return l.kg()
}

// width returns the width (8, 16 or 32) of the block starting at channel o0.
func (l gemmLayout) width(o0 int) int {
	switch r := l.o - o0; {
	case r > 16 && l.bw == 32:
		return 32
	case r > 8 || l.amx:
		return 16
	default:
		return 8
	}
}

func (l gemmLayout) opad() int {
	full := l.o / l.bw * l.bw
	if full == l.o {
		return full
	}
	return full + l.width(full)
}

func (l gemmLayout) blockOff(o0 int) int { return o0 * l.kgs() * 4 }
func (l gemmLayout) wsumOff() int        { return l.opad() * l.kgs() * 4 }
func (l gemmLayout) size() int           { return l.wsumOff() + 4*l.opad() }

// packGemm packs w[o][k] (row stride k) into the GEMM layout l (l.o = o,
// l.k = k).
func packGemm(w []int8, l gemmLayout) []int8 {
	o, k, g := l.o, l.k, l.g
	kg := l.kg()
	out := make([]int8, l.size())
	for o0 := 0; o0 < o; o0 += l.width(o0) {
		wd := l.width(o0)
		base := l.blockOff(o0)
		for c := range min(wd, o-o0) {
			row := w[(o0+c)*k : (o0+c+1)*k]
			for q := range kg {
				lane := out[base+(q*wd+c)*4:][:4]
				for j := range g {
					kk := q*g + j
					if kk >= k {
						break
					}
					if g == 4 {
						lane[j] = row[kk]
					} else {
						v := uint16(int16(row[kk]))
						lane[2*j], lane[2*j+1] = int8(uint8(v)), int8(uint8(v>>8))
					}
				}
			}
		}
	}
	ws := l.wsumOff()
	for c := range o {
		var s int32
		for _, v := range w[c*k : (c+1)*k] {
			s += int32(v)
		}
		putInt32(out[ws+4*c:], s)
	}
	return out
}

// Depthwise layout, for weights w[T][C] (T = KH*KW taps, the generic
// [KH][KW][O] order with O = C), with (block width bw, taps per lane g) =
// (32, 4) for VNNI, (64, 4) for its 512-bit column kernels and (16, 2) for
// AVX2, and vl = 16 lanes per vector for bw = 64, else 8:
//
//	the taps in slots (dwTapOrder: in order, padded to a multiple of g with
//	zero-weight dummies, except for VNNI 3x3: one group per kernel column,
//	rows 0-2 and a dummy); blocks of bw channels (the last one padded with
//	zero weights); block b holds, from byte b*ng*bw*4, for each group q of g
//	slots (ng groups), bw/vl vectors j of vl lanes l of 4 bytes:
//	lane (q, j, l) = w[tap of slot q*g+i][bw*b + ch(j, l)] for i < g (int8
//	for g = 4, little-endian int16 for g = 2), with ch(j, l) = (bw/(vl/4))
//	(l/4) + 4j + l%4: the channel order the byte (word) interleaving
//	instructions leave, within 128-bit lanes; then
//	4*nblk*bw bytes: little-endian int32 wsum[c] = Σ_t w[t][c].
type dwLayout struct {
	c, taps int
	bw, g   int
	slots   int // len(dwTapOrder(g, kh, kw))
}

// vl is the number of 32-bit lanes of one vector: 16 for the 512-bit
// kernels' 64-channel blocks, else 8.
func (l dwLayout) vl() int {
	if l.bw == 64 {
		return 16
	}
	return 8
}

// dwSlots returns len(dwTapOrder(g, kh, kw)) without building it.
func dwSlots(g, kh, kw int) int {
	if g == 4 && kh == 3 && kw == 3 {
		return 12
	}
	return (kh*kw + g - 1) / g * g
}

// dwTapOrder returns the tap (kh*kw + column) of each slot, -1 for a dummy.
// Keep in sync with dwOrder (asmgen.go).
func dwTapOrder(g, kh, kw int) []int {
	var o []int
	if g == 4 && kh == 3 && kw == 3 {
		for c := range 3 {
			o = append(o, c, 3+c, 6+c, -1)
		}
		return o
	}
	for t := range kh * kw {
		o = append(o, t)
	}
	for len(o)%g != 0 {
		o = append(o, -1)
	}
	return o
}

func (l dwLayout) ng() int         { return l.slots / l.g }
func (l dwLayout) nblk() int       { return (l.c + l.bw - 1) / l.bw }
func (l dwLayout) blockBytes() int { return l.ng() * l.bw * 4 }
func (l dwLayout) wsumOff() int    { return l.nblk() * l.blockBytes() }
func (l dwLayout) size() int       { return l.wsumOff() + 4*l.nblk()*l.bw }

// ch returns the channel (within its block) of lane l of vector j.
func (l dwLayout) ch(j, lane int) int {
	return l.bw/(l.vl()/4)*(lane/4) + 4*j + lane%4
}

func packDepthwise(w []int8, kh, kw, c, bw, g int) []int8 {
	taps := kh * kw
	order := dwTapOrder(g, kh, kw)
	l := dwLayout{c: c, taps: taps, bw: bw, g: g, slots: len(order)}
	out := make([]int8, l.size())
	for b := range l.nblk() {
		for q := range l.ng() {
			vl := l.vl()
			for j := range l.bw / vl {
				for lane := range vl {
					ch := b*l.bw + l.ch(j, lane)
					if ch >= c {
						continue
					}
					off := b*l.blockBytes() + (q*(l.bw/vl)+j)*4*vl + lane*4
					for i := range g {
						t := order[q*g+i]
						if t < 0 {
							continue
						}
						v := w[t*c+ch]
						if g == 4 {
							out[off+i] = v
						} else {
							u := uint16(int16(v))
							out[off+2*i], out[off+2*i+1] = int8(uint8(u)), int8(uint8(u>>8))
						}
					}
				}
			}
		}
	}
	for ch := range c {
		var s int32
		for t := range taps {
			s += int32(w[t*c+ch])
		}
		putInt32(out[l.wsumOff()+4*ch:], s)
	}
	return out
}
