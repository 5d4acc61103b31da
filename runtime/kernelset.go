package runtime

import (
	"fmt"
	"strings"

	"github.com/mncdev/mnc/runtime/kernels"
)

// kernelSet is the table of int8 kernels a plan calls, chosen once when a
// model is loaded. Every entry has the signature (and contract) of the
// generic kernel of runtime/kernels it stands for, so a faster variant with
// the same signature (AVX2, VNNI, NEON) is plugged in by replacing the
// entry in kernelsFor; the plan never changes. Optional entries may be nil:
// the plan then expresses the op with conv, which computes the same
// integers.
type kernelSet struct {
	name string
	// conv: any convolution, weights [O][KH][KW][C/groups], over output
	// rows [lo, hi) of N x OH (kernels.Conv).
	conv func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int)
	// pointwise: 1x1, stride 1, no padding, one group, weights [O][C],
	// over output pixels [lo, hi) (kernels.Pointwise). nil: conv.
	pointwise func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int)
	// depthwise: groups = C, weights [KH][KW][O] (repacked at load from
	// the file's layout when needed), over rows (kernels.Depthwise).
	// nil: conv with [O][KH][KW] weights.
	depthwise func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int)
	// gemm: fully connected, weights [N][K], over rows of M
	// (kernels.Gemm). nil: conv as a 1x1 convolution of M pixels.
	gemm    func(p *kernels.GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int)
	add     func(p *kernels.AddParams, a, b, y []int8)
	lut     func(t *kernels.Table, x, y []int8)
	pool    func(p *kernels.PoolParams, x, y []int8)
	chanMul func(p *kernels.ChannelMulParams, x, g, y []int8, lo, hi int)
	// quantize is the input boundary's loop (kernels.QuantizeCodes).
	quantize func(x []float32, inv float32, zero int32, y []int8)
	// interleave3 is the 3-channel NCHW -> NHWC loop (kernels.Interleave3).
	interleave3 func(r, g, b, y []int8)

	// Weight packing for the entries above, run once at load (nil: the
	// generic layout as is): conv [O][KH][KW][C/G], pointwise [O][C],
	// depthwise [KH][KW][O], gemm [N][K]. They mirror kernels.Set's Pack
	// functions.
	packConv      func(p *kernels.ConvParams, w []int8) []int8
	packPointwise func(w []int8, o, c int) []int8
	packDepthwise func(p *kernels.ConvParams, w []int8) []int8
	packGemm      func(w []int8, n, k int) []int8
}

// kernelsFor picks the kernels once, when a model is loaded: the variant
// named (kernels.Names: generic, avx2, vnni, neon, dotprod), else the one
// MNC_KERNELS names, else the best this CPU runs (kernels.Choose). A forced variant the CPU lacks is an
// error naming the missing features, never an illegal instruction.
func kernelsFor(name string) (kernelSet, error) {
	set, err := kernels.Choose(name)
	if err != nil {
		return kernelSet{}, err
	}
	return kernelSet{
		name:          set.Name,
		conv:          set.Conv,
		pointwise:     set.Pointwise,
		depthwise:     set.Depthwise,
		gemm:          set.Gemm,
		add:           set.Add,
		lut:           set.LUT,
		pool:          set.GlobalAveragePool,
		chanMul:       set.ChannelMul,
		quantize:      set.QuantizeCodes,
		interleave3:   set.Interleave3,
		packConv:      set.PackConv,
		packPointwise: set.PackPointwise,
		packDepthwise: set.PackDepthwise,
		packGemm:      set.PackGemm,
	}, nil
}

// TargetKernelsKey is the metadata key under which the compiler records the
// kernel variant of the model's target (e.g. "dotprod" for arm64-dotprod).
const TargetKernelsKey = "target.kernels"

// kernelsNote explains a fallback: the model's target implies kernels want,
// which this binary has but this CPU cannot run (a Raspberry Pi 5 model on
// a Pi 4), so the runtime chose got. It returns "" when there is nothing to
// explain: no target kernels recorded, the same variant, want available, or
// want belonging to another architecture (models run anywhere).
func kernelsNote(target, want, got string) string {
	if want == "" || want == got {
		return ""
	}
	if lack := kernels.Lacking(want); len(lack) > 0 {
		return fmt.Sprintf("compiled for target %s, but this CPU lacks %s for its %s kernels: running the %s kernels (same results, slower)",
			target, strings.Join(lack, ", "), want, got)
	}
	return ""
}
