package ir

import (
	"fmt"
	"sort"

	"github.com/mncdev/mnc/runtime/esc"
)

// Value is a tensor flowing through the graph: a graph input, a constant
// (Const != nil) or the output of exactly one node.
type Value struct {
	ID    int // unique within the graph, assigned by NewValue
	Name  string
	Type  TensorType
	Const *Tensor      // constant data, or nil
	Quant *QuantParams // quantization parameters, or nil while float
	// FileRange is the float range [lo, hi] the model file states for this
	// value (a quantized TFLite tensor's, a QDQ ONNX pair's), or nil.
	// Passes that replace the value by another computing the same result
	// carry it over; quant uses it instead of calibrated statistics when
	// asked to (Options.RangesFromModel).
	FileRange *[2]float32
}

// String is the value's name as the dump prints it, "%name", escaped
// when the name (which comes from a model file) holds control characters
// (see package esc).
func (v *Value) String() string { return "%" + esc.String(v.Name) }

// IsConst reports whether v holds constant data.
func (v *Value) IsConst() bool { return v != nil && v.Const != nil }

// MetaPreprocess is the Graph.Meta key of the image preprocessing a
// graph's input expects, as the JSON of a preprocess.Spec
// (preprocess.ParseSpec reads it).
const MetaPreprocess = "preprocess"

// MetaDetection is the Graph.Meta key of a detector's post-processing
// settings, as the JSON of a runtime/detect.Config (the frontend writes it
// for an SSD; codegen records it in the model file, format 1.5).
const MetaDetection = "detection"

// Node is one operation. All ops have one output today; Outputs is a slice so
// that the representation need not change for ops that have more.
type Node struct {
	Name    string
	Op      Op
	Inputs  []*Value
	Outputs []*Value
	Attrs   Attrs // the op's attribute struct (see the Op constants), or nil
	// Layout is the order of the dimensions of the 4-D activations of
	// layout-sensitive ops (Conv, BatchNorm, AveragePool, GlobalAveragePool,
	// SqueezeExcite; see LayoutSensitive); weights stay OIHW in both. Other
	// ops ignore it.
	Layout Layout
}

// Layout orders the dimensions of a 4-D activation tensor.
type Layout uint8

const (
	NCHW Layout = iota // PyTorch and ONNX order; the frontends' output
	NHWC               // channels last; the runtime's order
)

func (l Layout) String() string {
	if l == NHWC {
		return "NHWC"
	}
	return "NCHW"
}

// Axes returns the positions of the channel, height and width dimensions.
func (l Layout) Axes() (c, h, w int) {
	if l == NHWC {
		return 3, 1, 2
	}
	return 1, 2, 3
}

// Output returns the first output.
func (n *Node) Output() *Value { return n.Outputs[0] }

func (n *Node) String() string { return fmt.Sprintf("%s(%s)", n.Op, esc.String(n.Name)) }

// Graph is a dataflow graph. Nodes are kept in topological order: every input
// of a node is a graph input, a constant, or the output of an earlier node.
type Graph struct {
	Name    string
	Inputs  []*Value
	Outputs []*Value
	Nodes   []*Node
	// Consts lists the constant values (weights), in creation order.
	Consts []*Value
	// Meta holds named facts about the model that travel with it, such as
	// the preprocessing a quantized model was calibrated with (key
	// MetaPreprocess, see quant.SetPreprocess); nil when there are none.
	Meta map[string]string

	nextID int
	names  map[string]bool
}

// NewGraph returns an empty graph.
func NewGraph(name string) *Graph { return &Graph{Name: name} }

// uniqueName returns name, or name with the first free numeric suffix if
// it is taken; an empty name becomes "v<ID>".
func (g *Graph) uniqueName(name string) string {
	if g.names == nil {
		g.names = map[string]bool{}
	}
	if name == "" {
		name = fmt.Sprintf("v%d", g.nextID)
	}
	unique := name
	for i := 1; g.names[unique]; i++ {
		unique = fmt.Sprintf("%s_%d", name, i)
	}
	g.names[unique] = true
	return unique
}

// NewValue creates a value owned by g with a unique name derived from name.
func (g *Graph) NewValue(name string, t TensorType) *Value {
	v := &Value{ID: g.nextID, Type: TensorType{DType: t.DType, Shape: t.Shape.Clone()}}
	v.Name = g.uniqueName(name)
	g.nextID++
	return v
}

// AddInput declares a graph input.
func (g *Graph) AddInput(name string, t TensorType) *Value {
	v := g.NewValue(name, t)
	g.Inputs = append(g.Inputs, v)
	return v
}

// AddConst adds a constant value holding t (not copied).
func (g *Graph) AddConst(name string, t *Tensor) *Value {
	v := g.NewValue(name, TensorType{DType: t.DType, Shape: t.Shape})
	v.Const = t
	g.Consts = append(g.Consts, v)
	return v
}

// AddNode appends a node computing op over inputs, infers its output type and
// returns the node; its output value is named name. The graph is unchanged on
// error.
func (g *Graph) AddNode(op Op, name string, attrs Attrs, inputs ...*Value) (*Node, error) {
	n := &Node{Name: name, Op: op, Inputs: inputs, Attrs: attrs}
	types, err := InferNode(n, inputTypes(n))
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		n.Outputs = append(n.Outputs, g.NewValue(name, t))
	}
	g.Nodes = append(g.Nodes, n)
	return n, nil
}

// Add is AddNode for the common case of wanting the output value.
func (g *Graph) Add(op Op, name string, attrs Attrs, inputs ...*Value) (*Value, error) {
	n, err := g.AddNode(op, name, attrs, inputs...)
	if err != nil {
		return nil, err
	}
	return n.Output(), nil
}

func inputTypes(n *Node) []TensorType {
	ts := make([]TensorType, len(n.Inputs))
	for i, in := range n.Inputs {
		if in != nil {
			ts[i] = in.Type
		}
	}
	return ts
}

// Producers maps each node output to its node.
func (g *Graph) Producers() map[*Value]*Node {
	m := make(map[*Value]*Node, len(g.Nodes))
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			m[o] = n
		}
	}
	return m
}

// Uses maps each value to the nodes that read it (a node reading a value
// twice appears twice). Graph outputs are not counted; see IsOutput.
func (g *Graph) Uses() map[*Value][]*Node {
	m := make(map[*Value][]*Node)
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != nil {
				m[in] = append(m[in], n)
			}
		}
	}
	return m
}

// IsOutput reports whether v is a graph output.
func (g *Graph) IsOutput(v *Value) bool {
	for _, o := range g.Outputs {
		if o == v {
			return true
		}
	}
	return false
}

// ReplaceUses makes every reader of old (nodes and graph outputs) read new.
func (g *Graph) ReplaceUses(old, new *Value) {
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if in == old {
				n.Inputs[i] = new
			}
		}
	}
	for i, o := range g.Outputs {
		if o == old {
			g.Outputs[i] = new
		}
	}
}

// RemoveNodes deletes the given nodes, keeping the order of the rest.
func (g *Graph) RemoveNodes(dead ...*Node) {
	drop := make(map[*Node]bool, len(dead))
	for _, n := range dead {
		drop[n] = true
	}
	kept := g.Nodes[:0]
	for _, n := range g.Nodes {
		if !drop[n] {
			kept = append(kept, n)
		}
	}
	clear(g.Nodes[len(kept):])
	g.Nodes = kept
}

// PruneConsts drops constants that no node reads and that are not outputs.
func (g *Graph) PruneConsts() {
	used := g.Uses()
	kept := g.Consts[:0]
	for _, c := range g.Consts {
		if len(used[c]) > 0 || g.IsOutput(c) {
			kept = append(kept, c)
		}
	}
	clear(g.Consts[len(kept):])
	g.Consts = kept
}

// Const returns the constant value with the given name, or nil.
func (g *Graph) Const(name string) *Value {
	for _, c := range g.Consts {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TopoSort reorders g.Nodes so that producers come before consumers, keeping
// the existing order where it is already valid. It fails on a cycle or on an
// input produced by no node, constant or graph input.
func (g *Graph) TopoSort() error {
	prod := g.Producers()
	avail := map[*Value]bool{}
	for _, v := range g.Inputs {
		avail[v] = true
	}
	for _, c := range g.Consts {
		avail[c] = true
	}
	pos := make(map[*Node]int, len(g.Nodes))
	for i, n := range g.Nodes {
		pos[n] = i
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make(map[*Node]int, len(g.Nodes))
	out := make([]*Node, 0, len(g.Nodes))
	var visit func(n *Node) error
	visit = func(n *Node) error {
		switch state[n] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("graph has a cycle through node %q", n.Name)
		}
		state[n] = visiting
		deps := []*Node{}
		for _, in := range n.Inputs {
			if in == nil || avail[in] {
				continue
			}
			p, ok := prod[in]
			if !ok {
				return fmt.Errorf("node %q reads %s, which nothing defines", n.Name, in)
			}
			deps = append(deps, p)
		}
		sort.SliceStable(deps, func(i, j int) bool { return pos[deps[i]] < pos[deps[j]] })
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		state[n] = done
		out = append(out, n)
		return nil
	}
	for _, n := range g.Nodes {
		if err := visit(n); err != nil {
			return err
		}
	}
	g.Nodes = out
	return nil
}
