package onnx

import (
	"errors"
	"fmt"

	"github.com/mncdev/mnc/ir"
)

// autoPads resolves auto_pad for a 2-D window over in (H, W) with kernel k,
// stride s and dilation d. pads holds the explicit pads (top, left, bottom,
// right) and given whether the attribute was present.
func autoPads(mode string, pads [4]int, given bool, in, k, s, d [2]int) ([4]int, error) {
	switch mode {
	case "NOTSET", "":
		return pads, nil
	case "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return pads, fmt.Errorf("unknown auto_pad %q", mode)
	}
	if given && pads != [4]int{} {
		return pads, fmt.Errorf("auto_pad %s and explicit pads %v are both given", mode, pads)
	}
	if mode == "VALID" {
		return [4]int{}, nil
	}
	var out [4]int
	for i := range 2 {
		if in[i] < 0 || k[i] < 0 {
			return pads, fmt.Errorf("auto_pad %s needs known spatial sizes, input has %v and kernel %v", mode, in, k)
		}
		o := (in[i] + s[i] - 1) / s[i]
		total := max(0, (o-1)*s[i]+(k[i]-1)*d[i]+1-in[i])
		begin := total / 2
		if mode == "SAME_LOWER" {
			begin = total - total/2
		}
		out[i], out[i+2] = begin, total-begin
	}
	return out, nil
}

// windowPads reads the pads and auto_pad attributes of a 2-D window with
// kernel k, stride s and dilation d over the rank-4 input shape xs, and
// returns the explicit pads (top, left, bottom, right).
func (c *nodeCtx) windowPads(xs ir.Shape, k, s, d [2]int) ([4]int, error) {
	pads, given, err := c.pads4()
	if err != nil {
		return [4]int{}, err
	}
	mode, err := c.str("auto_pad", "NOTSET")
	if err != nil {
		return [4]int{}, err
	}
	return autoPads(mode, pads, given, [2]int{xs[2], xs[3]}, k, s, d)
}

// pads4 reads a 2-D pads attribute.
func (c *nodeCtx) pads4() ([4]int, bool, error) {
	v, ok, err := c.ints("pads")
	if err != nil || !ok {
		return [4]int{}, false, err
	}
	if len(v) != 4 {
		return [4]int{}, false, fmt.Errorf("attribute \"pads\" has %d values, want 4 (2-D only)", len(v))
	}
	for _, p := range v {
		if p < 0 {
			return [4]int{}, false, fmt.Errorf("negative pads %v", v)
		}
	}
	return [4]int{v[0], v[1], v[2], v[3]}, true, nil
}

func importConv(c *nodeCtx) error {
	if err := c.allow("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"); err != nil {
		return err
	}
	if err := c.arity(2, 3, 1); err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	w, err := c.in(1)
	if err != nil {
		return err
	}
	xs, ws := x.Type.Shape, w.Type.Shape
	if len(xs) != 4 || len(ws) != 4 {
		return fmt.Errorf("input %v with weight %v: mnc supports 2-D convolutions (rank-4 input and weight) only", xs, ws)
	}
	k := [2]int{ws[2], ws[3]}
	if ks, ok, err := c.ints("kernel_shape"); err != nil {
		return err
	} else if ok {
		if len(ks) != 2 || ks[0] < 1 || ks[1] < 1 {
			return fmt.Errorf("kernel_shape %v, want 2 positive values", ks)
		}
		for i := range 2 {
			if k[i] >= 0 && k[i] != ks[i] {
				return fmt.Errorf("kernel_shape %v does not match the weight %v", ks, ws)
			}
			k[i] = ks[i]
		}
	}
	strides, err := c.pair("strides", 1)
	if err != nil {
		return err
	}
	dil, err := c.pair("dilations", 1)
	if err != nil {
		return err
	}
	group, err := c.smallInt("group", 1)
	if err != nil {
		return err
	}
	if group < 1 {
		return fmt.Errorf("group %d, want >= 1", group)
	}
	pads, err := c.windowPads(xs, k, strides, dil)
	if err != nil {
		return err
	}
	ins := []*ir.Value{x, w}
	if c.has(2) {
		b, err := c.in(2)
		if err != nil {
			return err
		}
		ins = append(ins, b)
	}
	return c.emit(ir.Conv, &ir.ConvAttrs{Stride: strides, Dilation: dil, Pads: pads, Group: group}, ins...)
}

func importAveragePool(c *nodeCtx) error {
	if err := c.allow("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", "dilations"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	if c.attrs["ceil_mode"] != nil && c.opset() < 10 {
		return fmt.Errorf("attribute ceil_mode needs opset 10")
	}
	if c.attrs["dilations"] != nil {
		if c.opset() < 19 {
			return fmt.Errorf("attribute dilations needs opset 19")
		}
		d, ok, err := c.ints("dilations")
		if err != nil {
			return err
		}
		for _, v := range d {
			if ok && v != 1 {
				return fmt.Errorf("dilated average pooling (dilations %v) is not supported", d)
			}
		}
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	xs := x.Type.Shape
	if len(xs) != 4 {
		return fmt.Errorf("input %v: mnc supports 2-D pooling (rank-4 input) only", xs)
	}
	ks, ok, err := c.ints("kernel_shape")
	if err != nil {
		return err
	}
	if !ok || len(ks) != 2 || ks[0] < 1 || ks[1] < 1 {
		return fmt.Errorf("kernel_shape %v, want 2 positive values", ks)
	}
	k := [2]int{ks[0], ks[1]}
	strides, err := c.pair("strides", 1)
	if err != nil {
		return err
	}
	pads, err := c.windowPads(xs, k, strides, [2]int{1, 1})
	if err != nil {
		return err
	}
	cip, err := c.flag("count_include_pad")
	if err != nil {
		return err
	}
	ceil, err := c.flag("ceil_mode")
	if err != nil {
		return err
	}
	return c.emit(ir.AveragePool, &ir.PoolAttrs{Kernel: k, Stride: strides, Pads: pads, CountIncludePad: cip, CeilMode: ceil}, x)
}

func importBatchNorm(c *nodeCtx) error {
	if err := c.allow("epsilon", "momentum", "spatial", "training_mode"); err != nil {
		return err
	}
	if err := c.arity(5, 5, 5); err != nil {
		return err
	}
	eps, err := c.float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	if c.attrs["spatial"] != nil {
		sp, err := c.int("spatial", 1)
		if err != nil {
			return err
		}
		if sp != 1 {
			return fmt.Errorf("spatial=%d (per-activation statistics) is not supported", sp)
		}
	}
	training, err := c.flag("training_mode")
	if err != nil {
		return err
	}
	if training {
		return errors.New("training_mode=1 is not supported: mnc imports inference-mode BatchNormalization only")
	}
	if err := c.extraOutputsUnused("mnc imports inference-mode BatchNormalization, which has only the output Y"); err != nil {
		return err
	}
	ins := make([]*ir.Value, 5)
	for i := range ins {
		if ins[i], err = c.in(i); err != nil {
			return err
		}
	}
	return c.emit(ir.BatchNorm, &ir.BatchNormAttrs{Epsilon: eps}, ins...)
}
