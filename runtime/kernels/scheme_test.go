package kernels

import (
	"math"
	"reflect"
	"testing"
)

// TestSchemeFunctions checks each derived parameter against the expression
// its doc comment states.
func TestSchemeFunctions(t *testing.T) {
	x, y := Quant{Scale: 0.05, Zero: -3}, Quant{Scale: 0.11, Zero: 7}
	sw := []float64{0.01, 0.002, 0.3}
	m, err := Multipliers(x.Scale, sw, y.Scale)
	if err != nil {
		t.Fatal(err)
	}
	for o, s := range sw {
		want, _ := NewMultiplier(x.Scale * s / y.Scale)
		if m[o] != want {
			t.Errorf("Multipliers channel %d = %v, want %v", o, m[o], want)
		}
	}
	if _, err := Multipliers(1, []float64{1, math.NaN()}, 1); err == nil || err.Error()[:9] != "channel 1" {
		t.Errorf("Multipliers with a NaN scale: %v, want an error naming channel 1", err)
	}
	mr, out, err := Requantization(x, sw, y, ReLU6)
	if err != nil || !reflect.DeepEqual(mr, m) || out != ClampRange(0, 6, y.Scale, y.Zero) {
		t.Errorf("Requantization = %v, %v, %v", mr, out, err)
	}
	for _, c := range []struct {
		b    Bounds
		want Range
	}{
		{NoClamp, Full},
		{ReLU, Range{7, 127}},
		{ReLU6, Range{7, 7 + int8(math.Round(6/0.11))}},
		{Bounds{-1, 1}, Range{7 - 9, 7 + 9}},
	} {
		if r := c.b.Range(y); r != c.want {
			t.Errorf("%v.Range = %v, want %v", c.b, r, c.want)
		}
	}
	if MaxAbs([]int32{3, -9, 5}) != 9 || MaxAbs(nil) != 0 || MaxAbs([]int32{math.MinInt32}) != 1<<31 {
		t.Error("MaxAbs")
	}

	pp, err := NewPoolParams(2, 49, 8, x, y)
	pm, _ := NewMultiplier(x.Scale / (49 * y.Scale))
	if err != nil || pp != (PoolParams{N: 2, HW: 49, C: 8, XZero: -3, YZero: 7, Mult: pm, Out: Full}) {
		t.Errorf("NewPoolParams = %+v, %v", pp, err)
	}
	if _, err := NewPoolParams(1, math.MaxInt32/255+1, 8, x, y); err == nil {
		t.Error("NewPoolParams accepted a pool whose sum may overflow int32")
	}
	g := Quant{Scale: 1.0 / 255, Zero: -128}
	cp, err := NewChannelMulParams(1, 49, 8, x, g, y, Range{0, 100})
	cm, _ := NewMultiplier(x.Scale * g.Scale / y.Scale)
	if err != nil || cp != (ChannelMulParams{N: 1, HW: 49, C: 8, XZero: -3, GZero: -128, YZero: 7, Mult: cm, Out: Range{0, 100}}) {
		t.Errorf("NewChannelMulParams = %+v, %v", cp, err)
	}
}

func TestChannelMulShape(t *testing.T) {
	for _, c := range []struct {
		x, g   []int
		hw, ch int
		ok     bool
	}{
		{[]int{1, 7, 5, 16}, []int{1, 1, 1, 16}, 35, 16, true},
		{[]int{2, 7, 5, 16}, []int{2, 1, 1, 16}, 35, 16, true},
		{[]int{-1, 7, 5, 16}, []int{-1, 1, 1, 16}, 35, 16, true},
		{[]int{3, 16}, []int{3, 16}, 1, 16, true},
		{[]int{1, 7, 5, 16}, []int{1, 1, 1, 8}, 0, 0, false},
		{[]int{1, 7, 5, 16}, []int{2, 1, 1, 16}, 0, 0, false},
		{[]int{1, 7, 5, 16}, []int{1, 7, 1, 16}, 0, 0, false},
		{[]int{1, 16}, []int{1, 1, 1, 16}, 0, 0, false},
		{[]int{3, 16}, []int{1, 16}, 0, 0, false},
	} {
		hw, ch, ok := ChannelMulShape(c.x, c.g)
		if hw != c.hw || ch != c.ch || ok != c.ok {
			t.Errorf("ChannelMulShape(%v, %v) = %d, %d, %v; want %d, %d, %v", c.x, c.g, hw, ch, ok, c.hw, c.ch, c.ok)
		}
	}
}

// TestNewSEParams: the unit's parts are those the package documentation
// composes, from the stated expressions.
func TestNewSEParams(t *testing.T) {
	q := &SEQuant{
		X: Quant{0.05, -3}, Squeeze: Quant{0.02, -128}, Excite: Quant{0.07, 4}, Gate: Quant{1.0 / 255, -128}, Y: Quant{0.04, 1},
		W1: []float64{0.01, 0.02}, W2: []float64{0.03, 0.04, 0.05}, Act: ReLU,
	}
	q.Table[5] = 9
	p, err := NewSEParams(1, 49, q, []int32{10, -20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := NewMultiplier(1.0 / 49)
	m1, _ := Multipliers(0.05, q.W1, 0.02)
	m2, _ := Multipliers(0.02, q.W2, 0.07)
	sc, _ := NewChannelMulParams(1, 49, 3, q.X, q.Gate, q.Y, Full)
	want := SEParams{
		Pool:    PoolParams{N: 1, HW: 49, C: 3, XZero: -3, YZero: -3, Mult: pm, Out: Full},
		Squeeze: GemmParams{M: 1, K: 3, N: 2, AZero: -3, YZero: -128, Mult: m1, Out: ReLU.Range(q.Squeeze)},
		Excite:  GemmParams{M: 1, K: 2, N: 3, AZero: -128, YZero: 4, Mult: m2, Out: Full},
		Gate:    q.Table,
		Scale:   sc,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("NewSEParams =\n%+v\nwant\n%+v", p, want)
	}
	if _, err := NewSEParams(1, 49, q, []int32{math.MaxInt32, 0}, nil); err == nil {
		t.Error("NewSEParams accepted a bias that may overflow the accumulator")
	}
}

// TestOutSize: the window rule, floor and ONNX's ceil mode.
func TestOutSize(t *testing.T) {
	for _, c := range []struct {
		n, k, s, d, a, b int
		ceil             bool
		want             int
	}{
		{224, 3, 2, 1, 0, 1, false, 112}, // TF's SAME on an even input
		{224, 3, 2, 1, 1, 1, false, 112},
		{7, 7, 1, 1, 0, 0, false, 1},
		{5, 3, 1, 2, 2, 2, false, 5}, // dilation 2
		{6, 3, 2, 1, 0, 0, false, 2},
		{6, 3, 2, 1, 0, 0, true, 3},
		{5, 2, 2, 1, 0, 1, true, 3}, // the last window starts in the input
		{4, 2, 2, 1, 0, 1, true, 2}, // it would start in the end padding: dropped
	} {
		if got, err := OutSize(c.n, c.k, c.s, c.d, c.a, c.b, c.ceil); err != nil || got != c.want {
			t.Errorf("OutSize%v = %d, %v; want %d", c, got, err, c.want)
		}
	}
	for _, c := range [][6]int{{2, 5, 1, 1, 0, 0}, {5, 3, 0, 1, 0, 0}, {5, 3, 1, 0, 0, 0}, {5, 3, 1, 1, -1, 0}, {5, 0, 1, 1, 0, 0}} {
		if _, err := OutSize(c[0], c[1], c[2], c[3], c[4], c[5], false); err == nil {
			t.Errorf("OutSize%v accepted", c)
		}
	}
}
