package quant

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mncdev/mnc/internal/editdist"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// Mixed precision: Options.KeepFloat names nodes of the prepared float
// graph that stay float32 in the quantized graph. Such a node reads the
// float32 twins of its inputs (an int8 value is dequantized once, where
// first needed) and computes on the runtime's float32 kernels (with the
// int8 layer's weight codes, dequantized, or its own float weights:
// Options.FloatWeights); an int8 node reading its result quantizes it by its
// calibrated range (a Quantize, made once). Ops that change no value
// (transpose, reshape, clamps) stay in their input's precision. The model
// file records every operator's precision; the runtime runs both kinds of
// step, so a mixed model gives the same bytes on every CPU as an int8 one.

// Keepable reports whether an op may be kept in float32 by name: the ops
// with their own int8 arithmetic (what quantization changes).
func Keepable(op ir.Op) bool {
	switch op {
	case ir.Conv, ir.Gemm, ir.SqueezeExcite, ir.Add, ir.Mul, ir.GlobalAveragePool, ir.HardSwish, ir.HardSigmoid, ir.Sigmoid:
		return true
	}
	return false
}

// QuantizedOps returns the names of g's nodes that quantization turns into
// int8 arithmetic (Keepable ones), in graph order: the candidates of
// KeepFloat and of the sensitivity analysis.
func QuantizedOps(g *ir.Graph) []string {
	var names []string
	for _, n := range g.Nodes {
		if Keepable(n.Op) {
			names = append(names, n.Name)
		}
	}
	return names
}

// CheckKeepFloat checks that every name of keep is a Keepable node of g,
// named once; an unknown name's error suggests the closest ones.
func CheckKeepFloat(g *ir.Graph, keep []string) error {
	nodes := map[string]*ir.Node{}
	for _, n := range g.Nodes {
		nodes[n.Name] = n
	}
	seen := map[string]bool{}
	for _, name := range keep {
		n := nodes[name]
		switch {
		case seen[name]:
			return fmt.Errorf("%q is named twice", name)
		case n == nil:
			return fmt.Errorf("the model has no op named %q%s", name, suggest(name, QuantizedOps(g)))
		case !Keepable(n.Op):
			return fmt.Errorf("%s %q computes nothing int8 quantization changes (keep a Conv, Gemm, SqueezeExcite, Add, Mul, GlobalAveragePool, HardSwish or HardSigmoid)", n.Op, name)
		}
		seen[name] = true
	}
	return nil
}

// suggest returns ", did you mean ...?" with up to three of names closest
// to name by edit distance (within a third of its length), or "".
func suggest(name string, names []string) string {
	type cand struct {
		s string
		d int
	}
	var cs []cand
	for _, s := range names {
		if d := editdist.Levenshtein(name, s); d <= max(2, len(name)/3) {
			cs = append(cs, cand{s, d})
		}
	}
	if len(cs) == 0 {
		return " (mnc compile --sensitivity lists the ops)"
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, fmt.Sprintf("%q", cs[i].s))
	}
	return "; did you mean " + strings.Join(out, " or ") + "?"
}

// KeptFloat returns the names of the nodes of a quantized graph that
// compute in float32 (other than the boundary and the ops that change no
// value), in graph order.
func KeptFloat(q *ir.Graph) []string {
	var names []string
	for _, n := range q.Nodes {
		if Keepable(n.Op) && n.Output().Type.DType == ir.Float32 {
			names = append(names, n.Name)
		}
	}
	return names
}

// floatOp runs a node kept in float32 on ir/interp, the float oracle (the
// runtime's float32 kernels agree with it to float32 rounding, not bit for
// bit: the reference of a mixed model's bytes is the runtime's generic
// kernel set).
type floatOp struct{ g *ir.Graph }

func prepareFloat(n *ir.Node) (*floatOp, error) {
	g, err := nodeGraph(n)
	return &floatOp{g: g}, err
}

// nodeGraph returns a graph running node n alone: its constants shared,
// every other input a graph input.
func nodeGraph(n *ir.Node) (*ir.Graph, error) {
	g := ir.NewGraph(n.Name)
	var ins []*ir.Value
	for _, v := range n.Inputs {
		if v.IsConst() {
			ins = append(ins, g.AddConst(v.Name, v.Const))
		} else {
			ins = append(ins, g.AddInput(v.Name, v.Type))
		}
	}
	nn := &ir.Node{Name: n.Name, Op: n.Op, Attrs: n.Attrs, Inputs: ins, Layout: n.Layout}
	types, err := ir.InferNode(nn, inTypes(ins))
	if err != nil {
		return nil, err
	}
	nn.Outputs = []*ir.Value{g.NewValue(n.Output().Name, types[0])}
	g.Nodes = append(g.Nodes, nn)
	g.Outputs = nn.Outputs
	return g, ir.Verify(g)
}

func (s *floatOp) run(ins []*ir.Tensor, out *ir.Tensor, workers int) error {
	var acts []*ir.Tensor
	for i, v := range s.g.Nodes[0].Inputs {
		if !v.IsConst() {
			acts = append(acts, ins[i])
		}
	}
	res, err := interp.Run(s.g, acts, &interp.Options{Workers: workers})
	if err != nil {
		return err
	}
	if len(res[0].F32) != len(out.F32) {
		return fmt.Errorf("float op gave %v, want %v", res[0].Shape, out.Shape)
	}
	copy(out.F32, res[0].F32)
	return nil
}
