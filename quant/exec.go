package quant

import (
	"fmt"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
)

// executable is a graph compiled for the runtime: calibration, Auto and the
// report run their float graphs (and the report its int8 graph) on the
// runtime's kernels, the fast path a model file runs on. The float32
// kernels follow one rule on every CPU (runtime/kernels), so the
// statistics, and the model files made from them, are the same on every
// machine; the int8 kernels equal the reference interpreter (Runner) bit
// for bit. ir/interp stays the oracle the tests compare them with.
type executable struct {
	m  *runtime.Model
	it *runtime.Interpreter
}

// compileGraph builds g as a model (codegen, in memory) and an interpreter
// for it on threads threads.
func compileGraph(g *ir.Graph, threads int) (*executable, error) {
	data, err := codegen.Build(g, codegen.Options{})
	if err != nil {
		return nil, err
	}
	m, err := runtime.LoadWith(data, runtime.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	it, err := m.NewInterpreter()
	if err != nil {
		return nil, err
	}
	return &executable{m: m, it: it}, nil
}

// compileGraphs builds g once and returns n single-threaded executables
// sharing its model, for inputs run in parallel.
func compileGraphs(g *ir.Graph, n int) ([]*executable, error) {
	ex, err := compileGraph(g, 1)
	if err != nil {
		return nil, err
	}
	more, err := executables(ex.m, n-1)
	return append([]*executable{ex}, more...), err
}

// executables returns n single-threaded executables of the model m.
func executables(m *runtime.Model, n int) ([]*executable, error) {
	var exs []*executable
	for len(exs) < n {
		it, err := m.NewInterpreterThreads(1)
		if err != nil {
			return exs, err
		}
		exs = append(exs, &executable{m: m, it: it})
	}
	return exs, nil
}

// close stops the interpreter's workers.
func (e *executable) close() { e.it.Close() }

// run runs in (batch items one by one), calling observe (when not nil)
// with every item's input and every operator's output, and returns the
// graph's output (a copy).
func (e *executable) run(in *ir.Tensor, observe func(*runtime.Observation)) (*ir.Tensor, error) {
	e.it.SetObserver(observe)
	out, err := e.it.Run(runtime.Tensor{Shape: in.Shape, Data: in.F32})
	e.it.SetObserver(nil)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", e.m.Info().Name, err)
	}
	if out.I32 != nil { // an ArgMax's indices
		return &ir.Tensor{DType: ir.Int32, Shape: ir.Shape(out.Shape).Clone(), I32: append([]int32(nil), out.I32...)}, nil
	}
	return ir.NewFloat32(ir.Shape(out.Shape), append([]float32(nil), out.Data...)), nil
}

// float32View is an observed float32 tensor as an ir tensor, sharing its
// values (valid during the observer call).
func float32View(o *runtime.Observation) *ir.Tensor {
	return &ir.Tensor{DType: ir.Float32, Shape: ir.Shape(o.Shape), F32: o.F32}
}

// batchItems returns the items of the inputs' batches as tensors of batch
// 1, sharing their values.
func batchItems(inputs []*ir.Tensor) []*ir.Tensor {
	var items []*ir.Tensor
	for _, t := range inputs {
		n := max(1, t.Shape[0])
		per := len(t.F32) / n
		for b := range n {
			s := t.Shape.Clone()
			s[0] = 1
			items = append(items, &ir.Tensor{DType: ir.Float32, Shape: s, F32: t.F32[b*per : (b+1)*per]})
		}
	}
	return items
}
