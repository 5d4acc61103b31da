//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// gemm_amd64.s and depthwise_amd64.s are generated; elementwise_amd64.s,
// epilogue_amd64.s, conv_amd64.s and quantize_amd64.s are written by hand.
//go:generate go run asmgen.go

// The x86-64 variants. Each is chosen only if every instruction its kernels
// execute is available: AVX2 (VEX, 256-bit) for "avx2"; for "vnni", VPDPBUSD
// and the other EVEX instructions on 256-bit registers, which need
// AVX512VNNI, AVX512VL, and AVX512F and AVX512BW (byte and word operations on
// Y16-Y31).
func platformVariants() []variant {
	return []variant{
		{name: "vnni", set: vnniSet, missing: func() []string {
			return lacking(map[string]bool{
				"AVX2": cpu.X86.HasAVX2, "AVX512F": cpu.X86.HasAVX512F, "AVX512BW": cpu.X86.HasAVX512BW,
				"AVX512VL": cpu.X86.HasAVX512VL, "AVX512VNNI": cpu.X86.HasAVX512VNNI,
			})
		}},
		{name: "avx2", set: avx2Set, missing: func() []string {
			return lacking(map[string]bool{"AVX2": cpu.X86.HasAVX2})
		}},
	}
}

// asmNote completes the error for a variant not compiled in.
const asmNote = ""

func lacking(have map[string]bool) []string {
	var s []string
	for _, f := range []string{"AVX2", "AVX512F", "AVX512BW", "AVX512VL", "AVX512VNNI"} {
		if h, ok := have[f]; ok && !h {
			s = append(s, f)
		}
	}
	return s
}

var vnniSet = newX86Set("vnni", "AVX-512 VNNI: VPDPBUSD on 256-bit registers (EVEX), AVX2 elsewhere", gemmVNNI, dwVNNI,
	cpu.X86.HasAVX512VBMI && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512F)

var avx2Set = newX86Set("avx2", "AVX2: VPMADDWD on 16-bit operands, 256-bit registers", gemmAVX2, dwAVX2, false)

// newX86Set builds a Set from its GEMM and depthwise families; vbmi selects
// the AVX-512 VBMI lookup table (decided once, here).
func newX86Set(name, desc string, gm *gemmImpl, dw *dwImpl, vbmi bool) *Set {
	s := *Generic
	s.Name, s.Description = name, desc
	s.Add = addX86
	s.GlobalAveragePool = gapX86
	s.ChannelMul = chanMulX86
	s.LUT = lutGo
	s.QuantizeCodes = quantizeX86
	s.Interleave3 = interleave3X86
	if vbmi {
		s.LUT = lutX86VBMI
		s.Description += "; LUT with AVX-512 VBMI"
	}
	s.PackPointwise = func(w []int8, o, c int) []int8 { return packGemm(w, o, c, gm.g) }
	s.PackGemm = s.PackPointwise
	s.Pointwise = func(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) {
		gm.run(x, p.C, p.C, false, w, bias, y, p.O, p.XZero, p.Mult, p.YZero, p.Out, lo, hi)
	}
	s.Gemm = func(p *GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int) {
		gm.run(a, p.K, p.K, false, w, bias, y, p.N, p.AZero, p.Mult, p.YZero, p.Out, lo, hi)
	}
	s.PackConv = gm.packConv
	s.Conv = gm.conv
	s.PackDepthwise = dw.pack
	s.Depthwise = dw.run
	return &s
}
