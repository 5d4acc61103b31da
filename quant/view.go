package quant

import (
	"fmt"

	"github.com/mncdev/mnc/ir"
)

// calibView is a copy of a float graph in which every intermediate result
// that the quantized graph stores is a value of its own: hard activations
// fused into their producer are split off (the producer's result is key
// "V/pre") and SqueezeExcite units are expanded into GlobalAveragePool, two
// 1x1 convolutions, the gate and a Mul (keys "V/se.*"). Constants are shared
// with the original graph, not copied.
type calibView struct {
	g    *ir.Graph
	keys map[*ir.Value]string // view value -> stats key
	// chanAx maps the keys of values read by a Conv or Gemm to their
	// channel axis.
	chanAx map[string]int
	// grams maps the keys of values read by a Conv or Gemm to the patch
	// geometry of each (weight rounding by output error, rounding.go).
	grams map[string][]gramSpec
}

// isHard reports whether an activation is computed by a table.
func isHard(k ir.ActKind) bool { return k == ir.ActHardSwish || k == ir.ActHardSigmoid }

// fusedAct returns the activation fused into n, if its op carries one.
func fusedAct(n *ir.Node) (ir.Activation, bool) {
	switch a := n.Attrs.(type) {
	case *ir.ConvAttrs:
		return a.Act, a != nil
	case *ir.GemmAttrs:
		return a.Act, a != nil
	case *ir.EltwiseAttrs:
		return a.Act, a != nil
	}
	return ir.Activation{}, false
}

// withAct returns a copy of n's attributes with the fused activation act.
func withAct(attrs ir.Attrs, act ir.Activation) ir.Attrs {
	switch a := attrs.(type) {
	case *ir.ConvAttrs:
		c := *a
		c.Act = act
		return &c
	case *ir.GemmAttrs:
		c := *a
		c.Act = act
		return &c
	case *ir.EltwiseAttrs:
		c := *a
		c.Act = act
		return &c
	}
	return attrs
}

// actNode returns the op and attributes of a standalone activation.
func actNode(act ir.Activation) (ir.Op, ir.Attrs) {
	switch act.Kind {
	case ir.ActRelu:
		return ir.Relu, nil
	case ir.ActRelu6:
		return ir.Relu6, nil
	case ir.ActClip:
		return ir.Clip, &ir.ClipAttrs{Min: act.Min, Max: act.Max}
	case ir.ActHardSigmoid:
		return ir.HardSigmoid, &ir.HardSigmoidAttrs{Alpha: act.Alpha, Beta: act.Beta}
	case ir.ActHardSwish:
		return ir.HardSwish, nil
	}
	return ir.Identity, nil
}

func newCalibView(g *ir.Graph) (*calibView, error) {
	v := &calibView{g: ir.NewGraph(g.Name + ".calib"), keys: map[*ir.Value]string{}, chanAx: map[string]int{}, grams: map[string][]gramSpec{}}
	m := map[*ir.Value]*ir.Value{}
	for _, in := range g.Inputs {
		nv := v.g.AddInput(in.Name, in.Type)
		m[in] = nv
		v.keys[nv] = in.Name
	}
	for _, c := range g.Consts {
		m[c] = v.g.AddConst(c.Name, c.Const)
	}
	add := func(op ir.Op, name, key string, attrs ir.Attrs, layout ir.Layout, ins ...*ir.Value) (*ir.Value, error) {
		n := &ir.Node{Name: name, Op: op, Attrs: attrs, Inputs: ins, Layout: layout}
		types, err := ir.InferNode(n, inTypes(ins))
		if err != nil {
			return nil, err
		}
		out := v.g.NewValue(key, types[0])
		n.Outputs = []*ir.Value{out}
		v.g.Nodes = append(v.g.Nodes, n)
		v.keys[out] = key
		return out, nil
	}
	for _, n := range g.Nodes {
		ins := make([]*ir.Value, len(n.Inputs))
		for i, in := range n.Inputs {
			ins[i] = m[in]
			if ins[i] == nil {
				return nil, fmt.Errorf("calibration view: node %q reads %s, which is undefined", n.Name, in)
			}
		}
		y := n.Output()
		if len(n.Outputs) != 1 {
			return nil, fmt.Errorf("calibration view: node %q has %d outputs", n.Name, len(n.Outputs))
		}
		// Channel axes of the activations read by Conv and Gemm.
		switch n.Op {
		case ir.Conv, ir.SqueezeExcite:
			c, _, _ := n.Layout.Axes()
			v.chanAx[n.Inputs[0].Name] = c
		case ir.Gemm:
			v.chanAx[n.Inputs[0].Name] = 1
		}
		if sp, ok := gramSpecOf(n); ok {
			v.grams[n.Inputs[0].Name] = append(v.grams[n.Inputs[0].Name], sp)
		}
		var out *ir.Value
		var err error
		act, hasAct := fusedAct(n)
		switch {
		case n.Op == ir.SqueezeExcite:
			out, err = v.expandSE(n, ins, add)
		case hasAct && isHard(act.Kind):
			var pre *ir.Value
			pre, err = add(n.Op, n.Name, y.Name+keyPre, withAct(n.Attrs, ir.Activation{}), n.Layout, ins...)
			if err == nil {
				op, attrs := actNode(act)
				out, err = add(op, n.Name+"."+act.Kind.String(), y.Name, attrs, ir.NCHW, pre)
			}
		default:
			out, err = add(n.Op, n.Name, y.Name, n.Attrs, n.Layout, ins...)
		}
		if err != nil {
			return nil, fmt.Errorf("calibration view: %w", err)
		}
		m[y] = out
	}
	for _, o := range g.Outputs {
		if m[o] == nil {
			return nil, fmt.Errorf("calibration view: graph output %s is undefined", o)
		}
		v.g.Outputs = append(v.g.Outputs, m[o])
	}
	return v, nil
}

// gramsFor returns the layers whose input moments calibration measures
// for the rounding method r, by the key of the value they read (nil: none).
func (v *calibView) gramsFor(r string) map[string][]gramSpec {
	var out map[string][]gramSpec
	for key, specs := range v.grams {
		for _, sp := range specs {
			if roundsByOutput(r, weightGrid(sp.w.F32) > 0) {
				if out == nil {
					out = map[string][]gramSpec{}
				}
				out[key] = append(out[key], sp)
			}
		}
	}
	return out
}

func inTypes(ins []*ir.Value) []ir.TensorType {
	ts := make([]ir.TensorType, len(ins))
	for i, in := range ins {
		ts[i] = in.Type
	}
	return ts
}

type addFunc func(op ir.Op, name, key string, attrs ir.Attrs, layout ir.Layout, ins ...*ir.Value) (*ir.Value, error)

// expandSE writes a SqueezeExcite node as its parts.
func (v *calibView) expandSE(n *ir.Node, ins []*ir.Value, add addFunc) (*ir.Value, error) {
	a, ok := n.Attrs.(*ir.SqueezeExciteAttrs)
	if !ok || a == nil {
		return nil, fmt.Errorf("SqueezeExcite %q has attributes %T", n.Name, n.Attrs)
	}
	y := n.Output().Name
	x := ins[0]
	pool, err := add(ir.GlobalAveragePool, n.Name+".pool", y+keySEPool, nil, n.Layout, x)
	if err != nil {
		return nil, err
	}
	pw := &ir.ConvAttrs{Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Group: 1, Act: a.Act}
	if isHard(a.Act.Kind) {
		return nil, fmt.Errorf("SqueezeExcite %q: a %v squeeze activation is not supported", n.Name, a.Act.Kind)
	}
	sq, err := add(ir.Conv, n.Name+".squeeze", y+keySESqueeze, pw, n.Layout, pool, ins[1], ins[2])
	if err != nil {
		return nil, err
	}
	ex, err := add(ir.Conv, n.Name+".excite", y+keySEExcite,
		&ir.ConvAttrs{Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Group: 1}, n.Layout, sq, ins[3], ins[4])
	if err != nil {
		return nil, err
	}
	op, attrs := actNode(a.Gate)
	gate, err := add(op, n.Name+".gate", y+keySEGate, attrs, ir.NCHW, ex)
	if err != nil {
		return nil, err
	}
	return add(ir.Mul, n.Name, y, nil, ir.NCHW, x, gate)
}
