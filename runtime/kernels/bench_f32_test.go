package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Per-kernel float32 benchmarks, one sub-benchmark per Set, reporting
// GMAC/s (or G elements/s) like bench_test.go:
//
//	go test -run '^$' -bench F32 ./runtime/kernels
//
// Shapes are MobileNetV2's and V3-Large's at 224x224. The data are normal
// numbers (subnormal operands cost microcode assists on some x86 cores, and
// real activations and weights rarely are).

// benchF32 returns n normal values of magnitude about scale.
func benchF32(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

func BenchmarkPointwiseF32(b *testing.B) {
	shapes := []struct {
		hw, c, o int
		act      ActKind
	}{
		{112, 32, 16, ActNone}, {112, 16, 96, ActReLU6}, {56, 24, 144, ActReLU6}, {56, 144, 24, ActNone}, {28, 32, 192, ActReLU6},
		{28, 192, 32, ActNone}, {14, 96, 576, ActReLU6}, {14, 576, 96, ActNone}, {7, 160, 960, ActReLU6}, {7, 960, 160, ActNone},
		{7, 320, 1280, ActReLU6}, {28, 120, 40, ActNone}, {14, 672, 112, ActNone}, {28, 40, 240, ActHardSwish}, {14, 80, 480, ActHardSwish},
	}
	for _, sh := range shapes {
		r := rand.New(rand.NewPCG(1, 2))
		pix := sh.hw * sh.hw
		p := &ConvF32Params{N: 1, H: sh.hw, W: sh.hw, C: sh.c, OH: sh.hw, OW: sh.hw, O: sh.o, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
			Act: Activation{Kind: sh.act}}
		x, w, bias := benchF32(r, pix*sh.c, 1), benchF32(r, sh.o*sh.c, 0.1), benchF32(r, sh.o, 0.1)
		y := make([]float32, pix*sh.o)
		for _, s := range benchSets(b) {
			pw := s.PackPointwiseF32(w, sh.o, sh.c)
			b.Run(fmt.Sprintf("%dx%dx%d-%d-act%d/%s", sh.hw, sh.hw, sh.c, sh.o, sh.act, s.Name), func(b *testing.B) {
				loop(b, float64(pix*sh.c*sh.o), "GMAC/s", func() { s.PointwiseF32(p, x, pw, bias, y, 0, pix) })
			})
		}
	}
}

func BenchmarkGemmF32(b *testing.B) {
	for _, sh := range []struct{ m, k, n int }{{1, 1280, 1000}, {1, 960, 1280}, {1, 576, 144}} {
		r := rand.New(rand.NewPCG(1, 2))
		p := &GemmF32Params{M: sh.m, K: sh.k, N: sh.n}
		a, w, bias := benchF32(r, sh.m*sh.k, 1), benchF32(r, sh.n*sh.k, 0.1), benchF32(r, sh.n, 0.1)
		y := make([]float32, sh.m*sh.n)
		for _, s := range benchSets(b) {
			pw := s.PackGemmF32(w, sh.n, sh.k)
			b.Run(fmt.Sprintf("%dx%dx%d/%s", sh.m, sh.k, sh.n, s.Name), func(b *testing.B) {
				loop(b, float64(p.MACs()), "GMAC/s", func() { s.GemmF32(p, a, pw, bias, y, 0, sh.m) })
			})
		}
	}
}

func BenchmarkDepthwiseF32(b *testing.B) {
	shapes := []struct{ hw, c, s, k int }{
		{112, 32, 1, 3}, {112, 96, 2, 3}, {56, 144, 1, 3}, {56, 144, 2, 3}, {28, 192, 1, 3},
		{14, 576, 1, 3}, {7, 960, 1, 3}, {56, 72, 2, 5}, {28, 120, 1, 5}, {14, 672, 2, 5}, {7, 960, 1, 5},
	}
	for _, sh := range shapes {
		r := rand.New(rand.NewPCG(3, 4))
		pad := sh.k / 2
		oh := (sh.hw+2*pad-sh.k)/sh.s + 1
		p := &ConvF32Params{N: 1, H: sh.hw, W: sh.hw, C: sh.c, OH: oh, OW: oh, O: sh.c, KH: sh.k, KW: sh.k,
			StrideH: sh.s, StrideW: sh.s, PadTop: pad, PadLeft: pad, Groups: sh.c, Act: Activation{Kind: ActReLU6}}
		x, w, bias := benchF32(r, sh.hw*sh.hw*sh.c, 1), benchF32(r, sh.k*sh.k*sh.c, 0.3), benchF32(r, sh.c, 0.1)
		y := make([]float32, oh*oh*sh.c)
		for _, s := range benchSets(b) {
			pw := s.PackDepthwiseF32(p, w)
			b.Run(fmt.Sprintf("%dx%dx%d-k%d-s%d/%s", sh.hw, sh.hw, sh.c, sh.k, sh.s, s.Name), func(b *testing.B) {
				loop(b, float64(p.MACs()), "GMAC/s", func() { s.DepthwiseF32(p, x, pw, bias, y, 0, p.Rows()) })
			})
		}
	}
}

func BenchmarkConvF32(b *testing.B) {
	for _, sh := range []struct {
		o   int
		act ActKind
	}{{32, ActReLU6}, {16, ActHardSwish}} {
		o := sh.o
		r := rand.New(rand.NewPCG(5, 6))
		p := &ConvF32Params{N: 1, H: 224, W: 224, C: 3, OH: 112, OW: 112, O: o, KH: 3, KW: 3, StrideH: 2, StrideW: 2,
			PadTop: 1, PadLeft: 1, Act: Activation{Kind: sh.act}}
		x, w, bias := benchF32(r, 224*224*3, 1), benchF32(r, o*27, 0.2), benchF32(r, o, 0.1)
		y := make([]float32, 112*112*o)
		for _, s := range benchSets(b) {
			pw := s.PackConvF32(p, w)
			b.Run(fmt.Sprintf("stem-%d-act%d/%s", o, sh.act, s.Name), func(b *testing.B) {
				loop(b, float64(p.MACs()), "GMAC/s", func() { s.ConvF32(p, x, pw, bias, y, 0, p.Rows()) })
			})
		}
	}
}

func BenchmarkElementwiseF32(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 28 * 28 * 120
	x, g := benchF32(r, n, 2), benchF32(r, n, 1)
	y := make([]float32, n)
	hsw := Activation{Kind: ActHardSwish}
	cp := &ChannelMulF32Params{N: 1, HW: 28 * 28, C: 120}
	for _, s := range benchSets(b) {
		b.Run("Add/"+s.Name, func(b *testing.B) {
			loop(b, n, "Gelem/s", func() { s.AddF32(Activation{}, x, g, y) })
		})
		b.Run("Mul/"+s.Name, func(b *testing.B) {
			loop(b, n, "Gelem/s", func() { s.MulF32(Activation{}, x, g, y) })
		})
		b.Run("HardSwish/"+s.Name, func(b *testing.B) {
			loop(b, n, "Gelem/s", func() { s.ActivateF32(hsw, x, y) })
		})
		b.Run("ReLU/"+s.Name, func(b *testing.B) {
			loop(b, n, "Gelem/s", func() { s.ActivateF32(Activation{Kind: ActReLU}, x, y) })
		})
		b.Run("ChannelMul-28x28x120/"+s.Name, func(b *testing.B) {
			loop(b, float64(cp.HW*cp.C), "Gelem/s", func() { s.ChannelMulF32(cp, x, g, y, 0, cp.HW) })
		})
		b.Run("GlobalAveragePool-7x7x960/"+s.Name, func(b *testing.B) {
			loop(b, 49*960, "Gelem/s", func() { s.GlobalAveragePoolF32(1, 49, 960, x, y) })
		})
	}
}

// BenchmarkGemvColdF32 is BenchmarkGemmF32's M = 1 case with the weights
// cycling through 64 MB of copies, so that they come from DRAM as in a
// whole model (whose weights exceed the caches).
func BenchmarkGemvColdF32(b *testing.B) {
	for _, sh := range []struct{ k, n int }{{1280, 1000}, {960, 240}, {240, 960}} {
		r := rand.New(rand.NewPCG(1, 2))
		p := &GemmF32Params{M: 1, K: sh.k, N: sh.n}
		a, w, bias := benchF32(r, sh.k, 1), benchF32(r, sh.n*sh.k, 0.1), benchF32(r, sh.n, 0.1)
		y := make([]float32, sh.n)
		copies := max(1, (64<<20)/(4*len(w)))
		for _, s := range benchSets(b) {
			pw := make([][]float32, copies)
			for i := range pw {
				pw[i] = s.PackGemmF32(w, sh.n, sh.k)
			}
			i := 0
			b.Run(fmt.Sprintf("%dx%d/%s", sh.k, sh.n, s.Name), func(b *testing.B) {
				loop(b, float64(p.MACs()), "GMAC/s", func() {
					s.GemmF32(p, a, pw[i%copies], bias, y, 0, 1)
					i++
				})
			})
		}
	}
}

// BenchmarkPointwiseColdF32 is BenchmarkPointwiseF32 for late layers with
// the weights cycling through 64 MB of copies (from DRAM, as in a model).
func BenchmarkPointwiseColdF32(b *testing.B) {
	for _, sh := range []struct{ hw, c, o int }{{7, 320, 1280}, {7, 960, 160}, {7, 160, 960}, {14, 576, 96}, {14, 672, 112}} {
		r := rand.New(rand.NewPCG(1, 2))
		pix := sh.hw * sh.hw
		p := &ConvF32Params{N: 1, H: sh.hw, W: sh.hw, C: sh.c, OH: sh.hw, OW: sh.hw, O: sh.o, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
			Act: Activation{Kind: ActReLU6}}
		x, w, bias := benchF32(r, pix*sh.c, 1), benchF32(r, sh.o*sh.c, 0.1), benchF32(r, sh.o, 0.1)
		y := make([]float32, pix*sh.o)
		copies := max(1, (64<<20)/(4*len(w)))
		for _, s := range benchSets(b) {
			if s.Name == "generic" {
				continue
			}
			pw := make([][]float32, copies)
			for i := range pw {
				pw[i] = s.PackPointwiseF32(w, sh.o, sh.c)
			}
			i := 0
			b.Run(fmt.Sprintf("%dx%dx%d-%d/%s", sh.hw, sh.hw, sh.c, sh.o, s.Name), func(b *testing.B) {
				loop(b, float64(pix*sh.c*sh.o), "GMAC/s", func() {
					s.PointwiseF32(p, x, pw[i%copies], bias, y, 0, pix)
					i++
				})
			})
		}
	}
}
