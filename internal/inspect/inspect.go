package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/mncdev/mnc/ir"
)

// Layer is one node of the graph.
type Layer struct {
	Name   string `json:"name"`
	Op     string `json:"op"`
	Attrs  string `json:"attrs,omitempty"`
	Shape  string `json:"shape"`
	Params int64  `json:"params"`
	MACs   int64  `json:"macs"`
}

// Summary describes a whole graph.
type Summary struct {
	Name    string         `json:"name"`
	Inputs  []string       `json:"inputs"`
	Outputs []string       `json:"outputs"`
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
		s.Inputs = append(s.Inputs, fmt.Sprintf("%s %v", v.Name, v.Type))
	}
	for _, v := range g.Outputs {
		s.Outputs = append(s.Outputs, fmt.Sprintf("%s %v", v.Name, v.Type))
	}
	for _, n := range g.Nodes {
		l := Layer{Name: n.Output().Name, Op: n.Op.String(), Shape: n.Output().Type.String(), MACs: ir.NodeMACs(n)}
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
	fmt.Fprintf(w, "model %s\n", s.Name)
	for _, in := range s.Inputs {
		fmt.Fprintf(w, "input  %s\n", in)
	}
	for _, out := range s.Outputs {
		fmt.Fprintf(w, "output %s\n", out)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\top\toutput\tparams\tMACs\t")
	for _, l := range s.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t\n", l.Name, l.Op, l.Shape, l.Params, l.MACs)
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
