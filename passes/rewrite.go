package passes

import (
	"fmt"
	"math"
	"slices"

	"github.com/mncdev/mnc/ir"
)

// rw is a rewriting session: the graph with def-use maps that refresh keeps
// current.
type rw struct {
	g       *ir.Graph
	uses    map[*ir.Value][]*ir.Node
	prod    map[*ir.Value]*ir.Node
	outputs map[*ir.Value]bool
	removed map[*ir.Node]bool
}

func newRW(g *ir.Graph) *rw {
	r := &rw{g: g, removed: map[*ir.Node]bool{}}
	r.refresh()
	return r
}

func (r *rw) refresh() {
	r.uses, r.prod = r.g.Uses(), r.g.Producers()
	r.outputs = map[*ir.Value]bool{}
	for _, o := range r.g.Outputs {
		r.outputs[o] = true
	}
}

// soleReader reports whether n is the only reader of v (reading it once)
// and v is not a graph output: n may then absorb v's producer.
func (r *rw) soleReader(v *ir.Value, n *ir.Node) bool {
	u := r.uses[v]
	return len(u) == 1 && u[0] == n && !r.outputs[v]
}

// dead reports whether nothing reads v.
func (r *rw) dead(v *ir.Value) bool { return len(r.uses[v]) == 0 && !r.outputs[v] }

// def returns the node producing v if its op is one of ops, else nil.
func (r *rw) def(v *ir.Value, ops ...ir.Op) *ir.Node {
	p := r.prod[v]
	if p == nil || r.removed[p] || !slices.Contains(ops, p.Op) {
		return nil
	}
	return p
}

// remove deletes nodes from the graph and refreshes the maps.
func (r *rw) remove(nodes ...*ir.Node) {
	for _, n := range nodes {
		r.removed[n] = true
	}
	r.g.RemoveNodes(nodes...)
	r.refresh()
}

// removeDead deletes the given nodes if their results are unread, then
// their producers that became unread, and so on.
func (r *rw) removeDead(nodes ...*ir.Node) {
	work := slices.Clone(nodes)
	for len(work) > 0 {
		n := work[len(work)-1]
		work = work[:len(work)-1]
		if n == nil || r.removed[n] || !r.allDead(n) {
			continue
		}
		r.remove(n)
		for _, in := range n.Inputs {
			if p := r.prod[in]; p != nil {
				work = append(work, p)
			}
		}
	}
}

func (r *rw) allDead(n *ir.Node) bool {
	for _, o := range n.Outputs {
		if !r.dead(o) {
			return false
		}
	}
	return true
}

// bypass removes a node whose output equals its first input (Identity,
// Dropout, a no-op Reshape): readers of the output read the input instead.
// If the output is a graph output, the input's producer takes over the
// output value, so that the graph keeps its output names; when that is not
// possible (the input is a graph input or constant, or has other readers)
// bypass leaves the node and returns false.
func (r *rw) bypass(n *ir.Node) bool {
	out, in := n.Output(), n.Inputs[0]
	if in.FileRange == nil {
		in.FileRange = out.FileRange // the same values
	}
	if !r.outputs[out] {
		r.g.ReplaceUses(out, in)
		r.remove(n)
		return true
	}
	p := r.prod[in]
	if p == nil || !r.soleReader(in, n) || !in.Type.Shape.Equal(out.Type.Shape) {
		return false
	}
	out.Type = in.Type
	for i, o := range p.Outputs {
		if o == in {
			p.Outputs[i] = out
		}
	}
	r.remove(n)
	return true
}

// absorb removes node n, whose only input from p is p's result, after p
// was changed to compute n's result as well: readers of n's result read p's
// instead. If n's result is a graph output, p takes over that value, so the
// graph keeps its output names.
func (r *rw) absorb(p, n *ir.Node) {
	pv, nv := p.Output(), n.Output()
	if nv.FileRange != nil {
		pv.FileRange = nv.FileRange // the range of the result p now computes
	}
	if r.outputs[nv] {
		nv.Type = pv.Type
		p.Outputs[0] = nv
	} else {
		r.g.ReplaceUses(nv, pv)
	}
	r.remove(n)
}

// insertAfter places node m right after node n in the graph's order.
func insertAfter(g *ir.Graph, n, m *ir.Node) {
	i := slices.Index(g.Nodes, n)
	g.Nodes = slices.Insert(g.Nodes, i+1, m)
}

// fixpoint applies the rules to every node, in graph order, until none
// applies. A rule returns the kind of rewrite it made, or "" if it did
// nothing; it must keep r's maps current (rw's helpers do).
func fixpoint(s *State, rules []func(r *rw, n *ir.Node) string) error {
	const maxRounds = 1000
	for round := 0; ; round++ {
		if round == maxRounds {
			return fmt.Errorf("no fixed point after %d rounds", maxRounds)
		}
		r := newRW(s.Graph)
		changed := false
		for _, n := range slices.Clone(s.Graph.Nodes) {
			for _, rule := range rules {
				if r.removed[n] {
					break
				}
				if kind := rule(r, n); kind != "" {
					s.Count(kind)
					changed = true
					r.refresh()
				}
			}
		}
		if !changed {
			return nil
		}
	}
}

// fusedAct returns the activation fused into n, if n's op can carry one.
func fusedAct(n *ir.Node) (ir.Activation, bool) {
	switch a := n.Attrs.(type) {
	case *ir.ConvAttrs:
		if a != nil {
			return a.Act, true
		}
	case *ir.GemmAttrs:
		if a != nil {
			return a.Act, true
		}
	case *ir.EltwiseAttrs:
		if a != nil {
			return a.Act, true
		}
	case nil:
		switch n.Op {
		case ir.Add, ir.Sub, ir.Mul, ir.Div:
			return ir.Activation{}, true
		}
	}
	return ir.Activation{}, false
}

// setAct sets the activation fused into n, copying its attributes.
func setAct(n *ir.Node, act ir.Activation) {
	switch a := n.Attrs.(type) {
	case *ir.ConvAttrs:
		c := *a
		c.Act = act
		n.Attrs = &c
	case *ir.GemmAttrs:
		c := *a
		c.Act = act
		n.Attrs = &c
	case *ir.EltwiseAttrs:
		n.Attrs = &ir.EltwiseAttrs{Act: act}
	case nil:
		n.Attrs = &ir.EltwiseAttrs{Act: act}
	default:
		panic(fmt.Sprintf("setAct on %v with %T", n, n.Attrs))
	}
}

// scalar returns the value of a one-element float32 constant.
func scalar(v *ir.Value) (float64, bool) {
	if !v.IsConst() || v.Const.DType != ir.Float32 || len(v.Const.F32) != 1 {
		return 0, false
	}
	return float64(v.Const.F32[0]), true
}

// isScalar reports whether v is a one-element constant within a relative
// 1e-6 of want (exporters write 1/6 as a float32).
func isScalar(v *ir.Value, want float64) bool {
	x, ok := scalar(v)
	return ok && math.Abs(x-want) <= 1e-6*math.Abs(want)
}

// constF32 returns v's float32 data, if v is a float32 constant.
func constF32(v *ir.Value) ([]float32, bool) {
	if v == nil || !v.IsConst() || v.Const.DType != ir.Float32 {
		return nil, false
	}
	return v.Const.F32, true
}

// other returns the input of a two-input node that is not v (nil if v is
// not an input).
func other(n *ir.Node, v *ir.Value) *ir.Value {
	switch v {
	case n.Inputs[0]:
		return n.Inputs[1]
	case n.Inputs[1]:
		return n.Inputs[0]
	}
	return nil
}

// noAct reports whether n carries no fused activation.
func noAct(n *ir.Node) bool {
	a, _ := fusedAct(n)
	return a.Kind == ir.ActNone
}

// reinfer recomputes n's output types after its inputs or attributes
// changed.
func reinfer(n *ir.Node) error {
	ts := make([]ir.TensorType, len(n.Inputs))
	for i, in := range n.Inputs {
		ts[i] = in.Type
	}
	types, err := ir.InferNode(n, ts)
	if err != nil {
		return err
	}
	for i, o := range n.Outputs {
		o.Type = types[i]
	}
	return nil
}

// privateConst returns a constant holding a copy of c's data that n may
// modify: c itself if n is its only reader, else a new constant.
func (r *rw) privateConst(c *ir.Value, n *ir.Node, name string) *ir.Value {
	if r.soleReader(c, n) {
		return c
	}
	return r.g.AddConst(name, c.Const.Clone())
}

// setConst returns the constant that n should read instead of c to see
// the data t: c itself, given t, when n is its sole reader (it keeps its
// name), else a new constant of that name.
func (r *rw) setConst(c *ir.Value, n *ir.Node, t *ir.Tensor) *ir.Value {
	if !r.soleReader(c, n) {
		return r.g.AddConst(c.Name, t)
	}
	c.Const, c.Type = t, ir.TensorType{DType: t.DType, Shape: t.Shape.Clone()}
	return c
}
