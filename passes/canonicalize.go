package passes

import (
	"math"
	"slices"

	"github.com/mncdev/mnc/ir"
)

// canonicalize rewrites the spellings different exporters use for one thing
// into one form, to a fixed point:
//
//   - Identity, Dropout, Clip(-Inf,+Inf), a ResizeBilinear to the size it
//     reads (every coordinate rule samples x = d there, weight 0: a copy,
//     as DeepLab's 33x33 -> 33x33) and Flatten/Reshape that do not change
//     the shape are dropped;
//   - Flatten/Reshape take one form: a chain collapses into one node; a
//     reshape to [prod(d0..dk-1), prod(dk..)] is Flatten(axis=k); any other
//     Reshape has its target resolved (no 0 entries, -1 only for an unknown
//     dimension);
//   - Clip(0,6) is Relu6 and Clip(0,+Inf) is Relu;
//   - relu6(x+3)/6 (or relu6(x+3)*(1/6)) is HardSigmoid(alpha=1/6, beta=1/2);
//     x*HardSigmoid(x) with those alpha and beta, and x*relu6(x+3)/6, are
//     HardSwish(x);
//   - MatMul of a rank-2 A is Gemm, and Gemm (without C) + Add of a constant
//     is Gemm with C;
//   - a Gemm with constant B and C takes the canonical form every later
//     stage expects: B stored [N,K] (transB) with alpha folded in, C a bias
//     [N] with beta folded in, alpha = beta = 1 (see canonGemm);
//   - a zero constant Pad of H and W whose readers are all Convs is folded
//     into their pads;
//   - a Conv's kernel rows and columns at either end that no output pixel
//     reads inside the input are dropped (trimDeadTaps).
func canonicalize(s *State) error {
	err := fixpoint(s, []func(*rw, *ir.Node) string{
		dropPassThrough, canonReshape, clipToRelu, recogniseHardSigmoid, recogniseHardSwish,
		matMulToGemm, gemmAddBias, canonGemm, padIntoConv, trimDeadTaps,
	})
	before := len(s.Graph.Consts)
	s.Graph.PruneConsts()
	s.CountN("drop unused constant", before-len(s.Graph.Consts))
	return err
}

func dropPassThrough(r *rw, n *ir.Node) string {
	switch n.Op {
	case ir.Identity, ir.Dropout:
	case ir.ResizeBilinear:
		a, x := n.Attrs.(*ir.ResizeAttrs), n.Inputs[0].Type.Shape
		if n.Layout != ir.NCHW || len(x) != 4 || x[2] != a.Size[0] || x[3] != a.Size[1] {
			return ""
		}
	case ir.Clip:
		a := n.Attrs.(*ir.ClipAttrs)
		if !(isNegInf(a.Min) && isPosInf(a.Max)) {
			return ""
		}
	default:
		return ""
	}
	if !r.bypass(n) {
		return ""
	}
	return "drop " + n.Op.String()
}

func isPosInf(f float32) bool { return f >= math.MaxFloat32 }
func isNegInf(f float32) bool { return f <= -math.MaxFloat32 }

func clipToRelu(r *rw, n *ir.Node) string {
	if n.Op != ir.Clip {
		return ""
	}
	a := n.Attrs.(*ir.ClipAttrs)
	switch {
	case a.Min == 0 && a.Max == 6:
		n.Op, n.Attrs = ir.Relu6, nil
		return "Clip(0,6) -> Relu6"
	case a.Min == 0 && isPosInf(a.Max):
		n.Op, n.Attrs = ir.Relu, nil
		return "Clip(0,inf) -> Relu"
	}
	return ""
}

// canonReshape gives Flatten and Reshape one form.
func canonReshape(r *rw, n *ir.Node) string {
	if n.Op != ir.Flatten && n.Op != ir.Reshape {
		return ""
	}
	in, out := n.Inputs[0], n.Output()
	if p := r.def(in, ir.Flatten, ir.Reshape); p != nil {
		// A reshape of a reshape is a reshape of the original input.
		x := p.Inputs[0]
		if op, attrs, ok := reshapeForm(x.Type.Shape, out.Type.Shape); ok {
			n.Op, n.Attrs, n.Inputs[0] = op, attrs, x
			r.refresh()
			r.removeDead(p)
			return "collapse Flatten/Reshape chain"
		}
	}
	if sameShape(in.Type.Shape, out.Type.Shape) {
		if r.bypass(n) {
			return "drop no-op " + n.Op.String()
		}
		return ""
	}
	op, attrs, ok := reshapeForm(in.Type.Shape, out.Type.Shape)
	if !ok || (op == n.Op && attrs.String() == n.Attrs.String()) {
		return ""
	}
	was := n.Op.String()
	n.Op, n.Attrs = op, attrs
	return was + " -> canonical " + op.String()
}

// sameShape reports whether a reshape from a to b is certainly the
// identity: equal ranks and dimensions, with at most one unknown.
func sameShape(a, b ir.Shape) bool {
	unknown := 0
	for _, d := range a {
		if d < 0 {
			unknown++
		}
	}
	return unknown <= 1 && a.Equal(b)
}

// reshapeForm returns the canonical node that reshapes in to out: Flatten
// when out is [prod(in[:k]), prod(in[k:])], else Reshape with a resolved
// target. ok is false if out has more than one unknown dimension (the
// target cannot be written without copying dimensions by position).
func reshapeForm(in, out ir.Shape) (ir.Op, ir.Attrs, bool) {
	if len(out) == 2 && out[1] >= 0 {
		// Prefer axis 1 (a batch of rows) over 0 when both fit a batch of 1.
		for _, k := range append(seq(1, len(in)), 0) {
			tail := in[k:].NumElements()
			if tail != out[1] {
				continue
			}
			head := in[:k].NumElements()
			if (head < 0) == (out[0] < 0) && (head < 0 || head == out[0]) {
				return ir.Flatten, &ir.FlattenAttrs{Axis: k}, true
			}
		}
	}
	target := make([]int, len(out))
	unknown := 0
	for i, d := range out {
		target[i] = d
		if d < 0 {
			target[i] = -1
			unknown++
		}
	}
	if unknown > 1 {
		return 0, nil, false
	}
	return ir.Reshape, &ir.ReshapeAttrs{Shape: target}, true
}

// seq returns lo, lo+1, ..., hi.
func seq(lo, hi int) []int {
	var s []int
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

// hardSigmoidOf matches relu6(x+3)/6 or relu6(x+3)*(1/6) at n and returns
// x and the nodes it consumes.
func hardSigmoidOf(r *rw, n *ir.Node) (*ir.Value, []*ir.Node) {
	var relu *ir.Node
	switch n.Op {
	case ir.Div:
		if isScalar(n.Inputs[1], 6) {
			relu = r.def(n.Inputs[0], ir.Relu6)
		}
	case ir.Mul:
		for _, v := range n.Inputs {
			if isScalar(other(n, v), 1.0/6) {
				if relu = r.def(v, ir.Relu6); relu != nil {
					break
				}
			}
		}
	}
	if relu == nil || !noAct(n) {
		return nil, nil
	}
	add := r.def(relu.Inputs[0], ir.Add)
	if add == nil || !noAct(add) {
		return nil, nil
	}
	for _, x := range add.Inputs {
		if isScalar(other(add, x), 3) && add.Output().Type.Shape.Equal(x.Type.Shape) &&
			n.Output().Type.Shape.Equal(x.Type.Shape) && !x.IsConst() {
			return x, []*ir.Node{relu, add}
		}
	}
	return nil, nil
}

func recogniseHardSigmoid(r *rw, n *ir.Node) string {
	x, consumed := hardSigmoidOf(r, n)
	if x == nil {
		return ""
	}
	n.Op, n.Inputs, n.Attrs = ir.HardSigmoid, []*ir.Value{x}, &ir.HardSigmoidAttrs{Alpha: 1.0 / 6, Beta: 0.5}
	r.refresh()
	r.removeDead(consumed...)
	return "relu6(x+3)/6 -> HardSigmoid"
}

// isStdHardSigmoid reports whether n is HardSigmoid(alpha=1/6, beta=1/2).
func isStdHardSigmoid(n *ir.Node) bool {
	a, ok := n.Attrs.(*ir.HardSigmoidAttrs)
	return ok && n.Op == ir.HardSigmoid && math.Abs(float64(a.Alpha)-1.0/6) <= 1e-6 && a.Beta == 0.5
}

func recogniseHardSwish(r *rw, n *ir.Node) string {
	if !noAct(n) {
		return ""
	}
	// x * HardSigmoid(x), either order.
	if n.Op == ir.Mul {
		for _, v := range n.Inputs {
			h := r.def(v, ir.HardSigmoid)
			if h != nil && isStdHardSigmoid(h) && h.Inputs[0] == other(n, v) && sameType(n.Output(), h.Inputs[0]) {
				n.Op, n.Inputs, n.Attrs = ir.HardSwish, []*ir.Value{h.Inputs[0]}, nil
				r.refresh()
				r.removeDead(h)
				return "x*HardSigmoid(x) -> HardSwish"
			}
		}
	}
	// (x * relu6(x+3)) / 6 or * (1/6), the product in either order.
	var m *ir.Node
	switch n.Op {
	case ir.Div:
		if isScalar(n.Inputs[1], 6) {
			m = r.def(n.Inputs[0], ir.Mul)
		}
	case ir.Mul:
		for _, v := range n.Inputs {
			if isScalar(other(n, v), 1.0/6) {
				if m = r.def(v, ir.Mul); m != nil {
					break
				}
			}
		}
	}
	if m == nil || !noAct(m) {
		return ""
	}
	for _, v := range m.Inputs {
		relu := r.def(v, ir.Relu6)
		if relu == nil {
			continue
		}
		add := r.def(relu.Inputs[0], ir.Add)
		x := other(m, v)
		if add == nil || !noAct(add) || !slices.Contains(add.Inputs, x) || !isScalar(other(add, x), 3) ||
			!sameType(n.Output(), x) || !sameType(add.Output(), x) {
			continue
		}
		n.Op, n.Inputs, n.Attrs = ir.HardSwish, []*ir.Value{x}, nil
		r.refresh()
		r.removeDead(m)
		return "x*relu6(x+3)/6 -> HardSwish"
	}
	return ""
}

func sameType(a, b *ir.Value) bool {
	return a.Type.DType == b.Type.DType && a.Type.Shape.Equal(b.Type.Shape)
}

func matMulToGemm(r *rw, n *ir.Node) string {
	if n.Op != ir.MatMul || len(n.Inputs[0].Type.Shape) != 2 || len(n.Inputs[1].Type.Shape) != 2 {
		return ""
	}
	n.Op, n.Attrs = ir.Gemm, &ir.GemmAttrs{Alpha: 1, Beta: 1}
	return "MatMul -> Gemm"
}

// gemmAddBias folds Add(Gemm(A, B), C) with C constant into Gemm(A, B, C).
func gemmAddBias(r *rw, n *ir.Node) string {
	if n.Op != ir.Add || !noAct(n) {
		return ""
	}
	for _, v := range n.Inputs {
		gm := r.def(v, ir.Gemm)
		c := other(n, v)
		if gm == nil || len(gm.Inputs) != 2 || !noAct(gm) || !r.soleReader(v, n) || !c.IsConst() ||
			len(c.Type.Shape) > 2 || !n.Output().Type.Shape.Equal(v.Type.Shape) {
			continue
		}
		a := *gm.Attrs.(*ir.GemmAttrs)
		a.Beta = 1
		// The Add node becomes the Gemm, keeping the Add's output value.
		n.Op, n.Inputs, n.Attrs, n.Name = ir.Gemm, []*ir.Value{gm.Inputs[0], gm.Inputs[1], c}, &a, gm.Name
		r.remove(gm)
		return "Gemm+Add -> Gemm"
	}
	return ""
}

// canonGemm gives a Gemm whose B is a float32 constant (and C, if present,
// a float32 constant per output: [N], [1,N] or one value) its canonical
// form: B [N,K] (transB) holding alpha*B, C a bias [N] holding beta*C, and
// alpha = beta = 1. Each folded value is the float32 product of two float32
// values, which equals float32(float64(alpha)*float64(v)); with alpha and
// beta 1 nothing changes but the layout. Any other Gemm keeps its form (and
// quantization and codegen reject it).
func canonGemm(r *rw, n *ir.Node) string {
	if n.Op != ir.Gemm {
		return ""
	}
	a := n.Attrs.(*ir.GemmAttrs)
	w := n.Inputs[1]
	if a.TransA || !w.IsConst() || w.Const.DType != ir.Float32 || len(w.Type.Shape) != 2 {
		return ""
	}
	nOut, k := w.Type.Shape[0], w.Type.Shape[1]
	if !a.TransB {
		nOut, k = k, nOut
	}
	var c *ir.Value
	if len(n.Inputs) == 3 {
		c = n.Inputs[2]
		cs := c.Type.Shape
		perOut := cs.NumElements() == nOut && (len(cs) == 1 || (len(cs) == 2 && cs[0] == 1))
		if !c.IsConst() || c.Const.DType != ir.Float32 || !(perOut || cs.NumElements() == 1) {
			return ""
		}
	}
	cIsBias := c == nil || (len(c.Type.Shape) == 1 && c.Type.Shape[0] == nOut)
	if a.TransB && a.Alpha == 1 && a.Beta == 1 && cIsBias {
		return ""
	}
	if !a.TransB || a.Alpha != 1 {
		src, data := w.Const.F32, make([]float32, nOut*k)
		for o := range nOut {
			for i := range k {
				v := src[o*k+i]
				if !a.TransB {
					v = src[i*nOut+o]
				}
				data[o*k+i] = a.Alpha * v
			}
		}
		n.Inputs[1] = r.setConst(w, n, ir.NewFloat32(ir.Shape{nOut, k}, data))
	}
	if c != nil && (a.Beta != 1 || !cIsBias) {
		src, data := c.Const.F32, make([]float32, nOut)
		for i := range data {
			data[i] = a.Beta * src[min(i, len(src)-1)] // one value broadcasts
		}
		n.Inputs[2] = r.setConst(c, n, ir.NewFloat32(ir.Shape{nOut}, data))
	}
	canon := *a
	canon.TransB, canon.Alpha, canon.Beta = true, 1, 1
	n.Attrs = &canon
	return "Gemm -> canonical Gemm (B [N,K], alpha and beta folded)"
}

// padIntoConv folds Pad(x, constant 0, H and W only) into the Convs reading
// it.
func padIntoConv(r *rw, n *ir.Node) string {
	if n.Op != ir.Pad || len(n.Inputs[0].Type.Shape) != 4 || r.outputs[n.Output()] {
		return ""
	}
	a := n.Attrs.(*ir.PadAttrs)
	p := a.Pads
	if a.Mode != "constant" || a.Value != 0 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 {
		return ""
	}
	for _, v := range p {
		if v < 0 {
			return ""
		}
	}
	readers := r.uses[n.Output()]
	if len(readers) == 0 {
		return ""
	}
	for _, c := range readers {
		if c.Op != ir.Conv || c.Layout != ir.NCHW || c.Inputs[0] != n.Output() || slices.Contains(c.Inputs[1:], n.Output()) {
			return ""
		}
	}
	for _, c := range readers {
		ca := *c.Attrs.(*ir.ConvAttrs)
		ca.Pads[0] += p[2]
		ca.Pads[1] += p[3]
		ca.Pads[2] += p[6]
		ca.Pads[3] += p[7]
		c.Attrs, c.Inputs[0] = &ca, n.Inputs[0]
	}
	r.remove(n)
	return "Pad -> Conv pads"
}

// trimDeadTaps drops the kernel rows (and columns) at either end of a
// Conv's window that read padding for every output pixel: such a tap meets
// zero in float and the zero point in int8, a product of zero either way,
// so the smaller kernel, its pads reduced by the dilation steps dropped,
// computes the same sums over the same taps, and the output keeps its
// size. The live rows form one range (the window slides by the dilation
// from row to row), so nothing is dropped from its middle. DeepLabV3's
// ASPP branch at rate 36 on a 33x33 map is a 1x1 convolution; at rates 12
// and 24 every row meets the map somewhere and stays. A Conv whose every
// tap is dead, or whose pads would go negative, is left as it is.
func trimDeadTaps(r *rw, n *ir.Node) string {
	if n.Op != ir.Conv || n.Layout != ir.NCHW || len(n.Inputs) < 2 || n.Inputs[1] == nil || n.Inputs[1].Const == nil {
		return ""
	}
	x, y, w := n.Inputs[0].Type.Shape, n.Output().Type.Shape, n.Inputs[1].Const
	if len(x) != 4 || len(y) != 4 || len(w.Shape) != 4 || w.DType != ir.Float32 || x[2] < 1 || x[3] < 1 || y[2] < 1 || y[3] < 1 {
		return ""
	}
	a := *n.Attrs.(*ir.ConvAttrs)
	d := a.Dilations()
	// live returns the first and last kernel index along one axis whose
	// taps fall inside [0, in) for some output index.
	live := func(k, in, out, stride, dil, pad int) (k0, k1 int) {
		ok := func(i int) bool {
			lo, hi := i*dil-pad, (out-1)*stride+i*dil-pad
			return hi >= 0 && lo < in
		}
		k0, k1 = 0, k-1
		for k0 < k && !ok(k0) {
			k0++
		}
		for k1 > k0 && !ok(k1) {
			k1--
		}
		return k0, k1
	}
	kh, kw := w.Shape[2], w.Shape[3]
	h0, h1 := live(kh, x[2], y[2], a.Stride[0], d[0], a.Pads[0])
	w0, w1 := live(kw, x[3], y[3], a.Stride[1], d[1], a.Pads[1])
	if h0 == kh || w0 == kw || (h0 == 0 && h1 == kh-1 && w0 == 0 && w1 == kw-1) {
		return ""
	}
	pads := [4]int{a.Pads[0] - h0*d[0], a.Pads[1] - w0*d[1], a.Pads[2] - (kh-1-h1)*d[0], a.Pads[3] - (kw-1-w1)*d[1]}
	for _, p := range pads {
		if p < 0 {
			return ""
		}
	}
	nh, nw := h1-h0+1, w1-w0+1
	t := ir.NewFloat32(ir.Shape{w.Shape[0], w.Shape[1], nh, nw}, nil)
	for o := range w.Shape[0] * w.Shape[1] {
		for i := range nh {
			src := w.F32[(o*kh+h0+i)*kw+w0:][:nw]
			copy(t.F32[(o*nh+i)*nw:], src)
		}
	}
	a.Pads = pads
	if nh == 1 {
		a.Dilation[0] = 1
	}
	if nw == 1 {
		a.Dilation[1] = 1
	}
	n.Attrs = &a
	n.Inputs[1] = r.setConst(n.Inputs[1], n, t)
	return "drop a Conv's dead taps"
}
