package kernels

import "math"

// The SIMD requantization epilogue.
//
// The rule y = clamp(z + ((acc x M + 2^(S-1)) >> S), lo, hi) needs a 64-bit
// product and a 64-bit arithmetic shift per element. The assembly kernels
// (AVX2 and AVX-512) evaluate it in 32-bit lanes with an exact rewrite whose
// per-channel constants epiChannel computes once per block of channels:
//
//	a = min(max(acc, -B), B) << L       (int32, no overflow)
//	H = (a x M') >> 32                  (high half of the 64-bit product: VPMULDQ on even and odd lanes)
//	r = (H + 2^(S'-33)) >> (S'-32)      (int32 arithmetic shift, VPSRAVD)
//	y = clamp(z + r, lo, hi)            (saturating packs, then min/max)
//
// with S' >= 33. Why it is exact, by cases of S (M is in [2^30, 2^31) unless
// S = 62):
//
//   - S >= 33: B = 2^31-1 (no clamp: Validate keeps |acc| < 2^31), L = 0,
//     M' = M, S' = S. Writing v = acc M = H 2^32 + lo with 0 <= lo < 2^32,
//     (v + 2^(S-1)) >> S = floor(((H + 2^(S-33)) 2^32 + lo) / 2^S)
//     = (H + 2^(S-33)) >> (S-32) because 2^32 divides 2^(S-1) and lo
//     cannot carry across a multiple of 2^32. |H| < 2^30 and
//     2^(S-33) <= 2^29, so the sum fits in int32.
//   - 22 <= S <= 32: B = 2^(S-21), L = 33-S, M' = M, S' = 33. For
//     |acc| <= B, a = acc 2^L with |a| <= 2^12, and
//     (acc M + 2^(S-1)) >> S = (a M + 2^32) >> 33 (both sides scaled by
//     2^L), which the first case evaluates exactly. For acc > B the rule
//     gives at least RoundShift(B M, S) >= floor(2^9 + 1/2) = 512 (M >= 2^30),
//     and so does the clamped B: both saturate to hi after adding any
//     z >= -128; symmetrically for acc < -B (at most -512, saturating to lo).
//   - S <= 21: every nonzero acc saturates (|acc M| / 2^S >= 2^9), and 0
//     gives 0. B = 1, L = 12, M' = 2^30, S' = 33 maps -1, 0, 1 to -512, 0,
//     512, which saturate the same way.
//
// The accumulator itself arrives offset: the kernels start from
// corr = bias - zc x wsum (zc = the input zero point, plus 128 where the
// activations are fed to VPDPBUSD as unsigned bytes x + 128), exact in
// wrapping int32 arithmetic since the true sum fits.

// epiBlock is the memory image the assembly epilogue reads for one block of
// up to 16 output channels: each field holds two 8-lane vectors (channels
// 0-7, then 8-15); lo, hi and z are broadcast. Keep the offsets in sync with
// the generator (asmgen.go).
type epiBlock struct {
	corr  [16]int32 // +0    bias - zc x wsum
	negB  [16]int32 // +64   -B
	b     [16]int32 // +128  B
	l     [16]int32 // +192  L
	m     [16]int32 // +256  M'
	modd  [16]int32 // +320  M' of channel 2i+1 in lane 2i (VPMULDQ reads even lanes)
	round [16]int32 // +384  2^(S'-33)
	sh    [16]int32 // +448  S'-32
	out   epiOut    // +512
}

// epiOut is the output part of an epiBlock, the same for every block of a
// layer: built once per call (newEpiOut) and copied into each block.
type epiOut struct {
	lo [32]int8  // +512  output clamp, broadcast
	hi [32]int8  // +544
	zw [16]int16 // +576  output zero point as 16-bit words
}

// epiBlockSize is the size of an epiBlock (TestEpiBlockLayout).
const epiBlockSize = 608

// Flags the assembly kernels take with an epiBlock (the x86 depthwise
// kernels also take epiShift, depthwise_amd64.go).
const (
	epiClamp = 1 // some channel of the block has S < 33: apply B and L
)

// epiChannel returns the rewritten constants (B, L, M', S') of a multiplier.
func epiChannel(m Multiplier) (b, l, mm, s2 int32) {
	switch s := m.S; {
	case s >= 33:
		return math.MaxInt32, 0, m.M, s
	case s >= 22:
		return 1 << (s - 21), 33 - s, m.M, 33
	default:
		return 1, 12, 1 << 30, 33
	}
}

// fill sets the constants of channels [o0, o0+n) (n <= 16), in order, of a
// layer into e and returns the flags (see fillLanes).
func (e *epiBlock) fill(mult []Multiplier, bias []int32, w []int8, wsumOff int, zc int32, yz int32, out Range, o0, n int) int {
	var lanes [16]int
	for i := range lanes {
		lanes[i] = -1
		if i < n {
			lanes[i] = o0 + i
		}
	}
	return e.fillLanes(&lanes, mult, bias, w, wsumOff, zc, yz, out)
}

// fillLanes sets the constants of lane i to those of channel lanes[i] (-1:
// an unused lane, harmless values) and returns the flags. The correction
// subtracts zc x wsum[c], wsum read as little-endian int32 from w at
// wsumOff + 4c, unless wsumOff < 0.
func (e *epiBlock) fillLanes(lanes *[16]int, mult []Multiplier, bias []int32, w []int8, wsumOff int, zc int32, yz int32, out Range) int {
	flags := 0
	for i, o := range lanes {
		if o < 0 {
			e.corr[i], e.negB[i], e.b[i], e.l[i], e.m[i], e.round[i], e.sh[i] = 0, -math.MaxInt32, math.MaxInt32, 0, 0, 1, 1
			continue
		}
		var c int32
		if bias != nil {
			c = bias[o]
		}
		if wsumOff >= 0 {
			c -= zc * readInt32(w, wsumOff+4*o)
		}
		b, l, mm, s2 := epiChannel(mult[o])
		if l != 0 {
			flags |= epiClamp
		}
		e.corr[i], e.negB[i], e.b[i], e.l[i], e.m[i] = c, -b, b, l, mm
		e.round[i], e.sh[i] = 1<<(s2-33), s2-32
	}
	for i := 0; i < 16; i += 2 {
		e.modd[i], e.modd[i+1] = e.m[i+1], 0
	}
	e.setOut(yz, out)
	return flags
}

// setOut sets the output zero point and clamp of e.
func (e *epiBlock) setOut(yz int32, out Range) { e.out = newEpiOut(yz, out) }

// newEpiOut returns the output part of an epiBlock for the output zero
// point yz and clamp out.
func newEpiOut(yz int32, out Range) (o epiOut) {
	for i := range o.lo {
		o.lo[i], o.hi[i] = out.Lo, out.Hi
	}
	for i := range o.zw {
		o.zw[i] = int16(yz)
	}
	return o
}

// readInt32 reads a little-endian int32 from w[off:off+4].
func readInt32(w []int8, off int) int32 {
	b := w[off : off+4]
	return int32(uint32(uint8(b[0])) | uint32(uint8(b[1]))<<8 | uint32(uint8(b[2]))<<16 | uint32(uint8(b[3]))<<24)
}

// epiEmulate evaluates channel i of a filled block for a raw accumulator
// (without corr) the way the assembly does, step by step in 32-bit lanes. The
// tests check it against Requantize; the kernels check against the generic
// twins.
func (e *epiBlock) epiEmulate(i int, raw int32, flags int) int8 {
	a := raw + e.corr[i] // wrapping, as VPADDD
	if flags&epiClamp != 0 {
		a = min(max(a, e.negB[i]), e.b[i]) << uint(e.l[i])
	}
	h := int32((int64(a) * int64(e.m[i])) >> 32)
	r := (h + e.round[i]) >> uint(e.sh[i])
	w := int32(sat16(int64(r)))                     // VPACKSSDW
	w = int32(sat16(int64(w) + int64(e.out.zw[i]))) // VPADDSW
	v := sat8(int64(w))                             // VPACKSSWB
	return max(min(v, e.out.hi[i]), e.out.lo[i])
}

func sat16(v int64) int16 { return int16(max(min(v, math.MaxInt16), math.MinInt16)) }
func sat8(v int64) int8   { return int8(max(min(v, 127), -128)) }
