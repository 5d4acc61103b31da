package ir

import (
	"fmt"
	"sort"
	"strings"
)

// String renders the graph as readable text, one line per input, constant,
// node and output:
//
//	graph "v2"
//	  input  %input: f32[N,3,224,224]
//	  const  %features.0.0.weight: f32[32,3,3,3] (864 values in [-0.5, 0.5])
//	  %features.0.0 = Conv(%input, %features.0.0.weight) stride=2,2 pads=1,1,1,1 group=1 : f32[N,32,112,112]
//	  output %logits
func (g *Graph) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %q\n", g.Name)
	keys := make([]string, 0, len(g.Meta))
	for k := range g.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  meta   %s = %q\n", k, g.Meta[k])
	}
	for _, v := range g.Inputs {
		fmt.Fprintf(&b, "  input  %s: %v%s\n", v, v.Type, quantSuffix(v))
	}
	for _, c := range g.Consts {
		fmt.Fprintf(&b, "  const  %s: %v (%s)%s\n", c, c.Type, c.Const.summary(), quantSuffix(c))
	}
	for _, n := range g.Nodes {
		b.WriteString("  ")
		b.WriteString(n.Format())
		b.WriteByte('\n')
	}
	for _, o := range g.Outputs {
		fmt.Fprintf(&b, "  output %s\n", o)
	}
	return b.String()
}

// Format renders one node as a line of the dump (without indentation).
func (n *Node) Format() string {
	var b strings.Builder
	for i, o := range n.Outputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.String())
	}
	fmt.Fprintf(&b, " = %s(", n.Op)
	for i, in := range n.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		if in == nil {
			b.WriteString("<nil>")
		} else {
			b.WriteString(in.String())
		}
	}
	b.WriteByte(')')
	if n.Attrs != nil && !isNilPtr(n.Attrs) {
		if s := n.Attrs.String(); s != "" {
			b.WriteString(" " + s)
		}
	}
	if n.Layout != NCHW && layoutSensitive(n.Op) {
		b.WriteString(" layout=" + n.Layout.String())
	}
	b.WriteString(" :")
	for _, o := range n.Outputs {
		fmt.Fprintf(&b, " %v%s", o.Type, quantSuffix(o))
	}
	return b.String()
}

func quantSuffix(v *Value) string {
	if v.Quant == nil {
		return ""
	}
	return " " + v.Quant.String()
}
