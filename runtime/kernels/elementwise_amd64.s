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
	VPMULLD (R10)(AX*4), Y0, Y0
	VPMULLD 32(R10)(AX*4), Y1, Y1
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
	VPMULLD (R10)(AX*4), Y0, Y0
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

DATA epiK<>+0(SB)/4, $1          // ones
DATA epiK<>+4(SB)/4, $21
DATA epiK<>+8(SB)/4, $32
DATA epiK<>+12(SB)/4, $33
DATA epiK<>+16(SB)/4, $0x7fffffff
DATA epiK<>+20(SB)/4, $0x40000000
DATA epiK<>+24(SB)/4, $12
GLOBL epiK<>(SB), RODATA|NOPTR, $28

// EPIHALF computes lanes [8*H, 8*H+8) of an epiBlock at DI from channel
// groups at offsets (in channels) G0, G1 (4 channels each): mult at SI,
// bias at DX (or zeros), wsum at R8 (or zeros); zc broadcast in Y15; the
// constants of epiK in Y8-Y14. ORs 1 into R9 if some lane needs the clamp.
#define EPIHALF(G0, G1, H) \
	VMOVDQU (SI)(G0*8), Y0 \
	VMOVDQU (SI)(G1*8), Y1 \
	VSHUFPS $0x88, Y1, Y0, Y2 \
	VSHUFPS $0xDD, Y1, Y0, Y3 \
	VPERMQ $0xD8, Y2, Y2 \
	VPERMQ $0xD8, Y3, Y3 \
	VPXOR Y4, Y4, Y4 \
	TESTQ DX, DX \
	JZ 3(PC) \
	VMOVDQU (DX)(G0*4), X4 \
	VINSERTI128 $1, (DX)(G1*4), Y4, Y4 \
	VPXOR Y5, Y5, Y5 \
	TESTQ R8, R8 \
	JZ 3(PC) \
	VMOVDQU (R8)(G0*4), X5 \
	VINSERTI128 $1, (R8)(G1*4), Y5, Y5 \
	VPMULLD Y15, Y5, Y5 \
	VPSUBD Y5, Y4, Y4 \
	VMOVDQU Y4, (0+32*H)(DI) \
	VPCMPGTD Y10, Y3, Y6 \
	VPCMPGTD Y9, Y3, Y7 \
	VPSUBD Y9, Y3, Y4 \
	VPSLLVD Y4, Y8, Y4 \
	VPMAXSD Y8, Y4, Y4 \
	VPBLENDVB Y6, Y12, Y4, Y4 \
	VMOVDQU Y4, (128+32*H)(DI) \
	VPXOR Y5, Y5, Y5 \
	VPSUBD Y4, Y5, Y5 \
	VMOVDQU Y5, (64+32*H)(DI) \
	VPSUBD Y3, Y11, Y4 \
	VPXOR Y5, Y5, Y5 \
	VPMAXSD Y5, Y4, Y4 \
	VPMINSD Y14, Y4, Y4 \
	VMOVDQU Y4, (192+32*H)(DI) \
	VPTEST Y4, Y4 \
	JZ 2(PC) \
	ORQ $1, R9 \
	VPBLENDVB Y7, Y2, Y13, Y2 \
	VMOVDQU Y2, (256+32*H)(DI) \
	VPSRLQ $32, Y2, Y2 \
	VMOVDQU Y2, (320+32*H)(DI) \
	VPMAXSD Y11, Y3, Y3 \
	VPSUBD Y11, Y3, Y4 \
	VPSLLVD Y4, Y8, Y4 \
	VMOVDQU Y4, (384+32*H)(DI) \
	VPSUBD Y10, Y3, Y3 \
	VMOVDQU Y3, (448+32*H)(DI)

// func epiFillAVX2(e *epiBlock, mult *Multiplier, bias *int32, wsum *int8, zc int, g0, g1, g2, g3 int) int
// Fills the per-lane constants (corr to sh) of e, lanes 4i..4i+3 from the
// channels gi..gi+3; epiBlock.fillLanes is the generic twin.
TEXT ·epiFillAVX2(SB), NOSPLIT, $0-80
	MOVQ e+0(FP), DI
	MOVQ mult+8(FP), SI
	MOVQ bias+16(FP), DX
	MOVQ wsum+24(FP), R8
	VPBROADCASTD zc+32(FP), Y15
	VPBROADCASTD epiK<>+0(SB), Y8
	VPBROADCASTD epiK<>+4(SB), Y9
	VPBROADCASTD epiK<>+8(SB), Y10
	VPBROADCASTD epiK<>+12(SB), Y11
	VPBROADCASTD epiK<>+16(SB), Y12
	VPBROADCASTD epiK<>+20(SB), Y13
	VPBROADCASTD epiK<>+24(SB), Y14
	XORQ R9, R9
	MOVQ g0+40(FP), R10
	MOVQ g1+48(FP), R11
	EPIHALF(R10, R11, 0)
	MOVQ g2+56(FP), R10
	MOVQ g3+64(FP), R11
	EPIHALF(R10, R11, 1)
	MOVQ R9, ret+72(FP)
	VZEROUPPER
	RET

// func im2colRuns(dst *int8, kp int, src *int8, step, rs, kh, run, n int)
// For n pixels: copy 16 bytes from src + k*rs to dst + k*run for k < kh,
// then dst += kp, src += step.
TEXT ·im2colRuns(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ kp+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ step+24(FP), R9
	MOVQ rs+32(FP), R10
	MOVQ kh+40(FP), R11
	MOVQ run+48(FP), R12
	MOVQ n+56(FP), CX
	TESTQ CX, CX
	JZ   im2col_done

im2col_pix:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R11, DX

im2col_row:
	MOVOU (AX), X0
	MOVOU X0, (BX)
	ADDQ R10, AX
	ADDQ R12, BX
	DECQ DX
	JNZ  im2col_row
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  im2col_pix

im2col_done:
	RET

DATA quantPerm<>+0(SB)/4, $0
DATA quantPerm<>+4(SB)/4, $4
DATA quantPerm<>+8(SB)/4, $1
DATA quantPerm<>+12(SB)/4, $5
DATA quantPerm<>+16(SB)/4, $2
DATA quantPerm<>+20(SB)/4, $6
DATA quantPerm<>+24(SB)/4, $3
DATA quantPerm<>+28(SB)/4, $7
GLOBL quantPerm<>(SB), RODATA|NOPTR, $32

// One 8-lane step of quantizeAVX2: V = cvt(clamp(x*inv)) + zero, NaN -> 0.
#define QSTEP(OFF, V, M) \
	VMULPS OFF(SI), Y0, V \
	VCMPPS $7, V, V, M \
	VMAXPS Y3, V, V \
	VMINPS Y2, V, V \
	VANDPS M, V, V \
	VCVTPS2DQ V, V \
	VPADDD Y1, V, V

// func quantizeAVX2(x *float32, n int, inv float32, zero int32, y *int8)
// n is a multiple of 32. See elementwise_amd64.go.
TEXT ·quantizeAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS inv+16(FP), Y0
	MOVL zero+20(FP), AX
	MOVL AX, X1
	VPBROADCASTD X1, Y1
	MOVQ y+24(FP), DI
	MOVL $0x44000000, AX // 512.0
	MOVL AX, X2
	VBROADCASTSS X2, Y2
	MOVL $0xc4000000, AX // -512.0
	MOVL AX, X3
	VBROADCASTSS X3, Y3
	VMOVDQU quantPerm<>(SB), Y15
	SHRQ $5, CX
	JZ   quant_done

quant_loop:
	QSTEP(0, Y4, Y8)
	QSTEP(32, Y5, Y9)
	QSTEP(64, Y6, Y10)
	QSTEP(96, Y7, Y11)
	VPACKSSDW Y5, Y4, Y4
	VPACKSSDW Y7, Y6, Y6
	VPACKSSWB Y6, Y4, Y4
	VPERMD Y4, Y15, Y4
	VMOVDQU Y4, (DI)
	ADDQ $128, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  quant_loop

quant_done:
	VZEROUPPER
	RET

// Shuffle masks of interleave3AVX: for output vector k (bytes 16k..16k+15)
// and channel c (r, g, b), byte j takes pixel (16k+j)/3 of channel c where
// (16k+j) mod 3 = c, else zero (0x80).
DATA iMask<>+0(SB)/8, $0x8002808001808000
DATA iMask<>+8(SB)/8, $0x0580800480800380
DATA iMask<>+16(SB)/8, $0x0280800180800080
DATA iMask<>+24(SB)/8, $0x8080048080038080
DATA iMask<>+32(SB)/8, $0x8080018080008080
DATA iMask<>+40(SB)/8, $0x8004808003808002
DATA iMask<>+48(SB)/8, $0x8080078080068080
DATA iMask<>+56(SB)/8, $0x800a808009808008
DATA iMask<>+64(SB)/8, $0x8007808006808005
DATA iMask<>+72(SB)/8, $0x0a80800980800880
DATA iMask<>+80(SB)/8, $0x0780800680800580
DATA iMask<>+88(SB)/8, $0x8080098080088080
DATA iMask<>+96(SB)/8, $0x0d80800c80800b80
DATA iMask<>+104(SB)/8, $0x80800f80800e8080
DATA iMask<>+112(SB)/8, $0x80800c80800b8080
DATA iMask<>+120(SB)/8, $0x800f80800e80800d
DATA iMask<>+128(SB)/8, $0x800c80800b80800a
DATA iMask<>+136(SB)/8, $0x0f80800e80800d80
GLOBL iMask<>(SB), RODATA|NOPTR, $144

// func interleave3AVX(pr, pg, pb *int8, n int, y *int8)
// n is a multiple of 16. See elementwise_amd64.go.
TEXT ·interleave3AVX(SB), NOSPLIT, $0-40
	MOVQ pr+0(FP), SI
	MOVQ pg+8(FP), DX
	MOVQ pb+16(FP), R8
	MOVQ n+24(FP), CX
	MOVQ y+32(FP), DI
	VMOVDQU iMask<>+0(SB), X5
	VMOVDQU iMask<>+16(SB), X6
	VMOVDQU iMask<>+32(SB), X7
	VMOVDQU iMask<>+48(SB), X8
	VMOVDQU iMask<>+64(SB), X9
	VMOVDQU iMask<>+80(SB), X10
	VMOVDQU iMask<>+96(SB), X11
	VMOVDQU iMask<>+112(SB), X12
	VMOVDQU iMask<>+128(SB), X13
	SHRQ $4, CX
	JZ   il3_done

il3_loop:
	VMOVDQU (SI), X0
	VMOVDQU (DX), X1
	VMOVDQU (R8), X2
	VPSHUFB X5, X0, X3
	VPSHUFB X6, X1, X4
	VPOR    X4, X3, X3
	VPSHUFB X7, X2, X4
	VPOR    X4, X3, X3
	VMOVDQU X3, (DI)
	VPSHUFB X8, X0, X3
	VPSHUFB X9, X1, X4
	VPOR    X4, X3, X3
	VPSHUFB X10, X2, X4
	VPOR    X4, X3, X3
	VMOVDQU X3, 16(DI)
	VPSHUFB X11, X0, X3
	VPSHUFB X12, X1, X4
	VPOR    X4, X3, X3
	VPSHUFB X13, X2, X4
	VPOR    X4, X3, X3
	VMOVDQU X3, 32(DI)
	ADDQ $16, SI
	ADDQ $16, DX
	ADDQ $16, R8
	ADDQ $48, DI
	DECQ CX
	JNZ  il3_loop

il3_done:
	RET
