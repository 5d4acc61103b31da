package interp

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/mncdev/mnc/ir"
)

// Options configures Run. A nil *Options means the defaults.
type Options struct {
	// Observe, if set, is called with every value computed (graph inputs,
	// node outputs) in execution order; the tensor must not be retained or
	// modified by the callee unless it copies it. Calibration records
	// statistics through this hook.
	Observe func(v *ir.Value, t *ir.Tensor)
	// Workers bounds the goroutines used inside one op (0 means
	// runtime.GOMAXPROCS(0)); results never depend on it.
	Workers int
}

// Run executes g on inputs (float32 tensors matched to g.Inputs by position)
// and returns one tensor per graph output. Dimensions of the graph inputs that
// are unknown (negative, e.g. the batch) take the size of the actual input;
// every node's output shape is re-inferred from the concrete input shapes.
// The returned tensors are owned by the caller. Neither g nor the inputs are
// modified, so concurrent Runs of one graph are safe. Every value is f32
// except the i32 or i64 indices ArgMax computes, which no other op reads
// (a node reading them is an error) but a graph output (or Observe) may.
func Run(g *ir.Graph, inputs []*ir.Tensor, opts *Options) ([]*ir.Tensor, error) {
	if g == nil {
		return nil, errors.New("interp: nil graph")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Workers < 0 {
		return nil, fmt.Errorf("interp: negative Workers %d", o.Workers)
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if len(inputs) != len(g.Inputs) {
		return nil, fmt.Errorf("interp: graph %s has %d inputs, got %d tensors", g.Name, len(g.Inputs), len(inputs))
	}

	env := make(map[*ir.Value]*ir.Tensor, len(g.Inputs)+len(g.Nodes))
	for i, v := range g.Inputs {
		t := inputs[i]
		if err := checkInput(v, t); err != nil {
			return nil, fmt.Errorf("interp: input %d (%s): %w", i, v, err)
		}
		env[v] = t
	}
	if o.Observe != nil {
		for i, v := range g.Inputs {
			o.Observe(v, inputs[i])
		}
	}

	// lastUse[v] is the index of the last node reading v; values that are
	// graph outputs are kept to the end.
	lastUse := make(map[*ir.Value]int, len(g.Nodes))
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != nil && in.Const == nil {
				lastUse[in] = i
			}
		}
	}
	keep := make(map[*ir.Value]bool, len(g.Outputs))
	for _, v := range g.Outputs {
		keep[v] = true
	}

	ins := make([]*ir.Tensor, 0, 4)
	types := make([]ir.TensorType, 0, 4)
	for i, n := range g.Nodes {
		if n == nil {
			return nil, fmt.Errorf("interp: node %d is nil", i)
		}
		ins, types = ins[:0], types[:0]
		for j, in := range n.Inputs {
			var t *ir.Tensor
			switch {
			case in == nil:
			case in.Const != nil:
				t = in.Const
			default:
				t = env[in]
			}
			if t == nil {
				return nil, fmt.Errorf("run node %q (%s): input %d (%v) has no value", n.Name, n.Op, j, in)
			}
			ins = append(ins, t)
			types = append(types, ir.TensorType{DType: t.DType, Shape: t.Shape})
		}
		out, err := runNode(n, ins, types, o.Workers)
		if err != nil {
			return nil, err
		}
		v := n.Output()
		env[v] = out
		if o.Observe != nil {
			o.Observe(v, out)
		}
		// Drop intermediate tensors after their last use.
		for _, in := range n.Inputs {
			if in != nil && in.Const == nil && lastUse[in] == i && !keep[in] {
				delete(env, in)
			}
		}
		if _, used := lastUse[v]; !used && !keep[v] {
			delete(env, v)
		}
	}

	outs := make([]*ir.Tensor, len(g.Outputs))
	for i, v := range g.Outputs {
		var t *ir.Tensor
		if v != nil {
			if v.Const != nil {
				t = v.Const
			} else {
				t = env[v]
			}
		}
		if t == nil {
			return nil, fmt.Errorf("interp: graph output %d (%v) was not computed", i, v)
		}
		if v.Const != nil || isInput(g, v) {
			t = t.Clone() // never hand out the graph's or the caller's data
		}
		outs[i] = t
	}
	return outs, nil
}

func isInput(g *ir.Graph, v *ir.Value) bool {
	for _, in := range g.Inputs {
		if in == v {
			return true
		}
	}
	return false
}

// checkInput validates a run-time input against its graph input value.
func checkInput(v *ir.Value, t *ir.Tensor) error {
	if t == nil {
		return errors.New("nil tensor")
	}
	if v.Type.DType != ir.Float32 {
		return fmt.Errorf("graph input has dtype %v; the float interpreter runs only f32 graphs", v.Type.DType)
	}
	if t.DType != ir.Float32 {
		return fmt.Errorf("tensor has dtype %v, want f32", t.DType)
	}
	if err := t.Check(); err != nil {
		return err
	}
	if len(t.Shape) != len(v.Type.Shape) {
		return fmt.Errorf("tensor has shape %v (rank %d), want rank %d (%v)", t.Shape, len(t.Shape), len(v.Type.Shape), v.Type.Shape)
	}
	for i, d := range v.Type.Shape {
		if d >= 0 && t.Shape[i] != d {
			return fmt.Errorf("tensor has shape %v, want %v", t.Shape, v.Type.Shape)
		}
	}
	return nil
}

// runNode infers the node's concrete output type, allocates the output and
// runs the kernel, turning a panic into an error naming the node.
func runNode(n *ir.Node, ins []*ir.Tensor, types []ir.TensorType, workers int) (out *ir.Tensor, err error) {
	err = protect(func() error {
		for j, t := range ins {
			if t.DType != ir.Float32 {
				return fmt.Errorf("input %d has dtype %v; the float interpreter supports only f32", j, t.DType)
			}
			if err := t.Check(); err != nil {
				return fmt.Errorf("input %d: %w", j, err)
			}
		}
		ts, err := ir.InferNode(n, types)
		if err != nil {
			return err
		}
		if len(ts) != 1 || len(n.Outputs) != 1 {
			return fmt.Errorf("op has %d outputs (%d inferred); the interpreter supports one", len(n.Outputs), len(ts))
		}
		if out, err = newOutput(n.Op, ts[0]); err != nil {
			return err
		}
		return kernel(n, ins, out, workers)
	})
	if err != nil {
		return nil, fmt.Errorf("run node %q (%s): %w", n.Name, n.Op, err)
	}
	return out, nil
}

// newOutput allocates a node's zeroed result of type t: f32, or the i32
// or i64 indices of ArgMax.
func newOutput(op ir.Op, t ir.TensorType) (*ir.Tensor, error) {
	n := t.Shape.NumElements()
	switch {
	case n < 0: // unknown dimensions: refused below
	case t.DType == ir.Float32:
		return ir.NewFloat32(t.Shape, nil), nil
	case op == ir.ArgMax && t.DType == ir.Int32:
		return &ir.Tensor{DType: ir.Int32, Shape: t.Shape.Clone(), I32: make([]int32, n)}, nil
	case op == ir.ArgMax && t.DType == ir.Int64:
		return &ir.Tensor{DType: ir.Int64, Shape: t.Shape.Clone(), I64: make([]int64, n)}, nil
	}
	return nil, fmt.Errorf("inferred output type %v is not a concrete f32 type (or ArgMax's i32 or i64)", t)
}

// protect calls f, converting a panic (a bug in a kernel) into an error.
func protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return f()
}

func panicError(r any) error {
	if p, ok := r.(workerPanic); ok {
		return fmt.Errorf("panic: %v\n%s", p.value, p.stack)
	}
	return fmt.Errorf("panic: %v\n%s", r, debug.Stack())
}

// kernel dispatches on the op. out has the inferred shape and zeroed data.
func kernel(n *ir.Node, in []*ir.Tensor, out *ir.Tensor, workers int) error {
	if n.Layout == ir.NHWC && ir.LayoutSensitive(n.Op) {
		return nhwc(n, in, out, workers)
	}
	switch n.Op {
	case ir.Conv:
		return conv(n.Attrs.(*ir.ConvAttrs), in, out, workers)
	case ir.BatchNorm:
		return batchNorm(n.Attrs.(*ir.BatchNormAttrs), in, out)
	case ir.Relu:
		unary(ir.Activation{Kind: ir.ActRelu}, in[0], out)
	case ir.Relu6:
		unary(ir.Activation{Kind: ir.ActRelu6}, in[0], out)
	case ir.Clip:
		a := n.Attrs.(*ir.ClipAttrs)
		unary(ir.Activation{Kind: ir.ActClip, Min: a.Min, Max: a.Max}, in[0], out)
	case ir.HardSigmoid:
		a := n.Attrs.(*ir.HardSigmoidAttrs)
		unary(ir.Activation{Kind: ir.ActHardSigmoid, Alpha: a.Alpha, Beta: a.Beta}, in[0], out)
	case ir.HardSwish:
		unary(ir.Activation{Kind: ir.ActHardSwish}, in[0], out)
	case ir.Sigmoid:
		sigmoid(in[0], out)
	case ir.Add, ir.Sub, ir.Mul, ir.Div:
		var act ir.Activation
		if n.Attrs != nil {
			act = n.Attrs.(*ir.EltwiseAttrs).Act
		}
		binary(n.Op, act, in[0], in[1], out)
	case ir.GlobalAveragePool:
		globalAveragePool(in[0], out)
	case ir.AveragePool:
		averagePool(n.Attrs.(*ir.PoolAttrs), in[0], out)
	case ir.Flatten, ir.Reshape, ir.Identity, ir.Dropout:
		// Same elements in the same order; only the shape may differ.
		if len(out.F32) != len(in[0].F32) {
			return fmt.Errorf("output %v has %d elements, input %v has %d", out.Shape, len(out.F32), in[0].Shape, len(in[0].F32))
		}
		copy(out.F32, in[0].F32)
	case ir.Gemm:
		return gemm(n.Attrs.(*ir.GemmAttrs), in, out, workers)
	case ir.MatMul:
		return matMul(in, out, workers)
	case ir.Softmax:
		return softmax(n.Attrs.(*ir.SoftmaxAttrs), in[0], out)
	case ir.Pad:
		return pad(n.Attrs.(*ir.PadAttrs), in[0], out)
	case ir.Concat:
		return concat(n.Attrs.(*ir.ConcatAttrs), in, out)
	case ir.ResizeBilinear:
		resizeBilinear(n.Attrs.(*ir.ResizeAttrs), in[0], out)
	case ir.ArgMax:
		return argMax(n.Attrs.(*ir.ArgMaxAttrs), in[0], out)
	case ir.Transpose:
		transpose(n.Attrs.(*ir.TransposeAttrs).Perm, in[0], out)
	case ir.SqueezeExcite:
		return squeezeExcite(n.Attrs.(*ir.SqueezeExciteAttrs), in, out, workers)
	default:
		// Lookup, Quantize and Dequantize belong to quantized graphs; their
		// int8 operands or results are rejected before this point.
		return fmt.Errorf("op %v is not supported by the float interpreter", n.Op)
	}
	return nil
}
