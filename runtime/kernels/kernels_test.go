package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func randI8(r *rand.Rand, n int, lo, hi int) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = int8(lo + r.IntN(hi-lo+1))
	}
	return s
}

func randMults(t *testing.T, r *rand.Rand, n int, lo, hi float64) ([]Multiplier, []float64) {
	t.Helper()
	ms := make([]Multiplier, n)
	reals := make([]float64, n)
	for i := range ms {
		reals[i] = lo * math.Pow(hi/lo, r.Float64())
		m, err := NewMultiplier(reals[i])
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = m
	}
	return ms, reals
}

// refConv is the straightforward int64 evaluation over an explicitly padded
// NCHW copy of the input (padding = the zero point), with OIHW weights.
func refConvAcc(p *ConvParams, x, wOHWI []int8, bias []int32) []int64 {
	g := p.groups()
	cpg, opg := p.C/g, p.O/g
	dh, dw := p.dil()
	// Pad generously with the zero point.
	ph, pw := p.H+2*(p.PadTop+p.KH*dh+p.OH*p.StrideH), p.W+2*(p.PadLeft+p.KW*dw+p.OW*p.StrideW)
	padded := make([]int64, p.N*p.C*ph*pw)
	for i := range padded {
		padded[i] = int64(p.XZero)
	}
	for n := range p.N {
		for y := range p.H {
			for x0 := range p.W {
				for c := range p.C {
					padded[((n*p.C+c)*ph+y+p.PadTop)*pw+x0+p.PadLeft] = int64(x[((n*p.H+y)*p.W+x0)*p.C+c])
				}
			}
		}
	}
	acc := make([]int64, p.N*p.OH*p.OW*p.O)
	for n := range p.N {
		for o := range p.O {
			for oy := range p.OH {
				for ox := range p.OW {
					var s int64
					if bias != nil {
						s = int64(bias[o])
					}
					for ci := range cpg {
						c := (o/opg)*cpg + ci
						for kh := range p.KH {
							for kw := range p.KW {
								xv := padded[((n*p.C+c)*ph+oy*p.StrideH+kh*dh)*pw+ox*p.StrideW+kw*dw]
								wv := int64(wOHWI[((o*p.KH+kh)*p.KW+kw)*cpg+ci])
								s += (xv - int64(p.XZero)) * wv
							}
						}
					}
					acc[((n*p.OH+oy)*p.OW+ox)*p.O+o] = s
				}
			}
		}
	}
	return acc
}

func checkAgainstRef(t *testing.T, what string, y []int8, acc []int64, mult []Multiplier, reals []float64, zero int32, out Range) {
	t.Helper()
	nc := len(mult)
	for i, a := range acc {
		if a > math.MaxInt32 || a < math.MinInt32 {
			t.Fatalf("%s: reference accumulator %d overflows int32", what, a)
		}
		want := refRequantize(int32(a), mult[i%nc], zero, out.Lo, out.Hi)
		if y[i] != want {
			t.Fatalf("%s: element %d = %d, want %d (acc %d)", what, i, y[i], want, a)
		}
		// And within one code of the float64 evaluation.
		f := math.Max(float64(out.Lo), math.Min(float64(out.Hi), math.Round(float64(a)*reals[i%nc])+float64(zero)))
		if math.Abs(float64(y[i])-f) > 1 {
			t.Fatalf("%s: element %d = %d, float evaluation %g", what, i, y[i], f)
		}
	}
}

type convCase struct {
	name                           string
	n, h, w, c, o, kh, kw, sh, sw  int
	dh, dw, pt, pl, pb, pr, groups int
}

func (cc convCase) params() *ConvParams {
	dh, dw := max(cc.dh, 1), max(cc.dw, 1)
	oh := (cc.h+cc.pt+cc.pb-dh*(cc.kh-1)-1)/cc.sh + 1
	ow := (cc.w+cc.pl+cc.pr-dw*(cc.kw-1)-1)/cc.sw + 1
	return &ConvParams{N: cc.n, H: cc.h, W: cc.w, C: cc.c, OH: oh, OW: ow, O: cc.o, KH: cc.kh, KW: cc.kw,
		StrideH: cc.sh, StrideW: cc.sw, DilationH: cc.dh, DilationW: cc.dw, PadTop: cc.pt, PadLeft: cc.pl, Groups: cc.groups}
}

var convCases = []convCase{
	{"stem 3x3/2 asym pad", 2, 9, 8, 3, 5, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1},
	{"3x3/1 pad1", 1, 6, 7, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
	{"grouped", 1, 5, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},
	{"dilated 5x3", 1, 9, 9, 2, 3, 5, 3, 1, 2, 2, 1, 4, 1, 4, 1, 1},
	{"depthwise 3x3/2", 2, 8, 8, 7, 7, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 7},
	{"depthwise 5x5/1", 1, 7, 6, 5, 5, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 5},
	{"depthwise mult 2", 1, 6, 6, 3, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},
	{"pointwise", 2, 4, 5, 13, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
	{"1x1 stride 2", 1, 6, 6, 4, 5, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},
	{"window bigger than input", 1, 2, 2, 2, 2, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 1},
}

func TestConvKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, cc := range convCases {
		for _, zx := range []int32{-128, 0, 37, 127} {
			p := cc.params()
			p.XZero = zx
			p.YZero = int32(r.IntN(256) - 128)
			p.Out = Range{int8(-128 + r.IntN(20)), int8(127 - r.IntN(20))}
			var reals []float64
			p.Mult, reals = randMults(t, r, p.O, 1e-4, 0.05)
			cpg := p.C / p.groups()
			x := randI8(r, p.N*p.H*p.W*p.C, -128, 127)
			w := randI8(r, p.O*p.KH*p.KW*cpg, -127, 127)
			bias := make([]int32, p.O)
			for i := range bias {
				bias[i] = int32(r.IntN(40001) - 20000)
			}
			y := make([]int8, p.N*p.OH*p.OW*p.O)
			if err := p.Validate(x, w, bias, y); err != nil {
				t.Fatalf("%s: %v", cc.name, err)
			}
			Conv(p, x, w, bias, y, 0, p.Rows())
			acc := refConvAcc(p, x, w, bias)
			checkAgainstRef(t, cc.name+" Conv", y, acc, p.Mult, reals, p.YZero, p.Out)

			// Any split of the rows gives the same bytes.
			y2 := make([]int8, len(y))
			for lo := 0; lo < p.Rows(); lo += 3 {
				Conv(p, x, w, bias, y2, lo, min(lo+3, p.Rows()))
			}
			if !slices.Equal(y, y2) {
				t.Fatalf("%s: split rows differ", cc.name)
			}
			// Without bias.
			Conv(p, x, w, nil, y2, 0, p.Rows())
			checkAgainstRef(t, cc.name+" Conv nobias", y2, refConvAcc(p, x, w, nil), p.Mult, reals, p.YZero, p.Out)

			if p.groups() == p.C {
				// Depthwise weights [KH][KW][O] from [O][KH][KW][1].
				wd := make([]int8, len(w))
				for o := range p.O {
					for k := range p.KH * p.KW {
						wd[k*p.O+o] = w[o*p.KH*p.KW+k]
					}
				}
				if err := p.ValidateDepthwise(x, wd, bias, y2); err != nil {
					t.Fatalf("%s: %v", cc.name, err)
				}
				clear(y2)
				for lo := 0; lo < p.Rows(); lo += 2 {
					Depthwise(p, x, wd, bias, y2, lo, min(lo+2, p.Rows()))
				}
				if !slices.Equal(y, y2) {
					t.Fatalf("%s: Depthwise differs from Conv", cc.name)
				}
			}
			if p.ValidatePointwise(x, w, bias, y2) == nil {
				clear(y2)
				Pointwise(p, x, w, bias, y2, 0, 3)
				Pointwise(p, x, w, bias, y2, 3, p.Pixels())
				if !slices.Equal(y, y2) {
					t.Fatalf("%s: Pointwise differs from Conv", cc.name)
				}
			}
		}
	}
}

func TestConvValidate(t *testing.T) {
	good := func() (*ConvParams, []int8, []int8, []int32, []int8) {
		p := convCases[1].params()
		p.Mult = make([]Multiplier, p.O)
		for i := range p.Mult {
			p.Mult[i] = Multiplier{M: 1 << 30, S: 40}
		}
		p.Out = Full
		return p, make([]int8, p.N*p.H*p.W*p.C), make([]int8, p.O*p.KH*p.KW*p.C), make([]int32, p.O), make([]int8, p.N*p.OH*p.OW*p.O)
	}
	p, x, w, b, y := good()
	if err := p.Validate(x, w, b, y); err != nil {
		t.Fatal(err)
	}
	breaks := map[string]func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8){
		"short input":  func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { *x = (*x)[1:] },
		"short weight": func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { *w = (*w)[1:] },
		"short bias":   func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { *b = (*b)[1:] },
		"long output":  func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { *y = append(*y, 0) },
		"zero dim":     func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { p.KH = 0 },
		"groups":       func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { p.Groups = 3 },
		"zero point":   func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { p.XZero = 128 },
		"out range":    func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { p.Out = Range{5, 4} },
		"multipliers":  func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { p.Mult = p.Mult[1:] },
		"bad mult":     func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { p.Mult[0].S = 0 },
		"huge bias":    func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { (*b)[0] = math.MaxInt32 - 10 },
		"negative pad": func(p *ConvParams, x, w *[]int8, b *[]int32, y *[]int8) { p.PadTop = -1 },
	}
	for name, br := range breaks {
		p, x, w, b, y := good()
		br(p, &x, &w, &b, &y)
		if err := p.Validate(x, w, b, y); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (*ConvParams)(nil).Validate(nil, nil, nil, nil); err == nil {
		t.Error("nil accepted")
	}
	p, x, w, b, y = good()
	if err := p.ValidateDepthwise(x, w, b, y); err == nil {
		t.Error("ValidateDepthwise accepted a dense conv")
	}
	if err := p.ValidatePointwise(x, w, b, y); err == nil {
		t.Error("ValidatePointwise accepted a 3x3 conv")
	}
}

func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, dims := range [][3]int{{1, 1280, 1001}, {3, 17, 5}, {2, 1, 1}} {
		p := &GemmParams{M: dims[0], K: dims[1], N: dims[2], AZero: int32(r.IntN(256) - 128), YZero: int32(r.IntN(256) - 128), Out: Full}
		var reals []float64
		p.Mult, reals = randMults(t, r, p.N, 1e-5, 1e-2)
		a := randI8(r, p.M*p.K, -128, 127)
		w := randI8(r, p.N*p.K, -127, 127)
		bias := make([]int32, p.N)
		for i := range bias {
			bias[i] = int32(r.IntN(200001) - 100000)
		}
		y := make([]int8, p.M*p.N)
		if err := p.Validate(a, w, bias, y); err != nil {
			t.Fatal(err)
		}
		Gemm(p, a, w, bias, y, 0, p.M)
		acc := make([]int64, p.M*p.N)
		for m := range p.M {
			for n := range p.N {
				s := int64(bias[n])
				for k := range p.K {
					s += (int64(a[m*p.K+k]) - int64(p.AZero)) * int64(w[n*p.K+k])
				}
				acc[m*p.N+n] = s
			}
		}
		checkAgainstRef(t, "gemm", y, acc, p.Mult, reals, p.YZero, p.Out)
	}
	p := &GemmParams{M: 1, K: 70000, N: 1, Mult: []Multiplier{{1 << 30, 40}}, Out: Full}
	if err := p.Validate(make([]int8, 70000), make([]int8, 70000), nil, make([]int8, 1)); err == nil {
		t.Error("overflowing gemm accepted")
	}
}

func TestAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for range 50 {
		sa, sb, sy := 0.01+r.Float64(), 0.01+r.Float64(), 0.02+r.Float64()
		if r.IntN(4) == 0 {
			sa *= 100 // extreme scale ratios
		}
		za, zb, zy := int32(r.IntN(256)-128), int32(r.IntN(256)-128), int32(r.IntN(256)-128)
		out := Range{int8(-128 + r.IntN(10)), int8(127 - r.IntN(10))}
		p, err := NewAddParams(sa, sb, sy, za, zb, zy, out)
		if err != nil {
			t.Fatal(err)
		}
		n := 1000
		a, b, y := randI8(r, n, -128, 127), randI8(r, n, -128, 127), make([]int8, n)
		if err := p.Validate(a, b, y); err != nil {
			t.Fatal(err)
		}
		Add(&p, a, b, y)
		for i := range y {
			real := (float64(a[i])-float64(za))*sa/sy + (float64(b[i])-float64(zb))*sb/sy
			f := math.Max(float64(out.Lo), math.Min(float64(out.Hi), math.Floor(real+0.5)+float64(zy)))
			if math.Abs(float64(y[i])-f) > 1 {
				t.Fatalf("add: %d vs float %g", y[i], f)
			}
		}
	}
	p := AddParams{Out: Full, S: 10}
	if err := p.Validate(make([]int8, 3), make([]int8, 2), make([]int8, 3)); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := NewAddParams(1, 1, 0, 0, 0, 0, Full); err == nil {
		t.Error("zero output scale accepted")
	}
}

func TestPoolMulLUT(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	n, hw, c := 2, 49, 11
	sx, sy := 0.05, 0.02
	m, _ := NewMultiplier(sx / (float64(hw) * sy))
	p := PoolParams{N: n, HW: hw, C: c, XZero: -7, YZero: 3, Mult: m, Out: Full}
	x := randI8(r, n*hw*c, -128, 127)
	y := make([]int8, n*c)
	if err := p.Validate(x, y); err != nil {
		t.Fatal(err)
	}
	GlobalAveragePool(&p, x, y)
	for i := range n {
		for ch := range c {
			var s int64
			for k := range hw {
				s += int64(x[(i*hw+k)*c+ch]) - int64(p.XZero)
			}
			want := refRequantize(int32(s), m, p.YZero, -128, 127)
			if y[i*c+ch] != want {
				t.Fatalf("pool: %d want %d", y[i*c+ch], want)
			}
			f := math.Round(float64(s)*sx/float64(hw)/sy) + 3
			if math.Abs(float64(y[i*c+ch])-math.Max(-128, math.Min(127, f))) > 1 {
				t.Fatalf("pool: %d vs float %g", y[i*c+ch], f)
			}
		}
	}
	if err := (&PoolParams{N: 1, HW: 1 << 24, C: 1, Mult: m, Out: Full}).Validate(make([]int8, 1<<24), make([]int8, 1)); err == nil {
		t.Error("overflowing pool accepted")
	}

	g := randI8(r, n*c, -128, 127)
	mm, _ := NewMultiplier(sx * (1.0 / 255) / 0.04)
	cp := ChannelMulParams{N: n, HW: hw, C: c, XZero: 5, GZero: -128, YZero: -2, Mult: mm, Out: Full}
	y2 := make([]int8, len(x))
	if err := cp.Validate(x, g, y2); err != nil {
		t.Fatal(err)
	}
	ChannelMul(&cp, x, g, y2, 0, n*hw)
	for i := range n {
		for k := range hw {
			for ch := range c {
				prod := (int32(x[(i*hw+k)*c+ch]) - 5) * (int32(g[i*c+ch]) + 128)
				want := refRequantize(prod, mm, -2, -128, 127)
				if got := y2[(i*hw+k)*c+ch]; got != want {
					t.Fatalf("channel mul: %d want %d", got, want)
				}
			}
		}
	}

	var tab Table
	for i := range tab {
		tab[i] = int8(255 - i)
	}
	in := []int8{-128, -1, 0, 1, 127}
	out := make([]int8, len(in))
	LUT(&tab, in, out)
	for i, v := range in {
		if out[i] != tab[uint8(v)] {
			t.Errorf("LUT(%d) = %d", v, out[i])
		}
	}
	LUT(&tab, in, in) // in place
	if !slices.Equal(in, out) {
		t.Error("LUT in place")
	}
}

func TestQuantizeDequantize(t *testing.T) {
	x := []float32{0, 0.1, -0.1, 1, -1, 0.05, 0.15, -0.05, 1e9, -1e9, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	q := make([]int8, len(x))
	if err := Quantize(x, 0.1, 3, q); err != nil {
		t.Fatal(err)
	}
	want := []int8{3, 4, 2, 13, -7, 3, 5, 3, 127, -128, 3, 127, -128} // 0.5 and 1.5 round to even
	if !slices.Equal(q, want) {
		t.Errorf("Quantize = %v, want %v", q, want)
	}
	f := make([]float32, len(q))
	if err := Dequantize(q, 0.1, 3, f); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if math.Abs(float64(f[i]-x[i])) > 0.05+1e-6 {
			t.Errorf("round trip %g -> %d -> %g", x[i], q[i], f[i])
		}
	}
	// Round trip of every code.
	codes := make([]int8, 256)
	for i := range codes {
		codes[i] = int8(i - 128)
	}
	vals := make([]float32, 256)
	for _, s := range []float32{0.0078125, 0.0235, 1.7, 1e-5} {
		for _, z := range []int32{-128, 0, 17, 127} {
			_ = Dequantize(codes, s, z, vals)
			back := make([]int8, 256)
			if err := Quantize(vals, s, z, back); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(back, codes) {
				t.Errorf("scale %g zero %d: codes do not round-trip", s, z)
			}
		}
	}
	for _, bad := range []float32{0, -1, float32(math.NaN()), float32(math.Inf(1))} {
		if Quantize(x, bad, 0, q) == nil {
			t.Errorf("scale %g accepted", bad)
		}
	}
	if Quantize(x, 1, 200, q) == nil || Quantize(x, 1, 0, q[1:]) == nil || Dequantize(q, 1, 0, f[1:]) == nil {
		t.Error("bad quantize arguments accepted")
	}
}

func TestSqueezeExcite(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	n, hw, c, s := 2, 16, 8, 4
	zx := int32(-20)
	x := randI8(r, n*hw*c, -128, 127)
	w1, w2 := randI8(r, s*c, -127, 127), randI8(r, c*s, -127, 127)
	b1, b2 := make([]int32, s), make([]int32, c)
	for i := range b1 {
		b1[i] = int32(r.IntN(2001) - 1000)
	}
	for i := range b2 {
		b2[i] = int32(r.IntN(2001) - 1000)
	}
	pm, _ := NewMultiplier(1.0 / float64(hw))
	m1, _ := randMults(t, r, s, 1e-3, 1e-2)
	m2, _ := randMults(t, r, c, 1e-3, 1e-2)
	mm, _ := NewMultiplier(0.3)
	var tab Table
	for i := range tab {
		tab[i] = int8(i/2 - 64)
	}
	p := SEParams{
		Pool:    PoolParams{N: n, HW: hw, C: c, XZero: zx, YZero: zx, Mult: pm, Out: Full},
		Squeeze: GemmParams{M: n, K: c, N: s, AZero: zx, YZero: -128, Mult: m1, Out: Range{-128, 127}},
		Excite:  GemmParams{M: n, K: s, N: c, AZero: -128, YZero: 4, Mult: m2, Out: Full},
		Gate:    tab,
		Scale:   ChannelMulParams{N: n, HW: hw, C: c, XZero: zx, GZero: -128, YZero: 1, Mult: mm, Out: Full},
	}
	y := make([]int8, len(x))
	if err := p.Validate(x, w1, b1, w2, b2, y); err != nil {
		t.Fatal(err)
	}
	SqueezeExcite(&p, x, w1, b1, w2, b2, y)
	// The same by hand from the parts.
	pooled, mid, exc, want := make([]int8, n*c), make([]int8, n*s), make([]int8, n*c), make([]int8, len(x))
	GlobalAveragePool(&p.Pool, x, pooled)
	Gemm(&p.Squeeze, pooled, w1, b1, mid, 0, n)
	Gemm(&p.Excite, mid, w2, b2, exc, 0, n)
	for i, v := range exc {
		exc[i] = tab[uint8(v)]
	}
	ChannelMul(&p.Scale, x, exc, want, 0, p.Scale.N*p.Scale.HW)
	if !slices.Equal(y, want) {
		t.Error("SqueezeExcite differs from its parts")
	}
	p.Excite.AZero = 0
	if err := p.Validate(x, w1, b1, w2, b2, y); err == nil {
		t.Error("inconsistent zero points accepted")
	}
}
