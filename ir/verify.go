package ir

import (
	"errors"
	"fmt"
)

// Verify checks the graph's invariants: every value has a valid type and a
// unique ID and name; constants hold data matching their type; every node
// input is defined before the node reads it (so the order is topological and
// acyclic); no value is defined twice; each node's attributes and recorded
// output types agree with shape inference; graph outputs are defined.
func Verify(g *Graph) error {
	if g == nil {
		return errors.New("verify: nil graph")
	}
	if err := verify(g); err != nil {
		return fmt.Errorf("verify %s: %w", g.Name, err)
	}
	return nil
}

func verify(g *Graph) error {
	defined := map[*Value]string{} // value -> what defined it
	ids := map[int]*Value{}
	names := map[string]*Value{}
	define := func(v *Value, by string) error {
		if v == nil {
			return fmt.Errorf("%s defines a nil value", by)
		}
		if prev, ok := defined[v]; ok {
			return fmt.Errorf("value %s is defined twice: by %s and by %s", v, prev, by)
		}
		if o, ok := ids[v.ID]; ok {
			return fmt.Errorf("values %s and %s share ID %d", o, v, v.ID)
		}
		if o, ok := names[v.Name]; ok && v.Name != "" {
			return fmt.Errorf("two values are named %q (IDs %d and %d)", v.Name, o.ID, v.ID)
		}
		if v.Type.DType.Size() == 0 {
			return fmt.Errorf("value %s has invalid dtype", v)
		}
		defined[v], ids[v.ID], names[v.Name] = by, v, v
		return nil
	}
	for _, v := range g.Inputs {
		if err := define(v, "graph input"); err != nil {
			return err
		}
		if v.Const != nil {
			return fmt.Errorf("graph input %s holds constant data", v)
		}
	}
	for _, c := range g.Consts {
		if err := define(c, "constant"); err != nil {
			return err
		}
		if c.Const == nil {
			return fmt.Errorf("constant %s has no data", c)
		}
		if err := c.Const.Check(); err != nil {
			return fmt.Errorf("constant %s: %w", c, err)
		}
		if c.Const.DType != c.Type.DType || !c.Const.Shape.Equal(c.Type.Shape) {
			return fmt.Errorf("constant %s has type %v but data %v%v", c, c.Type, c.Const.DType, c.Const.Shape)
		}
	}
	later := map[*Value]bool{}
	for _, n := range g.Nodes {
		if n != nil {
			for _, o := range n.Outputs {
				later[o] = true
			}
		}
	}
	for i, n := range g.Nodes {
		if n == nil {
			return fmt.Errorf("node %d is nil", i)
		}
		for j, in := range n.Inputs {
			if in == nil {
				return fmt.Errorf("node %q input %d is nil", n.Name, j)
			}
			if _, ok := defined[in]; !ok {
				if later[in] {
					return fmt.Errorf("node %q reads %s before it is defined (cycle or unsorted nodes)", n.Name, in)
				}
				if in.Const != nil {
					return fmt.Errorf("node %q reads constant %s, which is not in the graph's constant list", n.Name, in)
				}
				return fmt.Errorf("node %q reads %s, which nothing defines (dangling)", n.Name, in)
			}
		}
		types, err := InferNode(n, inputTypes(n))
		if err != nil {
			return err
		}
		if len(n.Outputs) != len(types) {
			return fmt.Errorf("%s %q has %d outputs, want %d", n.Op, n.Name, len(n.Outputs), len(types))
		}
		for j, o := range n.Outputs {
			if err := define(o, fmt.Sprintf("node %q", n.Name)); err != nil {
				return err
			}
			if o.Const != nil {
				return fmt.Errorf("node %q output %s holds constant data", n.Name, o)
			}
			if o.Type.DType != types[j].DType || !o.Type.Shape.Equal(types[j].Shape) {
				return fmt.Errorf("%s %q output %s is recorded as %v, inference gives %v", n.Op, n.Name, o, o.Type, types[j])
			}
		}
	}
	if len(g.Outputs) == 0 {
		return errors.New("graph has no outputs")
	}
	for _, o := range g.Outputs {
		if o == nil {
			return errors.New("graph output is nil")
		}
		if _, ok := defined[o]; !ok {
			return fmt.Errorf("graph output %s is not defined", o)
		}
	}
	return nil
}
