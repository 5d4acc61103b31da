package passes

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

var inf = float32(math.Inf(1))

func TestDropPassThrough(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 4)
	y := b.add(ir.Dropout, "drop", nil, b.add(ir.Identity, "id", nil, x))
	y = b.add(ir.Relu, "relu", nil, y)
	y = b.add(ir.Identity, "logits", nil, y) // a graph output: the name must stay
	g := b.output(y)
	rep := apply(t, g, 0, "canonicalize")
	wantOps(t, g, "Relu")
	if g.Outputs[0].Name != "logits" || g.Nodes[0].Inputs[0] != g.Inputs[0] {
		t.Errorf("graph:\n%s", g)
	}
	if rep.Passes[0].Rewrites["drop Identity"] != 2 || rep.Passes[0].Rewrites["drop Dropout"] != 1 {
		t.Errorf("rewrites %v", rep.Passes[0].Rewrites)
	}

	// An Identity from the graph input to the output cannot go without
	// renaming the output: it stays.
	b = newGB(t)
	g = b.output(b.add(ir.Identity, "out", nil, b.input(2)))
	apply(t, g, 0, "canonicalize")
	wantOps(t, g, "Identity")
}

// TestDropIdentityResize: a ResizeBilinear to the size it reads is a copy
// under every coordinate rule and goes; one that changes the size stays.
func TestDropIdentityResize(t *testing.T) {
	for _, a := range []ir.ResizeAttrs{{Size: [2]int{5, 7}}, {Size: [2]int{5, 7}, AlignCorners: true}, {Size: [2]int{5, 7}, HalfPixelCenters: true}} {
		b := newGB(t)
		x := b.input(1, 3, 5, 7)
		y := b.add(ir.ResizeBilinear, "same", &a, x)
		up := a
		up.Size = [2]int{9, 13}
		y = b.add(ir.ResizeBilinear, "up", &up, y)
		g := b.output(b.add(ir.Relu, "relu", nil, y))
		rep := apply(t, g, 0, "canonicalize")
		wantOps(t, g, "ResizeBilinear Relu")
		if g.Nodes[0].Name != "up" || rep.Passes[0].Rewrites["drop ResizeBilinear"] != 1 {
			t.Errorf("%v: rewrites %v, graph:\n%s", &a, rep.Passes[0].Rewrites, g)
		}
	}
}

func TestClip(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 4)
	y6 := b.add(ir.Clip, "c6", &ir.ClipAttrs{Min: 0, Max: 6}, x)
	yr := b.add(ir.Clip, "cr", &ir.ClipAttrs{Min: 0, Max: inf}, y6)
	yk := b.add(ir.Clip, "ck", &ir.ClipAttrs{Min: -1, Max: 1}, yr)     // stays
	yn := b.add(ir.Clip, "cn", &ir.ClipAttrs{Min: -inf, Max: inf}, yk) // dropped
	g := b.output(b.add(ir.Add, "a", nil, yn, x))
	apply(t, g, 0, "canonicalize")
	wantOps(t, g, "Relu6 Relu Clip Add")
}

func TestHardSwishForms(t *testing.T) {
	sixth := float32(1.0 / 6)
	forms := map[string]func(b *gb, x *ir.Value) *ir.Value{
		"x*HardSigmoid(x)": func(b *gb, x *ir.Value) *ir.Value {
			return b.add(ir.Mul, "m", nil, x, b.add(ir.HardSigmoid, "h", &ir.HardSigmoidAttrs{Alpha: sixth, Beta: 0.5}, x))
		},
		"HardSigmoid(x)*x": func(b *gb, x *ir.Value) *ir.Value {
			return b.add(ir.Mul, "m", nil, b.add(ir.HardSigmoid, "h", &ir.HardSigmoidAttrs{Alpha: sixth, Beta: 0.5}, x), x)
		},
		"x*relu6(x+3)/6": func(b *gb, x *ir.Value) *ir.Value {
			r := b.add(ir.Relu6, "r", nil, b.add(ir.Add, "a", nil, x, b.k(3)))
			return b.add(ir.Div, "d", nil, b.add(ir.Mul, "m", nil, x, r), b.k(6))
		},
		"(relu6(3+x)*x)*(1/6) with Clip": func(b *gb, x *ir.Value) *ir.Value {
			r := b.add(ir.Clip, "r", &ir.ClipAttrs{Min: 0, Max: 6}, b.add(ir.Add, "a", nil, b.k(3), x))
			return b.add(ir.Mul, "d", nil, b.k(sixth), b.add(ir.Mul, "m", nil, r, x))
		},
		"x*(relu6(x+3)/6)": func(b *gb, x *ir.Value) *ir.Value {
			r := b.add(ir.Relu6, "r", nil, b.add(ir.Add, "a", nil, x, b.k(3)))
			return b.add(ir.Mul, "m", nil, x, b.add(ir.Div, "d", nil, r, b.k(6)))
		},
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			b := newGB(t)
			x := b.input(-1, 3, 4, 4)
			g := b.output(b.add(ir.Relu, "out", nil, form(b, b.add(ir.Relu6, "pre", nil, x))))
			apply(t, g, 1e-6, "canonicalize")
			wantOps(t, g, "Relu6 HardSwish Relu")
			if len(g.Consts) != 0 {
				t.Errorf("constants left: %v", g.Consts)
			}
		})
	}
}

func TestHardSigmoidForms(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 8)
	r := b.add(ir.Relu6, "r", nil, b.add(ir.Add, "a", nil, x, b.k(3)))
	h1 := b.add(ir.Div, "h1", nil, r, b.k(6))
	r2 := b.add(ir.Relu6, "r2", nil, b.add(ir.Add, "a2", nil, b.k(3), x))
	h2 := b.add(ir.Mul, "h2", nil, b.k(float32(1.0/6)), r2)
	g := b.output(h1, h2)
	apply(t, g, 1e-6, "canonicalize")
	wantOps(t, g, "HardSigmoid HardSigmoid")
	if g.Outputs[0].Name != "h1" || g.Outputs[1].Name != "h2" {
		t.Errorf("outputs renamed:\n%s", g)
	}
}

func TestHardSwishNegative(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 8)
	y := b.add(ir.Relu, "y", nil, x)
	// HardSigmoid of another value (the squeeze-excite shape).
	m1 := b.add(ir.Mul, "m1", nil, x, b.add(ir.HardSigmoid, "h1", &ir.HardSigmoidAttrs{Alpha: float32(1.0 / 6), Beta: 0.5}, y))
	// A HardSigmoid with other parameters.
	m2 := b.add(ir.Mul, "m2", nil, x, b.add(ir.HardSigmoid, "h2", &ir.HardSigmoidAttrs{Alpha: 0.2, Beta: 0.5}, x))
	// x*relu6(x+2)/6 and x*relu6(x+3)/5.
	r := b.add(ir.Relu6, "r", nil, b.add(ir.Add, "a", nil, x, b.k(2)))
	m3 := b.add(ir.Div, "m3", nil, b.add(ir.Mul, "mm", nil, x, r), b.k(6))
	r4 := b.add(ir.Relu6, "r4", nil, b.add(ir.Add, "a4", nil, x, b.k(3)))
	m4 := b.add(ir.Div, "m4", nil, b.add(ir.Mul, "mm4", nil, x, r4), b.k(5))
	g := b.output(m1, m2, m3, m4)
	want := ops(g)
	apply(t, g, 0, "canonicalize")
	wantOps(t, g, want)
}

func TestMatMulAddToGemm(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 6)
	y := b.add(ir.Add, "fc", nil, b.add(ir.MatMul, "mm", nil, x, b.w("w", 6, 5)), b.w("c", 5))
	// An Add of a computed value stays an Add after a bias-less Gemm.
	z := b.add(ir.Add, "z", nil, b.add(ir.MatMul, "mm2", nil, y, b.w("w2", 5, 5)), y)
	g := b.output(z)
	apply(t, g, 1e-6, "canonicalize")
	wantOps(t, g, "Gemm Gemm Add")
	if len(g.Nodes[0].Inputs) != 3 || g.Nodes[0].Name != "mm" || g.Nodes[0].Output().Name != "fc" {
		t.Errorf("graph:\n%s", g)
	}
}

// gemmInputs returns the inputs of a Gemm of 6 inputs and 5 outputs: x
// [N,6], B (a constant [6,5], or [5,6] with transB) and, for a non-nil
// cshape, a constant C of that shape.
func gemmInputs(b *gb, transB bool, cshape []int) []*ir.Value {
	wshape := []int{6, 5}
	if transB {
		wshape = []int{5, 6}
	}
	in := []*ir.Value{b.input(-1, 6), b.w("w", wshape...)}
	if cshape != nil {
		in = append(in, b.w("c", cshape...))
	}
	return in
}

// TestCanonGemm: canonicalize gives every Gemm with constant B and C the
// form B [N,K] (transB), alpha = beta = 1, C [N], computing the same; one
// already canonical is left alone.
func TestCanonGemm(t *testing.T) {
	for _, transB := range []bool{false, true} {
		for _, cshape := range [][]int{nil, {5}, {1, 5}, {1}} {
			b := newGB(t)
			in := gemmInputs(b, transB, cshape)
			g := b.output(b.add(ir.Gemm, "fc", &ir.GemmAttrs{Alpha: 0.5, Beta: 2, TransB: transB}, in...))
			rep := apply(t, g, 1e-6, "canonicalize")
			n := g.Nodes[0]
			a := n.Attrs.(*ir.GemmAttrs)
			if !a.TransB || a.Alpha != 1 || a.Beta != 1 || !n.Inputs[1].Type.Shape.Equal(ir.Shape{5, 6}) || n.Inputs[1].Name != "w" {
				t.Errorf("transB %v, C %v: not canonical:\n%s", transB, cshape, g)
			}
			if cshape != nil && (!n.Inputs[2].Type.Shape.Equal(ir.Shape{5}) || n.Inputs[2].Name != "c") {
				t.Errorf("transB %v, C %v: bias not [N]:\n%s", transB, cshape, g)
			}
			if k := rep.Passes[0].Rewrites["Gemm -> canonical Gemm (B [N,K], alpha and beta folded)"]; k != 1 {
				t.Errorf("transB %v, C %v: %d rewrites", transB, cshape, k)
			}
		}
	}
	b := newGB(t)
	x := b.input(-1, 6)
	g := b.output(b.add(ir.Gemm, "fc", &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, x, b.w("w", 5, 6), b.w("c", 5)))
	if rep := apply(t, g, 0, "canonicalize"); len(rep.Passes[0].Rewrites) != 0 {
		t.Errorf("a canonical Gemm was rewritten: %v", rep.Passes[0].Rewrites)
	}
}

func TestPadIntoConv(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 3, 8, 8)
	p := b.add(ir.Pad, "pad", &ir.PadAttrs{Pads: []int{0, 0, 0, 1, 0, 0, 1, 2}, Mode: "constant"}, x)
	c := b.add(ir.Conv, "conv", &ir.ConvAttrs{Stride: [2]int{2, 2}, Pads: [4]int{1, 0, 0, 0}}, p, b.w("w", 4, 3, 3, 3))
	g := b.output(c)
	apply(t, g, 1e-6, "canonicalize")
	wantOps(t, g, "Conv")
	if a := g.Nodes[0].Attrs.(*ir.ConvAttrs); a.Pads != [4]int{1, 1, 1, 2} {
		t.Errorf("pads %v", a.Pads)
	}

	// Reflect pads, channel pads, non-zero values and non-Conv readers stay.
	for name, pa := range map[string]*ir.PadAttrs{
		"reflect":  {Pads: []int{0, 0, 1, 1, 0, 0, 1, 1}, Mode: "reflect"},
		"channels": {Pads: []int{0, 1, 1, 1, 0, 0, 1, 1}, Mode: "constant"},
		"value":    {Pads: []int{0, 0, 1, 1, 0, 0, 1, 1}, Mode: "constant", Value: 1},
	} {
		b := newGB(t)
		x := b.input(-1, 3, 8, 8)
		p := b.add(ir.Pad, "pad", pa, x)
		g := b.output(b.add(ir.Conv, "conv", &ir.ConvAttrs{Stride: [2]int{1, 1}}, p, b.w("w", 4, p.Type.Shape[1], 3, 3)))
		apply(t, g, 1e-6, "canonicalize")
		if node(g, ir.Pad) == nil {
			t.Errorf("%s: Pad folded", name)
		}
	}
	b = newGB(t)
	x = b.input(-1, 3, 8, 8)
	p = b.add(ir.Pad, "pad", &ir.PadAttrs{Pads: []int{0, 0, 1, 1, 0, 0, 1, 1}, Mode: "constant"}, x)
	c = b.add(ir.Conv, "conv", &ir.ConvAttrs{Stride: [2]int{1, 1}}, p, b.w("w", 3, 3, 3, 3))
	g = b.output(c, b.add(ir.Relu, "r", nil, p))
	apply(t, g, 1e-6, "canonicalize")
	if node(g, ir.Pad) == nil {
		t.Error("Pad with a non-Conv reader folded")
	}
}

// TestTrimDeadTaps: kernel rows and columns that read only padding are
// dropped (DeepLabV3's ASPP at rate 36 on a 33x33 map: a 1x1 conv, at rate
// 12 unchanged), the output unchanged to the bit; one-sided dead rows
// (a large bottom pad) and depthwise convs too; a conv whose every tap is
// dead stays.
func TestTrimDeadTaps(t *testing.T) {
	for _, c := range []struct {
		name          string
		h, w, k, dil  int
		pads          [4]int
		stride, group int
		wantK         [2]int
		wantPads      [4]int
		wantDil       [2]int
	}{
		{"aspp-36", 33, 33, 3, 36, [4]int{36, 36, 36, 36}, 1, 1, [2]int{1, 1}, [4]int{0, 0, 0, 0}, [2]int{1, 1}},
		{"aspp-12", 33, 33, 3, 12, [4]int{12, 12, 12, 12}, 1, 1, [2]int{3, 3}, [4]int{12, 12, 12, 12}, [2]int{12, 12}},
		{"bottom", 5, 6, 3, 4, [4]int{0, 4, 9, 4}, 1, 1, [2]int{2, 3}, [4]int{0, 4, 5, 4}, [2]int{4, 4}},
		{"depthwise-s2", 9, 9, 5, 5, [4]int{10, 0, 10, 20}, 2, 4, [2]int{3, 2}, [4]int{5, 0, 5, 5}, [2]int{5, 5}},
	} {
		b := newGB(t)
		x := b.input(-1, 4, c.h, c.w)
		conv := b.add(ir.Conv, "conv", &ir.ConvAttrs{Stride: [2]int{c.stride, c.stride}, Dilation: [2]int{c.dil, c.dil}, Pads: c.pads, Group: c.group},
			x, b.w("w", 12, 4/c.group, c.k, c.k), b.w("b", 12))
		g := b.output(conv)
		apply(t, g, 0, "canonicalize")
		n := node(g, ir.Conv)
		a, ws := n.Attrs.(*ir.ConvAttrs), n.Inputs[1].Type.Shape
		if got := [2]int{ws[2], ws[3]}; got != c.wantK || a.Pads != c.wantPads || a.Dilations() != c.wantDil {
			t.Errorf("%s: kernel %v pads %v dilation %v, want %v %v %v", c.name, got, a.Pads, a.Dilations(), c.wantK, c.wantPads, c.wantDil)
		}
	}
	// Every tap dead (stride 10 over pads of 5): left alone.
	b := newGB(t)
	x := b.input(-1, 2, 2, 2)
	g := b.output(b.add(ir.Conv, "conv", &ir.ConvAttrs{Stride: [2]int{10, 10}, Pads: [4]int{5, 5, 5, 5}}, x, b.w("w", 2, 2, 1, 1)))
	apply(t, g, 0, "canonicalize")
	if a := node(g, ir.Conv).Attrs.(*ir.ConvAttrs); a.Pads != [4]int{5, 5, 5, 5} {
		t.Errorf("all-dead conv rewritten: pads %v", a.Pads)
	}
}

func TestReshapeForms(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 4, 1, 1)
	y := b.add(ir.Reshape, "r1", &ir.ReshapeAttrs{Shape: []int{0, -1}}, x)                                 // -> Flatten(1)
	z := b.add(ir.Reshape, "r2", &ir.ReshapeAttrs{Shape: []int{0, 2, 2}}, y)                               // chain -> one Reshape [-1,2,2]
	z = b.add(ir.Flatten, "f", &ir.FlattenAttrs{Axis: 1}, z)                                               // chain -> Flatten(1) of x
	w := b.add(ir.Reshape, "r3", &ir.ReshapeAttrs{Shape: []int{0, 4, 1, 1}}, x)                            // no-op
	v := b.add(ir.Reshape, "r4", &ir.ReshapeAttrs{Shape: []int{0, 0, -1}}, b.add(ir.Relu, "relu", nil, x)) // -> Reshape [-1,4,1]
	g := b.output(y, z, b.add(ir.Relu, "w", nil, w), v)
	apply(t, g, 0, "canonicalize")
	wantOps(t, g, "Flatten Flatten Relu Reshape Relu")
	for _, n := range g.Nodes {
		if n.Op == ir.Flatten && (n.Inputs[0] != x || n.Attrs.(*ir.FlattenAttrs).Axis != 1) {
			t.Errorf("%s: %s", n.Name, n.Format())
		}
		if n.Op == ir.Reshape && !slices.Equal(n.Attrs.(*ir.ReshapeAttrs).Shape, []int{-1, 4, 1}) {
			t.Errorf("%s: %s", n.Name, n.Format())
		}
	}
}

func TestFoldBatchNorm(t *testing.T) {
	for _, bias := range []bool{false, true} {
		b := newGB(t)
		x := b.input(-1, 3, 6, 6)
		y := b.bn("bn", b.conv("conv", x, 4, 3, bias))
		g := b.output(y)
		rep := apply(t, g, 1e-5, "fold-batchnorm")
		wantOps(t, g, "Conv")
		if len(g.Nodes[0].Inputs) != 3 || g.Outputs[0].Name != "bn" || rep.Passes[0].Rewrites["BatchNorm into Conv"] != 1 {
			t.Errorf("bias %v:\n%s", bias, g)
		}
	}
	// Gemm, with B transposed or not, with and without C.
	for _, transB := range []bool{false, true} {
		for _, cshape := range [][]int{nil, {5}} {
			b := newGB(t)
			in := gemmInputs(b, transB, cshape)
			y := b.add(ir.Gemm, "fc", &ir.GemmAttrs{Alpha: 0.5, Beta: 2, TransB: transB}, in...)
			y = b.add(ir.Relu, "relu", nil, b.bn("bn", y))
			g := b.output(y)
			apply(t, g, 1e-5, "fold-batchnorm")
			wantOps(t, g, "Gemm Relu")
		}
	}
}

func TestFoldBatchNormNegative(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 3, 6, 6)
	c := b.conv("conv", x, 3, 1, false)
	y := b.bn("bn1", c)                               // conv result read twice: stays
	z := b.bn("bn2", b.add(ir.Add, "add", nil, c, x)) // after an Add: stays
	v := b.bn("bn3", x)                               // after the input: stays
	c2 := b.add(ir.Relu, "r", nil, b.conv("conv2", x, 3, 1, true))
	w := b.bn("bn4", c2) // after a Relu: stays
	g := b.output(y, z, v, w)
	rep := apply(t, g, 1e-6, "fold-batchnorm")
	if got := Summarize(g).UnfoldedBatchNorms; !slices.Equal(got, []string{"bn1", "bn2", "bn3", "bn4"}) {
		t.Errorf("unfolded %v", got)
	}
	notes := strings.Join(rep.Passes[0].Notes, "\n")
	for _, want := range []string{`"bn1" not folded: the result of Conv "conv" has other readers`,
		`"bn2" not folded: its input is computed by Add "add"`, `"bn3" not folded: its input %x is not computed by a node`,
		`"bn4" not folded: its input is computed by Relu "r"`} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestFuseActivations(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 3, 6, 6)
	y := b.add(ir.Relu, "r", nil, b.conv("c1", x, 3, 3, true))
	y = b.add(ir.Relu6, "r6", nil, b.conv("c2", y, 3, 1, true))
	y = b.add(ir.HardSwish, "hs", nil, b.conv("c3", y, 3, 1, true))
	y = b.add(ir.HardSigmoid, "hsig", &ir.HardSigmoidAttrs{Alpha: 0.2, Beta: 0.5}, b.conv("c4", y, 3, 1, true))
	y = b.add(ir.Relu, "ar", nil, b.add(ir.Add, "add", nil, y, x))
	y = b.add(ir.HardSwish, "ahs", nil, b.add(ir.Add, "add2", nil, y, x)) // HardSwish does not fuse into Add
	f := b.add(ir.Flatten, "f", &ir.FlattenAttrs{Axis: 1}, b.add(ir.GlobalAveragePool, "gap", nil, y))
	z := b.add(ir.Relu, "logits", nil, b.add(ir.Gemm, "fc", &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, f, b.w("fw", 4, 3)))
	g := b.output(z)
	rep := apply(t, g, 1e-6, "fuse-activations")
	wantOps(t, g, "Conv Conv Conv Conv Add Add HardSwish GlobalAveragePool Flatten Gemm")
	s := Summarize(g)
	want := map[string][]string{"relu": {"c1", "add", "fc"}, "relu6": {"c2"}, "hardswish": {"c3"}, "hardsigmoid": {"c4"}}
	for k, v := range want {
		if !slices.Equal(s.FusedActivations[k], v) {
			t.Errorf("fused %s: %v, want %v", k, s.FusedActivations[k], v)
		}
	}
	if a := g.Nodes[3].Attrs.(*ir.ConvAttrs).Act; a.Alpha != 0.2 || a.Beta != 0.5 {
		t.Errorf("hardsigmoid parameters lost: %+v", a)
	}
	// The activation was a graph output: the Gemm takes over its name.
	if g.Outputs[0].Name != "logits" || g.Nodes[len(g.Nodes)-1].Output() != g.Outputs[0] {
		t.Errorf("output:\n%s", g)
	}
	if rep.Passes[0].Rewrites["fuse relu into Conv"] != 1 || rep.Passes[0].Rewrites["fuse relu into Add"] != 1 {
		t.Errorf("rewrites %v", rep.Passes[0].Rewrites)
	}
}

func TestFuseNegative(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 3, 6, 6)
	c := b.conv("c1", x, 3, 3, true)
	r := b.add(ir.Relu, "r", nil, c)
	y := b.add(ir.Add, "add", nil, r, c) // c has two readers: no fusion
	c2 := b.conv("c2", y, 3, 1, true)
	r2 := b.add(ir.Relu, "r2", nil, c2) // c2 is a graph output: no fusion
	g := b.output(b.add(ir.Relu6, "r3", nil, r2), c2)
	apply(t, g, 0, "fuse-activations")
	wantOps(t, g, "Conv Relu Add Conv Relu Relu6")
}

// se builds x -> GAP -> Conv(act) -> Conv(act hardsigmoid) -> Mul in
// unfused form, the Mul's operands in the given order.
func (b *gb) se(x *ir.Value, name string, swap bool) *ir.Value {
	c := x.Type.Shape[1]
	s := b.add(ir.GlobalAveragePool, name+".avgpool", nil, x)
	s = b.add(ir.Relu, name+".act", nil, b.conv(name+".fc1", s, 2, 1, true))
	s = b.add(ir.HardSigmoid, name+".gate", &ir.HardSigmoidAttrs{Alpha: float32(1.0 / 6), Beta: 0.5}, b.conv(name+".fc2", s, c, 1, false))
	if swap {
		return b.add(ir.Mul, name, nil, s, x)
	}
	return b.add(ir.Mul, name, nil, x, s)
}

func TestSqueezeExcite(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 4, 5, 5)
	y := b.se(b.conv("c", x, 6, 1, true), "se1", false)
	y = b.se(y, "se2", true)
	g := b.output(y)
	rep := apply(t, g, 1e-6, "fuse-activations", "squeeze-excite")
	wantOps(t, g, "Conv SqueezeExcite SqueezeExcite")
	if s := Summarize(g).SEUnits; !slices.Equal(s, []string{"se1", "se2"}) || g.Outputs[0].Name != "se2" {
		t.Errorf("SE units %v\n%s", s, g)
	}
	a := g.Nodes[1].Attrs.(*ir.SqueezeExciteAttrs)
	if a.Act.Kind != ir.ActRelu || a.Gate.Kind != ir.ActHardSigmoid || a.Gate.Beta != 0.5 {
		t.Errorf("attrs %v", a)
	}
	if rep.Passes[1].Rewrites["SqueezeExcite"] != 2 {
		t.Errorf("rewrites %v", rep.Passes[1].Rewrites)
	}
	if len(g.Consts) != 2+2*4 { // conv weight and bias, 4 parameters per SE unit (fc2.bias created)
		t.Errorf("%d constants:\n%s", len(g.Consts), g)
	}
}

func TestSqueezeExciteNegative(t *testing.T) {
	cases := map[string]func(b *gb, x *ir.Value) []*ir.Value{
		"gate of another value": func(b *gb, x *ir.Value) []*ir.Value {
			y := b.add(ir.Relu, "y", nil, x)
			s := b.add(ir.GlobalAveragePool, "gap", nil, y)
			s = b.add(ir.Relu, "a", nil, b.conv("fc1", s, 2, 1, true))
			s = b.add(ir.HardSigmoid, "g", &ir.HardSigmoidAttrs{Alpha: float32(1.0 / 6), Beta: 0.5}, b.conv("fc2", s, 4, 1, true))
			return []*ir.Value{b.add(ir.Mul, "m", nil, x, s)}
		},
		"squeeze read twice": func(b *gb, x *ir.Value) []*ir.Value {
			s := b.add(ir.GlobalAveragePool, "gap", nil, x)
			h := b.add(ir.Relu, "a", nil, b.conv("fc1", s, 2, 1, true))
			g := b.add(ir.HardSigmoid, "g", &ir.HardSigmoidAttrs{Alpha: float32(1.0 / 6), Beta: 0.5}, b.conv("fc2", h, 4, 1, true))
			return []*ir.Value{b.add(ir.Mul, "m", nil, x, g), h}
		},
		"sigmoid gate": func(b *gb, x *ir.Value) []*ir.Value {
			s := b.add(ir.GlobalAveragePool, "gap", nil, x)
			s = b.add(ir.Relu, "a", nil, b.conv("fc1", s, 2, 1, true))
			s = b.add(ir.Sigmoid, "g", nil, b.conv("fc2", s, 4, 1, true))
			return []*ir.Value{b.add(ir.Mul, "m", nil, x, s)}
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			b := newGB(t)
			g := b.output(build(b, b.input(-1, 4, 5, 5))...)
			apply(t, g, 1e-6, "fuse-activations", "squeeze-excite")
			if node(g, ir.SqueezeExcite) != nil {
				t.Errorf("SE recognised:\n%s", g)
			}
		})
	}
}

func TestDeadValues(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 4)
	b.add(ir.Relu, "dead2", nil, b.add(ir.Relu6, "dead1", nil, x))
	b.w("unused", 3)
	g := b.output(b.add(ir.Relu, "live", nil, x))
	rep := apply(t, g, 0, "dead-values")
	wantOps(t, g, "Relu")
	if len(g.Consts) != 0 || rep.Passes[0].Rewrites["remove node"] != 2 || rep.Passes[0].Rewrites["remove constant"] != 1 {
		t.Errorf("rewrites %v\n%s", rep.Passes[0].Rewrites, g)
	}
}

func TestFoldConstants(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 4)
	w := b.add(ir.Mul, "scaled", nil, b.w("w", 4), b.k(2))
	w = b.add(ir.Relu, "wr", nil, w)
	g := b.output(b.add(ir.Add, "y", nil, x, w))
	rep := apply(t, g, 0, "fold-constants")
	wantOps(t, g, "Add")
	if c := g.Nodes[0].Inputs[1]; !c.IsConst() || c.Name != "wr" {
		t.Errorf("graph:\n%s", g)
	}
	if rep.Passes[0].Rewrites["fold Mul"] != 1 || rep.Passes[0].Rewrites["fold Relu"] != 1 {
		t.Errorf("rewrites %v", rep.Passes[0].Rewrites)
	}
}

func TestLayoutNHWC(t *testing.T) {
	b := newGB(t)
	x := b.input(-1, 3, 6, 6)
	c := b.conv("c1", x, 4, 3, true)
	c = b.add(ir.Add, "bias", nil, c, b.w("perch", 4, 1, 1)) // a per-channel constant: permuted
	c = b.add(ir.Mul, "scale", nil, c, b.k(0.5))             // a scalar: kept
	p := b.add(ir.Pad, "pad", &ir.PadAttrs{Pads: []int{0, 0, 1, 0, 0, 0, 0, 2}, Mode: "reflect"}, c)
	d := b.conv("c2", p, 4, 1, true)
	cat := b.add(ir.Concat, "cat", &ir.ConcatAttrs{Axis: 1}, d, b.bn("bn", d))
	sm := b.add(ir.Softmax, "sm", &ir.SoftmaxAttrs{Axis: 1}, cat)
	tr := b.add(ir.Transpose, "tr", &ir.TransposeAttrs{Perm: []int{0, 1, 3, 2}}, sm) // no NHWC form: stays NCHW
	gap := b.add(ir.GlobalAveragePool, "gap", nil, sm)
	f := b.add(ir.Flatten, "flat", &ir.FlattenAttrs{Axis: 1}, gap)
	logits := b.add(ir.Gemm, "fc", &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, f, b.w("fw", 5, 8))
	g := b.output(logits, sm, tr)
	rep := apply(t, g, 1e-6, "layout-nhwc")
	for _, n := range g.Nodes {
		if ir.LayoutSensitive(n.Op) && n.Layout != ir.NHWC {
			t.Errorf("%s is %v", n.Name, n.Layout)
		}
	}
	// Transposes: the input, back to NCHW for the Transpose node and for the
	// output sm.
	if c := Summarize(g).Ops["Transpose"]; c != 3 {
		t.Errorf("%d Transposes (incl. the graph's own)\n%s", c, g)
	}
	if g.Outputs[0].Name != "fc" || g.Outputs[1].Name != "sm" || !g.Outputs[1].Type.Shape.Equal(ir.Shape{-1, 8, 7, 8}) {
		t.Errorf("outputs %v %v\n%s", g.Outputs[1], g.Outputs[1].Type, g)
	}
	if a := node(g, ir.Concat).Attrs.(*ir.ConcatAttrs); a.Axis != 3 {
		t.Errorf("concat axis %d", a.Axis)
	}
	if a := node(g, ir.Pad).Attrs.(*ir.PadAttrs); !slices.Equal(a.Pads, []int{0, 1, 0, 0, 0, 0, 2, 0}) {
		t.Errorf("pads %v", a.Pads)
	}
	if f := node(g, ir.Flatten); f.Inputs[0] != node(g, ir.GlobalAveragePool).Output() {
		t.Errorf("Flatten does not read the NHWC pool directly:\n%s", g)
	}
	if !strings.Contains(strings.Join(rep.Passes[0].Notes, "\n"), `Transpose "tr" runs NCHW`) {
		t.Errorf("notes %v", rep.Passes[0].Notes)
	}
}
