package onnx

import (
	"errors"
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
)

func unary(op ir.Op) func(c *nodeCtx) error {
	return func(c *nodeCtx) error {
		ins, err := c.plainInputs(1)
		if err != nil {
			return err
		}
		return c.emit(op, nil, ins...)
	}
}

func eltwise(op ir.Op) func(c *nodeCtx) error {
	return func(c *nodeCtx) error {
		if c.opset() < 7 {
			return fmt.Errorf("legacy broadcasting (before opset 7) is not supported")
		}
		ins, err := c.plainInputs(2)
		if err != nil {
			return err
		}
		return c.emit(op, nil, ins...)
	}
}

func importHardSigmoid(c *nodeCtx) error {
	if err := c.allow("alpha", "beta"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	alpha, err := c.float("alpha", 0.2)
	if err != nil {
		return err
	}
	beta, err := c.float("beta", 0.5)
	if err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	return c.emit(ir.HardSigmoid, &ir.HardSigmoidAttrs{Alpha: alpha, Beta: beta}, x)
}

func importClip(c *nodeCtx) error {
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	var err error
	if c.opset() < 11 {
		if err := c.allow("min", "max"); err != nil {
			return err
		}
		if err := c.arity(1, 1, 1); err != nil {
			return err
		}
		if lo, err = c.float("min", lo); err != nil {
			return err
		}
		if hi, err = c.float("max", hi); err != nil {
			return err
		}
	} else {
		if err := c.allow(); err != nil {
			return err
		}
		if err := c.arity(1, 3, 1); err != nil {
			return err
		}
		for i, dst := range []*float32{&lo, &hi} {
			if !c.has(i + 1) {
				continue
			}
			if *dst, err = c.konstFloat(i+1, []string{"min", "max"}[i]); err != nil {
				return err
			}
		}
	}
	if math.IsNaN(float64(lo)) || math.IsNaN(float64(hi)) {
		return fmt.Errorf("NaN bound (min %g, max %g)", lo, hi)
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	return c.emit(ir.Clip, &ir.ClipAttrs{Min: lo, Max: hi}, x)
}

func importIdentity(c *nodeCtx) error {
	if err := c.allow(); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	e, err := c.entry(0)
	if err != nil {
		return err
	}
	switch {
	case e.c != nil:
		// Keep constants constant (a Reshape target may go through an
		// Identity); the data is cloned if it enters the graph twice.
		e.c.shared = true
		c.bind(&entry{c: &constant{name: c.n.outputs[0], t: e.c.t, onnxType: e.c.onnxType, shared: true}})
		return nil
	case e.sym != nil:
		c.bind(&entry{sym: e.sym})
		return nil
	}
	return c.emit(ir.Identity, nil, e.v)
}

func importDropout(c *nodeCtx) error {
	if c.opset() < 12 {
		if err := c.allow("ratio"); err != nil {
			return err
		}
		if err := c.arity(1, 1, 2); err != nil {
			return err
		}
	} else {
		if err := c.allow("seed"); err != nil {
			return err
		}
		if err := c.arity(1, 3, 2); err != nil {
			return err
		}
		if c.has(2) {
			t, err := c.konst(2, "training_mode")
			if err != nil {
				return fmt.Errorf("%w (mnc imports Dropout in inference mode only)", err)
			}
			v, err := scalarFloat(t)
			if err != nil {
				return fmt.Errorf("training_mode %w", err)
			}
			if v != 0 {
				return errors.New("training_mode is true: mnc imports Dropout in inference mode only")
			}
		}
	}
	if err := c.extraOutputsUnused("mnc imports Dropout as an inference-mode identity and has no mask"); err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	return c.emit(ir.Dropout, nil, x)
}

func importSoftmax(c *nodeCtx) error {
	if err := c.allow("axis"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	def := -1
	if c.opset() < 13 {
		def = 1
	}
	axis, err := c.smallInt("axis", def)
	if err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	s := x.Type.Shape
	if c.opset() < 13 {
		// Before opset 13 Softmax flattens the input to 2-D at axis and
		// normalises over all trailing dimensions. That equals a softmax
		// along one axis only when every other trailing dimension is 1.
		ax, err := ir.NormAxis(axis, len(s))
		if err != nil {
			return err
		}
		along := len(s) - 1
		if ax != along {
			nonUnit := -1
			for i := ax; i < len(s); i++ {
				if s[i] < 0 || (s[i] != 1 && nonUnit >= 0) {
					return fmt.Errorf("axis %d on input %v: before opset 13 Softmax normalises over all dimensions from the axis on, "+
						"which mnc supports only when the axis is the last dimension or the other trailing dimensions are 1 "+
						"(re-export with opset 13 or later)", axis, s)
				}
				if s[i] != 1 {
					nonUnit = i
				}
			}
			if nonUnit >= 0 {
				along = nonUnit
			}
		}
		axis = along
	}
	return c.emit(ir.Softmax, &ir.SoftmaxAttrs{Axis: axis}, x)
}
