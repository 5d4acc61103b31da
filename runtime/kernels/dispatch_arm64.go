//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// asmNote completes the error for a variant not compiled in.
const asmNote = ""

// The ARM64 variants. "dotprod" needs the ARMv8.2 dot product extension
// (SDOT; Cortex-A76, Raspberry Pi 5) and ARMv8.1's rounding doubling
// multiply-accumulate (SQRDMLAH, which every ARMv8.2 core with Advanced SIMD
// has); "neon" needs only Advanced SIMD, which
// every ARMv8-A core has (Cortex-A53/A72, Raspberry Pi 3/4). Each is chosen
// only if every instruction its kernels execute is available.
func platformVariants() []variant {
	return []variant{
		{name: "dotprod", set: dotprodSet, missing: func() []string {
			return lackingARM(map[string]bool{"ASIMD": cpu.ARM64.HasASIMD, "ASIMDDP": cpu.ARM64.HasASIMDDP, "ASIMDRDM": cpu.ARM64.HasASIMDRDM})
		}},
		{name: "neon", set: neonSet, missing: func() []string {
			return lackingARM(map[string]bool{"ASIMD": cpu.ARM64.HasASIMD})
		}},
	}
}

func lackingARM(have map[string]bool) []string {
	var s []string
	for _, f := range []string{"ASIMD", "ASIMDDP", "ASIMDRDM"} {
		if h, ok := have[f]; ok && !h {
			s = append(s, f)
		}
	}
	return s
}

var (
	dotprodSet = newARMSet("dotprod", "ARMv8.2 dot product: SDOT on 128-bit registers", true)
	neonSet    = newARMSet("neon", "Advanced SIMD: SMULL/SMLAL into 16 bits, SADALP into 32 bits, 128-bit registers", false)
)

// newARMSet builds an ARM64 Set: the generic twins, with the kernels of
// gemm_arm64.go (Pointwise, Gemm, Conv), depthwise_arm64.go
// (Depthwise), elementwise_arm64.go (Add, GlobalAveragePool, ChannelMul,
// LUT) and quantize_arm64.go (QuantizeCodes, Interleave3) installed over
// them; dot selects the SDOT kernels where they differ. The float32
// kernels (gemm_f32_arm64.go: PointwiseF32, GemmF32, ConvF32;
// depthwise_f32_arm64.go; elementwise_f32_arm64.go: AddF32, MulF32,
// ActivateF32, ChannelMulF32, GlobalAveragePoolF32) are the same NEON code
// in both.
func newARMSet(name, desc string, dot bool) *Set {
	s := *Generic
	s.Name, s.Description = name, desc
	armGemm(&s, dot)
	armDepthwise(&s, dot)
	armElementwise(&s, dot)
	armGemmF32(&s)
	armDepthwiseF32(&s)
	armElementwiseF32(&s)
	return &s
}
