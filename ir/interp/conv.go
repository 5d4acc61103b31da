package interp

import (
	"github.com/mncdev/mnc/ir"
)

// convGeom is the geometry of one Conv, with the index arithmetic that does
// not depend on the output element precomputed.
type convGeom struct {
	N, C, H, W int // input
	O, OH, OW  int // output
	KH, KW     int // kernel
	sh, sw     int // strides
	dh, dw     int // dilations
	pt, pl     int // top and left pads (bottom and right only bound OH, OW)
	cpg, opg   int // input and output channels per group
	// Output rows oy in [oyLo[kh], oyHi[kh]) read an input row for tap kh;
	// output columns ox in [oxLo[kw], oxHi[kw]) read an input column for tap
	// kw. Columns in [in0, in1) read input columns for every kw (interior).
	oyLo, oyHi []int
	oxLo, oxHi []int
	in0, in1   int
	pointwise  bool // 1x1 kernel, stride 1, no padding: planes map one to one
	hasBias    bool
	act        ir.Activation
	x, w, b, y []float32
	inPlane    int
	outPlane   int
}

// validRange returns the output positions [lo, hi) whose input position
// o*stride - pad + k*dil lies inside [0, in).
func validRange(k, stride, dil, pad, in, out int) (lo, hi int) {
	off := k*dil - pad
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if in-1-off < 0 {
		return 0, 0
	}
	hi = min((in-1-off)/stride+1, out)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// conv computes y[n,o,oy,ox] = act(sum_{c,kh,kw} x[n,c,iy,ix]*w[o,c,kh,kw] + b[o])
// for iy = oy*sh - pt + kh*dh, ix = ox*sw - pl + kw*dw, with taps in the
// padding contributing nothing. For every output element the float64 sum runs
// over c, kh, kw in that order (lexicographic, skipping padding), starting
// from 0, then the bias is added; the loops below only change which elements
// are worked on together, never that per-element sequence. Work is split over
// (n, o) pairs.
func conv(a *ir.ConvAttrs, in []*ir.Tensor, out *ir.Tensor, workers int) error {
	x, w := in[0], in[1]
	d := a.Dilations()
	g := &convGeom{
		N: x.Shape[0], C: x.Shape[1], H: x.Shape[2], W: x.Shape[3],
		O: out.Shape[1], OH: out.Shape[2], OW: out.Shape[3],
		KH: w.Shape[2], KW: w.Shape[3],
		sh: a.Stride[0], sw: a.Stride[1], dh: d[0], dw: d[1], pt: a.Pads[0], pl: a.Pads[1],
		act: a.Act, x: x.F32, w: w.F32, y: out.F32,
	}
	g.cpg = w.Shape[1]
	g.opg = g.O / a.Groups()
	g.inPlane, g.outPlane = g.H*g.W, g.OH*g.OW
	if len(in) == 3 {
		g.hasBias, g.b = true, in[2].F32
	}
	g.oyLo, g.oyHi = make([]int, g.KH), make([]int, g.KH)
	for kh := range g.KH {
		g.oyLo[kh], g.oyHi[kh] = validRange(kh, g.sh, g.dh, g.pt, g.H, g.OH)
	}
	g.oxLo, g.oxHi = make([]int, g.KW), make([]int, g.KW)
	g.in0, g.in1 = 0, g.OW
	for kw := range g.KW {
		g.oxLo[kw], g.oxHi[kw] = validRange(kw, g.sw, g.dw, g.pl, g.W, g.OW)
		g.in0, g.in1 = max(g.in0, g.oxLo[kw]), min(g.in1, g.oxHi[kw])
	}
	if g.in0 >= g.in1 {
		g.in0, g.in1 = g.OW, g.OW // no interior: every column is a border column
	}
	g.pointwise = g.KH == 1 && g.KW == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 &&
		g.OH == g.H && g.OW == g.W
	if g.outPlane == 0 {
		return nil
	}
	parallelFor(g.N*g.O, workers, func(lo, hi int) {
		acc := make([]float64, g.outPlane)
		wf := make([]float64, g.KW)
		for t := lo; t < hi; t++ {
			g.plane(acc, wf, t/g.O, t%g.O)
		}
	})
	return nil
}

// plane computes the output plane y[n,o,:,:], using acc and wf as scratch.
func (g *convGeom) plane(acc, wf []float64, n, o int) {
	clear(acc)
	c0 := (o / g.opg) * g.cpg // first input channel of o's group
	kArea := g.KH * g.KW
	wo := g.w[o*g.cpg*kArea : (o+1)*g.cpg*kArea]
	x := g.x[(n*g.C+c0)*g.inPlane : (n*g.C+c0+g.cpg)*g.inPlane]
	if g.pointwise {
		g.pointwisePlane(acc, x, wo)
	} else {
		for ci := range g.cpg {
			xc := x[ci*g.inPlane : (ci+1)*g.inPlane]
			for kh := range g.KH {
				for kw := range g.KW {
					wf[kw] = float64(wo[(ci*g.KH+kh)*g.KW+kw])
				}
				off := kh*g.dh - g.pt
				for oy := g.oyLo[kh]; oy < g.oyHi[kh]; oy++ {
					iy := oy*g.sh + off
					g.row(acc[oy*g.OW:(oy+1)*g.OW], xc[iy*g.W:(iy+1)*g.W], wf)
				}
			}
		}
	}
	if g.hasBias {
		bias := float64(g.b[o])
		for i := range acc {
			acc[i] += bias
		}
	}
	activate(g.act, g.y[(n*g.O+o)*g.outPlane:(n*g.O+o+1)*g.outPlane], acc)
}

// row adds the taps kw = 0..KW-1 (weights wf) of one kernel row to one output
// row: a[ox] += wf[kw] * x[ox*sw - pl + kw*dw] for the taps inside x, in
// increasing kw for each ox.
func (g *convGeom) row(a []float64, x []float32, wf []float64) {
	// Border columns: some taps fall in the padding.
	for ox := range g.in0 {
		g.borderElem(a, x, wf, ox)
	}
	for ox := g.in1; ox < g.OW; ox++ {
		g.borderElem(a, x, wf, ox)
	}
	// Interior columns: every tap is inside.
	sw, dw := g.sw, g.dw
	ai := a[g.in0:g.in1]
	if len(ai) == 0 {
		return
	}
	xi := x[g.in0*sw-g.pl:]
	switch {
	case g.KW == 1 && sw == 1:
		w0 := wf[0]
		xi = xi[:len(ai)]
		for i, v := range xi {
			ai[i] += w0 * float64(v)
		}
	case g.KW == 3 && sw == 1:
		w0, w1, w2 := wf[0], wf[1], wf[2]
		xi = xi[:len(ai)+2*dw]
		for i := range ai {
			s := ai[i]
			s += w0 * float64(xi[i])
			s += w1 * float64(xi[i+dw])
			s += w2 * float64(xi[i+2*dw])
			ai[i] = s
		}
	case g.KW == 3:
		w0, w1, w2 := wf[0], wf[1], wf[2]
		for i := range ai {
			j := i * sw
			s := ai[i]
			s += w0 * float64(xi[j])
			s += w1 * float64(xi[j+dw])
			s += w2 * float64(xi[j+2*dw])
			ai[i] = s
		}
	default:
		for i := range ai {
			j := i * sw
			s := ai[i]
			for kw, wv := range wf {
				s += wv * float64(xi[j+kw*dw])
			}
			ai[i] = s
		}
	}
}

// borderElem is row for a single column, testing each tap.
func (g *convGeom) borderElem(a []float64, x []float32, wf []float64, ox int) {
	s := a[ox]
	for kw, wv := range wf {
		if ox >= g.oxLo[kw] && ox < g.oxHi[kw] {
			s += wv * float64(x[ox*g.sw-g.pl+kw*g.dw])
		}
	}
	a[ox] = s
}

// pointwisePlane handles 1x1 kernels with stride 1 and no padding, where
// output plane and input planes coincide: acc[i] += w[c]*x[c][i] for c in
// order, four channels per pass to keep the sum in a register.
func (g *convGeom) pointwisePlane(acc []float64, x []float32, w []float32) {
	P := g.inPlane
	c := 0
	for ; c+4 <= g.cpg; c += 4 {
		w0, w1, w2, w3 := float64(w[c]), float64(w[c+1]), float64(w[c+2]), float64(w[c+3])
		x0 := x[c*P : c*P+P]
		x1 := x[(c+1)*P : (c+1)*P+P]
		x2 := x[(c+2)*P : (c+2)*P+P]
		x3 := x[(c+3)*P : (c+3)*P+P]
		a := acc[:P]
		x0, x1, x2, x3 = x0[:len(a)], x1[:len(a)], x2[:len(a)], x3[:len(a)]
		for i := range a {
			s := a[i]
			s += w0 * float64(x0[i])
			s += w1 * float64(x1[i])
			s += w2 * float64(x2[i])
			s += w3 * float64(x3[i])
			a[i] = s
		}
	}
	for ; c < g.cpg; c++ {
		wv := float64(w[c])
		xc := x[c*P : c*P+P]
		a := acc[:len(xc)]
		for i, v := range xc {
			a[i] += wv * float64(v)
		}
	}
}

// squeezeExcite computes y = x * Gate(conv1x1(W2, B2, Act(conv1x1(W1, B1,
// GlobalAveragePool(x))))) exactly as the unfused GlobalAveragePool, Conv
// (with Act fused), Conv (with Gate fused) and Mul nodes would, rounding to
// float32 between the steps as they do.
func squeezeExcite(a *ir.SqueezeExciteAttrs, in []*ir.Tensor, out *ir.Tensor, workers int) error {
	x, w1, b1, w2, b2 := in[0], in[1], in[2], in[3], in[4]
	N, C, S := x.Shape[0], x.Shape[1], w1.Shape[0]
	pooled := ir.NewFloat32(ir.Shape{N, C, 1, 1}, nil)
	globalAveragePool(x, pooled)
	squeezed := ir.NewFloat32(ir.Shape{N, S, 1, 1}, nil)
	if err := conv(&ir.ConvAttrs{Stride: [2]int{1, 1}, Act: a.Act}, []*ir.Tensor{pooled, w1, b1}, squeezed, workers); err != nil {
		return err
	}
	gate := ir.NewFloat32(ir.Shape{N, C, 1, 1}, nil)
	if err := conv(&ir.ConvAttrs{Stride: [2]int{1, 1}, Act: a.Gate}, []*ir.Tensor{squeezed, w2, b2}, gate, workers); err != nil {
		return err
	}
	binary(ir.Mul, ir.Activation{}, x, gate, out)
	return nil
}
