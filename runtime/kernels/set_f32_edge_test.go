package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Edge cases of the float32 kernels that set_f32_test.go's random sweeps
// reach rarely or not at all: every K, O and pixel count around the
// register tiles (and past the row chunks), every pad, stride and width of
// the depthwise windows (with infinite weights, so that a skipped
// outside tap shows as a missing NaN, and biases of -0, which an FMA of
// +0 turns into +0), IEEE special values through every activation, and
// the stem convolution's shape. Each Set must give the twins' bits.

// canonicalNaN is the one NaN the edge data holds: with a single payload,
// which operand's NaN an instruction propagates cannot change a result.
var canonicalNaN = math.Float32frombits(0x7fc0_0000)

// specialF32 returns n values drawn from IEEE special cases and values at
// the activations' boundaries.
func specialF32(r *rand.Rand, n int) []float32 {
	sp := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 3, -3, 6, -6, 0.5, 1e-45, -1e-45, 1e-39, -1e-39,
		float32(math.Inf(1)), float32(math.Inf(-1)), canonicalNaN, math.MaxFloat32, -math.MaxFloat32,
		math.Nextafter32(6, 7), math.Nextafter32(6, 5), math.Nextafter32(0, 1), math.Nextafter32(-3, -4), 2.5, -2.5}
	v := make([]float32, n)
	for i := range v {
		if r.IntN(3) == 0 {
			v[i] = float32(r.NormFloat64() * 4)
		} else {
			v[i] = sp[r.IntN(len(sp))]
		}
	}
	return v
}

// edgeActs is every activation kind, Clip with zero and signed-zero bounds.
func edgeActs() []Activation {
	return []Activation{{}, {Kind: ActReLU}, {Kind: ActReLU6}, {Kind: ActClip, Lo: -1, Hi: 2.5},
		{Kind: ActClip, Lo: float32(math.Copysign(0, -1)), Hi: 0}, {Kind: ActClip, Lo: 0, Hi: 0},
		{Kind: ActClip, Lo: float32(math.Inf(-1)), Hi: float32(math.Inf(1))},
		{Kind: ActHardSigmoid, Alpha: 1.0 / 6, Beta: 0.5}, {Kind: ActHardSigmoid, Alpha: 0.2, Beta: 0.5}, {Kind: ActHardSwish}}
}

// withInf sets about one value in every 1/frac to +-Inf.
func withInf(r *rand.Rand, v []float32, frac int) []float32 {
	for i := range v {
		if r.IntN(frac) == 0 {
			v[i] = float32(math.Inf(1 - 2*r.IntN(2)))
		}
	}
	return v
}

func TestSetF32EdgeGemm(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(71, 72))
	acts := edgeActs()
	run := func(pix, k, o int, x, w, bias []float32, act Activation) {
		want := make([]float32, pix*o)
		gp := &GemmF32Params{M: pix, K: k, N: o, Act: act}
		if err := gp.Validate(x, w, bias, want); err != nil {
			t.Fatal(err)
		}
		GemmF32(gp, x, w, bias, want, 0, pix)
		for _, s := range sets {
			name := fmt.Sprintf("%s gemm M=%d K=%d N=%d act=%+v", s.Name, pix, k, o, act)
			pw := s.PackGemmF32(w, o, k)
			gy := newGuardedF32(r, make([]float32, pix*o))
			gx := newGuardedF32(r, x) // x ends where its slice ends
			for _, sp := range splits(r, pix) {
				s.GemmF32(gp, gx.s(), pw, bias, gy.s(), sp[0], sp[1])
			}
			gy.check(t, name)
			sameBits(t, name, gy.s(), want)
		}
	}
	// Every K to 13 and past the tiles' four k, O to 20, pixels to 19.
	for k := 1; k <= 13; k++ {
		for o := 1; o <= 20; o++ {
			pix := 1 + r.IntN(19)
			run(pix, k, o, randF32(r, pix*k, 1), randF32(r, o*k, 0.5), randBiasF32(r, o), acts[r.IntN(len(acts))])
		}
	}
	// Every tile height and remainder.
	for pix := 1; pix <= 33; pix++ {
		run(pix, 5, 12, randF32(r, pix*5, 1), randF32(r, 60, 0.5), randBiasF32(r, 12), acts[r.IntN(len(acts))])
	}
	// Row chunks (the ARM64 GEMM's: 32768 / K rows) and the partial
	// blocks' 64-row scratch.
	for _, c := range [][3]int{{600, 64, 13}, {400, 96, 6}, {70, 130, 5}, {20, 2049, 9}, {9, 4100, 3}, {131, 1, 1}, {1, 1280, 1000}} {
		pix, k, o := c[0], c[1], c[2]
		run(pix, k, o, randF32(r, pix*k, 1), randF32(r, o*k, 1/math.Sqrt(float64(k))), randBiasF32(r, o), acts[r.IntN(len(acts))])
	}
	// Special values, one NaN payload; bias -0 with zero inputs.
	for _, act := range acts {
		for _, o := range []int{4, 7, 8, 13} {
			pix, k := 1+r.IntN(12), 1+r.IntN(9)
			x := specialF32(r, pix*k)
			w := specialF32(r, o*k)
			run(pix, k, o, x, w, specialF32(r, o), act)
			zb := make([]float32, o)
			for i := range zb {
				zb[i] = float32(math.Copysign(0, -1))
			}
			run(pix, k, o, make([]float32, pix*k), w, zb, act)
		}
	}
}

func TestSetF32EdgeDepthwise(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(73, 74))
	acts := edgeActs()
	trials := 0
	for _, k := range []int{3, 5} {
		for s := 1; s <= 3; s++ {
			for d := 1; d <= 2; d++ {
				for w := 1; w <= 18; w++ {
					c := []int{4, 5, 7, 8, 12, 13, 16, 17, 3}[r.IntN(9)]
					h := 1 + r.IntN(6)
					pt, pb := r.IntN(k), r.IntN(k)
					pl, pr := r.IntN(k), r.IntN(k)
					if r.IntN(3) == 0 { // the common pads
						pl, pr = k/2, k/2
					}
					oh := (h+pt+pb-d*(k-1)-1)/s + 1
					ow := (w+pl+pr-d*(k-1)-1)/s + 1
					if oh < 1 || ow < 1 {
						continue
					}
					p := &ConvF32Params{N: 1 + r.IntN(2), H: h, W: w, C: c, OH: oh, OW: ow, O: c, KH: k, KW: k, StrideH: s, StrideW: s,
						DilationH: d, DilationW: d, PadTop: pt, PadLeft: pl, Groups: c, Act: acts[r.IntN(len(acts))]}
					x := randF32(r, p.N*h*w*c, 1)
					wt := randF32(r, k*k*c, 0.3)
					if r.IntN(2) == 0 {
						wt = withInf(r, wt, 40)
					}
					bias := randBiasF32(r, c)
					if r.IntN(4) == 0 {
						bias = make([]float32, c)
						for i := range bias {
							bias[i] = float32(math.Copysign(0, -1))
						}
						clear(x)
					}
					want := make([]float32, p.N*oh*ow*c)
					if err := p.ValidateDepthwise(x, wt, bias, want); err != nil {
						t.Fatal(err)
					}
					DepthwiseF32(p, x, wt, bias, want, 0, p.Rows())
					trials++
					for _, st := range sets {
						name := fmt.Sprintf("%s depthwise %dx%d s%d d%d C=%d %dx%d pads %d,%d,%d,%d act=%+v", st.Name, k, k, s, d, c, h, w, pt, pl, pb, pr, p.Act)
						pw := st.PackDepthwiseF32(p, wt)
						gy := newGuardedF32(r, make([]float32, len(want)))
						gx := newGuardedF32(r, x)
						for _, sp := range splits(r, p.Rows()) {
							st.DepthwiseF32(p, gx.s(), pw, bias, gy.s(), sp[0], sp[1])
						}
						gy.check(t, name)
						sameBits(t, name, gy.s(), want)
					}
				}
			}
		}
	}
	t.Logf("%d depthwise shapes", trials)
}

func TestSetF32EdgeConv(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(75, 76))
	acts := edgeActs()
	for _, c := range []struct{ h, w, c, o, k, s, pt, pl, g int }{
		{31, 29, 3, 32, 3, 2, 0, 0, 1}, // the stem, TF "same" pads (bottom/right)
		{31, 29, 3, 32, 3, 2, 1, 1, 1}, // the stem, symmetric pads
		{17, 16, 3, 16, 3, 2, 1, 1, 1},
		{9, 9, 3, 13, 3, 1, 1, 1, 1},
		{6, 7, 5, 6, 5, 1, 2, 2, 1},
		{5, 5, 500, 8, 3, 1, 1, 1, 1}, // K = 4500: past the im2col scratch, the twin
		{6, 6, 8, 8, 3, 1, 1, 1, 2},   // grouped: the twin
	} {
		oh, ow := (c.h+2*c.pt-c.k)/c.s+1, (c.w+2*c.pl-c.k)/c.s+1
		if c.pt == 0 {
			oh, ow = (c.h+1-c.k)/c.s+1, (c.w+1-c.k)/c.s+1
		}
		p := &ConvF32Params{N: 1, H: c.h, W: c.w, C: c.c, OH: oh, OW: ow, O: c.o, KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s,
			PadTop: c.pt, PadLeft: c.pl, Groups: c.g, Act: acts[r.IntN(len(acts))]}
		x := randF32(r, c.h*c.w*c.c, 1)
		wt := withInf(r, randF32(r, c.o*c.k*c.k*c.c/c.g, 0.2), 200)
		bias := randBiasF32(r, c.o)
		want := make([]float32, oh*ow*c.o)
		if err := p.Validate(x, wt, bias, want); err != nil {
			t.Fatal(err)
		}
		ConvF32(p, x, wt, bias, want, 0, p.Rows())
		for _, st := range sets {
			name := fmt.Sprintf("%s conv %+v", st.Name, c)
			pw := st.PackConvF32(p, wt)
			gy := newGuardedF32(r, make([]float32, len(want)))
			for _, sp := range splits(r, p.Rows()) {
				st.ConvF32(p, x, pw, bias, gy.s(), sp[0], sp[1])
			}
			gy.check(t, name)
			sameBits(t, name, gy.s(), want)
		}
	}
}

func TestSetF32EdgeElementwise(t *testing.T) {
	sets := accelSets(t)
	r := rand.New(rand.NewPCG(77, 78))
	for _, act := range edgeActs() {
		for n := 0; n <= 40; n++ {
			a, b := specialF32(r, n), specialF32(r, n)
			wantA, wantM, wantAct := make([]float32, n), make([]float32, n), make([]float32, n)
			AddF32(act, a, b, wantA)
			MulF32(act, a, b, wantM)
			ActivateF32(act, a, wantAct)
			c, hw := 1+n, 1+r.IntN(4)
			x, g := specialF32(r, hw*c), specialF32(r, c)
			cp := &ChannelMulF32Params{N: 1, HW: hw, C: c, Act: act}
			wantC := make([]float32, hw*c)
			ChannelMulF32(cp, x, g, wantC, 0, hw)
			wantP := make([]float32, c)
			GlobalAveragePoolF32(1, hw, c, x, wantP)
			for _, s := range sets {
				name := fmt.Sprintf("%s n=%d act=%+v", s.Name, n, act)
				for _, k := range []struct {
					what string
					fn   func(y []float32)
					want []float32
				}{
					{"AddF32", func(y []float32) { s.AddF32(act, a, b, y) }, wantA},
					{"MulF32", func(y []float32) { s.MulF32(act, a, b, y) }, wantM},
					{"ActivateF32", func(y []float32) { s.ActivateF32(act, a, y) }, wantAct},
					{"ChannelMulF32", func(y []float32) {
						for _, sp := range splits(r, hw) {
							s.ChannelMulF32(cp, x, g, y, sp[0], sp[1])
						}
					}, wantC},
					{"GlobalAveragePoolF32", func(y []float32) { s.GlobalAveragePoolF32(1, hw, c, x, y) }, wantP},
				} {
					gy := newGuardedF32(r, make([]float32, len(k.want)))
					k.fn(gy.s())
					gy.check(t, name+" "+k.what)
					sameBits(t, name+" "+k.what, gy.s(), k.want)
				}
			}
		}
	}
}
