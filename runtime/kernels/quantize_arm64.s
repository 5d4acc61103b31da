//go:build !purego

#include "textflag.h"

// The ARM64 (NEON) kernels at the boundary of the network: the float32 ->
// int8 quantization of the input and the NCHW -> NHWC interleave of its
// three planes. Declarations and reference loops are in quantize_arm64.go.
// The Go assembler lacks the vector FMUL, FCVTNS, SQXTN and SQADD, so
// they are WORD lines with their GNU-syntax disassembly (TestWordComments).

// func quantizeNEON(x *float32, n int, inv float32, zero int32, y *int8)
TEXT ·quantizeNEON(SB), NOSPLIT, $0-32
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R1
	MOVWU inv+16(FP), R2
	MOVW  zero+20(FP), R3
	MOVD  y+24(FP), R4
	VDUP  R2, V16.S4  // inv
	VDUP  R3, V19.H8  // zero
	CBZ   R1, quant_done

quant_loop:
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD   $0x6e30dc00 // fmul v0.4s, v0.4s, v16.4s
	WORD   $0x6e30dc21 // fmul v1.4s, v1.4s, v16.4s
	WORD   $0x6e30dc42 // fmul v2.4s, v2.4s, v16.4s
	WORD   $0x6e30dc63 // fmul v3.4s, v3.4s, v16.4s
	// q = round half to even (FCVTNS ignores FPCR.RMode), saturated to
	// int32 (NaN -> 0).
	WORD   $0x4e21a800 // fcvtns v0.4s, v0.4s
	WORD   $0x4e21a821 // fcvtns v1.4s, v1.4s
	WORD   $0x4e21a842 // fcvtns v2.4s, v2.4s
	WORD   $0x4e21a863 // fcvtns v3.4s, v3.4s
	// Saturate to int16, + zero (saturating), saturate to int8.
	WORD   $0x0e614804 // sqxtn v4.4h, v0.4s
	WORD   $0x4e614824 // sqxtn2 v4.8h, v1.4s
	WORD   $0x0e614845 // sqxtn v5.4h, v2.4s
	WORD   $0x4e614865 // sqxtn2 v5.8h, v3.4s
	WORD   $0x4e730c84 // sqadd v4.8h, v4.8h, v19.8h
	WORD   $0x4e730ca5 // sqadd v5.8h, v5.8h, v19.8h
	WORD   $0x0e214886 // sqxtn v6.8b, v4.8h
	WORD   $0x4e2148a6 // sqxtn2 v6.16b, v5.8h
	VST1.P [V6.B16], 16(R4)
	SUBS   $16, R1
	BNE    quant_loop

quant_done:
	RET

// func interleave3NEON(pr, pg, pb *int8, n int, y *int8)
TEXT ·interleave3NEON(SB), NOSPLIT, $0-40
	MOVD pr+0(FP), R0
	MOVD pg+8(FP), R1
	MOVD pb+16(FP), R2
	MOVD n+24(FP), R3
	MOVD y+32(FP), R4
	CBZ  R3, il3_done

il3_loop:
	VLD1.P 16(R0), [V0.B16]
	VLD1.P 16(R1), [V1.B16]
	VLD1.P 16(R2), [V2.B16]
	VST3.P [V0.B16, V1.B16, V2.B16], 48(R4)
	SUBS   $16, R3
	BNE    il3_loop

il3_done:
	RET
