package passes

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// lutParams is the sweep of (input, output) quantizations: typical scales
// of activations before and after h-swish / h-sigmoid, zero points across
// the int8 range, and dyadic scales that make exact ties.
var lutParams = func() [][2]QParams {
	ins := []QParams{
		{0.0235, -128}, {0.05, 0}, {0.1, 10}, {3.0 / 64, 0}, {0.5, 0}, {1.0 / 128, -3},
		{0.0173, 127}, {0.2, -50}, {0.031, 77}, {0.0625, -128}, {0.011, 5},
	}
	outs := []QParams{
		{1.0 / 256, -128}, {0.0235, -128}, {1.0 / 64, 0}, {0.02, -100}, {0.05, 12}, {1.0 / 128, 127}, {0.0039, -128},
	}
	var ps [][2]QParams
	for i, in := range ins {
		for j := range 3 {
			ps = append(ps, [2]QParams{in, outs[(i+j)%len(outs)]})
		}
	}
	return ps
}()

// refFloat64 evaluates the function in float64 and rounds half away from
// zero (math.Round), then clamps: the documented rule.
func refFloat64(q int8, in, out QParams, swish bool) int8 {
	x := float64(in.Scale) * float64(int32(q)-in.Zero)
	h := math.Min(math.Max(x/6+0.5, 0), 1)
	if x <= -3 {
		h = 0
	} else if x >= 3 {
		h = 1
	}
	y := h
	if swish {
		y = x * h
	}
	v := math.Round(y/float64(out.Scale)) + float64(out.Zero)
	return int8(math.Min(math.Max(v, -128), 127))
}

// refExact is an independent exact evaluation: (x+3)/6 form, rounding by
// comparing with the half-integers.
func refExact(q int8, in, out QParams, swish bool) int8 {
	x := new(big.Rat).Mul(new(big.Rat).SetFloat64(float64(in.Scale)), big.NewRat(int64(q)-int64(in.Zero), 1))
	h := new(big.Rat).Add(x, big.NewRat(3, 1))
	h.Quo(h, big.NewRat(6, 1))
	if h.Sign() < 0 {
		h.SetInt64(0)
	}
	if h.Cmp(big.NewRat(1, 1)) > 0 {
		h.SetInt64(1)
	}
	y := h
	if swish {
		y = new(big.Rat).Mul(x, h)
	}
	r := new(big.Rat).Quo(y, new(big.Rat).SetFloat64(float64(out.Scale)))
	// n = nearest integer, ties away from zero.
	f, _ := r.Float64()
	n := int64(math.Floor(f))
	for _, c := range []int64{n - 1, n, n + 1, n + 2} {
		lo := new(big.Rat).Sub(big.NewRat(c, 1), big.NewRat(1, 2))
		hi := new(big.Rat).Add(big.NewRat(c, 1), big.NewRat(1, 2))
		inLo, inHi := r.Cmp(lo), r.Cmp(hi)
		if (inLo > 0 || (inLo == 0 && c > 0)) && (inHi < 0 || (inHi == 0 && c < 0)) {
			n = c
			break
		}
	}
	v := n + int64(out.Zero)
	return int8(min(max(v, -128), 127))
}

func TestHardActivationTables(t *testing.T) {
	if len(lutParams) < 20 {
		t.Fatalf("only %d parameter pairs", len(lutParams))
	}
	for _, swish := range []bool{false, true} {
		name, build := "hardsigmoid", HardSigmoidTable
		if swish {
			name, build = "hardswish", HardSwishTable
		}
		mismatches, ties := 0, 0
		for _, p := range lutParams {
			in, out := p[0], p[1]
			tab := build(in, out)
			for c := -128; c <= 127; c++ {
				q := int8(c)
				got := tab[LookupIndex(q)]
				if want := refFloat64(q, in, out, swish); got != want {
					mismatches++
					t.Errorf("%s in=%+v out=%+v q=%d: table %d, float64 %d", name, in, out, q, got, want)
				}
				if want := refExact(q, in, out, swish); got != want {
					mismatches++
					t.Errorf("%s in=%+v out=%+v q=%d: table %d, exact %d", name, in, out, q, got, want)
				}
				// Count exact ties, to show the rounding rule is exercised.
				x := float64(in.Scale) * float64(int32(q)-in.Zero)
				y := math.Max(0, math.Min(1, x/6+0.5))
				if swish {
					y *= x
				}
				if r := y / float64(out.Scale); r != math.Trunc(r) && math.Abs(r-math.Trunc(r)) == 0.5 {
					ties++
				}
			}
		}
		t.Logf("%s: %d pairs x 256 codes, %d exact ties, %d mismatches", name, len(lutParams), ties, mismatches)
		if ties == 0 {
			t.Errorf("%s: the sweep has no exact ties", name)
		}
	}
}

func TestTableSpotValues(t *testing.T) {
	in := QParams{1.0 / 32, 0} // x = q/32, codes cover [-4, 3.97]
	hs := HardSigmoidTable(in, QParams{1.0 / 128, -128})
	hw := HardSwishTable(in, QParams{1.0 / 32, 0})
	half := HardSwishTable(in, QParams{0.25, 0})
	for _, c := range []struct {
		name string
		got  int8
		want int8
	}{
		{"hardsigmoid(0) = 1/2 -> 64-128", hs[LookupIndex(0)], -64},
		{"hardsigmoid(-4) = 0", hs[LookupIndex(-128)], -128},
		{"hardsigmoid(3) = 1 -> 128-128", hs[LookupIndex(96)], 0},
		{"hardswish(3) = 3", hw[LookupIndex(96)], 96},
		{"hardswish(-1.5) = -0.375", hw[LookupIndex(-48)], -12},
		{"hardswish(1/32) = 0.505 steps", hw[LookupIndex(1)], 1},
		{"hardswish(-4) = 0", hw[LookupIndex(-128)], 0},
		{"hardswish(1.5) = 1.125 = 4.5 steps, half away from zero", half[LookupIndex(48)], 5},
		{"hardswish(-1.5) = -0.375 = -1.5 steps, half away from zero", half[LookupIndex(-48)], -2},
		{"index of -1 is 255", int8(LookupIndex(-1) - 128), 127},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestTablePanicsOnBadParams(t *testing.T) {
	for _, p := range [][2]QParams{{{0, 0}, {1, 0}}, {{1, 0}, {float32(math.Inf(1)), 0}}, {{1, 200}, {1, 0}}, {{float32(math.NaN()), 0}, {1, 0}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("HardSwishTable(%v, %v) did not panic", p[0], p[1])
				}
			}()
			HardSwishTable(p[0], p[1])
		}()
	}
}

func qp(s float32, z int32) *ir.QuantParams {
	return &ir.QuantParams{Scale: []float32{s}, ZeroPoint: []int32{z}}
}

// TestLowerHardActivations lowers a hand-built quantized graph: an int8
// input, a Conv with a fused HardSwish, a standalone HardSigmoid, and a float
// HardSwish that stays.
func TestLowerHardActivations(t *testing.T) {
	g := ir.NewGraph("q")
	i8 := func(s ...int) ir.TensorType { return ir.TensorType{DType: ir.Int8, Shape: s} }
	x := g.AddInput("x", i8(1, 2, 4, 4))
	x.Quant = qp(0.05, 3)
	w := g.AddConst("w", &ir.Tensor{DType: ir.Int8, Shape: ir.Shape{2, 2, 1, 1}, I8: []int8{1, 2, 3, 4}})
	w.Quant = qp(0.01, 0)
	bias := g.AddConst("b", &ir.Tensor{DType: ir.Int32, Shape: ir.Shape{2}, I32: []int32{0, 0}})
	pre := qp(0.04, -10)
	c, err := g.Add(ir.Conv, "conv", &ir.ConvAttrs{Stride: [2]int{1, 1}, Act: ir.Activation{Kind: ir.ActHardSwish, InQuant: pre}}, x, w, bias)
	if err != nil {
		t.Fatal(err)
	}
	c.Quant = qp(0.03, -20)
	h, err := g.Add(ir.HardSigmoid, "hsig", &ir.HardSigmoidAttrs{Alpha: float32(1.0 / 6), Beta: 0.5}, c)
	if err != nil {
		t.Fatal(err)
	}
	h.Quant = qp(1.0/256, -128)
	f := g.AddInput("f", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{3}})
	fh, err := g.Add(ir.HardSwish, "float", nil, f)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*ir.Value{h, fh}
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	rep, err := RunPasses(g, []Pass{LowerHardActivations}, Options{Check: true})
	if err != nil {
		t.Fatal(err)
	}
	wantOps(t, g, "Conv Lookup Lookup HardSwish")
	conv, lk, lk2 := g.Nodes[0], g.Nodes[1], g.Nodes[2]
	if a := conv.Attrs.(*ir.ConvAttrs); a.Act.Kind != ir.ActNone {
		t.Errorf("conv still has %v", a.Act)
	}
	if conv.Output().Quant != pre || conv.Output().Type.DType != ir.Int8 || lk.Inputs[0] != conv.Output() || lk.Output() != c {
		t.Errorf("split:\n%s", g)
	}
	la := lk.Attrs.(*ir.LookupAttrs)
	if la.Fn != "hardswish" || la.Table != HardSwishTable(QParams{0.04, -10}, QParams{0.03, -20}) {
		t.Errorf("fused table %v", la)
	}
	la2 := lk2.Attrs.(*ir.LookupAttrs)
	if la2.Fn != "hardsigmoid" || la2.Table != HardSigmoidTable(QParams{0.03, -20}, QParams{1.0 / 256, -128}) || lk2.Output() != h {
		t.Errorf("standalone table %v", la2)
	}
	if r := rep.Passes[0].Rewrites; r["fused hardswish -> Lookup"] != 1 || r["HardSigmoid -> Lookup"] != 1 {
		t.Errorf("rewrites %v", r)
	}
	if !strings.Contains(g.String(), "Lookup(%conv.pre) fn=hardswish table=[") {
		t.Errorf("dump:\n%s", g)
	}

	// Errors: missing InQuant, per-axis quantization.
	for name, breakIt := range map[string]func(g *ir.Graph){
		"no InQuant": func(g *ir.Graph) {
			a := *g.Nodes[0].Attrs.(*ir.ConvAttrs)
			a.Act.InQuant = nil
			g.Nodes[0].Attrs = &a
		},
		"per-axis": func(g *ir.Graph) {
			g.Nodes[1].Output().Quant = &ir.QuantParams{Scale: []float32{1, 2}, ZeroPoint: []int32{0, 0}, Axis: 1}
		},
		"no quant": func(g *ir.Graph) { g.Nodes[1].Output().Quant = nil },
	} {
		g2 := ir.NewGraph("q2")
		x := g2.AddInput("x", i8(1, 2, 4, 4))
		x.Quant = qp(0.05, 3)
		w := g2.AddConst("w", &ir.Tensor{DType: ir.Int8, Shape: ir.Shape{2, 2, 1, 1}, I8: []int8{1, 2, 3, 4}})
		c, _ := g2.Add(ir.Conv, "conv", &ir.ConvAttrs{Stride: [2]int{1, 1}, Act: ir.Activation{Kind: ir.ActHardSwish, InQuant: pre}}, x, w)
		c.Quant = qp(0.03, -20)
		h, _ := g2.Add(ir.HardSwish, "hs", nil, c)
		h.Quant = qp(0.03, -20)
		g2.Outputs = []*ir.Value{h}
		breakIt(g2)
		if _, err := RunPasses(g2, []Pass{LowerHardActivations}, Options{Check: true}); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestSigmoidTable: every entry of SigmoidTable equals the float64
// evaluation (math.Exp, rounded half away from zero) wherever that one is
// more than 1e-9 of a step from a rounding boundary (where it is not,
// float64 cannot decide: the entry is counted, and checked against the
// neighbours), and spot values.
func TestSigmoidTable(t *testing.T) {
	close := 0
	for _, p := range lutParams {
		in, out := p[0], p[1]
		tab := SigmoidTable(in, out)
		for c := -128; c <= 127; c++ {
			q := int8(c)
			x := float64(in.Scale) * float64(int32(q)-in.Zero)
			r := 1 / (1 + math.Exp(-x)) / float64(out.Scale)
			want := int8(math.Min(math.Max(math.Round(r)+float64(out.Zero), -128), 127))
			got := tab[LookupIndex(q)]
			if f := math.Abs(r - math.Trunc(r)); math.Abs(f-0.5) < 1e-9 {
				close++
				if d := int(got) - int(want); d < -1 || d > 1 {
					t.Errorf("in=%+v out=%+v q=%d: table %d, float64 %d (near a tie)", in, out, q, got, want)
				}
				continue
			}
			if got != want {
				t.Errorf("in=%+v out=%+v q=%d: table %d, float64 %d", in, out, q, got, want)
			}
		}
	}
	t.Logf("%d pairs x 256 codes, %d within 1e-9 of a rounding boundary", len(lutParams), close)
	tab := SigmoidTable(QParams{1.0 / 16, 0}, QParams{1.0 / 256, -128})
	for _, c := range []struct {
		q    int8
		want int8
	}{
		{0, 0},       // sigmoid(0) = 1/2 = 128 steps exactly -> 128-128
		{-128, -128}, // sigmoid(-8) = 0.000335 = 0.09 steps
		{127, 127},   // sigmoid(7.94) = 0.99964 = 255.9 steps -> 256 -> clamped
		{16, 59},     // sigmoid(1) = 0.731059 = 187.15 steps -> 187-128
	} {
		if got := tab[LookupIndex(c.q)]; got != c.want {
			t.Errorf("sigmoid table q=%d: %d, want %d", c.q, got, c.want)
		}
	}
}

// TestLowerSigmoid: an int8 Sigmoid becomes a Lookup with SigmoidTable of
// its quantizations; a float one stays.
func TestLowerSigmoid(t *testing.T) {
	g := ir.NewGraph("q")
	x := g.AddInput("x", ir.TensorType{DType: ir.Int8, Shape: ir.Shape{1, 4}})
	x.Quant = qp(0.05, 3)
	y, err := g.Add(ir.Sigmoid, "sig", nil, x)
	if err != nil {
		t.Fatal(err)
	}
	y.Type.DType, y.Quant = ir.Int8, qp(1.0/256, -128)
	f := g.AddInput("f", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{1, 4}})
	yf, err := g.Add(ir.Sigmoid, "sigf", nil, f)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*ir.Value{y, yf}
	if _, err := RunPasses(g, []Pass{LowerHardActivations}, Options{Check: true}); err != nil {
		t.Fatal(err)
	}
	n := g.Nodes[0]
	a, ok := n.Attrs.(*ir.LookupAttrs)
	if n.Op != ir.Lookup || !ok || a.Fn != "sigmoid" || a.Table != SigmoidTable(QParams{0.05, 3}, QParams{1.0 / 256, -128}) {
		t.Errorf("int8 Sigmoid lowered to %v %v", n.Op, n.Attrs)
	}
	if g.Nodes[1].Op != ir.Sigmoid {
		t.Errorf("float Sigmoid became %v", g.Nodes[1].Op)
	}
}
