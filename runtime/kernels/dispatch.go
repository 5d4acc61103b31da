package kernels

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Set is one implementation of the kernels: the generic Go twins, or an
// accelerated variant bit-exact with them. A runtime chooses one Set at
// model load (Select, Choose), packs the weights with the Set's Pack
// functions, then calls its kernels; it never mixes packed weights of one Set
// with the kernels of another.
//
// Every kernel has the signature, the parameters and the result of the
// generic function of the same name (Pointwise, Depthwise, ...), except that
// weight arguments are what the corresponding Pack function returned for
// the same parameters. Pack functions run at load time: they allocate and
// may be slow; kernels do not allocate.
type Set struct {
	Name        string // "generic", "avx2", "vnni", "vnni512", "amx", "neon", "dotprod" or "neon32": the values of Select, --kernels and MNC_KERNELS
	Description string // for humans: instructions and register width

	// PackPointwise packs Pointwise weights w[o][c] (o output, c input channels).
	PackPointwise func(w []int8, o, c int) []int8
	// PackGemm packs Gemm weights w[n][k].
	PackGemm func(w []int8, n, k int) []int8
	// PackDepthwise packs Depthwise weights w[KH][KW][O] for the parameters p.
	PackDepthwise func(p *ConvParams, w []int8) []int8
	// PackConv packs Conv weights w[O][KH][KW][C/G] for the parameters p.
	PackConv func(p *ConvParams, w []int8) []int8

	Pointwise         func(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int)
	Depthwise         func(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int)
	Conv              func(p *ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int)
	Gemm              func(p *GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int)
	Add               func(p *AddParams, a, b, y []int8)
	GlobalAveragePool func(p *PoolParams, x, y []int8)
	ChannelMul        func(p *ChannelMulParams, x, g, y []int8, lo, hi int)
	LUT               func(t *Table, x, y []int8)
	QuantizeCodes     func(x []float32, inv float32, zero int32, y []int8)
	Interleave3       func(r, g, b, y []int8)

	// The float32 kernels (the float rule of the package documentation),
	// with their weight packing like the int8 ones': PackPointwiseF32 packs
	// PointwiseF32 weights w[o][c], PackGemmF32 GemmF32 weights w[n][k],
	// PackDepthwiseF32 DepthwiseF32 weights w[KH][KW][O], PackConvF32
	// ConvF32 weights w[O][KH][KW][C/G].
	PackPointwiseF32     func(w []float32, o, c int) []float32
	PackGemmF32          func(w []float32, n, k int) []float32
	PackDepthwiseF32     func(p *ConvF32Params, w []float32) []float32
	PackConvF32          func(p *ConvF32Params, w []float32) []float32
	PointwiseF32         func(p *ConvF32Params, x, w, bias, y []float32, lo, hi int)
	DepthwiseF32         func(p *ConvF32Params, x, w, bias, y []float32, lo, hi int)
	ConvF32              func(p *ConvF32Params, x, w, bias, y []float32, lo, hi int)
	GemmF32              func(p *GemmF32Params, a, w, bias, y []float32, lo, hi int)
	AddF32               func(act Activation, a, b, y []float32)
	MulF32               func(act Activation, a, b, y []float32)
	ChannelMulF32        func(p *ChannelMulF32Params, x, g, y []float32, lo, hi int)
	GlobalAveragePoolF32 func(n, hw, c int, x, y []float32)
	ActivateF32          func(act Activation, x, y []float32)
}

// EnvVar names the environment variable that forces a kernel variant
// (Choose reads it).
const EnvVar = "MNC_KERNELS"

// The generic Set's Pack functions: weights stay in the generic layout.
func unpackedMatrix(w []int8, _, _ int) []int8                { return w }
func unpackedConv(_ *ConvParams, w []int8) []int8             { return w }
func unpackedMatrixF32(w []float32, _, _ int) []float32       { return w }
func unpackedConvF32(_ *ConvF32Params, w []float32) []float32 { return w }

// Generic is the pure-Go Set: the generic twins themselves, the reference
// every other Set is tested against. It is available everywhere.
var Generic = &Set{
	Name:              "generic",
	Description:       "pure Go (the reference twins)",
	PackPointwise:     unpackedMatrix,
	PackGemm:          unpackedMatrix,
	PackDepthwise:     unpackedConv,
	PackConv:          unpackedConv,
	Pointwise:         Pointwise,
	Depthwise:         Depthwise,
	Conv:              Conv,
	Gemm:              Gemm,
	Add:               Add,
	GlobalAveragePool: GlobalAveragePool,
	ChannelMul:        ChannelMul,
	LUT:               LUT,
	QuantizeCodes:     QuantizeCodes,
	Interleave3:       Interleave3[int8],

	PackPointwiseF32:     unpackedMatrixF32,
	PackGemmF32:          unpackedMatrixF32,
	PackDepthwiseF32:     unpackedConvF32,
	PackConvF32:          unpackedConvF32,
	PointwiseF32:         PointwiseF32,
	DepthwiseF32:         DepthwiseF32,
	ConvF32:              ConvF32,
	GemmF32:              GemmF32,
	AddF32:               AddF32,
	MulF32:               MulF32,
	ChannelMulF32:        ChannelMulF32,
	GlobalAveragePoolF32: GlobalAveragePoolF32,
	ActivateF32:          ActivateF32,
}

// variant is a Set this package knows of, built into this binary or not.
type variant struct {
	name    string
	set     *Set            // nil if not compiled in (purego, other GOARCH)
	missing func() []string // the CPU features it needs that this CPU lacks
}

// accelNames names every accelerated variant of any platform, best first
// within each: x86-64 (vnni512, vnni, avx2), ARM64 (dotprod, neon), then 32-bit ARM
// (neon32).
var accelNames = []string{"amx", "vnni512", "vnni", "avx2", "dotprod", "neon", "neon32"}

// variants lists every variant, best first. platformVariants (per build)
// supplies the ones compiled into this binary; the others are listed by
// name only (set nil), so that forcing one gives a clear error.
func variants() []variant {
	have := platformVariants()
	var vs []variant
	for _, name := range accelNames {
		v := variant{name: name, missing: func() []string { return nil }}
		for _, h := range have {
			if h.name == name {
				v = h
			}
		}
		vs = append(vs, v)
	}
	return append(vs, variant{name: "generic", set: Generic, missing: func() []string { return nil }})
}

// Names lists every variant name Select knows, best first, whether or not
// this binary and CPU can run it.
func Names() []string {
	var s []string
	for _, v := range variants() {
		s = append(s, v.name)
	}
	return s
}

// Available lists the variants this binary can run on this CPU, best first;
// "generic" is always last.
func Available() []string {
	var s []string
	for _, v := range variants() {
		if v.set != nil && len(v.missing()) == 0 {
			s = append(s, v.name)
		}
	}
	return s
}

// Select returns the Set called name: "" or "auto" is the best available
// one. A known variant that this binary or CPU cannot run is an error
// naming what is missing; it never falls back silently.
func Select(name string) (*Set, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	vs := variants()
	if name == "" || name == "auto" {
		for _, v := range vs {
			if v.set != nil && len(v.missing()) == 0 {
				return v.set, nil
			}
		}
		return Generic, nil
	}
	for _, v := range vs {
		if v.name != name {
			continue
		}
		if v.set == nil {
			return nil, fmt.Errorf("kernels: %q is not compiled into this binary (%s/%s%s); available: %s", name, runtime.GOOS, runtime.GOARCH, asmNote, strings.Join(Available(), ", "))
		}
		if m := v.missing(); len(m) > 0 {
			return nil, fmt.Errorf("kernels: %q needs CPU features this machine lacks: %s; available: %s", name, strings.Join(m, ", "), strings.Join(Available(), ", "))
		}
		return v.set, nil
	}
	return nil, fmt.Errorf("kernels: unknown kernel variant %q (known: auto, %s)", name, strings.Join(Names(), ", "))
}

// Lacking returns the CPU features this machine lacks for the variant
// called name when it is compiled into this binary; nil when the variant
// runs here, is unknown, or is not compiled in (another GOARCH, purego).
func Lacking(name string) []string {
	for _, v := range variants() {
		if v.name == name && v.set != nil {
			return v.missing()
		}
	}
	return nil
}

// Choose is Select for command lines: flag (from --kernels) if not empty,
// else the environment variable MNC_KERNELS, else "auto".
func Choose(flag string) (*Set, error) {
	if flag == "" {
		flag = os.Getenv(EnvVar)
	}
	return Select(flag)
}
