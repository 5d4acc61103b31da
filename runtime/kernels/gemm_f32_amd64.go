//go:build !purego

package kernels

import (
	"math"
	"unsafe"
)

// The float32 GEMM micro-kernels (gemm_f32_amd64.s, written by
// asmgen_f32.go). Each computes, for one block of NR output channels (its
// name's number; NR = 8, 16, 24 on AVX2, 8 to 64 on AVX-512) and a.npix
// rows,
//
//	for p := range a.npix:
//		for c := range NR:
//			acc := a.bias[c] (+0 if a.bias is nil)
//			for s := range a.nseg:
//				for j := range a.seglen:
//					acc = FMA32(x(s, p)[j], a.w[(s*a.seglen + j)*NR + c], acc)
//			y[p*ystride + c] = act(acc)                // a.act, actF32
//
// with x(s, p) = a.seg[s] + p*xstride (strides in bytes), so that the k of
// the chain (s*seglen + j) runs in order: one segment for Pointwise and Gemm
// (a row of K values), one per kernel row for Conv (a run of KW*C input
// values). Rows are register tiles (AVX-512: 14, 7, 4, 2, 1 rows for up to
// 32 channels, 9, 5, 3, 2, 1 for 40 and 48, 6, 3, 2, 1 for 56 and 64;
// AVX2: 12, 6, 3, 2, 1 rows for 8 channels, 6, 3, 2, 1 for 16, 4, 2, 1 for
// 24) whose accumulators hold NR channels each (a broadcast of x[p][k]
// times the block's NR weights of k); the K loop runs innermost per tile,
// two k per iteration, every FMA one VFMADD231PS lane. Only the channels of
// the last vector that a.mask selects are stored (AVX-512: an opmask;
// AVX2: a.mask != 0 stores the last vector through the lane mask a.mvec,
// VMASKMOVPS). Each K iteration also prefetches into L2 the line at a.pf
// (then advanced by 64 bytes, up to a.pfEnd, and left in a.pf for the next
// tile): the following blocks' weights, which late layers stream from DRAM.
// The generic twin is gemmRowsF32 (PointwiseF32, GemmF32) and ConvF32.
//
// a.w is the block's panel of the packed layout (pack); a.bias holds NR
// readable values for AVX2 (a padded copy for a partial block), the
// block's valid ones for AVX-512 (the last vector is loaded under the
// mask).

//go:noescape
func gemmF32AVX2x8(a *gemmF32Args)

//go:noescape
func gemmF32AVX2x16(a *gemmF32Args)

//go:noescape
func gemmF32AVX2x24(a *gemmF32Args)

//go:noescape
func gemmF32Z8(a *gemmF32Args)

//go:noescape
func gemmF32Z16(a *gemmF32Args)

//go:noescape
func gemmF32Z24(a *gemmF32Args)

//go:noescape
func gemmF32Z32(a *gemmF32Args)

//go:noescape
func gemmF32Z40(a *gemmF32Args)

//go:noescape
func gemmF32Z48(a *gemmF32Args)

//go:noescape
func gemmF32Z56(a *gemmF32Args)

//go:noescape
func gemmF32Z64(a *gemmF32Args)

// The gemv* kernels compute the same as four (gemvF32AVX2x64,
// gemvF32Z256) or two (gemvF32AVX2x32, gemvF32Z128) consecutive full
// blocks' micro-kernels (AVX2 blocks of 16 channels, AVX-512 of 64), their
// panels a.pstride bytes apart, one row at a time with all the blocks'
// accumulators in flight (for one or two rows, where a single block's few
// FMA chains leave the FMA units idle and a single weight stream the
// memory); a.bias, a.y and the channels are the first block's.
//
//go:noescape
func gemvF32AVX2x64(a *gemmF32Args)

//go:noescape
func gemvF32AVX2x32(a *gemmF32Args)

//go:noescape
func gemvF32Z256(a *gemmF32Args)

//go:noescape
func gemvF32Z128(a *gemmF32Args)

// gemmF32Args is what the GEMM micro-kernels read; keep the offsets in sync
// with asmgen_f32.go (TestF32ArgsLayout checks them).
type gemmF32Args struct {
	seg     [maxSegF32]*float32 // row 0 of each segment
	nseg    int
	seglen  int // k per segment
	xstride int // bytes between rows of x
	w       *float32
	npix    int
	y       *float32
	ystride int // bytes between rows of y
	bias    *float32
	mask    int
	act     *actF32
	mvec    [8]int32
	pstride int     // GEMV: bytes between consecutive blocks' panels
	pf      uintptr // the prefetch cursor (an address in w), which the kernels advance
	pfEnd   uintptr // the last line of w the cursor may reach
}

// maxSegF32 bounds the segments of one GEMM call (kernel rows of a Conv, or
// its taps when they are not consecutive in x).
const maxSegF32 = 16

// actF32 is an Activation as the assembly reads it (asmgen_f32.go's act
// offsets): every kind is, after an optional first step, the two selects
// max(v, lo) then min(v, hi) of Activation (VMAXPS and VMINPS with the
// bound as second source: v > lo ? v : lo, v < hi ? v : hi):
//
//	none         (nothing)
//	clip         ReLU: lo = +0, hi = +Inf; ReLU6: 0, 6; Clip: Lo, Hi
//	hardsigmoid  v = FMA32(a = Alpha, v, b = Beta); lo = 0, hi = 1
//	hardswish    t = v + a (3), t clipped to [lo, hi] = [0, 6], (v * t) / hi
//
// c is float32(1/6), with which AVX-512 divides by 6 exactly without VDIVPS
// (asmgen_f32.go's actCode says how).
type actF32 struct {
	lo, hi, a, b, c [16]float32
	kind            int
}

const (
	actKindNone = iota
	actKindClip
	actKindHardSigmoid
	actKindHardSwish
)

func (v *actF32) set(act Activation) {
	var lo, hi, a, b float32
	switch act.Kind {
	case ActNone:
		v.kind = actKindNone
	case ActReLU:
		v.kind, lo, hi = actKindClip, 0, float32(math.Inf(1))
	case ActReLU6:
		v.kind, lo, hi = actKindClip, 0, 6
	case ActClip:
		v.kind, lo, hi = actKindClip, act.Lo, act.Hi
	case ActHardSigmoid:
		v.kind, lo, hi, a, b = actKindHardSigmoid, 0, 1, act.Alpha, act.Beta
	case ActHardSwish:
		v.kind, lo, hi, a = actKindHardSwish, 0, 6, 3
	default:
		panic("kernels: unknown activation")
	}
	for i := range 16 {
		v.lo[i], v.hi[i], v.a[i], v.b[i], v.c[i] = lo, hi, a, b, float32(1.0/6)
	}
}

// gemmF32Impl is one family of float32 GEMM micro-kernels.
type gemmF32Impl struct {
	evex bool // AVX-512 (blocks up to 64 channels, opmasks), else AVX2
	main int  // the width of full blocks
}

var (
	gemmF32AVX2 = &gemmF32Impl{evex: false, main: 16}
	gemmF32Z    = &gemmF32Impl{evex: true, main: 64}
)

// width returns the width of the block whose first channel leaves rem
// channels: main, or rem rounded up to a multiple of 8 (a block with one
// partial vector at most).
func (g *gemmF32Impl) width(rem int) int {
	if rem >= g.main {
		return g.main
	}
	return (rem + 7) / 8 * 8
}

// lastLanes returns the lanes of a block's last vector.
func (g *gemmF32Impl) lastLanes(wd int) int {
	if g.evex && wd%16 == 0 {
		return 16
	}
	return 8
}

// opad is o rounded up to the blocks' widths.
func (g *gemmF32Impl) opad(o int) int {
	n := 0
	for o0 := 0; o0 < o; {
		wd := g.width(o - o0)
		o0 += wd
		n = o0
	}
	return n
}

// pack packs w[o][k] into the layout of the micro-kernels: blocks of
// output channels (width(o - o0) wide, from channel o0), block by block;
// the block starting at o0 holds, from element o0*k, k rows of its width:
// panel[kk][c] = w[o0+c][kk], +0 past o.
func (g *gemmF32Impl) pack(w []float32, o, k int) []float32 {
	out := make([]float32, g.opad(o)*k)
	for o0 := 0; o0 < o; {
		wd := g.width(o - o0)
		panel := out[o0*k:][:wd*k]
		for c := range min(wd, o-o0) {
			row := w[(o0+c)*k:][:k]
			for kk, v := range row {
				panel[kk*wd+c] = v
			}
		}
		o0 += wd
	}
	return out
}

// call runs the micro-kernel of width wd (direct calls: a call through a
// func value would make a escape).
func (g *gemmF32Impl) call(wd int, a *gemmF32Args) {
	if !g.evex {
		switch wd {
		case 8:
			gemmF32AVX2x8(a)
		case 16:
			gemmF32AVX2x16(a)
		default:
			gemmF32AVX2x24(a)
		}
		return
	}
	switch wd {
	case 8:
		gemmF32Z8(a)
	case 16:
		gemmF32Z16(a)
	case 24:
		gemmF32Z24(a)
	case 32:
		gemmF32Z32(a)
	case 40:
		gemmF32Z40(a)
	case 48:
		gemmF32Z48(a)
	case 56:
		gemmF32Z56(a)
	default:
		gemmF32Z64(a)
	}
}

// blocks runs every block of the o output channels over the rows that a
// describes (its segments, strides and npix), writing y[p*o + c] for the
// block's channels c, y starting at the first row's first channel; w is
// packed by pack for the chain length k. a is a copy: the AVX2 partial
// block's padded biases live in this frame.
func (g *gemmF32Impl) blocks(a gemmF32Args, w []float32, k int, bias, y []float32, o int) {
	var bb [64]float32
	for o0 := 0; o0 < o; {
		if nb := min(4, (o-o0)/g.main) &^ 1; a.npix <= gemvRows && nb >= 2 {
			// Four or two full blocks at once.
			a.w, a.y, a.pstride, a.bias = &w[o0*k], &y[o0], 4*g.main*k, nil
			if bias != nil {
				a.bias = &bias[o0]
			}
			switch {
			case g.evex && nb == 4:
				gemvF32Z256(&a)
			case g.evex:
				gemvF32Z128(&a)
			case nb == 4:
				gemvF32AVX2x64(&a)
			default:
				gemvF32AVX2x32(&a)
			}
			o0 += nb * g.main
			continue
		}
		wd := g.width(o - o0)
		n := min(wd, o-o0)
		valid := g.lastLanes(wd) - (wd - n) // lanes of the last vector
		a.w, a.y = &w[o0*k], &y[o0]
		a.bias = nil
		if bias != nil {
			a.bias = &bias[o0]
		}
		switch {
		case g.evex:
			a.mask = 1<<valid - 1
		case n == wd:
			a.mask = 0
		default:
			a.mask = 1
			for i := range a.mvec {
				a.mvec[i] = 0
				if i < valid {
					a.mvec[i] = -1
				}
			}
			if bias != nil {
				clear(bb[:wd])
				copy(bb[:n], bias[o0:o0+n])
				a.bias = &bb[0]
			}
		}
		// Prefetch the next blocks' panels while this one runs (the
		// weights of late layers come from DRAM), one line per iteration
		// of the K loop, from the next block's first line on.
		a.pf = uintptr(unsafe.Pointer(&w[min(o0*k+wd*k, len(w)-1)]))
		a.pfEnd = uintptr(unsafe.Pointer(&w[len(w)-1]))
		g.call(wd, &a)
		o0 += wd
	}
}

// gemvRows is the most rows blocks runs four blocks at a time.
const gemvRows = 2

// gemmF32ChunkBytes bounds the bytes of x rows per chunk: each chunk
// streams all the weights once, and its rows once per block of channels, so
// chunks are as large as stay in L2.
const gemmF32ChunkBytes = 256 << 10

// rows computes rows [lo, hi) of y[.][o] = act(FMA32 chains from bias[c]
// over k of x[m][k] * w[c][k]) with w packed by pack.
func (g *gemmF32Impl) rows(x []float32, k int, w, bias, y []float32, o int, act Activation, lo, hi int) {
	if lo >= hi {
		return
	}
	// The assembly trusts its arguments: check every access here.
	if lo < 0 || len(w) < g.opad(o)*k || hi*k > len(x) || hi*o > len(y) || (bias != nil && len(bias) < o) {
		panic("kernels: gemm slices too short for their parameters")
	}
	var av actF32
	av.set(act)
	a := gemmF32Args{nseg: 1, seglen: k, xstride: 4 * k, ystride: 4 * o, act: &av}
	chunk := max(64, gemmF32ChunkBytes/(4*k))
	for p0 := lo; p0 < hi; p0 += chunk {
		p1 := min(hi, p0+chunk)
		a.seg[0], a.npix = &x[p0*k], p1-p0
		g.blocks(a, w, k, bias, y[p0*o:p1*o], o)
	}
}

func (g *gemmF32Impl) pointwise(p *ConvF32Params, x, w, bias, y []float32, lo, hi int) {
	g.rows(x, p.C, w, bias, y, p.O, p.Act, lo, hi)
}

func (g *gemmF32Impl) gemm(p *GemmF32Params, a, w, bias, y []float32, lo, hi int) {
	g.rows(a, p.K, w, bias, y, p.N, p.Act, lo, hi)
}
