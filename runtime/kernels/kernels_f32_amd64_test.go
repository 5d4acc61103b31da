//go:build !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestF32ArgsLayout checks the offsets asmgen_f32.go assumes.
func TestF32ArgsLayout(t *testing.T) {
	var g gemmF32Args
	var d dwF32Args
	var v actF32
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"gemm.seg", unsafe.Offsetof(g.seg), 0},
		{"gemm.nseg", unsafe.Offsetof(g.nseg), 128},
		{"gemm.seglen", unsafe.Offsetof(g.seglen), 136},
		{"gemm.xstride", unsafe.Offsetof(g.xstride), 144},
		{"gemm.w", unsafe.Offsetof(g.w), 152},
		{"gemm.npix", unsafe.Offsetof(g.npix), 160},
		{"gemm.y", unsafe.Offsetof(g.y), 168},
		{"gemm.ystride", unsafe.Offsetof(g.ystride), 176},
		{"gemm.bias", unsafe.Offsetof(g.bias), 184},
		{"gemm.mask", unsafe.Offsetof(g.mask), 192},
		{"gemm.act", unsafe.Offsetof(g.act), 200},
		{"gemm.mvec", unsafe.Offsetof(g.mvec), 208},
		{"gemm.pstride", unsafe.Offsetof(g.pstride), 240},
		{"gemm.pf", unsafe.Offsetof(g.pf), 248},
		{"gemm.pfEnd", unsafe.Offsetof(g.pfEnd), 256},
		{"dw.taps", unsafe.Offsetof(d.taps), 0},
		{"dw.valid", unsafe.Offsetof(d.valid), 200},
		{"dw.w", unsafe.Offsetof(d.w), 208},
		{"dw.bias", unsafe.Offsetof(d.bias), 216},
		{"dw.y", unsafe.Offsetof(d.y), 224},
		{"dw.xstep", unsafe.Offsetof(d.xstep), 232},
		{"dw.ystep", unsafe.Offsetof(d.ystep), 240},
		{"dw.npix", unsafe.Offsetof(d.npix), 248},
		{"dw.nvec", unsafe.Offsetof(d.nvec), 256},
		{"dw.mask", unsafe.Offsetof(d.mask), 264},
		{"dw.act", unsafe.Offsetof(d.act), 272},
		{"dw.nrows", unsafe.Offsetof(d.nrows), 280},
		{"dw.xrow", unsafe.Offsetof(d.xrow), 288},
		{"dw.yrow", unsafe.Offsetof(d.yrow), 296},
		{"dw scratch", unsafe.Sizeof(d), 328},
		{"act.lo", unsafe.Offsetof(v.lo), 0},
		{"act.hi", unsafe.Offsetof(v.hi), 64},
		{"act.a", unsafe.Offsetof(v.a), 128},
		{"act.b", unsafe.Offsetof(v.b), 192},
		{"act.c", unsafe.Offsetof(v.c), 256},
		{"act.kind", unsafe.Offsetof(v.kind), 320},
	} {
		if c.got != c.want {
			t.Errorf("%s at offset %d, asmgen_f32.go assumes %d", c.name, c.got, c.want)
		}
	}
}

// The edges of the x86 float32 kernels that set_f32_test.go's sweeps reach
// rarely or not at all: every GEMM block width and partial vector, row
// tiles and their remainders, K tails of the two-k unrolling, the GEMV
// path, conv segments, depthwise column groups, bands and partial vectors,
// HardSwish's division on special values, ranges starting mid-way, reads
// against inaccessible pages, and allocations.

func f32Sets(t *testing.T) []*Set {
	t.Helper()
	sets := accelSets(t)
	if len(sets) == 0 {
		t.Skip("no accelerated kernel set on this machine/build")
	}
	return sets
}

// rangesF32 returns [lo, hi) ranges covering [0, n): one, a split at a
// random point, or many.
func rangesF32(r *rand.Rand, n int) [][2]int {
	switch r.IntN(3) {
	case 0:
		return [][2]int{{0, n}}
	case 1:
		a := r.IntN(n + 1)
		return [][2]int{{a, n}, {0, a}}
	}
	return splits(r, n)
}

func TestF32GemmEdges(t *testing.T) {
	sets := f32Sets(t)
	r := rand.New(rand.NewPCG(71, 72))
	type shape struct{ o, k, pix int }
	var shapes []shape
	for o := 1; o <= 72; o++ {
		for _, k := range []int{1, 3, 17} {
			shapes = append(shapes, shape{o, k, []int{1, 2, 7, 14, 15, 29}[r.IntN(6)]})
		}
	}
	for _, o := range []int{96, 100, 127, 128, 129, 130, 160, 192, 255, 256, 257, 300} {
		for _, k := range []int{1, 2, 5, 64} {
			for _, pix := range []int{1, 2, 3, 13} {
				shapes = append(shapes, shape{o, k, pix})
			}
		}
	}
	for it, sh := range shapes {
		x := randF32(r, sh.pix*sh.k, 1)
		w := randF32(r, sh.o*sh.k, 0.5)
		bias := randBiasF32(r, sh.o)
		act := randAct(r)
		p := &ConvF32Params{N: 1, H: 1, W: sh.pix, C: sh.k, OH: 1, OW: sh.pix, O: sh.o, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Act: act}
		want := make([]float32, sh.pix*sh.o)
		PointwiseF32(p, x, w, bias, want, 0, sh.pix)
		gp := &GemmF32Params{M: sh.pix, K: sh.k, N: sh.o, Act: act}
		for _, s := range sets {
			name := fmt.Sprintf("%s P=%d K=%d O=%d act=%d bias=%v (case %d)", s.Name, sh.pix, sh.k, sh.o, act.Kind, bias != nil, it)
			xg := pageGuarded(t, x, it%2 == 0)
			pw := pageGuarded(t, s.PackPointwiseF32(w, sh.o, sh.k), it%3 == 0)
			gy := newGuardedF32(r, make([]float32, len(want)))
			for _, rg := range rangesF32(r, sh.pix) {
				if it%2 == 0 {
					s.PointwiseF32(p, xg, pw, bias, gy.s(), rg[0], rg[1])
				} else {
					s.GemmF32(gp, xg, pw, bias, gy.s(), rg[0], rg[1])
				}
			}
			gy.check(t, name)
			sameBits(t, name, gy.s(), want)
		}
	}
}

func TestF32ConvEdges(t *testing.T) {
	sets := f32Sets(t)
	r := rand.New(rand.NewPCG(73, 74))
	for it := range 160 {
		k := []int{3, 3, 3, 1, 5, 7}[r.IntN(6)]
		kw := k
		c := []int{3, 3, 1, 4, 8, 16}[r.IntN(6)]
		o := []int{8, 16, 24, 32, 40, 48, 64, 72, 5, 17}[r.IntN(10)]
		s := 1 + r.IntN(2)
		dh, dw := 1, 1
		switch r.IntN(10) {
		case 0:
			dh = 2
		case 1:
			dw = 2 // one segment per tap
		case 2:
			c, k, kw = 48, 7, 7 // KH*KW*C = 2352 > im2colF32Len, 49 taps > maxSegF32: the twin
		case 3:
			c, k, kw = 260, 3, 3 // 2340 > im2colF32Len: one segment per tap (DeepLabV3's 3x3 head)
		case 4:
			// DeepLabV3's ASPP branches: dilated 3x3, many taps outside
			c, k, kw, dh, dw = 24+r.IntN(3)*40, 3, 3, 1+r.IntN(13), 1+r.IntN(13)
		}
		h, w := 1+r.IntN(33), 1+r.IntN(33)
		if c >= 48 {
			h, w, o = 1+r.IntN(9), 1+r.IntN(9), []int{8, 17, 64, 72}[r.IntN(4)]
		}
		pt, pl := r.IntN(k), r.IntN(kw)
		pb, pr := r.IntN(k), r.IntN(kw)
		oh := (h+pt+pb-dh*(k-1)-1)/s + 1
		ow := (w+pl+pr-dw*(kw-1)-1)/s + 1
		if oh < 1 || ow < 1 {
			continue
		}
		p := &ConvF32Params{N: 1 + r.IntN(2), H: h, W: w, C: c, OH: oh, OW: ow, O: o, KH: k, KW: kw, StrideH: s, StrideW: s,
			DilationH: dh, DilationW: dw, PadTop: pt, PadLeft: pl, Act: randAct(r)}
		x, wt := randF32(r, p.N*h*w*c, 1), randF32(r, o*k*kw*c, 0.2)
		bias := randBiasF32(r, o)
		want := make([]float32, p.N*oh*ow*o)
		if err := p.Validate(x, wt, bias, want); err != nil {
			t.Fatal(err)
		}
		ConvF32(p, x, wt, bias, want, 0, p.Rows())
		for _, st := range sets {
			name := fmt.Sprintf("%s conv %dx%d s%d d%d,%d C=%d O=%d %dx%d pads %d,%d,%d,%d act=%d (trial %d)",
				st.Name, k, kw, s, dh, dw, c, o, h, w, pt, pl, pb, pr, p.Act.Kind, it)
			xg := pageGuarded(t, x, it%2 == 0)
			pw := st.PackConvF32(p, wt)
			gy := newGuardedF32(r, make([]float32, len(want)))
			for _, rg := range rangesF32(r, p.Rows()) {
				st.ConvF32(p, xg, pw, bias, gy.s(), rg[0], rg[1])
			}
			gy.check(t, name)
			sameBits(t, name, gy.s(), want)
		}
	}
}

func TestF32DepthwiseEdges(t *testing.T) {
	sets := f32Sets(t)
	r := rand.New(rand.NewPCG(75, 76))
	for it := range 400 {
		k := []int{3, 5}[r.IntN(2)]
		s, d := 1+r.IntN(2), 1
		if r.IntN(4) == 0 {
			d = 2
		}
		c := []int{8, 16, 24, 32, 40, 48, 72, 120, 3, 17, 100}[r.IntN(11)]
		w := []int{1, 2, 5, 12, 13, 14, 15, 16, 26, 27, 28, 40}[r.IntN(12)]
		h := []int{1, 3, 9, 30}[r.IntN(4)]
		if it%25 == 0 {
			h, w, c = 70, 40, 72 // rows of 11.5 KB: bands of dwF32BandBytes
		}
		pt, pl, pb, pr := r.IntN(k), r.IntN(k), r.IntN(k), r.IntN(k)
		oh := (h+pt+pb-d*(k-1)-1)/s + 1
		ow := (w+pl+pr-d*(k-1)-1)/s + 1
		if oh < 1 || ow < 1 {
			continue
		}
		p := &ConvF32Params{N: 1 + r.IntN(2), H: h, W: w, C: c, OH: oh, OW: ow, O: c, KH: k, KW: k, StrideH: s, StrideW: s,
			DilationH: d, DilationW: d, PadTop: pt, PadLeft: pl, Groups: c, Act: randAct(r)}
		x, wt, bias, want := convF32Case(t, r, p, 0.3, true)
		for _, st := range sets {
			name := fmt.Sprintf("%s depthwise %dx%d s%d d%d C=%d N=%d %dx%d pads %d,%d,%d,%d act=%d (trial %d)",
				st.Name, k, k, s, d, c, p.N, h, w, pt, pl, pb, pr, p.Act.Kind, it)
			xg := pageGuarded(t, x, it%2 == 0)
			pw := pageGuarded(t, st.PackDepthwiseF32(p, wt), it%3 == 0)
			gy := newGuardedF32(r, make([]float32, len(want)))
			for _, rg := range rangesF32(r, p.Rows()) {
				st.DepthwiseF32(p, xg, pw, bias, gy.s(), rg[0], rg[1])
			}
			gy.check(t, name)
			sameBits(t, name, gy.s(), want)
		}
	}
}

// hardSwishInputs are values whose HardSwish takes every path of the
// AVX-512 division: signed zeros, subnormal and tiny products (subnormal
// quotients, ties among them), the clip bounds, huge values, infinities and
// NaNs, then random bit patterns.
func hardSwishInputs(r *rand.Rand, n int) []float32 {
	v := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 3, -3, 2.9999998, -2.9999998, 3.0000002, -3.0000002, 6, -6,
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.Float32frombits(0x7fc12345), math.Float32frombits(0xffc00001),
		0x1p-126, -0x1p-126, 0x1p-125, 0x1.8p-124, 0x1p-120, 1e-30, -1e-30, 1e30, -1e30, 5.7e37, -5.7e37}
	for i := 1; i < 64; i++ {
		v = append(v, math.Float32frombits(uint32(i)), math.Float32frombits(0x80000000|uint32(i)), math.Float32frombits(0x00800000-uint32(i)))
	}
	for len(v) < n {
		v = append(v, math.Float32frombits(r.Uint32()))
	}
	return v
}

func TestF32HardSwishValues(t *testing.T) {
	sets := f32Sets(t)
	r := rand.New(rand.NewPCG(77, 78))
	x := hardSwishInputs(r, 1<<20)
	act := Activation{Kind: ActHardSwish}
	want := make([]float32, len(x))
	ActivateF32(act, x, want)
	ones := make([]float32, 64)
	for i := range ones {
		ones[i] = 1
	}
	for _, s := range sets {
		for _, n := range []int{len(x), 1000, 17, 5} {
			y := make([]float32, n)
			s.ActivateF32(act, x[:n], y)
			sameBits(t, s.Name+" ActivateF32 HardSwish", y, want[:n])
		}
		// Fused: a GEMM with K = 1 and weight 1 computes FMA32(x, 1, +0),
		// the depthwise 1-channel-per-lane product likewise.
		const o = 64
		m := 4096
		xs := x[:m]
		p := &ConvF32Params{N: 1, H: 1, W: m, C: 1, OH: 1, OW: m, O: o, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Act: act}
		wantG := make([]float32, m*o)
		PointwiseF32(p, xs, ones, nil, wantG, 0, m)
		y := make([]float32, m*o)
		s.PointwiseF32(p, xs, s.PackPointwiseF32(ones, o, 1), nil, y, 0, m)
		sameBits(t, s.Name+" PointwiseF32 HardSwish", y, wantG)
		cp := &ChannelMulF32Params{N: 1, HW: m / o, C: o, Act: act}
		wantC := make([]float32, m)
		ChannelMulF32(cp, xs, ones, wantC, 0, m/o)
		y = make([]float32, m)
		s.ChannelMulF32(cp, xs, ones, y, 0, m/o)
		sameBits(t, s.Name+" ChannelMulF32 HardSwish", y, wantC)
		wantA := make([]float32, m)
		AddF32(act, xs, x[2*m:3*m], wantA)
		s.AddF32(act, xs, x[2*m:3*m], y)
		sameBits(t, s.Name+" AddF32 HardSwish", y, wantA)
	}
}

func TestF32ElementwiseEdges(t *testing.T) {
	sets := f32Sets(t)
	r := rand.New(rand.NewPCG(79, 80))
	for n := 0; n <= 140; n++ {
		a, b := randF32(r, n, 4), randF32(r, n, 4)
		act := randAct(r)
		wa, wm, wv := make([]float32, n), make([]float32, n), make([]float32, n)
		AddF32(act, a, b, wa)
		MulF32(act, a, b, wm)
		ActivateF32(act, a, wv)
		for _, s := range sets {
			name := fmt.Sprintf("%s n=%d act=%d", s.Name, n, act.Kind)
			ag, bg := pageGuarded(t, append(a, 0)[:n:n], n%2 == 0), pageGuarded(t, append(b, 0)[:n:n], n%2 == 1)
			for _, k := range []struct {
				what string
				fn   func(y []float32)
				want []float32
			}{
				{"AddF32", func(y []float32) { s.AddF32(act, ag, bg, y) }, wa},
				{"MulF32", func(y []float32) { s.MulF32(act, ag, bg, y) }, wm},
				{"ActivateF32", func(y []float32) { s.ActivateF32(act, ag, y) }, wv},
			} {
				gy := newGuardedF32(r, make([]float32, n))
				k.fn(gy.s())
				gy.check(t, name+" "+k.what)
				sameBits(t, name+" "+k.what, gy.s(), k.want)
			}
		}
	}
	for it := range 120 {
		c := 1 + r.IntN(70)
		if it%10 == 0 {
			c = []int{72, 120, 960, 16, 8}[it/10%5]
		}
		hw, nb := 1+r.IntN(20), 1+r.IntN(2)
		x, g := randF32(r, nb*hw*c, 2), randF32(r, nb*c, 1)
		cp := &ChannelMulF32Params{N: nb, HW: hw, C: c, Act: randAct(r)}
		wantC := make([]float32, len(x))
		ChannelMulF32(cp, x, g, wantC, 0, nb*hw)
		wantP := make([]float32, nb*c)
		GlobalAveragePoolF32(nb, hw, c, x, wantP)
		for _, s := range sets {
			name := fmt.Sprintf("%s N=%d HW=%d C=%d (trial %d)", s.Name, nb, hw, c, it)
			xg, gg := pageGuarded(t, x, it%2 == 0), pageGuarded(t, g, it%2 == 1)
			gy := newGuardedF32(r, make([]float32, len(x)))
			for _, rg := range rangesF32(r, nb*hw) {
				s.ChannelMulF32(cp, xg, gg, gy.s(), rg[0], rg[1])
			}
			gy.check(t, name+" ChannelMulF32")
			sameBits(t, name+" ChannelMulF32", gy.s(), wantC)
			gy = newGuardedF32(r, make([]float32, nb*c))
			s.GlobalAveragePoolF32(nb, hw, c, xg, gy.s())
			gy.check(t, name+" GlobalAveragePoolF32")
			sameBits(t, name+" GlobalAveragePoolF32", gy.s(), wantP)
		}
	}
}

// TestF32NoAllocs checks that no float32 kernel of the x86 Sets allocates.
func TestF32NoAllocs(t *testing.T) {
	sets := f32Sets(t)
	r := rand.New(rand.NewPCG(81, 82))
	pw := &ConvF32Params{N: 1, H: 7, W: 7, C: 40, OH: 7, OW: 7, O: 72, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Act: Activation{Kind: ActHardSwish}}
	dw := &ConvF32Params{N: 1, H: 9, W: 20, C: 72, OH: 9, OW: 20, O: 72, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, Groups: 72, Act: Activation{Kind: ActReLU6}}
	cv := &ConvF32Params{N: 1, H: 16, W: 16, C: 3, OH: 8, OW: 8, O: 24, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, Act: Activation{Kind: ActReLU}}
	gp := &GemmF32Params{M: 1, K: 64, N: 200}
	cm := &ChannelMulF32Params{N: 1, HW: 49, C: 72}
	x := randF32(r, 1<<14, 1)
	y := make([]float32, 1<<14)
	wt := randF32(r, 1<<14, 0.1)
	bias := randF32(r, 256, 0.1)
	for _, s := range sets {
		ppw, pdw, pcv, pg := s.PackPointwiseF32(wt[:72*40], 72, 40), s.PackDepthwiseF32(dw, wt[:9*72]), s.PackConvF32(cv, wt[:24*27]), s.PackGemmF32(wt[:200*64], 200, 64)
		for _, k := range []struct {
			what string
			fn   func()
		}{
			{"PointwiseF32", func() { s.PointwiseF32(pw, x, ppw, bias[:72], y, 0, 49) }},
			{"DepthwiseF32", func() { s.DepthwiseF32(dw, x, pdw, bias[:72], y, 0, 9) }},
			{"ConvF32", func() { s.ConvF32(cv, x, pcv, bias[:24], y, 0, 8) }},
			{"GemmF32", func() { s.GemmF32(gp, x, pg, bias[:200], y, 0, 1) }},
			{"AddF32", func() { s.AddF32(Activation{Kind: ActHardSwish}, x[:1000], x[1000:2000], y[:1000]) }},
			{"MulF32", func() { s.MulF32(Activation{}, x[:1000], x[1000:2000], y[:1000]) }},
			{"ActivateF32", func() { s.ActivateF32(Activation{Kind: ActClip, Lo: -1, Hi: 1}, x[:1000], y[:1000]) }},
			{"ChannelMulF32", func() { s.ChannelMulF32(cm, x, bias[:72], y, 0, 49) }},
			{"GlobalAveragePoolF32", func() { s.GlobalAveragePoolF32(1, 49, 72, x, y) }},
		} {
			if n := testing.AllocsPerRun(20, k.fn); n != 0 {
				t.Errorf("%s %s: %v allocations per run", s.Name, k.what, n)
			}
		}
	}
}

// TestF32ShortSlicesPanic checks that the drivers refuse slices shorter
// than their parameters instead of letting the assembly touch memory
// outside them.
func TestF32ShortSlicesPanic(t *testing.T) {
	sets := f32Sets(t)
	pw := &ConvF32Params{N: 1, H: 4, W: 4, C: 8, OH: 4, OW: 4, O: 16, KH: 1, KW: 1, StrideH: 1, StrideW: 1}
	dw := &ConvF32Params{N: 1, H: 4, W: 4, C: 16, OH: 4, OW: 4, O: 16, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, Groups: 16}
	cv := &ConvF32Params{N: 1, H: 8, W: 8, C: 3, OH: 4, OW: 4, O: 16, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1}
	cm := &ChannelMulF32Params{N: 1, HW: 16, C: 16}
	big := make([]float32, 4096)
	for _, s := range sets {
		ppw, pdw, pcv := s.PackPointwiseF32(big[:128], 16, 8), s.PackDepthwiseF32(dw, big[:144]), s.PackConvF32(cv, big[:16*27])
		for _, k := range []struct {
			what string
			fn   func()
		}{
			{"PointwiseF32 y", func() { s.PointwiseF32(pw, big, ppw, nil, big[:16*16-1], 0, 16) }},
			{"PointwiseF32 x", func() { s.PointwiseF32(pw, big[:16*8-1], ppw, nil, big, 0, 16) }},
			{"PointwiseF32 w", func() { s.PointwiseF32(pw, big, ppw[:len(ppw)-1], nil, big, 0, 16) }},
			{"PointwiseF32 bias", func() { s.PointwiseF32(pw, big, ppw, big[:15], big, 0, 16) }},
			{"DepthwiseF32 y", func() { s.DepthwiseF32(dw, big, pdw, nil, big[:16*16-1], 0, 4) }},
			{"DepthwiseF32 range", func() { s.DepthwiseF32(dw, big, pdw, nil, big, 0, 5) }},
			{"ConvF32 x", func() { s.ConvF32(cv, big[:8*8*3-1], pcv, nil, big, 0, 4) }},
			{"ChannelMulF32 y", func() { s.ChannelMulF32(cm, big, big, big[:255], 0, 16) }},
			{"GlobalAveragePoolF32 x", func() { s.GlobalAveragePoolF32(1, 16, 16, big[:255], big) }},
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s %s: no panic", s.Name, k.what)
					}
				}()
				k.fn()
			}()
		}
	}
}
