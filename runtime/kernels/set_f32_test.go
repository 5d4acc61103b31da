package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Every Set's float32 kernels must give exactly the bits of the generic
// twins (the float rule): the tests below run each available Set over
// swept shapes around the register tiles, every activation, biases with
// signed zeros, data with zeros, subnormals and large magnitudes, random
// row splits, guard values around every output and slices at odd offsets.

// guardedF32 is a float32 slice surrounded by guard values, starting at an
// odd offset.
type guardedF32 struct {
	buf    []float32
	lo, hi int
}

func guardBits(i int) uint32 { return 0x7fc0_0000 | uint32(0x5a^i) } // quiet NaNs with a payload

func newGuardedF32(r *rand.Rand, data []float32) *guardedF32 {
	off := 1 + 2*r.IntN(8)
	g := &guardedF32{buf: make([]float32, off+guardLen+len(data)+guardLen), lo: off + guardLen}
	g.hi = g.lo + len(data)
	for i := range g.buf {
		g.buf[i] = math.Float32frombits(guardBits(i))
	}
	copy(g.buf[g.lo:], data)
	return g
}

func (g *guardedF32) s() []float32 { return g.buf[g.lo:g.hi:g.hi] }

func (g *guardedF32) check(t testing.TB, what string) {
	t.Helper()
	for i := range g.buf {
		if (i < g.lo || i >= g.hi) && math.Float32bits(g.buf[i]) != guardBits(i) {
			t.Fatalf("%s: guard value %d (data [%d, %d)) overwritten", what, i, g.lo, g.hi)
		}
	}
}

// randF32 returns n values: mostly normal ones of magnitude about scale,
// some zeros of either sign, subnormals and large values.
func randF32(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch r.IntN(40) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = float32(math.Copysign(0, -1))
		case 2:
			v[i] = float32(r.NormFloat64() * 1e-39) // subnormal
		case 3:
			v[i] = float32(r.NormFloat64() * 1e4)
		default:
			v[i] = float32(r.NormFloat64() * scale)
		}
	}
	return v
}

// randBiasF32 is nil, or n values including signed zeros.
func randBiasF32(r *rand.Rand, n int) []float32 {
	if r.IntN(5) == 0 {
		return nil
	}
	return randF32(r, n, 0.5)
}

// randAct returns one of the activations, with parameters.
func randAct(r *rand.Rand) Activation {
	switch r.IntN(6) {
	case 1:
		return Activation{Kind: ActReLU}
	case 2:
		return Activation{Kind: ActReLU6}
	case 3:
		lo := float32(r.NormFloat64())
		return Activation{Kind: ActClip, Lo: lo, Hi: lo + float32(r.Float64()*3)}
	case 4:
		return Activation{Kind: ActHardSigmoid, Alpha: 1.0 / 6, Beta: 0.5}
	case 5:
		return Activation{Kind: ActHardSwish}
	}
	return Activation{}
}

// sameBits reports the first element where got and want differ in bits.
// sameBits requires the float rule's equality: identical bits, except that
// a NaN matches any NaN (the rule leaves a NaN's sign and payload open).
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if g != g && w != w {
			continue
		}
		if math.Float32bits(g) != math.Float32bits(w) {
			t.Fatalf("%s: element %d is %g (%#x), want %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

func TestSetPointwiseGemmF32(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(61, 62))
	for it := range 300 {
		k := []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 127, 160, 255, 320, 960}[r.IntN(21)]
		o := []int{1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 64, 65, 96, 100, 127, 128, 129, 160, 255, 300}[r.IntN(24)]
		pix := 1 + r.IntN(40)
		x, w := randF32(r, pix*k, 1), randF32(r, o*k, 1/math.Sqrt(float64(k)))
		bias := randBiasF32(r, o)
		p := &ConvF32Params{N: 1, H: 1, W: pix, C: k, OH: 1, OW: pix, O: o, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Act: randAct(r)}
		want := make([]float32, pix*o)
		if err := p.ValidatePointwise(x, w, bias, want); err != nil {
			t.Fatal(err)
		}
		PointwiseF32(p, x, w, bias, want, 0, pix)
		gp := &GemmF32Params{M: pix, K: k, N: o, Act: p.Act}
		for _, s := range sets {
			name := fmt.Sprintf("%s pointwise P=%d K=%d O=%d act=%d (trial %d)", s.Name, pix, k, o, p.Act.Kind, it)
			gy := newGuardedF32(r, make([]float32, pix*o))
			pw := s.PackPointwiseF32(w, o, k)
			for _, sp := range splits(r, pix) {
				s.PointwiseF32(p, x, pw, bias, gy.s(), sp[0], sp[1])
			}
			gy.check(t, name)
			sameBits(t, name, gy.s(), want)
			gy = newGuardedF32(r, make([]float32, pix*o))
			pg := s.PackGemmF32(w, o, k)
			for _, sp := range splits(r, pix) {
				s.GemmF32(gp, x, pg, bias, gy.s(), sp[0], sp[1])
			}
			gy.check(t, name+" as Gemm")
			sameBits(t, name+" as Gemm", gy.s(), want)
		}
	}
}

func TestSetDepthwiseF32(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(63, 64))
	for it := range 300 {
		kh := []int{3, 5, 1, 7}[r.IntN(4)]
		kw := kh
		if r.IntN(6) == 0 {
			kw = 1 + r.IntN(5)
		}
		s, d := 1+r.IntN(2), 1
		if r.IntN(5) == 0 {
			d = 2
		}
		c := []int{1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 64, 72, 96, 120, 144, 160, 240}[r.IntN(20)]
		h, w := 1+r.IntN(14), 1+r.IntN(14)
		pt, pl := r.IntN(kh), r.IntN(kw)
		pb, pr := r.IntN(kh), r.IntN(kw)
		oh := (h+pt+pb-d*(kh-1)-1)/s + 1
		ow := (w+pl+pr-d*(kw-1)-1)/s + 1
		if oh < 1 || ow < 1 {
			continue
		}
		p := &ConvF32Params{N: 1 + r.IntN(2), H: h, W: w, C: c, OH: oh, OW: ow, O: c, KH: kh, KW: kw, StrideH: s, StrideW: s,
			DilationH: d, DilationW: d, PadTop: pt, PadLeft: pl, Groups: c, Act: randAct(r)}
		x, wt, bias, want := convF32Case(t, r, p, 0.3, true)
		for _, st := range sets {
			name := fmt.Sprintf("%s depthwise %dx%d s%d d%d C=%d %dx%d pads %d,%d,%d,%d act=%d (trial %d)", st.Name, kh, kw, s, d, c, h, w, pt, pl, pb, pr, p.Act.Kind, it)
			gy := newGuardedF32(r, make([]float32, len(want)))
			pw := st.PackDepthwiseF32(p, wt)
			for _, sp := range splits(r, p.Rows()) {
				st.DepthwiseF32(p, x, pw, bias, gy.s(), sp[0], sp[1])
			}
			gy.check(t, name)
			sameBits(t, name, gy.s(), want)
		}
	}
}

// convF32Case makes random operands for a float32 convolution of p's shape
// (inputs in [-1, 1], weights in [-wscale, wscale], biases) and its
// reference output from the generic kernel (DepthwiseF32 for p with
// Groups = C = O, ConvF32 otherwise).
func convF32Case(t *testing.T, r *rand.Rand, p *ConvF32Params, wscale float64, depthwise bool) (x, wt, bias, want []float32) {
	t.Helper()
	x, wt = randF32(r, p.N*p.H*p.W*p.C, 1), randF32(r, p.O*p.KH*p.KW*(p.C/p.Groups), wscale)
	bias = randBiasF32(r, p.O)
	want = make([]float32, p.N*p.OH*p.OW*p.O)
	if depthwise {
		if err := p.ValidateDepthwise(x, wt, bias, want); err != nil {
			t.Fatal(err)
		}
		DepthwiseF32(p, x, wt, bias, want, 0, p.Rows())
		return
	}
	if err := p.Validate(x, wt, bias, want); err != nil {
		t.Fatal(err)
	}
	ConvF32(p, x, wt, bias, want, 0, p.Rows())
	return
}

func TestSetConvF32(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(65, 66))
	for it := range 150 {
		kh, kw := 1+r.IntN(3)*2, 1+r.IntN(3)*2
		g := 1
		c := []int{1, 3, 4, 8, 16, 17}[r.IntN(6)]
		o := []int{1, 8, 16, 24, 32, 33}[r.IntN(6)]
		if r.IntN(4) == 0 {
			g = 2
			c, o = 2*c, 2*o
		}
		s := 1 + r.IntN(2)
		h, w := 1+r.IntN(12), 1+r.IntN(12)
		pt, pl, pb, pr := r.IntN(kh), r.IntN(kw), r.IntN(kh), r.IntN(kw)
		oh, ow := (h+pt+pb-kh)/s+1, (w+pl+pr-kw)/s+1
		if oh < 1 || ow < 1 {
			continue
		}
		p := &ConvF32Params{N: 1 + r.IntN(2), H: h, W: w, C: c, OH: oh, OW: ow, O: o, KH: kh, KW: kw, StrideH: s, StrideW: s,
			PadTop: pt, PadLeft: pl, Groups: g, Act: randAct(r)}
		x, wt, bias, want := convF32Case(t, r, p, 0.2, false)
		for _, st := range sets {
			name := fmt.Sprintf("%s conv %dx%d s%d C=%d O=%d G=%d %dx%d act=%d (trial %d)", st.Name, kh, kw, s, c, o, g, h, w, p.Act.Kind, it)
			gy := newGuardedF32(r, make([]float32, len(want)))
			pw := st.PackConvF32(p, wt)
			for _, sp := range splits(r, p.Rows()) {
				st.ConvF32(p, x, pw, bias, gy.s(), sp[0], sp[1])
			}
			gy.check(t, name)
			sameBits(t, name, gy.s(), want)
		}
	}
}

func TestSetElementwiseF32(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(67, 68))
	for it := range 200 {
		n := []int{1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 1000}[r.IntN(17)]
		a, b := randF32(r, n, 4), randF32(r, n, 4)
		act := randAct(r)
		wantA, wantM, wantAct := make([]float32, n), make([]float32, n), make([]float32, n)
		AddF32(act, a, b, wantA)
		MulF32(act, a, b, wantM)
		ActivateF32(act, a, wantAct)
		hw, c := 1+r.IntN(30), []int{1, 8, 15, 16, 17, 64, 72, 120}[r.IntN(8)]
		nb := 1 + r.IntN(2)
		x, gate := randF32(r, nb*hw*c, 2), randF32(r, nb*c, 1)
		cp := &ChannelMulF32Params{N: nb, HW: hw, C: c, Act: randAct(r)}
		wantC := make([]float32, len(x))
		if err := cp.Validate(x, gate, wantC); err != nil {
			t.Fatal(err)
		}
		ChannelMulF32(cp, x, gate, wantC, 0, nb*hw)
		wantP := make([]float32, nb*c)
		GlobalAveragePoolF32(nb, hw, c, x, wantP)
		for _, s := range sets {
			name := fmt.Sprintf("%s n=%d act=%d (trial %d)", s.Name, n, act.Kind, it)
			for _, k := range []struct {
				what string
				fn   func(y []float32)
				want []float32
			}{
				{"AddF32", func(y []float32) { s.AddF32(act, a, b, y) }, wantA},
				{"MulF32", func(y []float32) { s.MulF32(act, a, b, y) }, wantM},
				{"ActivateF32", func(y []float32) { s.ActivateF32(act, a, y) }, wantAct},
				{"ChannelMulF32", func(y []float32) {
					for _, sp := range splits(r, nb*hw) {
						s.ChannelMulF32(cp, x, gate, y, sp[0], sp[1])
					}
				}, wantC},
				{"GlobalAveragePoolF32", func(y []float32) { s.GlobalAveragePoolF32(nb, hw, c, x, y) }, wantP},
			} {
				gy := newGuardedF32(r, make([]float32, len(k.want)))
				k.fn(gy.s())
				gy.check(t, name+" "+k.what)
				sameBits(t, name+" "+k.what, gy.s(), k.want)
			}
			// In place.
			y := append([]float32(nil), a...)
			s.ActivateF32(act, y, y)
			sameBits(t, name+" ActivateF32 in place", y, wantAct)
		}
	}
}

// TestSetFMA32Ties runs FMA32's hard cases (float64 sums on a float32 tie,
// subnormal results) through each Set's GEMM with K = 1: y = FMA32(x, w,
// bias), one fused operation.
func TestSetFMA32Ties(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(69, 70))
	const n = 4096
	x, w, bias := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		m := float32(1 + float64(r.IntN(1<<12))/(1<<12))
		x[i], w[i] = m*float32(math.Pow(2, float64(r.IntN(60)-30))), float32(1+float64(r.IntN(1<<12))/(1<<12))
		_, e := math.Frexp(float64(x[i]) * float64(w[i]))
		bias[i] = float32(math.Ldexp(float64(1-2*r.IntN(2)), e-40-r.IntN(20)))
		if i%7 == 0 {
			x[i], w[i] = float32(1+r.IntN(999))*0x1p-75, 0x1p-75 // subnormal products
		}
	}
	// One row per element: M = n, K = 1, N = 1 reads bias[0] only, so run
	// n one-output layers instead.
	for _, s := range sets {
		for i := range n {
			gp := &GemmF32Params{M: 1, K: 1, N: 1}
			var y [1]float32
			s.GemmF32(gp, x[i:i+1], s.PackGemmF32(w[i:i+1], 1, 1), bias[i:i+1], y[:], 0, 1)
			if want := FMA32(x[i], w[i], bias[i]); math.Float32bits(y[0]) != math.Float32bits(want) {
				t.Fatalf("%s: FMA of %g, %g, %g = %g, want %g", s.Name, x[i], w[i], bias[i], y[0], want)
			}
		}
	}
}
