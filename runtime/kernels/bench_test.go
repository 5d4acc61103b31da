package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// Per-kernel benchmarks, one sub-benchmark per Set, reporting GMAC/s
// (multiply-accumulates of the op, padding taps included for convolutions)
// over all calls and for the fastest call (best-GMAC/s).
//
//	go test -run '^$' -bench . ./runtime/kernels
//
// Shapes are MobileNetV2's at 224x224.

// benchSets returns every Set this machine can run, generic included.
func benchSets(b *testing.B) []*Set {
	var sets []*Set
	for _, name := range Available() {
		s, err := Select(name)
		if err != nil {
			b.Fatal(err)
		}
		sets = append(sets, s)
	}
	return sets
}

// loop runs f b.N times, timing each call, and reports the mean rate
// ("GMAC/s" or unit) and the rate of the fastest call ("best-GMAC/s"), which
// is steadier on a shared machine; work is the MACs (or elements) per call.
func loop(b *testing.B, work float64, unit string, f func()) {
	best := time.Duration(math.MaxInt64)
	for b.Loop() {
		t := time.Now()
		f()
		best = min(best, time.Since(t))
	}
	b.ReportMetric(work*float64(b.N)/b.Elapsed().Seconds()/1e9, unit)
	b.ReportMetric(work/best.Seconds()/1e9, "best-"+unit)
}

func benchMults(r *rand.Rand, n int) []Multiplier {
	ms := make([]Multiplier, n)
	for i := range ms {
		ms[i], _ = NewMultiplier(2e-4 + 1e-3*r.Float64())
	}
	return ms
}

func BenchmarkPointwise(b *testing.B) {
	shapes := []struct{ hw, c, o int }{
		{112, 16, 96}, {56, 24, 144}, {56, 144, 24}, {28, 32, 192}, {28, 192, 32},
		{14, 96, 576}, {14, 576, 96}, {7, 160, 960}, {7, 960, 320}, {7, 320, 1280},
	}
	for _, sh := range shapes {
		r := rand.New(rand.NewPCG(1, 2))
		pix := sh.hw * sh.hw
		p := &ConvParams{N: 1, H: sh.hw, W: sh.hw, C: sh.c, OH: sh.hw, OW: sh.hw, O: sh.o, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
			XZero: -128, YZero: 3, Mult: benchMults(r, sh.o), Out: Range{-128, 100}}
		x, w := randI8(r, pix*sh.c, -128, 127), randI8(r, sh.o*sh.c, -127, 127)
		bias := make([]int32, sh.o)
		y := make([]int8, pix*sh.o)
		for _, s := range benchSets(b) {
			pw := s.PackPointwise(w, sh.o, sh.c)
			b.Run(fmt.Sprintf("%dx%dx%d-%d/%s", sh.hw, sh.hw, sh.c, sh.o, s.Name), func(b *testing.B) {
				loop(b, float64(pix*sh.c*sh.o), "GMAC/s", func() { s.Pointwise(p, x, pw, bias, y, 0, pix) })
			})
		}
	}
}

func BenchmarkDepthwise(b *testing.B) {
	shapes := []struct{ hw, c, s, k int }{
		{112, 32, 1, 3}, {112, 96, 2, 3}, {56, 144, 1, 3}, {56, 144, 2, 3}, {28, 192, 1, 3},
		{14, 576, 1, 3}, {7, 960, 1, 3}, {28, 120, 1, 5}, {14, 672, 2, 5},
		{112, 16, 1, 3}, {56, 72, 1, 3}, {56, 72, 2, 5}, {112, 64, 2, 3}, {14, 672, 1, 5}, {14, 184, 1, 3}, {28, 240, 2, 3}, {7, 960, 1, 5},
	}
	for _, sh := range shapes {
		r := rand.New(rand.NewPCG(1, 2))
		oh := (sh.hw+2*(sh.k/2)-sh.k)/sh.s + 1
		p := &ConvParams{N: 1, H: sh.hw, W: sh.hw, C: sh.c, OH: oh, OW: oh, O: sh.c, KH: sh.k, KW: sh.k, StrideH: sh.s, StrideW: sh.s,
			PadTop: sh.k / 2, PadLeft: sh.k / 2, Groups: sh.c, XZero: -128, YZero: -128, Mult: benchMults(r, sh.c), Out: Range{-128, 100}}
		x, w := randI8(r, sh.hw*sh.hw*sh.c, -128, 127), randI8(r, sh.k*sh.k*sh.c, -127, 127)
		bias := make([]int32, sh.c)
		y := make([]int8, oh*oh*sh.c)
		for _, s := range benchSets(b) {
			pw := s.PackDepthwise(p, w)
			b.Run(fmt.Sprintf("%dx%dx%d-k%d-s%d/%s", sh.hw, sh.hw, sh.c, sh.k, sh.s, s.Name), func(b *testing.B) {
				loop(b, float64(oh*oh*sh.c*sh.k*sh.k), "GMAC/s", func() { s.Depthwise(p, x, pw, bias, y, 0, oh) })
			})
		}
	}
}

// BenchmarkConv is the MobileNet stem: 3x3, stride 2, 3 -> 32 (V2) or 16 (V3) channels.
func BenchmarkConv(b *testing.B) {
	for _, o := range []int{32, 16} {
		r := rand.New(rand.NewPCG(1, 2))
		p := &ConvParams{N: 1, H: 224, W: 224, C: 3, OH: 112, OW: 112, O: o, KH: 3, KW: 3, StrideH: 2, StrideW: 2,
			PadTop: 1, PadLeft: 1, XZero: 3, YZero: -128, Mult: benchMults(r, o), Out: Range{-128, 100}}
		x, w := randI8(r, 224*224*3, -128, 127), randI8(r, o*27, -127, 127)
		bias := make([]int32, o)
		y := make([]int8, 112*112*o)
		for _, s := range benchSets(b) {
			pw := s.PackConv(p, w)
			b.Run(fmt.Sprintf("224x224x3-%d/%s", o, s.Name), func(b *testing.B) {
				loop(b, float64(112*112*o*27), "GMAC/s", func() { s.Conv(p, x, pw, bias, y, 0, 112) })
			})
		}
	}
}

// BenchmarkGemm is the classifier (batch 1) and an SE excite layer.
func BenchmarkGemm(b *testing.B) {
	for _, sh := range [][3]int{{1, 1280, 1000}, {1, 240, 960}} {
		r := rand.New(rand.NewPCG(1, 2))
		p := &GemmParams{M: sh[0], K: sh[1], N: sh[2], AZero: -128, YZero: 3, Mult: benchMults(r, sh[2]), Out: Full}
		a, w := randI8(r, sh[0]*sh[1], -128, 127), randI8(r, sh[2]*sh[1], -127, 127)
		bias := make([]int32, sh[2])
		y := make([]int8, sh[0]*sh[2])
		for _, s := range benchSets(b) {
			pw := s.PackGemm(w, sh[2], sh[1])
			b.Run(fmt.Sprintf("%dx%dx%d/%s", sh[0], sh[1], sh[2], s.Name), func(b *testing.B) {
				loop(b, float64(sh[0]*sh[1]*sh[2]), "GMAC/s", func() { s.Gemm(p, a, pw, bias, y, 0, sh[0]) })
			})
		}
	}
}

// BenchmarkElementwise: the residual Add, the global pool, the SE scale
// and the LUT, in Gelem/s (elements of the largest operand per second).
func BenchmarkElementwise(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 56 * 56 * 24
	a, a2, y := randI8(r, n, -128, 127), randI8(r, n, -128, 127), make([]int8, n)
	ap, _ := NewAddParams(0.05, 0.04, 0.07, 3, -5, 2, Full)
	m, _ := NewMultiplier(0.9 / 49)
	pp := &PoolParams{N: 1, HW: 49, C: 1280, XZero: -128, YZero: -128, Mult: m, Out: Full}
	px, py := randI8(r, 49*1280, -128, 127), make([]int8, 1280)
	cm, _ := NewMultiplier(0.004)
	cp := &ChannelMulParams{N: 1, HW: 28 * 28, C: 72, XZero: -3, GZero: -128, YZero: 1, Mult: cm, Out: Full}
	cx, cg, cy := randI8(r, 28*28*72, -128, 127), randI8(r, 72, -128, 127), make([]int8, 28*28*72)
	var tab Table
	for i := range tab {
		tab[i] = int8(i)
	}
	for _, s := range benchSets(b) {
		b.Run("add-56x56x24/"+s.Name, func(b *testing.B) {
			loop(b, float64(n), "Gelem/s", func() { s.Add(&ap, a, a2, y) })
		})
		b.Run("pool-7x7x1280/"+s.Name, func(b *testing.B) {
			loop(b, float64(len(px)), "Gelem/s", func() { s.GlobalAveragePool(pp, px, py) })
		})
		b.Run("chanmul-28x28x72/"+s.Name, func(b *testing.B) {
			loop(b, float64(len(cx)), "Gelem/s", func() { s.ChannelMul(cp, cx, cg, cy, 0, cp.N*cp.HW) })
		})
		b.Run("lut-56x56x24/"+s.Name, func(b *testing.B) {
			loop(b, float64(n), "Gelem/s", func() { s.LUT(&tab, a, y) })
		})
	}
}

// BenchmarkPointwiseParallel measures what the machine gives to threads
// when they need nothing from each other: every goroutine of b.RunParallel
// runs its own pointwise convolution on its own buffers (28x28x32 -> 192,
// L1/L2-resident). Compare the GMAC/s of -cpu 1 and -cpu 2:
//
//	go test -run '^$' -bench PointwiseParallel -cpu 1,2 ./runtime/kernels
//
// Their ratio is the ceiling of any split of this work over those threads
// (separate physical cores give about 2x; SMT siblings, or cores that
// share their vector units or clock budget, less).
func BenchmarkPointwiseParallel(b *testing.B) {
	const hw, c, o = 28, 32, 192
	pix := hw * hw
	for _, s := range benchSets(b) {
		b.Run(s.Name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(1, 2))
				p := &ConvParams{N: 1, H: hw, W: hw, C: c, OH: hw, OW: hw, O: o, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
					XZero: -128, YZero: 3, Mult: benchMults(r, o), Out: Range{-128, 100}}
				x, w := randI8(r, pix*c, -128, 127), s.PackPointwise(randI8(r, o*c, -127, 127), o, c)
				bias, y := make([]int32, o), make([]int8, pix*o)
				for pb.Next() {
					s.Pointwise(p, x, w, bias, y, 0, pix)
				}
			})
			b.ReportMetric(float64(pix*c*o)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
