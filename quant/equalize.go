package quant

import (
	"math"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/kernels"
)

// Equalize applies cross-layer equalization (Nagel et al. 2019, "Data-Free
// Quantization Through Weight Equalization and Bias Correction", section
// 4.1) to g in place and returns the number of layer pairs equalized.
//
// A pair is two convolutions y = W2 f(W1 x + b1) + b2 where the first's
// result is read only by the second, f is the identity or ReLU (positively
// homogeneous, so f(x/s) = f(x)/s for s > 0; ReLU6, hard-swish and the
// others are not, and such pairs are left alone), and the second is dense
// (one group) or depthwise. Channel i of the first layer is divided by
//
//	s_i = sqrt(r1_i / r2_i),  r1_i = max|W1[i,:]|, r2_i = max|W2[:,i]|
//
// and input channel i of the second multiplied by it, which leaves the
// function unchanged and gives both layers the range sqrt(r1_i r2_i) for
// that channel. The sweep over all pairs repeats until the scales settle
// (at most 20 rounds), since a layer can be the second of one pair and the
// first of the next.
func Equalize(g *ir.Graph) (int, error) {
	uses := g.Uses()
	type pair struct{ a, b *ir.Node }
	var pairs []pair
	for _, n := range g.Nodes {
		if n.Op != ir.Conv {
			continue
		}
		a := n.Attrs.(*ir.ConvAttrs)
		if a.Act.Kind != ir.ActNone && a.Act.Kind != ir.ActRelu {
			continue
		}
		y := n.Output()
		if g.IsOutput(y) || len(uses[y]) != 1 {
			continue
		}
		m := uses[y][0]
		if m.Op != ir.Conv || m.Inputs[0] != y || m.Layout != n.Layout || !constF32(n.Inputs[1]) || !constF32(m.Inputs[1]) {
			continue
		}
		if len(n.Inputs) == 3 && !constF32(n.Inputs[2]) {
			continue
		}
		ma := m.Attrs.(*ir.ConvAttrs)
		o := n.Inputs[1].Type.Shape[0]
		mw := m.Inputs[1].Type.Shape
		dense := ma.Groups() == 1 && mw[1] == o
		depthwise := ma.Groups() == o && mw[1] == 1 && mw[0] == o
		if !dense && !depthwise {
			continue
		}
		pairs = append(pairs, pair{n, m})
	}
	if len(pairs) == 0 {
		return 0, nil
	}
	// Constants may be shared with other graphs: equalize copies.
	owned := map[*ir.Value]bool{}
	own := func(v *ir.Value) {
		if !owned[v] {
			v.Const = v.Const.Clone()
			owned[v] = true
		}
	}
	for _, p := range pairs {
		for _, v := range append(append([]*ir.Value(nil), p.a.Inputs[1:]...), p.b.Inputs[1]) {
			own(v)
		}
	}
	for range 20 {
		changed := 0.0
		for _, p := range pairs {
			changed = max(changed, equalizePair(p.a, p.b))
		}
		if changed < 1e-3 {
			break
		}
	}
	return len(pairs), nil
}

func constF32(v *ir.Value) bool { return v.IsConst() && v.Const.DType == ir.Float32 }

// equalizePair rescales one pair and returns the largest |log s_i|.
func equalizePair(a, b *ir.Node) float64 {
	w1 := a.Inputs[1].Const
	o := w1.Shape[0]
	per1 := len(w1.F32) / o
	w2 := b.Inputs[1].Const
	ws2 := w2.Shape // O2, C2, KH, KW
	k2 := ws2[2] * ws2[3]
	depthwise := ws2[1] == 1 && ws2[0] == o && b.Attrs.(*ir.ConvAttrs).Groups() == o
	var bias []float32
	if len(a.Inputs) == 3 {
		bias = a.Inputs[2].Const.F32
	}
	worst := 0.0
	for i := range o {
		var r1, r2 float64
		for _, v := range w1.F32[i*per1 : (i+1)*per1] {
			r1 = max(r1, math.Abs(float64(v)))
		}
		forEachIn2(w2.F32, ws2, k2, i, depthwise, func(j int) { r2 = max(r2, math.Abs(float64(w2.F32[j]))) })
		if r1 == 0 || r2 == 0 {
			continue
		}
		s := math.Sqrt(r1 / r2)
		s = max(1e-3, min(1e3, s))
		worst = max(worst, math.Abs(kernels.Log(s)))
		for j := i * per1; j < (i+1)*per1; j++ {
			w1.F32[j] = float32(float64(w1.F32[j]) / s)
		}
		if bias != nil {
			bias[i] = float32(float64(bias[i]) / s)
		}
		forEachIn2(w2.F32, ws2, k2, i, depthwise, func(j int) { w2.F32[j] = float32(float64(w2.F32[j]) * s) })
	}
	return worst
}

// forEachIn2 calls f with the index of every weight of the second layer that
// reads input channel i.
func forEachIn2(w []float32, ws ir.Shape, k int, i int, depthwise bool, f func(j int)) {
	if depthwise {
		for j := i * k; j < (i+1)*k; j++ {
			f(j)
		}
		return
	}
	c := ws[1]
	for oc := range ws[0] {
		base := (oc*c + i) * k
		for j := base; j < base+k; j++ {
			f(j)
		}
	}
}
