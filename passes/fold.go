package passes

import (
	"fmt"
	"math"
	"slices"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// maxFoldElements bounds the size of a folded constant.
const maxFoldElements = 1 << 24

// foldConstants evaluates, with the reference interpreter, every float32
// node whose inputs are all constants, and makes its result a constant
// (keeping the value and its name).
func foldConstants(s *State) error {
	g := s.Graph
	var dead []*ir.Node
	for _, n := range g.Nodes {
		if !foldable(n) {
			continue
		}
		sub := &ir.Graph{Name: "fold", Consts: slices.Clone(n.Inputs), Nodes: []*ir.Node{n}, Outputs: n.Outputs}
		outs, err := interp.Run(sub, nil, &interp.Options{Workers: 1})
		if err != nil {
			s.Notef("%s %q not folded: %v", n.Op, n.Name, err)
			continue
		}
		for i, o := range n.Outputs {
			o.Const = outs[i]
			o.Type = ir.TensorType{DType: outs[i].DType, Shape: outs[i].Shape.Clone()}
			g.Consts = append(g.Consts, o)
		}
		dead = append(dead, n)
		s.Count("fold " + n.Op.String())
	}
	g.RemoveNodes(dead...)
	before := len(g.Consts)
	g.PruneConsts()
	s.CountN("drop unused constant", before-len(g.Consts))
	if len(dead) > 0 {
		// A folded constant may be the B or C of a Gemm that canonicalize
		// could not rewrite yet.
		return fixpoint(s, []func(*rw, *ir.Node) string{canonGemm})
	}
	return nil
}

func foldable(n *ir.Node) bool {
	if len(n.Inputs) == 0 {
		return false
	}
	for _, in := range n.Inputs {
		if !in.IsConst() || in.Const.DType != ir.Float32 {
			return false
		}
	}
	for _, o := range n.Outputs {
		if o.Type.DType != ir.Float32 || !o.Type.Shape.Known() || o.Type.Shape.NumElements() > maxFoldElements {
			return false
		}
	}
	return true
}

// foldBatchNorm folds every BatchNorm whose input is the result of a Conv
// or Gemm read by nothing else:
//
//	s = scale / sqrt(var + eps)
//	W'[o,...] = W[o,...] * s[o]   (Gemm: the output column o of B)
//	b'[o] = (b[o] - mean[o]) * s[o] + bias[o]
//
// computed in float64 and rounded to float32 once. A BatchNorm that follows
// anything else stays, and a note says why.
func foldBatchNorm(s *State) error {
	r := newRW(s.Graph)
	for _, n := range slices.Clone(s.Graph.Nodes) {
		if n.Op != ir.BatchNorm {
			continue
		}
		var into string
		if p := r.prod[n.Inputs[0]]; p != nil {
			into = p.Op.String()
		}
		if why := foldOneBN(r, n); why != "" {
			s.Notef("BatchNorm %q not folded: %s", n.Name, why)
			continue
		}
		s.Count("BatchNorm into " + into)
	}
	s.Graph.PruneConsts()
	return nil
}

// foldOneBN folds n, or returns why it cannot.
func foldOneBN(r *rw, n *ir.Node) string {
	x := n.Inputs[0]
	p := r.prod[x]
	switch {
	case p == nil:
		return fmt.Sprintf("its input %s is not computed by a node", x)
	case p.Op != ir.Conv && p.Op != ir.Gemm:
		return fmt.Sprintf("its input is computed by %s %q, not a Conv or Gemm", p.Op, p.Name)
	case !r.soleReader(x, n):
		return fmt.Sprintf("the result of %s %q has other readers", p.Op, p.Name)
	case !noAct(p):
		return fmt.Sprintf("%s %q has a fused activation", p.Op, p.Name)
	case p.Op == ir.Conv && p.Layout != n.Layout:
		return "the Conv and the BatchNorm have different layouts"
	}
	params := make([][]float32, 4)
	for i := range params {
		d, ok := constF32(n.Inputs[1+i])
		if !ok {
			return fmt.Sprintf("parameter %s is not a float32 constant", n.Inputs[1+i])
		}
		params[i] = d
	}
	if _, ok := constF32(p.Inputs[1]); !ok {
		return fmt.Sprintf("the weights of %s %q are not a float32 constant", p.Op, p.Name)
	}
	eps := float64(n.Attrs.(*ir.BatchNormAttrs).Epsilon)
	ch := len(params[0])
	scale := make([]float64, ch)
	for c := range ch {
		scale[c] = float64(params[0][c]) / math.Sqrt(float64(params[3][c])+eps)
	}
	// The old bias, per output channel (zero if absent).
	old := make([]float64, ch)
	switch p.Op {
	case ir.Conv:
		if p.Inputs[1].Type.Shape[0] != ch {
			return fmt.Sprintf("Conv weight %v does not have %d output channels", p.Inputs[1].Type.Shape, ch)
		}
		if len(p.Inputs) == 3 {
			b, ok := constF32(p.Inputs[2])
			if !ok {
				return "the Conv bias is not a float32 constant"
			}
			for c := range ch {
				old[c] = float64(b[c])
			}
		}
	case ir.Gemm:
		a := p.Attrs.(*ir.GemmAttrs)
		if len(n.Output().Type.Shape) != 2 {
			return "the Gemm result is not 2-D"
		}
		if len(p.Inputs) == 3 {
			b, ok := constF32(p.Inputs[2])
			if !ok {
				return "the Gemm bias C is not a float32 constant"
			}
			switch len(b) {
			case 1:
				for c := range ch {
					old[c] = float64(a.Beta) * float64(b[0])
				}
			case ch:
				if sh := p.Inputs[2].Type.Shape; len(sh) == 2 && sh[0] != 1 {
					return fmt.Sprintf("the Gemm bias C %v is not per column", sh)
				}
				for c := range ch {
					old[c] = float64(a.Beta) * float64(b[c])
				}
			default:
				return fmt.Sprintf("the Gemm bias C %v is not per column", p.Inputs[2].Type.Shape)
			}
		}
	}

	// Scale the weights.
	wv := r.privateConst(p.Inputs[1], p, p.Inputs[1].Name)
	p.Inputs[1] = wv
	wd := wv.Const.F32
	switch p.Op {
	case ir.Conv:
		per := len(wd) / ch
		for c := range ch {
			for i := c * per; i < (c+1)*per; i++ {
				wd[i] = float32(float64(wd[i]) * scale[c])
			}
		}
	case ir.Gemm:
		a := p.Attrs.(*ir.GemmAttrs)
		sh := wv.Type.Shape // B is [K,N], or [N,K] with TransB
		for i := range sh[0] {
			for j := range sh[1] {
				c := j
				if a.TransB {
					c = i
				}
				wd[i*sh[1]+j] = float32(float64(wd[i*sh[1]+j]) * scale[c])
			}
		}
	}
	// The new bias.
	bias := make([]float32, ch)
	for c := range ch {
		bias[c] = float32(float64((old[c]-float64(params[2][c]))*scale[c]) + float64(params[1][c]))
	}
	bv := r.g.AddConst(p.Name+".bias", ir.NewFloat32(ir.Shape{ch}, bias))
	if len(p.Inputs) == 3 {
		p.Inputs[2] = bv
	} else {
		p.Inputs = append(p.Inputs, bv)
	}
	if p.Op == ir.Gemm {
		a := *p.Attrs.(*ir.GemmAttrs)
		a.Beta = 1
		p.Attrs = &a
	}
	r.absorb(p, n)
	return ""
}
