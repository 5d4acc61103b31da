package codegen

// Weight packing: constant tensors as the bytes of their buffers, in the
// layouts the runtime's kernels read.

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// weight adds a constant from an ir constant, reshaped (same data order;
// data, when not nil, is the bytes of stored(v) in another layout).
func (b *builder) weight(v *ir.Value, shape []int, data []byte) (int, error) {
	if !v.IsConst() {
		return 0, fmt.Errorf("%s is not a constant", v)
	}
	t, err := stored(v)
	if err != nil {
		return 0, err
	}
	dt, err := dtypeOf(t.DType)
	if err != nil {
		return 0, err
	}
	if data == nil {
		data = bytesOf(t)
	}
	q := v.Quant
	if dt == mncfb.DTypeINT32 {
		// A bias's scales are those of its layer's input times its
		// weights' (the scheme): not stored.
		q = nil
	}
	return b.constant(v.Name, dt, shape, data, q), nil
}

// stored returns the tensor a constant is stored as: its own, or, for the
// float32 weights of an op kept in float32 (quant's storedWeights: every
// value a code times its channel's scale, the codes' quantization as the
// value's Quant), the int8 codes, which the runtime dequantizes at load
// (format 1.6). Any value that is not exactly its code times the scale
// is an error: the file must give back the same floats.
func stored(v *ir.Value) (*ir.Tensor, error) {
	t, q := v.Const, v.Quant
	if t.DType != ir.Float32 || q == nil {
		return t, nil
	}
	if len(t.Shape) < 1 || t.Shape[0] < 1 || q.Axis != 0 || len(q.Scale) != t.Shape[0] || len(t.F32)%t.Shape[0] != 0 {
		return nil, fmt.Errorf("float32 weights %s: quantization %v does not fit shape %v (one scale per output channel)", v, q, t.Shape)
	}
	per := len(t.F32) / t.Shape[0]
	codes := make([]int8, len(t.F32))
	for i, f := range t.F32 {
		c := i / per
		s := q.Scale[c]
		if len(q.ZeroPoint) > 0 && q.ZeroPoint[c] != 0 {
			return nil, fmt.Errorf("float32 weights %s: channel %d has zero point %d (stored weights are symmetric)", v, c, q.ZeroPoint[c])
		}
		r := math.RoundToEven(float64(f) / float64(s))
		if !(s > 0) || math.Abs(r) > 127 || float32(int8(r))*s != f {
			return nil, fmt.Errorf("float32 weights %s: value %d (%g) is not an int8 code times its channel's scale %g", v, i, f, s)
		}
		codes[i] = int8(r)
	}
	return &ir.Tensor{DType: ir.Int8, Shape: t.Shape.Clone(), I8: codes}, nil
}

func (b *builder) optionalBias(n *ir.Node, i int) (int, error) {
	if len(n.Inputs) <= i || n.Inputs[i] == nil {
		return -1, nil
	}
	v := n.Inputs[i]
	return b.weight(v, []int{v.Type.Shape.NumElements()}, nil)
}

func bytesOf(t *ir.Tensor) []byte {
	switch t.DType {
	case ir.Int8:
		d := make([]byte, len(t.I8))
		for i, v := range t.I8 {
			d[i] = byte(v)
		}
		return d
	case ir.Int32:
		d := make([]byte, 4*len(t.I32))
		for i, v := range t.I32 {
			putU32(d[4*i:], uint32(v))
		}
		return d
	case ir.Float32:
		d := make([]byte, 4*len(t.F32))
		for i, v := range t.F32 {
			putU32(d[4*i:], math.Float32bits(v))
		}
		return d
	}
	return nil
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// ohwi returns the bytes of the convolution weights t, OIHW, repacked as
// OHWI.
func ohwi(t *ir.Tensor) []byte {
	s := t.Shape
	o, i, kh, kw := s[0], s[1], s[2], s[3]
	r := &ir.Tensor{DType: t.DType, Shape: ir.Shape{o, kh, kw, i}}
	switch t.DType {
	case ir.Int8:
		r.I8 = kernels.OHWI(t.I8, o, i, kh, kw)
	case ir.Int32:
		r.I32 = kernels.OHWI(t.I32, o, i, kh, kw)
	case ir.Float32:
		r.F32 = kernels.OHWI(t.F32, o, i, kh, kw)
	}
	return bytesOf(r)
}

// hwo returns the bytes of the int8 depthwise weights t, [O][1][KH][KW],
// repacked as [KH][KW][O].
func hwo(t *ir.Tensor) []byte {
	s := t.Shape
	return bytesOf(&ir.Tensor{DType: ir.Int8, Shape: ir.Shape{s[2], s[3], s[0]}, I8: kernels.Transpose2D(t.I8, s[0], s[2]*s[3])})
}
