package passes

import (
	"slices"

	"github.com/mncdev/mnc/ir"
)

// activationOf returns the fusable activation computed by node n.
func activationOf(n *ir.Node) (ir.Activation, bool) {
	switch n.Op {
	case ir.Relu:
		return ir.Activation{Kind: ir.ActRelu}, true
	case ir.Relu6:
		return ir.Activation{Kind: ir.ActRelu6}, true
	case ir.Clip:
		a := n.Attrs.(*ir.ClipAttrs)
		return ir.Activation{Kind: ir.ActClip, Min: a.Min, Max: a.Max}, true
	case ir.HardSigmoid:
		a := n.Attrs.(*ir.HardSigmoidAttrs)
		return ir.Activation{Kind: ir.ActHardSigmoid, Alpha: a.Alpha, Beta: a.Beta}, true
	case ir.HardSwish:
		return ir.Activation{Kind: ir.ActHardSwish}, true
	}
	return ir.Activation{}, false
}

// fusesInto reports whether an activation of kind k may be fused into a
// node with op.
func fusesInto(op ir.Op, k ir.ActKind) bool {
	switch op {
	case ir.Conv, ir.Gemm:
		return true
	case ir.Add:
		return k == ir.ActRelu || k == ir.ActRelu6 || k == ir.ActClip
	}
	return false
}

// fuseActivations moves each activation into the Conv, Gemm (any kind) or
// Add (Relu, Relu6, Clip) that computes its input, when nothing else reads
// that input and it is not a graph output. The fused node keeps its own
// output value.
func fuseActivations(s *State) error {
	r := newRW(s.Graph)
	for _, n := range slices.Clone(s.Graph.Nodes) {
		act, ok := activationOf(n)
		if !ok {
			continue
		}
		p := r.prod[n.Inputs[0]]
		if p == nil || !fusesInto(p.Op, act.Kind) || !noAct(p) || !r.soleReader(n.Inputs[0], n) ||
			(p.Op == ir.Add && !sameType(p.Output(), n.Output())) {
			continue
		}
		setAct(p, act)
		r.absorb(p, n)
		s.Count("fuse " + act.Kind.String() + " into " + p.Op.String())
	}
	return nil
}
