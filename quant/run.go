package quant

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/kernels"
)

// Runner is the int8 reference interpreter: it executes a quantized graph
// exactly by the contract of the package documentation, calling the generic
// kernels of runtime/kernels with parameters derived by kernels' scheme
// functions (the ones the runtime's planner calls too). NewRunner validates
// the graph and prepares every node's integer parameters (fixed-point
// multipliers, clamps, tables, repacked weights) once, as one step per node
// (int8ops.go); Run may then be called repeatedly, also concurrently.
type Runner struct {
	g       *ir.Graph
	steps   map[*ir.Node]opStep
	workers int
}

// opStep is the prepared int8 form of one node. run computes the node's
// output (allocated by the caller, of the node's inferred shape for this
// input) from its inputs; it may split the work over workers goroutines.
type opStep interface {
	run(ins []*ir.Tensor, out *ir.Tensor, workers int) error
}

// NewRunner prepares q for execution with the given number of goroutines
// per op (0: runtime.GOMAXPROCS(0)).
func NewRunner(q *ir.Graph, workers int) (*Runner, error) {
	if q == nil {
		return nil, errors.New("int8 interpreter: nil graph")
	}
	if err := ir.Verify(q); err != nil {
		return nil, fmt.Errorf("int8 interpreter: %w", err)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	r := &Runner{g: q, steps: map[*ir.Node]opStep{}, workers: workers}
	if len(q.Inputs) != 1 || q.Inputs[0].Type.DType != ir.Float32 {
		return nil, errors.New("int8 interpreter: the graph needs one float32 input")
	}
	kept := map[string]bool{}
	if k := q.Meta[MetaKeepFloat]; k != "" {
		for _, name := range strings.Split(k, ",") {
			kept[name] = true
		}
	}
	for _, n := range q.Nodes {
		if Keepable(n.Op) && n.Output().Type.DType == ir.Float32 && !kept[n.Name] {
			return nil, fmt.Errorf("int8 interpreter: %s %q computes in float32, but the graph does not keep it float (%s)", n.Op, n.Name, MetaKeepFloat)
		}
		s, err := prepare(n)
		if err != nil {
			return nil, fmt.Errorf("int8 interpreter: %s %q: %w", n.Op, n.Name, err)
		}
		r.steps[n] = s
	}
	return r, nil
}

// Check validates a quantized graph: ir.Verify, then every node has the
// int8 form the interpreter (and so every backend) executes.
func Check(q *ir.Graph) error {
	_, err := NewRunner(q, 1)
	return err
}

// Run executes q on one float32 input (see Runner.Run).
func Run(q *ir.Graph, input *ir.Tensor) (*ir.Tensor, error) {
	r, err := NewRunner(q, 0)
	if err != nil {
		return nil, err
	}
	outs, err := r.Run(input, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// perTensor returns the per-tensor quantization of a value.
func perTensor(v *ir.Value) (kernels.Quant, error) {
	q := v.Quant
	if q == nil || len(q.Scale) != 1 || len(q.ZeroPoint) != 1 {
		return kernels.Quant{}, fmt.Errorf("value %s has no per-tensor quantization", v)
	}
	s, z := float64(q.Scale[0]), q.ZeroPoint[0]
	if !(s > 0) || math.IsInf(s, 0) {
		return kernels.Quant{}, fmt.Errorf("value %s has scale %g", v, s)
	}
	if z < -128 || z > 127 {
		return kernels.Quant{}, fmt.Errorf("value %s has zero point %d", v, z)
	}
	return kernels.Quant{Scale: s, Zero: z}, nil
}

// bounds returns a fused activation that int8 ops apply as a clamp.
func bounds(act ir.Activation) (kernels.Bounds, error) {
	switch act.Kind {
	case ir.ActNone:
		return kernels.NoClamp, nil
	case ir.ActRelu:
		return kernels.ReLU, nil
	case ir.ActRelu6:
		return kernels.ReLU6, nil
	case ir.ActClip:
		return kernels.Bounds{Lo: float64(act.Min), Hi: float64(act.Max)}, nil
	}
	return kernels.Bounds{}, fmt.Errorf("activation %v is not a clamp (lower it to a Lookup first)", act.Kind)
}

// Run executes the graph on one float32 input whose shape matches the graph
// input (an unknown batch dimension takes the input's). observe, if not nil,
// sees every value computed (the tensor must not be kept). It returns the
// graph outputs.
func (r *Runner) Run(input *ir.Tensor, observe func(v *ir.Value, t *ir.Tensor)) (outs []*ir.Tensor, err error) {
	in := r.g.Inputs[0]
	if input == nil || input.DType != ir.Float32 {
		return nil, errors.New("int8 interpreter: the input must be a float32 tensor")
	}
	if err := input.Check(); err != nil {
		return nil, fmt.Errorf("int8 interpreter: input: %w", err)
	}
	if len(input.Shape) != len(in.Type.Shape) {
		return nil, fmt.Errorf("int8 interpreter: input shape %v, want %v", input.Shape, in.Type.Shape)
	}
	for i, d := range in.Type.Shape {
		if d >= 0 && input.Shape[i] != d {
			return nil, fmt.Errorf("int8 interpreter: input shape %v, want %v", input.Shape, in.Type.Shape)
		}
	}
	env := map[*ir.Value]*ir.Tensor{in: input}
	if observe != nil {
		observe(in, input)
	}
	lastUse := map[*ir.Value]int{}
	for i, n := range r.g.Nodes {
		for _, v := range n.Inputs {
			lastUse[v] = i
		}
	}
	keep := map[*ir.Value]bool{}
	for _, v := range r.g.Outputs {
		keep[v] = true
	}
	for i, n := range r.g.Nodes {
		out, err := r.step(n, env)
		if err != nil {
			return nil, fmt.Errorf("int8 interpreter: %w", err)
		}
		env[n.Output()] = out
		if observe != nil {
			observe(n.Output(), out)
		}
		for _, v := range n.Inputs {
			if lastUse[v] == i && !keep[v] && v.Const == nil && v != in {
				delete(env, v)
			}
		}
	}
	outs = make([]*ir.Tensor, len(r.g.Outputs))
	for i, v := range r.g.Outputs {
		if outs[i] = env[v]; outs[i] == nil {
			return nil, fmt.Errorf("int8 interpreter: output %s was not computed", v)
		}
	}
	return outs, nil
}

// step runs node n on the values of env (constants from the graph) and
// returns its output; errors name the node.
func (r *Runner) step(n *ir.Node, env map[*ir.Value]*ir.Tensor) (*ir.Tensor, error) {
	ins := make([]*ir.Tensor, len(n.Inputs))
	types := make([]ir.TensorType, len(n.Inputs))
	for j, v := range n.Inputs {
		t := v.Const
		if t == nil {
			t = env[v]
		}
		if t == nil {
			return nil, fmt.Errorf("%s %q: input %s has no value", n.Op, n.Name, v)
		}
		ins[j], types[j] = t, ir.TensorType{DType: t.DType, Shape: t.Shape}
	}
	out, err := r.runNode(n, ins, types)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", n.Op, n.Name, err)
	}
	return out, nil
}

func (r *Runner) runNode(n *ir.Node, ins []*ir.Tensor, types []ir.TensorType) (out *ir.Tensor, err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("panic: %v\n%s", e, debug.Stack())
		}
	}()
	ts, err := ir.InferNode(n, types)
	if err != nil {
		return nil, err
	}
	shape := ts[0].Shape
	if !shape.Known() {
		return nil, fmt.Errorf("output shape %v is not concrete", shape)
	}
	switch n := shape.NumElements(); ts[0].DType {
	case ir.Float32:
		out = ir.NewFloat32(shape, nil)
	case ir.Int32:
		out = &ir.Tensor{DType: ir.Int32, Shape: shape, I32: make([]int32, n)}
	case ir.Int64:
		out = &ir.Tensor{DType: ir.Int64, Shape: shape, I64: make([]int64, n)}
	default:
		out = &ir.Tensor{DType: ir.Int8, Shape: shape, I8: make([]int8, n)}
	}
	return out, r.steps[n].run(ins, out, r.workers)
}

// parallelFor calls body over disjoint ranges covering [0, n) on up to
// workers goroutines; a panic in a worker is re-raised in the caller.
func parallelFor(n, workers int, body func(lo, hi int)) {
	w := min(max(workers, 1), n)
	if w <= 1 {
		if n > 0 {
			body(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var caught any
	for k := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if e := recover(); e != nil {
					mu.Lock()
					caught = e
					mu.Unlock()
				}
			}()
			body(k*n/w, (k+1)*n/w)
		}()
	}
	wg.Wait()
	if caught != nil {
		panic(caught)
	}
}
