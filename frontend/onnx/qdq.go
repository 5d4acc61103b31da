package onnx

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
)

// Pre-quantized (QDQ) models: QuantizeLinear and DequantizeLinear (opsets
// 10-21) as ONNX Runtime's quantizer and PyTorch's QAT export write them.
//
//   - DequantizeLinear of constant codes (weights, int32 biases), per tensor
//     or per channel (axis), becomes the float constant (q - zero) * scale;
//     quant re-expresses it in mnc's scheme.
//   - A QuantizeLinear -> DequantizeLinear pair on an activation becomes
//     what it computes in float, up to the rounding: a Clip to the range its
//     codes represent, [(qmin - zero) * scale, (qmax - zero) * scale]. The
//     range is recorded on both values (ir.Value.FileRange), so that a
//     compile without calibration images quantizes the activation exactly
//     as the file does; a QDQ file's clamps (a ReLU6 that the quantizer
//     folded into a range) are kept in the float graph, so the float
//     reference is the file's own arithmetic.
//
// Activations are quantized per tensor (a per-channel activation pair is
// refused), and a QuantizeLinear result may be read only by
// DequantizeLinear nodes of the same parameters.

// qparams are a QuantizeLinear/DequantizeLinear node's parameters.
type qparams struct {
	scale  []float32 // one, or one per channel along axis
	zero   []int32   // the same length as scale
	axis   int       // the channel axis (normalized), when per channel
	qmin   int32     // the code range of the quantized type
	qmax   int32
	dtype  int32 // the quantized ONNX type
	inputs [2]string
}

// quantized is a QuantizeLinear result: the value v in codes of p.
type quantized struct {
	v *ir.Value
	p *qparams
}

// qparamsOf reads inputs 1 (scale) and 2 (zero point, optional: uint8 0)
// and the attributes of a Q or DQ node whose data input has rank rank.
func (c *nodeCtx) qparamsOf(rank int) (*qparams, error) {
	if err := c.allow("axis", "saturate", "block_size", "output_dtype"); err != nil {
		return nil, err
	}
	if err := c.arity(2, 3, 1); err != nil {
		return nil, err
	}
	if bs, err := c.int("block_size", 0); err != nil || bs != 0 {
		return nil, fmt.Errorf("blocked quantization (block_size %d) is not supported", bs)
	}
	st, err := c.konst(1, "y_scale")
	if err != nil {
		return nil, err
	}
	if st.DType != ir.Float32 || len(st.Shape) > 1 || st.Len() == 0 {
		return nil, fmt.Errorf("scale must be a float scalar or vector, not %v%v", st.DType, st.Shape)
	}
	p := &qparams{scale: st.F32, dtype: tUint8, qmin: 0, qmax: 255, inputs: [2]string{c.n.inputs[1]}}
	for _, s := range p.scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("scale %g is not a positive finite number", s)
		}
	}
	p.zero = make([]int32, len(p.scale))
	if c.has(2) {
		e, err := c.entry(2)
		if err != nil {
			return nil, err
		}
		zt, err := c.konst(2, "zero_point")
		if err != nil {
			return nil, err
		}
		if zt.Len() != len(p.scale) {
			return nil, fmt.Errorf("zero point has %d values for %d scales", zt.Len(), len(p.scale))
		}
		p.inputs[1] = c.n.inputs[2]
		p.dtype = e.c.onnxType
		switch p.dtype {
		case tUint8:
			for i, z := range zt.U8 {
				p.zero[i] = int32(z)
			}
		case tInt8:
			p.qmin, p.qmax = -128, 127
			for i, z := range zt.I8 {
				p.zero[i] = int32(z)
			}
		case tInt32:
			p.qmin, p.qmax = math.MinInt32, math.MaxInt32
			copy(p.zero, zt.I32)
		default:
			return nil, fmt.Errorf("zero point type %s is not supported (uint8, int8; int32 for biases)", onnxTypeName(p.dtype))
		}
	}
	if len(p.scale) > 1 {
		if len(st.Shape) != 1 {
			return nil, fmt.Errorf("per-channel scale must be a vector, not %v", st.Shape)
		}
		axis, err := c.int("axis", 1)
		if err != nil {
			return nil, err
		}
		if axis < 0 {
			axis += int64(rank)
		}
		if axis < 0 || axis >= int64(rank) {
			return nil, fmt.Errorf("axis %d is outside rank %d", axis, rank)
		}
		p.axis = int(axis)
	}
	return p, nil
}

// same reports whether q and p quantize alike.
func (q *qparams) same(p *qparams) bool {
	if len(q.scale) != len(p.scale) || q.dtype != p.dtype || q.axis != p.axis {
		return false
	}
	for i := range q.scale {
		if q.scale[i] != p.scale[i] || q.zero[i] != p.zero[i] {
			return false
		}
	}
	return true
}

func importQuantizeLinear(c *nodeCtx) error {
	e, err := c.entry(0)
	if err != nil {
		return err
	}
	if e.v == nil {
		return fmt.Errorf("quantizes a constant (%q): mnc reads constant weights only as quantized codes through DequantizeLinear", c.n.inputs[0])
	}
	if e.v.Type.DType != ir.Float32 {
		return fmt.Errorf("input is %v, want float32", e.v.Type.DType)
	}
	p, err := c.qparamsOf(len(e.v.Type.Shape))
	if err != nil {
		return err
	}
	if len(p.scale) > 1 {
		return fmt.Errorf("per-channel quantization of an activation (%q) is not supported: mnc quantizes activations per tensor", c.n.inputs[0])
	}
	if p.dtype == tInt32 {
		return fmt.Errorf("an int32 activation (%q) is not supported", c.n.inputs[0])
	}
	c.bind(&entry{q: &quantized{v: e.v, p: p}})
	return nil
}

func importDequantizeLinear(c *nodeCtx) error {
	e, err := c.entry(0)
	if err != nil {
		return err
	}
	switch {
	case e.q != nil:
		p, err := c.qparamsOf(len(e.q.v.Type.Shape))
		if err != nil {
			return err
		}
		if !p.same(e.q.p) {
			return fmt.Errorf("dequantizes %q with other parameters than its QuantizeLinear's (scale %v zero %v against %v %v)",
				c.n.inputs[0], p.scale, p.zero, e.q.p.scale, e.q.p.zero)
		}
		lo := float32(float64(p.qmin-p.zero[0]) * float64(p.scale[0]))
		hi := float32(float64(p.qmax-p.zero[0]) * float64(p.scale[0]))
		if !(lo <= 0 && hi >= 0) {
			return fmt.Errorf("the range [%g, %g] of %q does not hold 0", lo, hi, c.n.inputs[0])
		}
		if err := c.emit(ir.Clip, &ir.ClipAttrs{Min: lo, Max: hi}, e.q.v); err != nil {
			return err
		}
		r := &[2]float32{lo, hi}
		if e.q.v.FileRange == nil {
			e.q.v.FileRange = r
		}
		c.imp.env[c.n.outputs[0]].v.FileRange = r
		return nil
	case e.c != nil:
		p, err := c.qparamsOf(len(e.c.t.Shape))
		if err != nil {
			return err
		}
		if !c.has(2) {
			p.dtype = e.c.onnxType // no zero point: 0 of the codes' type
		}
		t, err := dequantize(e.c.t, p)
		if err != nil {
			return fmt.Errorf("constant %q: %w", c.n.inputs[0], err)
		}
		c.bind(&entry{c: &constant{name: c.n.outputs[0], t: t, onnxType: tFloat}})
		return nil
	}
	return fmt.Errorf("input %q is neither a QuantizeLinear result nor a constant", c.n.inputs[0])
}

// dequantize returns (q - zero) * scale of the codes q (int8, uint8 or
// int32, matching p's type), per channel along p.axis when p has several
// scales.
func dequantize(q *ir.Tensor, p *qparams) (*ir.Tensor, error) {
	want := map[int32]ir.DType{tUint8: ir.Uint8, tInt8: ir.Int8, tInt32: ir.Int32}[p.dtype]
	if q.DType != want {
		return nil, fmt.Errorf("codes are %v but the zero point is %s", q.DType, onnxTypeName(p.dtype))
	}
	n := q.Len()
	inner, ch := 1, 1
	if len(p.scale) > 1 {
		ch = q.Shape[p.axis]
		if ch != len(p.scale) {
			return nil, fmt.Errorf("%d scales for %d channels on axis %d", len(p.scale), ch, p.axis)
		}
		for _, d := range q.Shape[p.axis+1:] {
			inner *= d
		}
	}
	out := make([]float32, n)
	for i := range out {
		k := (i / inner) % ch
		var code int32
		switch q.DType {
		case ir.Uint8:
			code = int32(q.U8[i])
		case ir.Int8:
			code = int32(q.I8[i])
		default:
			code = q.I32[i]
		}
		out[i] = float32(float64(int64(code)-int64(p.zero[k])) * float64(p.scale[k]))
	}
	return ir.NewFloat32(q.Shape, out), nil
}
