//go:build !purego

#include "textflag.h"

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
