//go:build !purego

#include "textflag.h"

// The SIMD requantization epilogue of epilogue.go on one 8-lane accumulator
// ACC (T a temporary), constants at E (an epiBlock) + OFF.
#define EPI(ACC, T, E, OFF) \
	VPSRLQ $32, ACC, T \
	VPMULDQ (256+OFF)(E), ACC, ACC \
	VPMULDQ (320+OFF)(E), T, T \
	VPSRLQ $32, ACC, ACC \
	VPBLENDD $0xAA, T, ACC, ACC \
	VPADDD (384+OFF)(E), ACC, ACC \
	VPSRAVD (448+OFF)(E), ACC, ACC

#define EPICLAMP(ACC, E, OFF) \
	VPMAXSD (64+OFF)(E), ACC, ACC \
	VPMINSD (128+OFF)(E), ACC, ACC \
	VPSLLVD (192+OFF)(E), ACC, ACC

// func addAVX2(a, b, y *int8, n int, c *addConsts)
// n is a multiple of 16. See elementwise_amd64.go.
TEXT ·addAVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), R8
	VMOVDQU 0(R8), Y8   // za (words)
	VMOVDQU 32(R8), Y9  // zb (words)
	VMOVDQU 64(R8), Y10 // (A0, B0) word pairs
	VMOVDQU 96(R8), Y11 // (A1, B1)
	VMOVDQU 128(R8), Y12 // (A2, B2)
	VMOVDQU 160(R8), Y13 // 2^(S'-16) (dwords)
	VMOVDQU 192(R8), X14 // S'-15 (low qword)
	VMOVDQU 224(R8), Y15 // zy (words)
	XORQ AX, AX

add_loop:
	CMPQ AX, CX
	JGE  add_done
	VPMOVSXBW (SI)(AX*1), Y0
	VPMOVSXBW (DX)(AX*1), Y1
	VPSUBW Y8, Y0, Y0
	VPSUBW Y9, Y1, Y1
	VPUNPCKLWD Y1, Y0, Y2 // (da, db) of elements 0-3 | 8-11
	VPUNPCKHWD Y1, Y0, Y3 // 4-7 | 12-15
	VPMADDWD Y10, Y2, Y4
	VPMADDWD Y11, Y2, Y5
	VPMADDWD Y12, Y2, Y6
	VPSLLD $15, Y6, Y6
	VPSRAD $15, Y4, Y4
	VPADDD Y5, Y6, Y6
	VPADDD Y4, Y6, Y6
	VPADDD Y13, Y6, Y6
	VPSRAD X14, Y6, Y6
	VPMADDWD Y10, Y3, Y4
	VPMADDWD Y11, Y3, Y5
	VPMADDWD Y12, Y3, Y7
	VPSLLD $15, Y7, Y7
	VPSRAD $15, Y4, Y4
	VPADDD Y5, Y7, Y7
	VPADDD Y4, Y7, Y7
	VPADDD Y13, Y7, Y7
	VPSRAD X14, Y7, Y7
	VPACKSSDW Y7, Y6, Y6 // elements 0-7 | 8-15
	VPADDSW Y15, Y6, Y6
	VEXTRACTI128 $1, Y6, X7
	VPACKSSWB X7, X6, X6
	VPMAXSB 256(R8), X6, X6
	VPMINSB 272(R8), X6, X6
	VMOVDQU X6, (DI)(AX*1)
	ADDQ $16, AX
	JMP  add_loop

add_done:
	VZEROUPPER
	RET

// func gapSumAVX2(x *int8, hw, c, nblk int, acc *int32)
// acc[j] = Σ_{p < hw} x[p*c + j] for j < 32*nblk.
TEXT ·gapSumAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ hw+8(FP), BX
	MOVQ c+16(FP), R9
	MOVQ nblk+24(FP), CX
	MOVQ acc+32(FP), DI

gap_blk:
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVQ SI, R10
	MOVQ BX, R11

gap_outer:
	// At most 128 rows in 16-bit sums (|sum| <= 128*128).
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVQ $128, R12
	CMPQ R11, R12
	CMOVQLT R11, R12
	SUBQ R12, R11

gap_inner:
	VPMOVSXBW (R10), Y2
	VPMOVSXBW 16(R10), Y3
	VPADDW Y2, Y0, Y0
	VPADDW Y3, Y1, Y1
	ADDQ R9, R10
	DECQ R12
	JNZ  gap_inner
	VPMOVSXWD X0, Y2
	VPADDD Y2, Y4, Y4
	VEXTRACTI128 $1, Y0, X2
	VPMOVSXWD X2, Y2
	VPADDD Y2, Y5, Y5
	VPMOVSXWD X1, Y2
	VPADDD Y2, Y6, Y6
	VEXTRACTI128 $1, Y1, X2
	VPMOVSXWD X2, Y2
	VPADDD Y2, Y7, Y7
	TESTQ R11, R11
	JNZ  gap_outer
	VMOVDQU Y4, 0(DI)
	VMOVDQU Y5, 32(DI)
	VMOVDQU Y6, 64(DI)
	VMOVDQU Y7, 96(DI)
	ADDQ $32, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  gap_blk
	VZEROUPPER
	RET

// EPIR is EPI with the constants in registers: M (MR), M of odd lanes
// (MO), rounding (RD) and shift (SH).
#define EPIR(ACC, T, MR, MO, RD, SH) \
	VPSRLQ $32, ACC, T \
	VPMULDQ MR, ACC, ACC \
	VPMULDQ MO, T, T \
	VPSRLQ $32, ACC, ACC \
	VPBLENDD $0xAA, T, ACC, ACC \
	VPADDD RD, ACC, ACC \
	VPSRAVD SH, ACC, ACC

// func chanMulAVX2(x, y *int8, npix, c int, gs *int32, zx int, e *epiBlock, flags int)
// For npix pixels of c channels (c a multiple of 8):
// y[c] = requant((x[c] - zx) * gs[c]), one multiplier for every lane of e
// (its constants are kept in Y8-Y14).
TEXT ·chanMulAVX2(SB), NOSPLIT, $0-64
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ npix+16(FP), BX
	MOVQ c+24(FP), R9
	MOVQ gs+32(FP), R10
	MOVQ e+48(FP), R8
	MOVQ flags+56(FP), R11
	VPBROADCASTD zx+40(FP), Y15
	VMOVDQU 256(R8), Y8
	VMOVDQU 320(R8), Y9
	VMOVDQU 384(R8), Y10
	VMOVDQU 448(R8), Y11
	VMOVDQU 576(R8), Y12
	VMOVDQU 512(R8), X13
	VMOVDQU 544(R8), X14

cm_pix:
	XORQ AX, AX
	MOVQ R9, CX

cm_blk:
	CMPQ CX, $16
	JLT  cm_half
	VPMOVSXBD (SI)(AX*1), Y0
	VPMOVSXBD 8(SI)(AX*1), Y1
	VPSUBD Y15, Y0, Y0
	VPSUBD Y15, Y1, Y1
	VPMADDWD (R10)(AX*4), Y0, Y0
	VPMADDWD 32(R10)(AX*4), Y1, Y1
	TESTQ $1, R11
	JZ   cm_f_noclamp
	EPICLAMP(Y0, R8, 0)
	EPICLAMP(Y1, R8, 0)

cm_f_noclamp:
	EPIR(Y0, Y2, Y8, Y9, Y10, Y11)
	EPIR(Y1, Y3, Y8, Y9, Y10, Y11)
	VPACKSSDW Y1, Y0, Y0 // 0-3, 8-11 | 4-7, 12-15
	VPERMQ $0xD8, Y0, Y0
	VPADDSW Y12, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKSSWB X1, X0, X0
	VPMAXSB X13, X0, X0
	VPMINSB X14, X0, X0
	VMOVDQU X0, (DI)(AX*1)
	ADDQ $16, AX
	SUBQ $16, CX
	JMP  cm_blk

cm_half:
	TESTQ CX, CX
	JZ   cm_next
	VPMOVSXBD (SI)(AX*1), Y0
	VPSUBD Y15, Y0, Y0
	VPMADDWD (R10)(AX*4), Y0, Y0
	TESTQ $1, R11
	JZ   cm_h_noclamp
	EPICLAMP(Y0, R8, 0)

cm_h_noclamp:
	EPIR(Y0, Y2, Y8, Y9, Y10, Y11)
	VPACKSSDW Y0, Y0, Y0 // 0-3, 0-3 | 4-7, 4-7
	VPERMQ $0xD8, Y0, Y0
	VPADDSW Y12, Y0, Y0
	VPACKSSWB X0, X0, X0
	VPMAXSB X13, X0, X0
	VPMINSB X14, X0, X0
	VMOVQ X0, (DI)(AX*1)

cm_next:
	ADDQ R9, SI
	ADDQ R9, DI
	DECQ BX
	JNZ  cm_pix
	VZEROUPPER
	RET

// func lutVBMI(t *Table, x, y *int8, n int)
// y[i] = t[uint8(x[i])] for n (a multiple of 64) bytes: two 128-entry
// VPERMI2B lookups, selected by the index's top bit.
TEXT ·lutVBMI(SB), NOSPLIT, $0-32
	MOVQ t+0(FP), R8
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	VMOVDQU64 0(R8), Z4
	VMOVDQU64 64(R8), Z5
	VMOVDQU64 128(R8), Z6
	VMOVDQU64 192(R8), Z7
	XORQ AX, AX

lut_loop:
	CMPQ AX, CX
	JGE  lut_done
	VMOVDQU64 (SI)(AX*1), Z0
	VPMOVB2M Z0, K1
	VMOVDQA64 Z0, Z1
	VPERMI2B Z5, Z4, Z0
	VPERMI2B Z7, Z6, Z1
	VPBLENDMB Z1, Z0, K1, Z0
	VMOVDQU64 Z0, (DI)(AX*1)
	ADDQ $64, AX
	JMP  lut_loop

lut_done:
	VZEROUPPER
	RET

// LUT_PAIR looks up rows off0/16 and off1/16 of the table at R8 by the low
// nibbles in Y1 (VPSHUFB of each row broadcast to both lanes) and leaves in
// Y9 the second where bit 4 (shifted to each byte's top bit in Y2) is set,
// the first elsewhere. VPBLENDVB mask, b, a, dst: dst = mask ? b : a.
#define LUT_PAIR(off0, off1) \
	VBROADCASTI128 off0(R8), Y11 \
	VPSHUFB Y1, Y11, Y9 \
	VBROADCASTI128 off1(R8), Y11 \
	VPSHUFB Y1, Y11, Y10 \
	VPBLENDVB Y2, Y10, Y9, Y9

// func lutAVX2(t *Table, x, y *int8, n int)
// y[i] = t[uint8(x[i])] for n (a multiple of 32) bytes with AVX2: the 16
// rows t[16j:16j+16] looked up by the low nibble (VPSHUFB of each row,
// broadcast to both lanes), then a tree of 15 VPBLENDVBs on the high
// nibble's bits 4, 5, 6 and 7 (each shifted to its byte's top bit) picks
// row x>>4. The generic twin is LUT.
TEXT ·lutAVX2(SB), NOSPLIT, $0-32
	MOVQ t+0(FP), R8
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ $0x0f0f0f0f0f0f0f0f, AX
	MOVQ AX, X15
	VPBROADCASTQ X15, Y15 // the low-nibble mask
	XORQ AX, AX

lut2_loop:
	CMPQ AX, CX
	JGE  lut2_done
	VMOVDQU (SI)(AX*1), Y0  // x; its bit 7 selects at the last level
	VPAND   Y15, Y0, Y1     // the low nibble: VPSHUFB's index
	VPSLLW  $3, Y0, Y2      // bit 4 -> bit 7 of each byte
	VPSLLW  $2, Y0, Y3      // bit 5 -> bit 7
	VPSLLW  $1, Y0, Y4      // bit 6 -> bit 7
	LUT_PAIR(0, 16)     // rows 0, 1
	VMOVDQA Y9, Y6
	LUT_PAIR(32, 48)    // rows 2, 3
	VPBLENDVB Y3, Y9, Y6, Y9 // rows 0-3, by bit 5
	VMOVDQA Y9, Y7
	LUT_PAIR(64, 80)    // rows 4, 5
	VMOVDQA Y9, Y6
	LUT_PAIR(96, 112)   // rows 6, 7
	VPBLENDVB Y3, Y9, Y6, Y9 // rows 4-7, by bit 5
	VPBLENDVB Y4, Y9, Y7, Y9 // rows 0-7, by bit 6
	VMOVDQA Y9, Y8
	LUT_PAIR(128, 144)  // rows 8, 9
	VMOVDQA Y9, Y6
	LUT_PAIR(160, 176)  // rows 10, 11
	VPBLENDVB Y3, Y9, Y6, Y9 // rows 8-11, by bit 5
	VMOVDQA Y9, Y7
	LUT_PAIR(192, 208)  // rows 12, 13
	VMOVDQA Y9, Y6
	LUT_PAIR(224, 240)  // rows 14, 15
	VPBLENDVB Y3, Y9, Y6, Y9 // rows 12-15, by bit 5
	VPBLENDVB Y4, Y9, Y7, Y9 // rows 8-15, by bit 6
	VPBLENDVB Y0, Y9, Y8, Y9 // rows 0-15, by bit 7
	VMOVDQU Y9, (DI)(AX*1)
	ADDQ $32, AX
	JMP  lut2_loop

lut2_done:
	VZEROUPPER
	RET

// func xor80AVX512(dst, src *int8, n int)
// dst[i] = src[i] ^ 0x80 for i < n: 64 bytes per step, the last partial
// vector under a byte mask (AVX-512BW).
TEXT ·xor80AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVL $0x80808080, AX
	VPBROADCASTD AX, Z1
x80_loop:
	CMPQ CX, $64
	JLT  x80_tail
	VPXORD (SI), Z1, Z0
	VMOVDQU64 Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $64, CX
	JMP  x80_loop
x80_tail:
	TESTQ CX, CX
	JZ   x80_done
	MOVQ $1, AX
	SHLQ CX, AX // CX < 64
	DECQ AX
	KMOVQ AX, K1
	VMOVDQU8.Z (SI), K1, Z0
	VPXORD Z1, Z0, Z0
	VMOVDQU8 Z0, K1, (DI)
x80_done:
	VZEROUPPER
	RET

// func addAVX512(a, b, y *int8, n int, c *addConsts)
// addAVX2 on 512-bit registers (AVX-512BW): 32 elements per step, n a
// multiple of 32; the same words, partial sums and shifts in every lane
// (VPACKSSDW and VPUNPCK*WD work within 128-bit lanes, so the element
// order is kept as in addAVX2), VPMOVSWB for the saturating byte pack.
TEXT ·addAVX512(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), R8
	VBROADCASTI64X4 0(R8), Z8    // za (words)
	VBROADCASTI64X4 32(R8), Z9   // zb (words)
	VBROADCASTI64X4 64(R8), Z10  // (A0, B0) word pairs
	VBROADCASTI64X4 96(R8), Z11  // (A1, B1)
	VBROADCASTI64X4 128(R8), Z12 // (A2, B2)
	VBROADCASTI64X4 160(R8), Z13 // 2^(S'-16) (dwords)
	VMOVDQU 192(R8), X14         // S'-15 (low qword)
	VBROADCASTI64X4 224(R8), Z15 // zy (words)
	VBROADCASTI32X4 256(R8), Y16 // lo
	VBROADCASTI32X4 272(R8), Y17 // hi
	XORQ AX, AX

addz_loop:
	CMPQ AX, CX
	JGE  addz_done
	VPMOVSXBW (SI)(AX*1), Z0
	VPMOVSXBW (DX)(AX*1), Z1
	VPSUBW Z8, Z0, Z0
	VPSUBW Z9, Z1, Z1
	VPUNPCKLWD Z1, Z0, Z2 // (da, db) of elements 8i..8i+3 in lane i
	VPUNPCKHWD Z1, Z0, Z3 // 8i+4..8i+7
	VPMADDWD Z10, Z2, Z4
	VPMADDWD Z11, Z2, Z5
	VPMADDWD Z12, Z2, Z6
	VPSLLD $15, Z6, Z6
	VPSRAD $15, Z4, Z4
	VPADDD Z5, Z6, Z6
	VPADDD Z4, Z6, Z6
	VPADDD Z13, Z6, Z6
	VPSRAD X14, Z6, Z6
	VPMADDWD Z10, Z3, Z4
	VPMADDWD Z11, Z3, Z5
	VPMADDWD Z12, Z3, Z7
	VPSLLD $15, Z7, Z7
	VPSRAD $15, Z4, Z4
	VPADDD Z5, Z7, Z7
	VPADDD Z4, Z7, Z7
	VPADDD Z13, Z7, Z7
	VPSRAD X14, Z7, Z7
	VPACKSSDW Z7, Z6, Z6 // elements 0-31 in order
	VPADDSW Z15, Z6, Z6
	VPMOVSWB Z6, Y6
	VPMAXSB Y16, Y6, Y6
	VPMINSB Y17, Y6, Y6
	VMOVDQU Y6, (DI)(AX*1)
	ADDQ $32, AX
	JMP  addz_loop

addz_done:
	VZEROUPPER
	RET

// cmPermZ puts the dwords left by VPACKSSDW of channels 0-15 and 16-31
// (4 channels per dword, lanes interleaved) back into channel order.
DATA cmPermZ<>+0(SB)/4, $0
DATA cmPermZ<>+4(SB)/4, $2
DATA cmPermZ<>+8(SB)/4, $4
DATA cmPermZ<>+12(SB)/4, $6
DATA cmPermZ<>+16(SB)/4, $1
DATA cmPermZ<>+20(SB)/4, $3
DATA cmPermZ<>+24(SB)/4, $5
DATA cmPermZ<>+28(SB)/4, $7
GLOBL cmPermZ<>(SB), RODATA|NOPTR, $32

// chanMulAVX512's steps on one block of 32 channels at AX: load under K2
// (channels 0-15) and K3 (16-31), the clamp of flags&epiClamp, the rest of
// the epilogue and the store under K4 (bytes).
#define CMZLOAD \
	VPMOVSXBD.Z (SI)(AX*1), K2, Z0 \
	VPMOVSXBD.Z 16(SI)(AX*1), K3, Z1 \
	VPSUBD Z15, Z0, Z0 \
	VPSUBD Z15, Z1, Z1 \
	VPMADDWD (R10)(AX*4), Z0, Z0 \
	VPMADDWD 64(R10)(AX*4), Z1, Z1

#define CMZCLAMP \
	VPMAXSD Z17, Z0, Z0 \
	VPMINSD Z18, Z0, Z0 \
	VPSLLVD Z19, Z0, Z0 \
	VPMAXSD Z17, Z1, Z1 \
	VPMINSD Z18, Z1, Z1 \
	VPSLLVD Z19, Z1, Z1

#define CMZREST \
	VPSRLQ $32, Z0, Z2 \
	VPMULDQ Z8, Z0, Z0 \
	VPMULDQ Z9, Z2, Z2 \
	VPSRLQ $32, Z0, Z0 \
	VPBLENDMD Z2, Z0, K1, Z0 \
	VPADDD Z10, Z0, Z0 \
	VPSRAVD Z11, Z0, Z0 \
	VPSRLQ $32, Z1, Z3 \
	VPMULDQ Z8, Z1, Z1 \
	VPMULDQ Z9, Z3, Z3 \
	VPSRLQ $32, Z1, Z1 \
	VPBLENDMD Z3, Z1, K1, Z1 \
	VPADDD Z10, Z1, Z1 \
	VPSRAVD Z11, Z1, Z1 \
	VPACKSSDW Z1, Z0, Z0 \
	VPADDSW Z12, Z0, Z0 \
	VPMOVSWB Z0, Y0 \
	VPERMD Y0, Y16, Y0 \
	VPMAXSB Y13, Y0, Y0 \
	VPMINSB Y14, Y0, Y0 \
	VMOVDQU8 Y0, K4, (DI)(AX*1)

// func chanMulAVX512(x, y *int8, npix, c int, gs *int32, zx int, e *epiBlock, flags int)
// chanMulAVX2 in blocks of 32 channels on 512-bit registers (c a multiple
// of 8: the last block of c%32 channels under masks; gs readable for the
// whole block).
TEXT ·chanMulAVX512(SB), NOSPLIT, $0-64
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ npix+16(FP), BX
	MOVQ c+24(FP), R9
	MOVQ gs+32(FP), R10
	MOVQ e+48(FP), R8
	MOVQ flags+56(FP), R11
	VPBROADCASTD zx+40(FP), Z15
	VMOVDQU32 256(R8), Z8   // M' (every lane the same multiplier)
	VMOVDQU32 320(R8), Z9   // M' in even lanes
	VMOVDQU32 384(R8), Z10  // round
	VMOVDQU32 448(R8), Z11  // shift
	VBROADCASTI64X4 576(R8), Z12 // zy (words)
	VMOVDQU 512(R8), X13    // lo (bytes)
	VINSERTI128 $1, X13, Y13, Y13
	VMOVDQU 544(R8), X14    // hi
	VINSERTI128 $1, X14, Y14, Y14
	VMOVDQU32 64(R8), Z17   // -B
	VMOVDQU32 128(R8), Z18  // B
	VMOVDQU32 192(R8), Z19  // L
	VMOVDQU32 cmPermZ<>(SB), Y16
	MOVL $0xAAAA, DX
	KMOVW DX, K1
	// Masks of the last block: c%32 channels (8, 16 or 24).
	MOVQ R9, CX
	ANDQ $31, CX
	MOVQ $1, DX
	SHLQ CX, DX
	DECQ DX
	KMOVD DX, K5            // bytes
	KMOVW DX, K6            // channels 0-15
	SHRQ $16, DX
	KMOVW DX, K7            // channels 16-31
	MOVQ R9, R12
	ANDQ $-32, R12          // channels in whole blocks

cmz_pix:
	XORQ AX, AX
	KXNORW K2, K2, K2
	KXNORW K3, K3, K3
	KXNORD K4, K4, K4

cmz_blk:
	CMPQ AX, R12
	JGE  cmz_last
	TESTQ $1, R11
	JZ   cmz_f_noclamp
	CMZLOAD
	CMZCLAMP
	CMZREST
	ADDQ $32, AX
	JMP  cmz_blk

cmz_f_noclamp:
	CMZLOAD
	CMZREST
	ADDQ $32, AX
	JMP  cmz_blk

cmz_last:
	CMPQ AX, R9
	JGE  cmz_next
	KMOVW K6, K2
	KMOVW K7, K3
	KMOVD K5, K4
	TESTQ $1, R11
	JZ   cmz_l_noclamp
	CMZLOAD
	CMZCLAMP
	CMZREST
	JMP  cmz_next

cmz_l_noclamp:
	CMZLOAD
	CMZREST

cmz_next:
	ADDQ R9, SI
	ADDQ R9, DI
	DECQ BX
	JNZ  cmz_pix
	VZEROUPPER
	RET
