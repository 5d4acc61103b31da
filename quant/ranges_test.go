package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mncdev/mnc/ir"
)

func statsOf(xs []float32) *TensorStats {
	c := newCollector(nil, true)
	// Feed in chunks so that the histogram grows several times.
	for i := 0; i < len(xs); i += 1000 {
		c.observe("x", ir.NewFloat32(ir.Shape{min(1000, len(xs)-i)}, xs[i:min(i+1000, len(xs))]), nil)
	}
	return c.tensors["x"]
}

func gaussian(r *rand.Rand, n int, sigma float64) []float32 {
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(r.NormFloat64() * sigma)
	}
	return xs
}

func TestHistogramExactMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	xs := gaussian(r, 50000, 1)
	xs = append(xs, 40, -3, 0) // outliers force merges late
	a := statsOf(xs)
	// One shot with the final width gives the same counts.
	b := newHistogram()
	b.Width = a.Hist.Width
	b.add(xs, 40)
	for i := range a.Hist.Pos {
		if a.Hist.Pos[i] != b.Pos[i] || a.Hist.Neg[i] != b.Neg[i] {
			t.Fatalf("bin %d differs after merges: %d/%d vs %d/%d", i, a.Hist.Pos[i], a.Hist.Neg[i], b.Pos[i], b.Neg[i])
		}
	}
	if a.Hist.Total() != int64(len(xs)) || a.Count != int64(len(xs)) || a.Min != -3 && a.Min > -3 || a.Max != 40 {
		t.Errorf("count %d total %d min %g max %g", a.Count, a.Hist.Total(), a.Min, a.Max)
	}
	// 40 must sit in the top half of the bins.
	if 40/a.Hist.Width < HistBins/2 || 40/a.Hist.Width >= HistBins {
		t.Errorf("width %g for max 40", a.Hist.Width)
	}
	// Merge of two histograms of different widths equals the histogram of both.
	h1, h2 := statsOf(xs[:100]).Hist, statsOf(xs[100:]).Hist
	h1.Merge(h2)
	for i := range a.Hist.Pos {
		if a.Hist.Pos[i] != h1.Pos[i] || a.Hist.Neg[i] != h1.Neg[i] {
			t.Fatalf("Merge: bin %d differs", i)
		}
	}
	// Non-finite values are counted apart.
	c := newCollector(nil, true)
	c.observe("y", ir.NewFloat32(ir.Shape{4}, []float32{1, float32(math.NaN()), float32(math.Inf(1)), -2}), nil)
	if ts := c.tensors["y"]; ts.Count != 2 || ts.NonFinite != 2 || ts.Min != -2 || ts.Max != 1 {
		t.Errorf("non-finite: %+v", ts)
	}
	// All zeros.
	c.observe("z", ir.NewFloat32(ir.Shape{10}, nil), nil)
	if r := rangeOf(c.tensors["z"], MSE, 99); !(r.Hi > 0) || r.Lo != 0 {
		t.Errorf("zero tensor range %v", r)
	}
}

func TestRangeMethods(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	g := gaussian(r, 200000, 1)
	g = append(g, 30) // one outlier
	st := statsOf(g)
	mm := rangeOf(st, MinMax, 0)
	if mm.Hi != 30 || mm.Lo > -4 {
		t.Errorf("minmax %v", mm)
	}
	p := rangeOf(st, Percentile, 99.99)
	if p.Hi < 3.3 || p.Hi > 4.5 || p.Lo > -3.3 || p.Lo < -4.5 {
		t.Errorf("percentile 99.99 of N(0,1) = %v, want about ±3.9", p)
	}
	p9 := rangeOf(st, Percentile, 99)
	if math.Abs(p9.Hi-2.33) > 0.1 || math.Abs(p9.Lo+2.33) > 0.1 {
		t.Errorf("percentile 99 of N(0,1) = %v, want about ±2.33", p9)
	}
	e := rangeOf(st, Entropy, 0)
	if e.Hi < 2 || e.Hi > 8 || e.Lo > -2 {
		t.Errorf("entropy of N(0,1) = %v", e)
	}
	m := rangeOf(st, MSE, 0)
	// One outlier in 200001 costs less kept than clipped, by MSE.
	if m.Hi < 20 {
		t.Errorf("mse of N(0,1) with an outlier at 30 = %v", m)
	}
	if m0 := rangeOf(statsOf(g[:len(g)-1]), MSE, 0); m0.Hi < 2.5 || m0.Hi > 4.5 || m0.Lo > -2.5 || m0.Lo < -4.5 {
		t.Errorf("mse of N(0,1) = %v", m0)
	}
	// MSE's range has the smallest expected error of all.
	counts, lo := st.Hist.bins()
	em := expectedSqErr(counts, lo, st.Hist.Width, m)
	for _, other := range []Range{mm, p, e} {
		if eo := expectedSqErr(counts, lo, st.Hist.Width, other); eo < em*(1-1e-9) {
			t.Errorf("range %v has error %g < mse's %g", other, eo, em)
		}
	}
	// And it is close to the truth: quantize the samples.
	actual := func(rg Range) float64 {
		fq := fakeQuant(ir.NewFloat32(ir.Shape{len(g)}, g), rg)
		var s float64
		for i, v := range fq.F32 {
			d := float64(v) - float64(g[i])
			s += d * d
		}
		return s / float64(len(g))
	}
	if a := actual(m); math.Abs(a-em)/a > 0.2 {
		t.Errorf("expected error %g, actual %g", em, a)
	}
	if actual(m) > actual(mm) {
		t.Errorf("mse range worse than minmax on the data")
	}

	// A ReLU6-like one-sided tensor: half zeros, a tail, saturation at 6.
	var relu []float32
	for range 100000 {
		v := r.NormFloat64() * 2
		relu = append(relu, float32(max(0, min(6, v))))
	}
	st = statsOf(relu)
	for _, meth := range []string{MinMax, Percentile, Entropy, MSE} {
		rg := rangeOf(st, meth, 99.99)
		if rg.Lo != 0 || rg.Hi < 3 || rg.Hi > 6 {
			t.Errorf("%s on relu6 data: %v", meth, rg)
		}
		s, z := rg.Params()
		if z != -128 || s <= 0 {
			t.Errorf("%s on relu6 data: scale %g zero %d", meth, s, z)
		}
	}
	// A heavy-tailed (Laplacian) tensor: entropy and mse clip well inside max.
	var lap []float32
	for range 200000 {
		u := r.Float64() - 0.5
		lap = append(lap, float32(-math.Copysign(math.Log(1-2*math.Abs(u)), u)))
	}
	st = statsOf(lap)
	mm = rangeOf(st, MinMax, 0)
	for _, meth := range []string{Entropy, MSE} {
		rg := rangeOf(st, meth, 0)
		if rg.Hi >= mm.Hi*0.9 || rg.Hi < 2 {
			t.Errorf("%s on Laplace data: %v (minmax %v)", meth, rg, mm)
		}
	}
}

func TestRangeParams(t *testing.T) {
	cases := []struct {
		r     Range
		scale float32
		zero  int32
	}{
		{Range{0, 6}, 6.0 / 255, -128},
		{Range{-1, 1}, 2.0 / 255, -1}, // -0.5 rounds away from zero
		{Range{-2, 0}, 2.0 / 255, 127},
		{Range{1, 2}, 2.0 / 255, -128}, // widened to contain 0
		{Range{0, 0}, 1e-6 / 255, -128},
	}
	for _, c := range cases {
		s, z := c.r.Params()
		if math.Abs(float64(s-c.scale)) > 1e-9 || z != c.zero {
			t.Errorf("%v: scale %g zero %d, want %g %d", c.r, s, z, c.scale, c.zero)
		}
		// Real zero is exact.
		if got := float32(0-z) * s; got != float32(-z)*s {
			t.Errorf("zero not representable")
		}
	}
}

func TestParseMethod(t *testing.T) {
	for in, want := range map[string]string{"": DefaultMethod, "minmax": MinMax, "MSE": MSE, "percentile:99.9": Percentile, "auto": Auto, "entropy": Entropy} {
		m, _, err := ParseMethod(in)
		if err != nil || m != want {
			t.Errorf("ParseMethod(%q) = %q, %v", in, m, err)
		}
	}
	if _, p, _ := ParseMethod("percentile=99.5"); p != 99.5 {
		t.Errorf("percentile value %g", p)
	}
	for _, bad := range []string{"kl", "minmax:3", "percentile:20", "percentile:x"} {
		if _, _, err := ParseMethod(bad); err == nil {
			t.Errorf("ParseMethod(%q) accepted", bad)
		}
	}
}
