package passes

import (
	"fmt"
	"slices"

	"github.com/mncdev/mnc/ir"
)

// Permutations between the layouts: NHWC dim i is NCHW dim toNHWC[i], and
// NCHW dim i is NHWC dim toNCHW[i] (so NCHW axis a sits at NHWC position
// toNCHW[a]).
var (
	toNHWC = []int{0, 2, 3, 1}
	toNCHW = []int{0, 3, 1, 2}
)

// layoutNHWC converts the graph's 4-D activations to NHWC, the runtime's
// layout. Layout-sensitive ops (Conv, BatchNorm, AveragePool,
// GlobalAveragePool, SqueezeExcite) with a 4-D input get Node.Layout = NHWC
// (weights stay OIHW); elementwise ops follow their inputs (4-D or
// one-element constant operands are permuted once); Concat, Pad and Softmax
// have their axes remapped, and so has an ArgMax over the channels (its
// result has no layout); Flatten and Reshape read an NHWC value directly
// when its NHWC and NCHW element orders coincide (H*W == 1 or C == 1, the
// classifier head) and the result is the same. Every other reader of an NHWC
// value reads it through a Transpose(0,3,1,2) and runs NCHW, and graph
// inputs reach NHWC ops through a Transpose(0,2,3,1). Graph outputs keep
// their NCHW shapes and names.
//
// The pass expects an NCHW graph; one with NHWC nodes is left unchanged.
func layoutNHWC(s *State) error {
	g := s.Graph
	for _, n := range g.Nodes {
		if ir.LayoutSensitive(n.Op) && n.Layout != ir.NCHW {
			s.Notef("%s %q is already %v: graph left unchanged", n.Op, n.Name, n.Layout)
			return nil
		}
	}
	l := &layouter{s: s, g: g, nhwc: map[*ir.Value]bool{}, cache: map[layoutKey]*ir.Value{}}
	for _, n := range g.Nodes {
		if err := l.node(n); err != nil {
			return fmt.Errorf("%s %q: %w", n.Op, n.Name, err)
		}
	}
	for i, o := range g.Outputs {
		if l.nhwc[o] {
			t, err := l.as(o, ir.NCHW)
			if err != nil {
				return err
			}
			// The graph output keeps its name; the NHWC value inside is
			// renamed.
			name := o.Name
			o.Name = g.NewValue(name+".nhwc", o.Type).Name
			t.Name = name
			g.Outputs[i] = t
		}
	}
	g.Nodes = l.out
	return nil
}

type layoutKey struct {
	v *ir.Value
	l ir.Layout
}

type layouter struct {
	s     *State
	g     *ir.Graph
	out   []*ir.Node              // the new node order
	nhwc  map[*ir.Value]bool      // 4-D values stored NHWC
	cache map[layoutKey]*ir.Value // v in the other layout (a Transpose or permuted constant)
}

func rank4(v *ir.Value) bool { return len(v.Type.Shape) == 4 }

// as returns v in layout want, inserting (once) a Transpose if needed. Only
// 4-D non-constant values have a layout.
func (l *layouter) as(v *ir.Value, want ir.Layout) (*ir.Value, error) {
	if v.IsConst() || !rank4(v) || l.nhwc[v] == (want == ir.NHWC) {
		return v, nil
	}
	k := layoutKey{v, want}
	if t, ok := l.cache[k]; ok {
		return t, nil
	}
	perm, name := toNHWC, v.Name+".nhwc"
	if want == ir.NCHW {
		perm, name = toNCHW, v.Name+".nchw"
	}
	n := &ir.Node{Name: name, Op: ir.Transpose, Attrs: &ir.TransposeAttrs{Perm: slices.Clone(perm)}, Inputs: []*ir.Value{v}}
	types, err := ir.InferNode(n, []ir.TensorType{v.Type})
	if err != nil {
		return nil, err
	}
	n.Outputs = []*ir.Value{l.g.NewValue(name, types[0])}
	l.out = append(l.out, n)
	t := n.Output()
	l.nhwc[t] = want == ir.NHWC
	l.cache[k] = t
	l.s.Count("insert Transpose to " + want.String())
	return t, nil
}

// node converts one node, appending it (after any Transposes it needs) to
// l.out.
func (l *layouter) node(n *ir.Node) error {
	done, err := l.convert(n)
	if err != nil {
		return err
	}
	if !done {
		// Runs NCHW: every NHWC input goes back through a Transpose.
		for i, in := range n.Inputs {
			if l.nhwc[in] {
				t, err := l.as(in, ir.NCHW)
				if err != nil {
					return err
				}
				n.Inputs[i] = t
				l.s.Notef("%s %q runs NCHW: it reads %s through a Transpose", n.Op, n.Name, in)
			}
		}
	}
	l.out = append(l.out, n)
	return nil
}

// convert makes n consume and produce NHWC values when it can, and reports
// whether it did (or whether n has no NHWC input and needs nothing).
func (l *layouter) convert(n *ir.Node) (bool, error) {
	x := n.Inputs[0]
	switch {
	case ir.LayoutSensitive(n.Op):
		if !rank4(x) || x.IsConst() {
			return false, nil
		}
		return true, l.retarget(n, []int{0}, func() { n.Layout = ir.NHWC })

	case isUnaryElementwise(n.Op):
		if !l.nhwc[x] {
			return true, nil
		}
		return true, l.retarget(n, []int{0}, func() {})

	case n.Op == ir.Add || n.Op == ir.Sub || n.Op == ir.Mul || n.Op == ir.Div:
		return l.binary(n)

	case n.Op == ir.Concat:
		if !l.anyNHWC(n) {
			return true, nil
		}
		for _, in := range n.Inputs {
			if !rank4(in) || in.IsConst() {
				return false, nil
			}
		}
		a := *n.Attrs.(*ir.ConcatAttrs)
		ax, err := ir.NormAxis(a.Axis, 4)
		if err != nil {
			return false, err
		}
		a.Axis = toNCHW[ax]
		return true, l.retarget(n, seq(0, len(n.Inputs)-1), func() { n.Attrs = &a })

	case n.Op == ir.Softmax:
		if !l.nhwc[x] {
			return true, nil
		}
		a := *n.Attrs.(*ir.SoftmaxAttrs)
		ax, err := ir.NormAxis(a.Axis, 4)
		if err != nil {
			return false, err
		}
		a.Axis = toNCHW[ax]
		return true, l.retarget(n, []int{0}, func() { n.Attrs = &a })

	case n.Op == ir.ArgMax:
		if !l.nhwc[x] {
			return true, nil
		}
		// Over the channels, the result [N,H,W] is the same in both
		// layouts: NHWC's last axis, without transposing the input (a
		// segmentation's 21x513x513 logits). Other axes leave the rest in
		// NCHW order and run NCHW.
		a := *n.Attrs.(*ir.ArgMaxAttrs)
		ax, err := ir.NormAxis(a.Axis, 4)
		if err != nil || ax != 1 {
			return false, err
		}
		a.Axis = toNCHW[ax]
		return true, l.retarget(n, []int{0}, func() { n.Attrs = &a })

	case n.Op == ir.Pad:
		if !l.nhwc[x] {
			return true, nil
		}
		a := *n.Attrs.(*ir.PadAttrs)
		pads := make([]int, 8)
		for i, p := range toNHWC {
			pads[i], pads[4+i] = a.Pads[p], a.Pads[4+p]
		}
		a.Pads = pads
		return true, l.retarget(n, []int{0}, func() { n.Attrs = &a })

	case n.Op == ir.Flatten || n.Op == ir.Reshape:
		if !l.nhwc[x] || !orderFree(x.Type.Shape) {
			return !l.nhwc[x], nil
		}
		// Same elements in the same order: read the NHWC value directly if
		// the result is unchanged.
		want := n.Output().Type
		probe := &ir.Node{Name: n.Name, Op: n.Op, Attrs: n.Attrs}
		types, err := ir.InferNode(probe, []ir.TensorType{x.Type})
		if err != nil || !types[0].Shape.Equal(want.Shape) {
			return false, nil
		}
		l.s.Count(n.Op.String() + " reads NHWC directly")
		return true, nil
	}
	return !l.anyNHWC(n), nil
}

// retarget switches the inputs at positions idx to NHWC, applies set (the
// new layout or attributes), re-infers the output and marks it NHWC.
func (l *layouter) retarget(n *ir.Node, idx []int, set func()) error {
	for _, i := range idx {
		t, err := l.as(n.Inputs[i], ir.NHWC)
		if err != nil {
			return err
		}
		n.Inputs[i] = t
	}
	set()
	if err := reinfer(n); err != nil {
		return err
	}
	if rank4(n.Output()) {
		l.nhwc[n.Output()] = true
	}
	l.s.Count("NHWC " + n.Op.String())
	return nil
}

func (l *layouter) anyNHWC(n *ir.Node) bool {
	return slices.ContainsFunc(n.Inputs, func(v *ir.Value) bool { return l.nhwc[v] })
}

// binary converts an elementwise Add/Sub/Mul/Div with an NHWC input: other
// 4-D inputs are transposed, constants permuted; any other operand keeps
// the node NCHW.
func (l *layouter) binary(n *ir.Node) (bool, error) {
	if !l.anyNHWC(n) {
		return true, nil
	}
	if !rank4(n.Output()) {
		return false, nil
	}
	for _, in := range n.Inputs {
		switch {
		case in.IsConst():
			if len(in.Type.Shape) > 4 || in.Const.DType != ir.Float32 {
				return false, nil
			}
		case !rank4(in) && in.Type.Shape.NumElements() != 1:
			return false, nil
		}
	}
	for i, in := range n.Inputs {
		if in.IsConst() {
			n.Inputs[i] = l.permuteConst(in)
		}
	}
	var idx []int
	for i, in := range n.Inputs {
		if !in.IsConst() {
			idx = append(idx, i)
		}
	}
	return true, l.retarget(n, idx, func() {})
}

// permuteConst returns constant c, broadcast-aligned to rank 4, in NHWC
// order (c itself if it has one element).
func (l *layouter) permuteConst(c *ir.Value) *ir.Value {
	if c.Type.Shape.NumElements() == 1 {
		return c
	}
	k := layoutKey{c, ir.NHWC}
	if t, ok := l.cache[k]; ok {
		return t
	}
	s := c.Type.Shape
	for len(s) < 4 {
		s = append(ir.Shape{1}, s...)
	}
	out := ir.NewFloat32(ir.Shape{s[0], s[2], s[3], s[1]}, nil)
	src := c.Const.F32
	i := 0
	for a := range s[0] {
		for h := range s[2] {
			for w := range s[3] {
				for ch := range s[1] {
					out.F32[i] = src[((a*s[1]+ch)*s[2]+h)*s[3]+w]
					i++
				}
			}
		}
	}
	t := l.g.AddConst(c.Name+".nhwc", out)
	l.cache[k] = t
	l.s.Count("permute constant to NHWC")
	return t
}

// orderFree reports whether an NHWC tensor of shape s lists its elements in
// the same order as the NCHW tensor (H*W == 1 or C == 1).
func orderFree(s ir.Shape) bool {
	return len(s) == 4 && (s[1]*s[2] == 1 || s[3] == 1)
}

func isUnaryElementwise(op ir.Op) bool {
	switch op {
	case ir.Relu, ir.Relu6, ir.Clip, ir.HardSigmoid, ir.HardSwish, ir.Sigmoid, ir.Identity, ir.Dropout, ir.Lookup:
		return true
	}
	return false
}
