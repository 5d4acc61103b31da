package preprocess

// The inverse DCT of libjpeg's default method, JDCT_ISLOW (jidctint.c: the
// Loeffler-Ligtenberg-Moschytz factorization in 13-bit fixed point, with two
// extra bits of precision kept between the column and the row pass), so that
// decoded samples equal libjpeg's, and hence Pillow's, bit for bit.
//
// Integer widths follow libjpeg on a 64-bit machine: coefficients are 16-bit
// (JCOEF), quantization values are stored as 16-bit multipliers, their
// product is a C int, the arithmetic is done in 64 bits (JLONG) on every
// GOARCH and the
// intermediate workspace is a C int. The final range limit saturates to
// [0, 255] like libjpeg-turbo's SIMD IDCTs (the C version's table wraps
// values beyond ±512 around instead; no valid image reaches them).

const (
	idctConstBits = 13
	idctPass1Bits = 2

	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// idctQuant is a component's quantization table in natural order, each value
// truncated to 16 bits like libjpeg's ISLOW multiplier table.
type idctQuant [64]int32

func newIDCTQuant(q *[64]uint16) *idctQuant {
	var t idctQuant
	for i, v := range q {
		t[i] = int32(int16(v))
	}
	return &t
}

// idctDCOnly writes the 8x8 block whose only nonzero coefficient is the DC
// one: the full transform reduces to this value.
func idctDCOnly(dc int16, q *idctQuant, dst []uint8, stride int) {
	ws := int64(int32(int64(int32(dc)*q[0]) << idctPass1Bits))
	v := clampSample((ws + 1<<(idctPass1Bits+2)) >> (idctPass1Bits + 3))
	for y := range 8 {
		row := dst[y*stride : y*stride+8 : y*stride+8]
		for x := range row {
			row[x] = v
		}
	}
}

func clampSample(v int64) uint8 {
	v += 128
	if uint64(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// idctISlow dequantizes blk with q, transforms it and writes the 8x8
// samples to dst (row stride stride).
func idctISlow(blk *[64]int16, q *idctQuant, dst []uint8, stride int) {
	var ws [64]int32
	// Pass 1: columns of the input into the workspace, scaled up by
	// 2^PASS1_BITS.
	for c := range 8 {
		if blk[8+c] == 0 && blk[16+c] == 0 && blk[24+c] == 0 && blk[32+c] == 0 &&
			blk[40+c] == 0 && blk[48+c] == 0 && blk[56+c] == 0 {
			dc := int32(int64(int32(blk[c])*q[c]) << idctPass1Bits)
			for r := range 8 {
				ws[8*r+c] = dc
			}
			continue
		}
		deq := func(r int) int64 { return int64(int32(blk[8*r+c]) * q[8*r+c]) }
		// Even part.
		z2, z3 := deq(2), deq(6)
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		z2, z3 = deq(0), deq(4)
		tmp0 := (z2 + z3) << idctConstBits
		tmp1 := (z2 - z3) << idctConstBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		// Odd part.
		o0, o1, o2, o3 := idctOdd(deq(7), deq(5), deq(3), deq(1))
		const sh = idctConstBits - idctPass1Bits
		const rnd = 1 << (sh - 1)
		ws[8*0+c] = int32((tmp10 + o3 + rnd) >> sh)
		ws[8*7+c] = int32((tmp10 - o3 + rnd) >> sh)
		ws[8*1+c] = int32((tmp11 + o2 + rnd) >> sh)
		ws[8*6+c] = int32((tmp11 - o2 + rnd) >> sh)
		ws[8*2+c] = int32((tmp12 + o1 + rnd) >> sh)
		ws[8*5+c] = int32((tmp12 - o1 + rnd) >> sh)
		ws[8*3+c] = int32((tmp13 + o0 + rnd) >> sh)
		ws[8*4+c] = int32((tmp13 - o0 + rnd) >> sh)
	}
	// Pass 2: rows of the workspace into the output, removing the
	// 2^PASS1_BITS scale and the factor 8 of the transform.
	for r := range 8 {
		w := (*[8]int32)(ws[8*r : 8*r+8])
		out := (*[8]uint8)(dst[r*stride : r*stride+8])
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := clampSample((int64(w[0]) + 1<<(idctPass1Bits+2)) >> (idctPass1Bits + 3))
			*out = [8]uint8{v, v, v, v, v, v, v, v}
			continue
		}
		z2, z3 := int64(w[2]), int64(w[6])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		tmp0 := (int64(w[0]) + int64(w[4])) << idctConstBits
		tmp1 := (int64(w[0]) - int64(w[4])) << idctConstBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		o0, o1, o2, o3 := idctOdd(int64(w[7]), int64(w[5]), int64(w[3]), int64(w[1]))
		const sh = idctConstBits + idctPass1Bits + 3
		const rnd = 1 << (sh - 1)
		out[0] = clampSample((tmp10 + o3 + rnd) >> sh)
		out[7] = clampSample((tmp10 - o3 + rnd) >> sh)
		out[1] = clampSample((tmp11 + o2 + rnd) >> sh)
		out[6] = clampSample((tmp11 - o2 + rnd) >> sh)
		out[2] = clampSample((tmp12 + o1 + rnd) >> sh)
		out[5] = clampSample((tmp12 - o1 + rnd) >> sh)
		out[3] = clampSample((tmp13 + o0 + rnd) >> sh)
		out[4] = clampSample((tmp13 - o0 + rnd) >> sh)
	}
}

// idctOdd is the odd part of the 8-point transform, from the inputs at
// positions 7, 5, 3 and 1; it returns the terms added to and subtracted
// from outputs (3, 4), (2, 5), (1, 6) and (0, 7).
func idctOdd(t0, t1, t2, t3 int64) (int64, int64, int64, int64) {
	z1 := t0 + t3
	z2 := t1 + t2
	z3 := t0 + t2
	z4 := t1 + t3
	z5 := (z3 + z4) * fix1_175875602
	t0 *= fix0_298631336
	t1 *= fix2_053119869
	t2 *= fix3_072711026
	t3 *= fix1_501321110
	z1 *= -fix0_899976223
	z2 *= -fix2_562915447
	z3 = z3*-fix1_961570560 + z5
	z4 = z4*-fix0_390180644 + z5
	return t0 + z1 + z3, t1 + z2 + z4, t2 + z2 + z3, t3 + z1 + z4
}
