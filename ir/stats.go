package ir

// Stats summarises a graph's size and cost.
type Stats struct {
	// Params counts the elements of constant node inputs, as PyTorch counts
	// parameters: batch-norm running mean and variance are buffers, not
	// parameters, and are left out.
	Params int64
	// MACs counts multiply-accumulates of convolutions and matrix products
	// for one input (an unknown batch dimension counts as 1), as torchvision
	// reports them.
	MACs int64
	// OpCounts counts nodes per op.
	OpCounts map[Op]int
}

// ComputeStats returns the graph's Stats.
func ComputeStats(g *Graph) Stats {
	s := Stats{OpCounts: map[Op]int{}}
	seen := map[*Value]bool{}
	for _, n := range g.Nodes {
		s.OpCounts[n.Op]++
		for i, in := range n.Inputs {
			if in == nil || in.Const == nil || seen[in] {
				continue
			}
			if n.Op == BatchNorm && i >= 3 {
				continue // running statistics
			}
			seen[in] = true
			s.Params += int64(max(in.Type.Shape.NumElements(), 0))
		}
		s.MACs += nodeMACs(n)
	}
	return s
}

// NodeMACs returns the multiply-accumulates of one node for one input.
func nodeMACs(n *Node) int64 {
	dim := func(d int) int64 { return int64(max(d, 1)) }
	out := n.Outputs[0].Type.Shape
	switch n.Op {
	case Conv:
		w := n.Inputs[1].Type.Shape
		return dim(out[0]) * dim(out[1]) * dim(out[2]) * dim(out[3]) * dim(w[1]) * dim(w[2]) * dim(w[3])
	case Gemm, MatMul:
		a := n.Inputs[0].Type.Shape
		k := a[len(a)-1]
		if ga, ok := n.Attrs.(*GemmAttrs); ok && ga.TransA {
			k = a[0]
		}
		var p int64 = 1
		for _, d := range out {
			p *= dim(d)
		}
		return p * dim(k)
	}
	return 0
}

// NodeMACs returns the multiply-accumulates of one node for one input.
func NodeMACs(n *Node) int64 { return nodeMACs(n) }
