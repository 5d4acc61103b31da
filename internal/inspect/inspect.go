package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/esc"
)

// Layer is one node of the graph.
type Layer struct {
	Name   string `json:"name"`
	Op     string `json:"op"`
	Attrs  string `json:"attrs,omitempty"`
	DType  string `json:"dtype"`
	Shape  []int  `json:"shape"` // -1: any size
	Params int64  `json:"params"`
	MACs   int64  `json:"macs"`
	typ    string // dtype and shape, as the text table prints them
}

// Tensor is a graph input or output.
type Tensor struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
}

func tensorOf(v *ir.Value) Tensor {
	return Tensor{Name: v.Name, DType: v.Type.DType.String(), Shape: append([]int{}, v.Type.Shape...)}
}

// Summary describes a whole graph.
type Summary struct {
	Name    string         `json:"name"`
	Inputs  []Tensor       `json:"inputs"`
	Outputs []Tensor       `json:"outputs"`
	Layers  []Layer        `json:"layers"`
	Params  int64          `json:"params"`
	MACs    int64          `json:"macs"`
	Ops     map[string]int `json:"ops"`
}

// Graph summarises g.
func Graph(g *ir.Graph) *Summary {
	st := ir.ComputeStats(g)
	s := &Summary{Name: g.Name, Params: st.Params, MACs: st.MACs, Ops: map[string]int{}}
	for op, n := range st.OpCounts {
		s.Ops[op.String()] = n
	}
	for _, v := range g.Inputs {
		s.Inputs = append(s.Inputs, tensorOf(v))
	}
	for _, v := range g.Outputs {
		s.Outputs = append(s.Outputs, tensorOf(v))
	}
	for _, n := range g.Nodes {
		o := n.Output()
		l := Layer{Name: o.Name, Op: n.Op.String(), DType: o.Type.DType.String(), Shape: append([]int{}, o.Type.Shape...),
			typ: o.Type.String(), MACs: ir.NodeMACs(n)}
		if n.Attrs != nil {
			l.Attrs = n.Attrs.String()
		}
		sub := ir.NewGraph("")
		sub.Nodes = []*ir.Node{n}
		l.Params = ir.ComputeStats(sub).Params
		s.Layers = append(s.Layers, l)
	}
	return s
}

// Write prints the summary as an aligned table, or JSON.
func (s *Summary) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	fmt.Fprintf(w, "model %s\n", esc.String(s.Name)) // names from the file, escaped
	for _, in := range s.Inputs {
		fmt.Fprintf(w, "input  %s %s%v\n", esc.String(in.Name), in.DType, ir.Shape(in.Shape))
	}
	for _, out := range s.Outputs {
		fmt.Fprintf(w, "output %s %s%v\n", esc.String(out.Name), out.DType, ir.Shape(out.Shape))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\top\toutput\tparams\tMACs\t")
	for _, l := range s.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t\n", esc.String(l.Name), l.Op, l.typ, l.Params, l.MACs)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d layers, %s parameters, %s MACs\n", len(s.Layers), human(s.Params), human(s.MACs))
	return nil
}

// human renders a count as 5.48M or 217M style.
func human(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.3gG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.3gM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.3gK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
