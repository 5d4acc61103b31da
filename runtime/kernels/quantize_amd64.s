//go:build !purego

#include "textflag.h"

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
// n is a multiple of 32. See quantize_amd64.go.
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
// n is a multiple of 16. See quantize_amd64.go.
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
