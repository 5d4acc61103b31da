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

// weight adds a constant from an ir constant, reshaped (same data order).
func (b *builder) weight(v *ir.Value, shape []int, data []byte) (int, error) {
	if !v.IsConst() {
		return 0, fmt.Errorf("%s is not a constant", v)
	}
	dt, err := dtypeOf(v.Const.DType)
	if err != nil {
		return 0, err
	}
	if data == nil {
		data = bytesOf(v.Const)
	}
	q := v.Quant
	if dt == mncfb.DTypeINT32 {
		// A bias's scales are those of its layer's input times its
		// weights' (the scheme): not stored.
		q = nil
	}
	return b.constant(v.Name, dt, shape, data, q), nil
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
