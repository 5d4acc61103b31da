package passes

import (
	"slices"

	"github.com/mncdev/mnc/ir"
)

// squeezeExcite recognises squeeze-and-excitation units in fused form,
//
//	p = GlobalAveragePool(x)
//	h = Conv1x1(p, W1[S,C,1,1], B1?) act=A           (A: any activation, ReLU in MobileNetV3)
//	g = Conv1x1(h, W2[C,S,1,1], B2?) act=hardsigmoid
//	y = Mul(x, g)                                      (either operand order)
//
// with p, h and g read by nothing else, and replaces the Mul by one
// SqueezeExcite(x, W1, B1, W2, B2){Act: A, Gate: hardsigmoid} node that
// keeps the Mul's name and output value (missing biases become zero
// constants). All nodes must be NCHW.
func squeezeExcite(s *State) error {
	r := newRW(s.Graph)
	for _, n := range slices.Clone(s.Graph.Nodes) {
		if n.Op != ir.Mul || !noAct(n) {
			continue
		}
		for _, gate := range n.Inputs {
			x := other(n, gate)
			if se := matchSE(r, n, x, gate); se != nil {
				s.Count("SqueezeExcite")
				break
			}
		}
	}
	s.Graph.PruneConsts()
	return nil
}

// matchSE rewrites the Mul n = x * gate if it ends an SE unit.
func matchSE(r *rw, n *ir.Node, x, gate *ir.Value) *ir.Node {
	if !sameType(n.Output(), x) || len(x.Type.Shape) != 4 {
		return nil
	}
	c2 := r.def(gate, ir.Conv)
	if c2 == nil || !r.soleReader(gate, n) || !pointwise(c2) || c2.Attrs.(*ir.ConvAttrs).Act.Kind != ir.ActHardSigmoid {
		return nil
	}
	c1 := r.def(c2.Inputs[0], ir.Conv)
	if c1 == nil || !r.soleReader(c2.Inputs[0], c2) || !pointwise(c1) {
		return nil
	}
	gap := r.def(c1.Inputs[0], ir.GlobalAveragePool)
	if gap == nil || !r.soleReader(c1.Inputs[0], c1) || gap.Layout != ir.NCHW || gap.Inputs[0] != x {
		return nil
	}
	for _, v := range append(slices.Clone(c1.Inputs[1:]), c2.Inputs[1:]...) {
		if !v.IsConst() {
			return nil
		}
	}
	if c1.Inputs[1].Type.DType != ir.Float32 || c2.Inputs[1].Type.DType != ir.Float32 {
		return nil
	}
	bias := func(c *ir.Node) *ir.Value {
		if len(c.Inputs) == 3 {
			return c.Inputs[2]
		}
		w := c.Inputs[1]
		return r.g.AddConst(c.Name+".bias", &ir.Tensor{DType: w.Type.DType, Shape: ir.Shape{w.Type.Shape[0]},
			F32: make([]float32, w.Type.Shape[0])})
	}
	inputs := []*ir.Value{x, c1.Inputs[1], bias(c1), c2.Inputs[1], bias(c2)}
	attrs := &ir.SqueezeExciteAttrs{Act: c1.Attrs.(*ir.ConvAttrs).Act, Gate: c2.Attrs.(*ir.ConvAttrs).Act}
	se := &ir.Node{Name: n.Name, Op: ir.SqueezeExcite, Inputs: inputs, Attrs: attrs, Outputs: n.Outputs}
	if err := reinfer(se); err != nil {
		return nil // shapes do not fit an SE unit
	}
	n.Op, n.Inputs, n.Attrs = se.Op, se.Inputs, se.Attrs
	r.refresh()
	r.removeDead(c2)
	return n
}

// pointwise reports whether c is an NCHW 1x1 convolution with stride 1, no
// padding and one group.
func pointwise(c *ir.Node) bool {
	a := c.Attrs.(*ir.ConvAttrs)
	w := c.Inputs[1].Type.Shape
	return c.Layout == ir.NCHW && a.Groups() == 1 && a.Stride == [2]int{1, 1} && a.Pads == [4]int{} &&
		len(w) == 4 && w[2] == 1 && w[3] == 1
}
