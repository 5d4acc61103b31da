package onnx

import (
	"fmt"

	"github.com/mncdev/mnc/ir"
)

func importGemm(c *nodeCtx) error {
	if err := c.allow("alpha", "beta", "transA", "transB"); err != nil {
		return err
	}
	if err := c.arity(2, 3, 1); err != nil {
		return err
	}
	a := &ir.GemmAttrs{}
	var err error
	if a.Alpha, err = c.float("alpha", 1); err != nil {
		return err
	}
	if a.Beta, err = c.float("beta", 1); err != nil {
		return err
	}
	if a.TransA, err = c.flag("transA"); err != nil {
		return err
	}
	if a.TransB, err = c.flag("transB"); err != nil {
		return err
	}
	var ins []*ir.Value
	for i := range 3 {
		if !c.has(i) {
			continue
		}
		v, err := c.in(i)
		if err != nil {
			return err
		}
		ins = append(ins, v)
	}
	return c.emit(ir.Gemm, a, ins...)
}

func importMatMul(c *nodeCtx) error {
	ins, err := c.plainInputs(2)
	if err != nil {
		return err
	}
	a, b := ins[0], ins[1]
	if len(a.Type.Shape) < 2 || len(b.Type.Shape) != 2 {
		return fmt.Errorf("%v x %v: mnc supports MatMul of an A of rank >= 2 by a 2-D B only", a.Type.Shape, b.Type.Shape)
	}
	return c.emit(ir.MatMul, nil, a, b)
}
