package classify

import "github.com/mncdev/mnc/ir"

// OutputInfo describes a model's output as far as it is known before
// running the model.
type OutputInfo struct {
	// Type is the output's type; its DType is ir.InvalidDType where only a
	// run tells (a .mnc file's), its Shape nil for an unknown model type.
	Type ir.TensorType
	// ArgMaxClasses is, for an output computed by an ArgMax (a
	// segmentation model's class map, as DeepLab's), the length of the
	// axis it reduces: the number of classes; 0 otherwise.
	ArgMaxClasses int
}

// Output describes m's output (see OutputInfo).
func Output(m Model) OutputInfo {
	switch m := m.(type) {
	case graphModel:
		return graphOutput(m.g)
	case *blobModel:
		return OutputInfo{Type: ir.TensorType{Shape: ir.Shape(m.m.OutputShape())}}
	case *blobReplica:
		return Output(&m.blobModel)
	}
	return OutputInfo{}
}

func graphOutput(g *ir.Graph) OutputInfo {
	if len(g.Outputs) == 0 {
		return OutputInfo{}
	}
	out := g.Outputs[0]
	info := OutputInfo{Type: out.Type}
	for _, n := range g.Nodes {
		if n.Op != ir.ArgMax || len(n.Outputs) == 0 || n.Output() != out || len(n.Inputs) == 0 {
			continue
		}
		a, ok := n.Attrs.(*ir.ArgMaxAttrs)
		s := n.Inputs[0].Type.Shape
		if !ok {
			break
		}
		axis := a.Axis
		if axis < 0 {
			axis += len(s)
		}
		if axis >= 0 && axis < len(s) && s[axis] > 0 {
			info.ArgMaxClasses = s[axis]
		}
	}
	return info
}
