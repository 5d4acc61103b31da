package passes

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mncdev/mnc/ir"
)

// Report records a pipeline run.
type Report struct {
	Graph     string         `json:"graph"`
	Passes    []PassReport   `json:"passes"`
	Total     time.Duration  `json:"total_ns"`
	OpsBefore map[string]int `json:"ops_before"`
	Summary   Summary        `json:"summary"`
}

// PassReport records one pass.
type PassReport struct {
	Name     string         `json:"name"`
	Required bool           `json:"required"`
	Skipped  bool           `json:"skipped,omitempty"`
	Duration time.Duration  `json:"duration_ns"`
	Nodes    int            `json:"nodes"` // node count after the pass
	Rewrites map[string]int `json:"rewrites,omitempty"`
	Notes    []string       `json:"notes,omitempty"`
}

// Summary describes the structure of a graph, independently of the passes
// that produced it: two exports of one network compare equal.
type Summary struct {
	// Ops counts nodes per op.
	Ops map[string]int `json:"ops"`
	// FusedActivations lists, per activation kind, the nodes (Conv, Gemm,
	// Add, ...) that carry it fused, in graph order.
	FusedActivations map[string][]string `json:"fused_activations"`
	// SEUnits names the SqueezeExcite nodes, in graph order.
	SEUnits []string `json:"se_units"`
	// UnfoldedBatchNorms names the BatchNorm nodes left in the graph.
	UnfoldedBatchNorms []string `json:"unfolded_batchnorms"`
}

// Summarize describes g.
func Summarize(g *ir.Graph) Summary {
	s := Summary{Ops: opCounts(g), FusedActivations: map[string][]string{}, SEUnits: []string{}, UnfoldedBatchNorms: []string{}}
	for _, n := range g.Nodes {
		if act, ok := fusedAct(n); ok && act.Kind != ir.ActNone {
			k := act.Kind.String()
			s.FusedActivations[k] = append(s.FusedActivations[k], n.Name)
		}
		switch n.Op {
		case ir.SqueezeExcite:
			s.SEUnits = append(s.SEUnits, n.Name)
		case ir.BatchNorm:
			s.UnfoldedBatchNorms = append(s.UnfoldedBatchNorms, n.Name)
		}
	}
	return s
}

func opCounts(g *ir.Graph) map[string]int {
	m := map[string]int{}
	for _, n := range g.Nodes {
		m[n.Op.String()]++
	}
	return m
}

// WriteJSON prints the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText prints the report as a table followed by the summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %q: %d nodes before, %d after, %v\n", r.Graph, sum(r.OpsBefore), sum(r.Summary.Ops), r.Total.Round(time.Microsecond))
	fmt.Fprintf(&b, "%-18s %-4s %10s %6s  %s\n", "pass", "req", "time", "nodes", "rewrites")
	for _, p := range r.Passes {
		req := ""
		if p.Required {
			req = "yes"
		}
		rw := formatCounts(p.Rewrites)
		if p.Skipped {
			rw = "(disabled)"
		}
		fmt.Fprintf(&b, "%-18s %-4s %10v %6d  %s\n", p.Name, req, p.Duration.Round(time.Microsecond), p.Nodes, rw)
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "%-18s note: %s\n", "", n)
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "ops: %s\n", formatCounts(s.Ops))
	fmt.Fprintf(&b, "squeeze-excite units (%d):%s\n", len(s.SEUnits), list(s.SEUnits))
	kinds := slices.Sorted(maps.Keys(s.FusedActivations))
	total := 0
	for _, k := range kinds {
		total += len(s.FusedActivations[k])
	}
	fmt.Fprintf(&b, "fused activations (%d):\n", total)
	for _, k := range kinds {
		fmt.Fprintf(&b, "  %s (%d):%s\n", k, len(s.FusedActivations[k]), list(s.FusedActivations[k]))
	}
	fmt.Fprintf(&b, "unfolded BatchNorms (%d):%s\n", len(s.UnfoldedBatchNorms), list(s.UnfoldedBatchNorms))
	_, err := io.WriteString(w, b.String())
	return err
}

func list(names []string) string {
	if len(names) == 0 {
		return " none"
	}
	return " " + strings.Join(names, ", ")
}

func sum(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}

// formatCounts renders a count map as "a=1, b=2" in key order.
func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
