//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// asmNote completes the error for a variant not compiled in.
const asmNote = ""

// The 32-bit ARM variant "neon32" needs Advanced SIMD (NEON, with its 32
// D registers), which every ARMv7-A core of a Raspberry Pi has (Cortex-A7,
// A53, A72 and A76 in AArch32). Without it (an ARMv6 Pi Zero, or a CPU
// that does not report it) only the generic Set runs.
func platformVariants() []variant {
	return []variant{
		{name: "neon32", set: neon32Set, missing: func() []string {
			if !cpu.ARM.HasNEON {
				return []string{"NEON"}
			}
			return nil
		}},
	}
}

var neon32Set = newNeon32Set()

// newNeon32Set builds the "neon32" Set: the generic twins, with the GEMM
// kernels of gemm_arm.go (Pointwise, Gemm, and Conv through im2col,
// conv_arm.go), depthwise_arm.go (Depthwise 3x3 and 5x5) and elementwise_arm.go
// (Add, ChannelMul, QuantizeCodes, GlobalAveragePool) installed over them.
func newNeon32Set() *Set {
	s := *Generic
	s.Name = "neon32"
	s.Description = "ARMv7 NEON: VMULL/VMLAL.S8 into 16 bits, VPADAL.S16 into 32 bits, 128-bit registers"
	neon32Gemm(&s)
	s.PackDepthwise = packDwNeon32
	s.Depthwise = dwRunNeon32
	s.Add = addRunNeon32
	s.ChannelMul = chanMulRunNeon32
	s.QuantizeCodes = quantizeRunNeon32
	s.GlobalAveragePool = gapRunNeon32
	return &s
}
