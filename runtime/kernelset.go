package runtime

import (
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
	chanMul func(p *kernels.ChannelMulParams, x, g, y []int8)

	// Weight packing for the entries above, run once at load (nil: the
	// generic layout as is): conv [O][KH][KW][C/G], pointwise [O][C],
	// depthwise [KH][KW][O], gemm [N][K]. They mirror kernels.Set's Pack
	// functions.
	packConv      func(p *kernels.ConvParams, w []int8) []int8
	packPointwise func(w []int8, o, c int) []int8
	packDepthwise func(p *kernels.ConvParams, w []int8) []int8
	packGemm      func(w []int8, n, k int) []int8
}

// genericKernels runs every op on the generic kernels without allocating:
// kernels.Depthwise, Pointwise, Gemm, GlobalAveragePool and ChannelMul
// allocate scratch memory on every call, so the ops they serve go through
// kernels.Conv (the same integer results) and through globalAveragePool and
// channelMul below, which apply kernels.Requantize to the same sums.
var genericKernels = kernelSet{
	name:    "generic",
	conv:    kernels.Conv,
	add:     kernels.Add,
	lut:     kernels.LUT,
	pool:    globalAveragePool,
	chanMul: channelMul,
}

// kernelsFor picks the kernels for a model written for target on this
// machine. Today that is always the generic set; the optimised variants
// of runtime/kernels plug in here (for example by overriding entries with
// what kernels.Select reports for this CPU).
func kernelsFor(target string) kernelSet {
	_ = target
	return genericKernels
}

// globalAveragePool is kernels.GlobalAveragePool without its per-call
// accumulator slice: y[n,c] = Requantize(Σ_hw (x - XZero)).
func globalAveragePool(p *kernels.PoolParams, x, y []int8) {
	hw, c := p.HW, p.C
	for n := range p.N {
		xs := x[n*hw*c : (n+1)*hw*c]
		ys := y[n*c : (n+1)*c]
		for ch := range ys {
			var acc int32
			for i := ch; i < len(xs); i += c {
				acc += int32(xs[i]) - p.XZero
			}
			ys[ch] = kernels.Requantize(acc, p.Mult, p.YZero, p.Out.Lo, p.Out.Hi)
		}
	}
}

// channelMul is kernels.ChannelMul without its per-call gate slice:
// y = Requantize((x - XZero)(g - GZero)).
func channelMul(p *kernels.ChannelMulParams, x, g, y []int8) {
	c := p.C
	for n := range p.N {
		gs := g[n*c : (n+1)*c]
		for i := range p.HW {
			off := (n*p.HW + i) * c
			xs, ys := x[off:off+c], y[off:off+c]
			for ch, v := range xs {
				prod := (int32(v) - p.XZero) * (int32(gs[ch]) - p.GZero)
				ys[ch] = kernels.Requantize(prod, p.Mult, p.YZero, p.Out.Lo, p.Out.Hi)
			}
		}
	}
}
