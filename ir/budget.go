package ir

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/runtime/limits"
)

// Footprint is what a graph's tensors take in memory, computed from their
// shapes alone (no data needs to be allocated): unknown dimensions (a free
// batch) count as 1, and sizes saturate at math.MaxInt64 instead of
// overflowing.
type Footprint struct {
	Weights     int64 // bytes of every constant
	Activations int64 // bytes of the graph inputs and every node output, added up
	Largest     int64 // bytes of the largest of those activations
	LargestName string
}

// bytesOf returns the size of a value of type t, saturating.
func bytesOf(t TensorType) int64 {
	n := int64(max(t.DType.Size(), 1))
	for _, d := range t.Shape {
		if d < 1 {
			if d == 0 {
				return 0
			}
			continue // unknown: counts as 1
		}
		if n > math.MaxInt64/int64(d) {
			n = math.MaxInt64
			continue // keep looking for a zero dimension
		}
		n *= int64(d)
	}
	return n
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// FootprintOf computes g's footprint from its shapes.
func FootprintOf(g *Graph) Footprint {
	var f Footprint
	for _, c := range g.Consts {
		f.Weights = addSat(f.Weights, bytesOf(c.Type))
	}
	act := func(v *Value) {
		if v == nil || v.IsConst() {
			return
		}
		b := bytesOf(v.Type)
		f.Activations = addSat(f.Activations, b)
		if b > f.Largest {
			f.Largest, f.LargestName = b, v.Name
		}
	}
	for _, v := range g.Inputs {
		act(v)
	}
	for _, n := range g.Nodes {
		for _, v := range n.Outputs {
			act(v)
		}
	}
	return f
}

// CheckBudget refuses a graph whose weights or activations exceed
// limits.Weights, limits.Activations or limits.Activation, saying what they
// need ("the model's activations need 960 GiB; the limit is 4 GiB"). It
// looks at shapes only, so it runs on a graph built without its constants'
// data, before they are allocated.
func CheckBudget(g *Graph) error {
	f := FootprintOf(g)
	switch {
	case f.Weights > limits.Weights:
		return fmt.Errorf("the model's weights need %s; the limit is %s", limits.Bytes(f.Weights), limits.Bytes(limits.Weights))
	case f.Activations > limits.Activations:
		return fmt.Errorf("the model's activations need %s at batch 1; the limit is %s", limits.Bytes(f.Activations), limits.Bytes(limits.Activations))
	case f.Largest > limits.Activation:
		return fmt.Errorf("the model's activation %q needs %s at batch 1; the limit for one tensor is %s", f.LargestName, limits.Bytes(f.Largest), limits.Bytes(limits.Activation))
	}
	return nil
}
