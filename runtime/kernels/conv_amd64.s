//go:build !purego

#include "textflag.h"

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
