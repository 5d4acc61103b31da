// Package kernels holds mnc's int8 and float32 kernels: as plain, obviously
// correct Go, the "generic twins" that every optimised kernel must match
// byte for byte, and the optimised variants themselves (x86-64 AVX2 and
// AVX-512 assembly, ARM64 NEON and dot product assembly, 32-bit ARM NEON
// assembly), chosen once per model through a Set; the functions that derive
// their parameters from a model's quantization (scheme.go); and the kernels
// both the compiler's reference interpreters and the runtime run (Permute,
// any element type; Softmax, Exp and Log, float32). Besides the standard
// library it imports only golang.org/x/sys/cpu, so that a minimal runner can
// link it without the compiler.
//
// # Tensors
//
// Activations are int8, NHWC (channels last), row-major. Weights are int8 with
// one scale per output channel and zero point 0 (symmetric, in [-127, 127]);
// biases are int32 at scale input_scale x weight_scale[o]. Layouts:
//
//	Conv       x[N][H][W][C]  w[O][KH][KW][C/groups]  bias[O]  y[N][OH][OW][O]
//	Depthwise  x[N][H][W][C]  w[KH][KW][O]            bias[O]  y[N][OH][OW][O]  (O = C*multiplier)
//	Pointwise  x[P][C]        w[O][C]                 bias[O]  y[P][O]          (1x1 conv, stride 1, no pad)
//	Gemm       a[M][K]        w[N][K]                 bias[N]  y[M][N]
//
// Padding is the input zero point: padded taps contribute nothing to the sum
// of (x - x_zero) * w. The float32 kernels (ConvF32Params, GemmF32Params)
// use the same layouts with float32 weights and biases; their padding is
// +0 (see the float rule).
//
// # The requantization rule
//
// Every int8 result of every kernel is computed by one rule. A real multiplier
// r > 0 (for a conv: input_scale x weight_scale[o] / output_scale) is
// represented, once, at compile time, by NewMultiplier as an integer pair
// (M, S) with
//
//	r ≈ M x 2^-S,   M in [2^30, 2^31) (or smaller only when S = 62), S in [1, 62].
//
// From frac, exp = frexp(r) (r = frac x 2^exp, frac in [0.5, 1)), in float64:
// M = round_half_away(frac x 2^31), S = 31 - exp; if M = 2^31 then M = 2^30,
// S = S - 1; if S > 62 then M = round_half_away(r x 2^62) and S = 62 (a
// multiplier below 2^-63 becomes M = 0); r >= 2^30 is refused.
//
// At run time, integer-only, an int64 value v (a sum of int32 x int32 terms,
// never overflowing, see below) is turned into an int8 by
//
//	y = clamp(z_out + RoundShift(v, S), lo, hi)
//	RoundShift(v, S) = (v + 2^(S-1)) >> S     (arithmetic shift: floor)
//
// that is, one rounding to nearest with ties toward +infinity, exact in int64,
// followed by the zero point and a clamp to [lo, hi], a sub-range of
// [-128, 127] which is also how fused ReLU and ReLU6 are applied (their output
// range, in the output's quantized domain). The value v is:
//
//	Conv, Depthwise, Pointwise, Gemm: v = (bias[o] + Σ (x - z_x) w) x M[o]   (the sum in int32)
//	GlobalAveragePool:                v = (Σ_hw (x - z_x)) x M               (r = s_x / (HW s_y))
//	Add:                              v = (a - z_a) x M_a + (b - z_b) x M_b  (one shared S, see NewMultiplierPair)
//	ChannelMul (SE scale):            v = (x - z_x) (g - z_g) x M            (r = s_x s_g / s_y)
//
// No sum overflows: an int32 accumulator holds at most K x 255 x 128 + |bias|,
// and Validate refuses K x 32640 + |bias| >= 2^31 (ValidateAccumulator);
// |acc| < 2^31 and M < 2^31 give |acc x M| < 2^62, and the rounding term is at
// most 2^61.
//
// LUT applies a 256-entry table indexed by the code's two's-complement byte:
// y = table[uint8(x)]; HardSwish and HardSigmoid are tables built at compile
// time from the input and output quantization parameters.
//
// SqueezeExcite composes the kernels above: the pool averages into the input's
// own quantization (r = 1/HW), the squeeze Gemm clamps with its ReLU, the
// excite Gemm feeds the hard-sigmoid table, whose output has the fixed scale
// 1/255 and zero point -128 (codes -128..127 are 0..1), and ChannelMul scales
// the input by the gate.
//
// # The derived parameters
//
// Every parameter above that follows from a model's quantization (the
// multipliers, the clamp ranges of fused activations, the pool and
// squeeze-excite factors, the shapes a channel multiply accepts) is derived
// by the functions of scheme.go (Multipliers, Requantization, Bounds.Range,
// NewPoolParams, NewChannelMulParams, NewSEParams, ChannelMulShape) and the
// constructors NewMultiplier, NewAddParams and ClampRange. They are the
// contract between the compiler and the runtime: quant's int8 reference
// interpreter and the runtime's planner both call them, so that both derive
// the same integers from the same scales.
//
// The float boundary (Quantize, Dequantize) is outside the integer contract
// but equally exact: Quantize computes t = x * inv in float32 (inv =
// float32(1/scale) computed in float64), rounds t to the nearest integer with
// ties to even, adds the zero point and saturates to [-128, 127] (NaN gives
// the zero point); Dequantize computes float32(q - z) * scale in float32.
//
// # The float rule
//
// The float32 kernels (ConvF32, DepthwiseF32, PointwiseF32, GemmF32, AddF32,
// MulF32, ChannelMulF32, GlobalAveragePoolF32, ActivateF32) give the same
// bits on every Set, so that a float32 model's results, and everything the
// compiler derives from them, are the same on every CPU:
//
//   - every dot product is one chain of fused multiply-adds in float32,
//     acc = FMA32(x, w, acc), starting from the bias (+0 without one), over
//     its terms in a fixed order: k ascending for Pointwise and Gemm; taps kh,
//     kw row-major, then input channels ascending, for Conv and Depthwise
//     (the order of the weights [O][KH][KW][C/G]). Taps outside the input
//     are FMAs with x = 0, not skipped. SIMD variants vectorize across output
//     channels and pixels, never across the chain;
//   - the activation is then applied in float32 by the operations
//     Activation documents (selects, not min/max instructions, so NaN and
//     signed zeros come out alike);
//   - sums (GlobalAveragePoolF32) run position by position in float32 from
//     +0 and are divided by HW; Add, Mul and ChannelMul are one IEEE
//     operation per element, then the activation.
//
// FMA32 is the chain's step in Go: a*b + c rounded once to float32, as
// VFMADD231PS and FMLA compute it (math.FMA would round twice). Round to
// nearest even with subnormals kept, the IEEE default that Go keeps on
// amd64 and arm64 (no flush-to-zero). The rule fixes every result that is
// not a NaN; a NaN's sign and payload may differ between Sets and CPUs
// (x86 and ARM propagate different operands' NaNs and make default NaNs of
// different signs; a vector kernel may propagate another operand's NaN than
// its twin), so only a model whose values reach NaN differs, and only there.
//
// # Parallelism
//
// Kernels are single-threaded. The ones over large outputs take a range
// [lo, hi) of output rows (N x OH for convolutions, pixels for Pointwise,
// positions N x HW for ChannelMul) so that callers can split the work; every
// output element is computed the same way whatever the split. Elementwise
// kernels (Add, LUT) split by slicing their operands.
//
// # Errors
//
// Every kernel has a Validate method (or function) on its parameters that
// checks dimensions, slice lengths, multipliers and the accumulator bound; the
// kernels themselves assume valid parameters and may panic otherwise (the
// assembly drivers check every slice length they rely on and panic rather
// than touch memory outside it).
//
// # Kernel sets
//
// A Set is one implementation of every kernel: Generic (the twins), "avx2",
// "vnni", "vnni512", "amx", "neon", "dotprod" or "neon32". Select(name) returns one ("" or "auto": the best this binary and
// CPU can run; a variant this CPU or build lacks is an error naming what is
// missing, never a silent fallback), Choose(flag) adds the MNC_KERNELS
// environment variable, Available and Names list them. The choice is made
// once, at model load; the kernels never test CPU features.
//
// A Set's kernels have the signatures and results of the generic functions,
// with weights packed by the Set's Pack functions (PackPointwise, PackGemm,
// PackDepthwise, PackConv), which the runtime calls at load on the
// generic-layout weights of the model file (pack.go documents the layouts).
// A variant packs to the generic layout, and runs the generic twin, for the
// shapes it has no fast path for (grouped non-depthwise convolutions,
// depthwise channel multipliers, windows other than 3x3 and 5x5); the two
// decisions depend on the same parameters, so pack and call with the same
// ones.
//
// The x86-64 variants: "avx2" needs AVX2 (VPMADDWD on 16-bit operands:
// exact, unlike VPMADDUBSW, which saturates) and FMA3; "vnni" needs
// AVX512VNNI, AVX512VL, AVX512F, AVX512BW and AVX512DQ, and runs VPDPBUSD
// on 256-bit registers (EVEX, 32 registers), with the activations as the
// unsigned operand (x + 128, corrected through the weight sums), plus
// AVX512VBMI for the lookup tables when present (VPERMI2B; without it, and
// on "avx2", the tables are 16 VPSHUFBs of the rows by the low nibble and
// a tree of VPBLENDVBs by the high one, lutAVX2); "vnni512" needs the same
// and is "vnni" with its GEMM (Pointwise, Gemm, Conv through im2col) on
// 512-bit registers: blocks of 32 output channels, two ZMM vectors per row
// (the same sums and epilogue, one 16-channel epiBlock per vector), a
// remainder of 16 channels in one ZMM vector, one of 8 on vnni's kernel.
// "amx" also needs AMX-TILE and AMX-INT8, and Linux's leave to use the tile
// state (arch_prctl ARCH_REQ_XCOMP_PERM, asked once); it is "vnni512" with
// the GEMMs of at least 16 rows of 64 to 16384 values on AMX tiles
// (gemmAMX32, gemmAMX16: TDPBSSD, signed bytes, so the correction is bias -
// zx Σ w; im2col convolutions in chunks of at least 32 pixels, in a pooled
// buffer), its packed blocks padded to whole 64-byte tile columns of K and
// never 8 wide; each call configures the tiles and releases them before it
// returns, and requantizes the tiles' sums with the 512-bit epilogue. The
// AMX instructions, which Go's assembler lacks, are BYTE lines checked by
// TestAMXEncoding. Both
// VNNI GEMM drivers make a chunk's activation rows unsigned (x XOR 0x80)
// once, into a 16 KiB stack scratch, and run kernels without the XOR per
// broadcast in their K loop (rows over 1365 bytes keep it); their Add and
// ChannelMul are avx2's loops on 512-bit registers (AVX-512BW; ChannelMul in
// blocks of 32 channels, the last under masks). Their requantization is
// the rule above in 32-bit lanes, rewritten exactly (epilogue.go proves it
// case by case, and TestEpilogueRewrite checks it over every shift and
// extreme values). Their float32 kernels are VFMADD231PS chains: GEMM
// register tiles of up to 14 rows by 8 to 64 channels (AVX-512, ZMM, opmask
// for the last vector) or 12 rows by 8 to 24 channels (AVX2, VMASKMOVPS),
// which also run the stem conv, reading the input in place (im2col only at
// the borders); depthwise 3x3 and 5x5 row kernels, with an interior kernel
// for stride 1 that loads each input column once per pixel group; and the
// elementwise kernels (gemm_f32_amd64.go, depthwise_f32_amd64.go,
// conv_f32_amd64.go and elementwise_f32_amd64.go state them).
//
// The ARM64 variants: "neon" needs only Advanced SIMD (every ARMv8-A core:
// Cortex-A53, A72, the Raspberry Pi 3 and 4). Its GEMM multiplies int8 by
// int8 into 16 bits with SMULL and adds the next k's product with SMLAL2
// before SADALP widens the pairs into 32-bit accumulators (a pair of
// products of weights in [-127, 127] cannot overflow int16; a matrix
// holding -128, which the quantizer never writes but the tests do, is
// flagged at pack time and runs a kernel that widens every product); its
// depthwise pairs taps the same way, with SADDW. "dotprod" needs the ARMv8.2
// dot product and ARMv8.1's SQRDMLAH (Cortex-A76, the Raspberry Pi 5) and runs the GEMM as SDOT by
// element, and its 3x3 and 5x5 depthwise of stride 1 and 2 by SDOT on
// input columns interleaved by ZIP (depthwise_dot_arm64.go); its other
// kernels are neon's. Both requantize exactly in 32-bit lanes: SQDMULH by M and
// SRSHL by -(S-31) for S >= 32 (the usual case), after an SQSHL by 32-S
// for smaller S (depthwise_arm64.go proves both; the NEON depthwise
// kernels use 64-bit lanes, SMULL by M and SRSHL by -S, for such blocks;
// dotprod's SDOT kernels, in blocks whose every S is 30 or 31, one SQRDMLAH
// of the accumulator by M 2^(31-S) - 2^31 into itself, fillRdm proves it);
// then saturating narrows, the zero point, SMAX/SMIN (gemm_arm64.go and
// depthwise_arm64.go say why the saturations cannot change a result). Both run the same float32
// kernels: a GEMM of 8 rows x 8 channels by FMLA by element (the stem conv
// through im2col), depthwise 3x3 and 5x5 with each input column loaded once
// per pixel tile, and the elementwise kernels.
//
// The 32-bit ARM variant: "neon32" (GOARCH=arm, ARMv7-A with NEON: every
// Raspberry Pi from the 2 on under 32-bit Pi OS; cpu.ARM.HasNEON) runs
// Pointwise, Gemm and Conv (through im2col) as the "neon" GEMM does, on
// its packed layout, in register tiles of 2 rows x 4 channels (the 16 Q
// registers of ARMv7): VMULL.S8 and VMLAL.S8 into 16 bits, VPADAL.S16
// into 32, and the same 64-bit requantization (VMULL.S32, VRSHL.S64,
// saturating narrows, VMAX/VMIN); gemm_arm.go states it. Its depthwise 3x3
// and 5x5 (any stride, dilation and padding; channels a multiple of 8) keeps
// a block of 8 channels' weights in D registers while it walks a row of
// pixels (5x5 in two passes through an int32 scratch), pairs taps in int16
// as "neon" does and requantizes with VQDMULH where every S of the block is
// >= 32, else in 64 bits (depthwise_arm.go); its Add, ChannelMul and
// GlobalAveragePool are "neon"'s in 8- and 16-byte vectors, and its
// QuantizeCodes runs the twin's float32 steps in NEON, whose flush to zero
// cannot change a code for the multipliers it accepts (elementwise_arm.go).
// Its other kernels (LUT, Interleave3, and every float32 kernel) are the
// twins.
//
// # Assembly and its twins
//
// Every assembly function has a Go declaration in a *_amd64.go, *_arm64.go
// or *_arm.go file whose doc comment states the loop it computes and names
// its generic twin; gemm_amd64.s and depthwise_amd64.s are written by
// asmgen.go (go generate), the float32 gemm_f32_amd64.s,
// depthwise_f32_amd64.s and elementwise_f32_amd64.s by asmgen_f32.go, the
// other *_amd64.s files by hand; gemm_arm64.s,
// depthwise_arm64.s and elementwise_arm64.s by asmgen_arm64.go (GOARCH=arm64
// go generate), quantize_arm64.s by hand, gemm_arm.s, depthwise_arm.s and
// elementwise_arm.s by asmgen_arm.go (GOARCH=arm go generate), and the
// float32 kernels
// (gemm_f32_arm64.s, depthwise_f32_arm64.s, elementwise_f32_arm64.s) by
// asmgen_f32_arm64.go. The Go assembler lacks most A64 widening, saturating and dot
// product instructions, so the ARM64 generator writes them as WORD lines
// with the instruction, decoded by golang.org/x/arch, in a comment;
// TestWordComments decodes every one again, and TestGeneratedAssembly
// checks every generated file is up to date. The 32-bit ARM assembler has no
// NEON at all: asmgen_arm.go encodes every NEON instruction as a WORD line
// with its GNU text as the comment, and TestNeon32Words decodes them with
// arm-linux-gnueabihf-objdump (skipping where it is not installed).
// Assembly files build with the tag !purego; dispatch_noasm.go
// (neither amd64, arm64 nor arm, or purego) leaves only Generic, so -tags purego
// runs everything on the twins. The tests compare every
// variant with the twins byte for byte (set_test.go, and set_f32_test.go
// and set_f32_edge_test.go for the float32 kernels: swept shapes, odd
// channel counts, K not a multiple of 4, guard bytes, odd offsets, extreme
// zero points and multipliers; kernels_f32_amd64_test.go: every x86
// float32 micro-kernel against its twin, special values, and
// pageguard_linux_amd64_test.go: loads that end at an unmapped page;
// mobilenet_bench_test.go: whole MobileNetV2-
// and V3-Large-shaped networks); bench_test.go reports GMAC/s per kernel and
// Set, and BenchmarkMobileNetV2 and BenchmarkMobileNetV3Large milliseconds
// per inference.
package kernels
