package passes

import "github.com/mncdev/mnc/ir"

// deadValues removes the nodes whose results nothing reads (no node, no
// graph output), then the constants no node reads.
func deadValues(s *State) error {
	g := s.Graph
	live := map[*ir.Value]bool{}
	for _, o := range g.Outputs {
		live[o] = true
	}
	var dead []*ir.Node
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		used := false
		for _, o := range n.Outputs {
			used = used || live[o]
		}
		if !used {
			dead = append(dead, n)
			continue
		}
		for _, in := range n.Inputs {
			live[in] = true
		}
	}
	g.RemoveNodes(dead...)
	s.CountN("remove node", len(dead))
	before := len(g.Consts)
	g.PruneConsts()
	s.CountN("remove constant", before-len(g.Consts))
	return nil
}
