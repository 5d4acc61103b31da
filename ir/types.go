package ir

import (
	"fmt"
	"math"
	"strings"
)

// DType is the element type of a tensor.
type DType uint8

// Element types. The zero value is invalid so that a forgotten type is caught
// by Verify.
const (
	InvalidDType DType = iota
	Float32
	Int8
	Uint8
	Int32
	Int64
)

var dtypeNames = [...]string{"invalid", "f32", "i8", "u8", "i32", "i64"}

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size returns the size in bytes of one element.
func (d DType) Size() int {
	switch d {
	case Int8, Uint8:
		return 1
	case Float32, Int32:
		return 4
	case Int64:
		return 8
	}
	return 0
}

// Shape lists dimension sizes, outermost first. A negative entry is a
// dimension unknown until run time.
type Shape []int

// NumElements is the product of the dimensions, or -1 if any is unknown.
func (s Shape) NumElements() int {
	n := 1
	for _, d := range s {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// Known reports whether every dimension is known.
func (s Shape) Known() bool { return s.NumElements() >= 0 }

// Equal reports whether two shapes are identical (unknown dims compare equal
// only to unknown dims).
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] && !(s[i] < 0 && t[i] < 0) {
			return false
		}
	}
	return true
}

// Clone returns a copy of s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		if d < 0 {
			b.WriteByte('N')
		} else {
			fmt.Fprint(&b, d)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// TensorType is the static type of a value.
type TensorType struct {
	DType DType
	Shape Shape
}

func (t TensorType) String() string { return t.DType.String() + t.Shape.String() }

// Tensor holds constant data. Exactly one of the data slices matching DType is
// set, with NumElements entries in C (row-major) order.
type Tensor struct {
	DType DType
	Shape Shape
	F32   []float32
	I8    []int8
	U8    []uint8
	I32   []int32
	I64   []int64
}

// NewFloat32 returns a float32 tensor of the given shape. If data is nil a
// zeroed buffer is allocated.
func NewFloat32(shape Shape, data []float32) *Tensor {
	if data == nil {
		data = make([]float32, shape.NumElements())
	}
	return &Tensor{DType: Float32, Shape: shape.Clone(), F32: data}
}

// Len returns the number of elements stored.
func (t *Tensor) Len() int {
	switch t.DType {
	case Float32:
		return len(t.F32)
	case Int8:
		return len(t.I8)
	case Uint8:
		return len(t.U8)
	case Int32:
		return len(t.I32)
	case Int64:
		return len(t.I64)
	}
	return 0
}

// Check verifies that the data slice matches the dtype and shape.
func (t *Tensor) Check() error {
	if t.DType.Size() == 0 {
		return fmt.Errorf("constant has invalid dtype %v", t.DType)
	}
	n := t.Shape.NumElements()
	if n < 0 {
		return fmt.Errorf("constant has unknown shape %v", t.Shape)
	}
	if t.Len() != n {
		return fmt.Errorf("constant %v%v holds %d elements, want %d", t.DType, t.Shape, t.Len(), n)
	}
	return nil
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: t.Shape.Clone()}
	c.F32 = append([]float32(nil), t.F32...)
	c.I8 = append([]int8(nil), t.I8...)
	c.U8 = append([]uint8(nil), t.U8...)
	c.I32 = append([]int32(nil), t.I32...)
	c.I64 = append([]int64(nil), t.I64...)
	return c
}

// summary describes the data briefly for dumps.
func (t *Tensor) summary() string {
	if t.DType != Float32 || len(t.F32) == 0 {
		return fmt.Sprintf("%d values", t.Len())
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range t.F32 {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if len(t.F32) <= 4 {
		return fmt.Sprintf("%v", t.F32)
	}
	return fmt.Sprintf("%d values in [%.4g, %.4g]", len(t.F32), lo, hi)
}

// QuantParams describes an affine quantization real = Scale*(q - ZeroPoint).
// With one scale it is per tensor; otherwise there is one scale (and zero
// point) per index of dimension Axis.
type QuantParams struct {
	Scale     []float32
	ZeroPoint []int32
	Axis      int
}

func (q *QuantParams) String() string {
	if q == nil {
		return ""
	}
	if len(q.Scale) == 1 && len(q.ZeroPoint) == 1 {
		return fmt.Sprintf("q(s=%.6g,z=%d)", q.Scale[0], q.ZeroPoint[0])
	}
	return fmt.Sprintf("q(%d scales,axis=%d)", len(q.Scale), q.Axis)
}
