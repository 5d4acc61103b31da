package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/mncdev/mnc/ir"
)

// ONNX element types (TensorProto.DataType).
const (
	tFloat    = 1
	tUint8    = 2
	tInt8     = 3
	tUint16   = 4
	tInt16    = 5
	tInt32    = 6
	tInt64    = 7
	tString   = 8
	tBool     = 9
	tFloat16  = 10
	tDouble   = 11
	tUint32   = 12
	tUint64   = 13
	tBfloat16 = 16
)

var onnxTypeNames = map[int32]string{
	0: "UNDEFINED", tFloat: "FLOAT", tUint8: "UINT8", tInt8: "INT8", tUint16: "UINT16", tInt16: "INT16",
	tInt32: "INT32", tInt64: "INT64", tString: "STRING", tBool: "BOOL", tFloat16: "FLOAT16", tDouble: "DOUBLE",
	tUint32: "UINT32", tUint64: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", tBfloat16: "BFLOAT16",
	17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4",
	23: "FLOAT4E2M1",
}

func onnxTypeName(t int32) string {
	if s, ok := onnxTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

// irDType maps an ONNX element type to the ir type holding its values:
// floating-point types become float32. BOOL is held as uint8 0/1 for the
// importer's own use (it never reaches the graph). raw is the size of one
// element in raw_data.
func irDType(t int32) (d ir.DType, raw int, ok bool) {
	switch t {
	case tFloat:
		return ir.Float32, 4, true
	case tFloat16, tBfloat16:
		return ir.Float32, 2, true
	case tDouble:
		return ir.Float32, 8, true
	case tInt64:
		return ir.Int64, 8, true
	case tInt32:
		return ir.Int32, 4, true
	case tInt8:
		return ir.Int8, 1, true
	case tUint8, tBool:
		return ir.Uint8, 1, true
	}
	return ir.InvalidDType, 0, false
}

// checkDims validates tensor dims and returns the element count.
func checkDims(dims []int64) (ir.Shape, int, error) {
	shape := make(ir.Shape, len(dims))
	n := 1
	for i, d := range dims {
		if d < 0 || d > maxDim {
			return nil, 0, fmt.Errorf("dimension %d is %d", i, d)
		}
		shape[i] = int(d)
	}
	for _, d := range shape {
		if d == 0 {
			return shape, 0, nil
		}
	}
	for _, d := range shape {
		if n > maxElems/d {
			return nil, 0, fmt.Errorf("dims %v hold more than %d elements", dims, int64(maxElems))
		}
		n *= d
	}
	return shape, n, nil
}

func externalDataError(location string) error {
	if location == "" {
		location = "location not given"
	} else {
		location = strconv.Quote(location)
	}
	return fmt.Errorf("uses external data (%s); mnc reads only self-contained .onnx files: "+
		"re-save with onnx.save(model, path, save_as_external_data=False)", location)
}

// toTensor decodes the tensor's data. The element count implied by the dims
// is checked against the data actually present before anything is
// allocated.
func (tp *tensorProto) toTensor() (*ir.Tensor, error) {
	t, err := tp.decodeData()
	if err != nil {
		name := strconv.Quote(tp.name)
		if tp.name == "" {
			name = "(unnamed)"
		}
		return nil, fmt.Errorf("tensor %s: %w", name, err)
	}
	return t, nil
}

func (tp *tensorProto) decodeData() (*ir.Tensor, error) {
	if tp.external || (tp.hasExtData && !tp.hasRaw && tp.floatN+tp.int32N+tp.int64N+tp.doubleN+tp.uint64N+tp.stringN == 0) {
		return nil, externalDataError(tp.location)
	}
	if tp.segment {
		return nil, fmt.Errorf("segmented tensors are not supported")
	}
	dt, size, ok := irDType(tp.dtype)
	if !ok {
		return nil, fmt.Errorf("element type %s is not supported", onnxTypeName(tp.dtype))
	}
	shape, n, err := checkDims(tp.dims)
	if err != nil {
		return nil, err
	}
	// Which typed field may hold the data.
	var typed, typedN int
	switch tp.dtype {
	case tFloat:
		typed, typedN = 4, tp.floatN
	case tDouble:
		typed, typedN = 10, tp.doubleN
	case tInt64:
		typed, typedN = 7, tp.int64N
	default:
		typed, typedN = 5, tp.int32N
	}
	counts := map[int]int{4: tp.floatN, 5: tp.int32N, 6: tp.stringN, 7: tp.int64N, 10: tp.doubleN, 11: tp.uint64N}
	fieldNames := map[int]string{4: "float_data", 5: "int32_data", 6: "string_data", 7: "int64_data", 10: "double_data", 11: "uint64_data"}
	for f, c := range counts {
		if c > 0 && f != typed {
			return nil, fmt.Errorf("type %s but data in %s", onnxTypeName(tp.dtype), fieldNames[f])
		}
	}
	t := &ir.Tensor{DType: dt, Shape: shape}
	switch {
	case tp.hasRaw && typedN > 0:
		return nil, fmt.Errorf("data in both raw_data and %s", fieldNames[typed])
	case tp.hasRaw:
		if len(tp.raw)%size != 0 || len(tp.raw)/size != n {
			return nil, fmt.Errorf("raw_data has %d bytes, shape %v of %s needs %d", len(tp.raw), shape, onnxTypeName(tp.dtype), n*size)
		}
		decodeRaw(t, tp.dtype, tp.raw, n)
		return t, nil
	case typedN > 0 || n == 0:
		if typedN != n {
			return nil, fmt.Errorf("%s has %d values, shape %v needs %d", fieldNames[typed], typedN, shape, n)
		}
		return t, tp.decodeTyped(t, typed, n)
	}
	return nil, fmt.Errorf("shape %v needs %d values but the tensor holds no data", shape, n)
}

func decodeRaw(t *ir.Tensor, dtype int32, raw []byte, n int) {
	le := binary.LittleEndian
	switch dtype {
	case tFloat:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case tFloat16:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = ir.Float16ToFloat32(le.Uint16(raw[2*i:]))
		}
	case tBfloat16:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(uint32(le.Uint16(raw[2*i:])) << 16)
		}
	case tDouble:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
		}
	case tInt64:
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(le.Uint64(raw[8*i:]))
		}
	case tInt32:
		t.I32 = make([]int32, n)
		for i := range t.I32 {
			t.I32[i] = int32(le.Uint32(raw[4*i:]))
		}
	case tInt8:
		t.I8 = make([]int8, n)
		for i := range t.I8 {
			t.I8[i] = int8(raw[i])
		}
	case tUint8, tBool:
		t.U8 = append([]uint8(nil), raw[:n]...)
	}
}

// decodeTyped fills t from the typed repeated field num (counted already).
func (tp *tensorProto) decodeTyped(t *ir.Tensor, num int, n int) error {
	switch t.DType {
	case ir.Float32:
		t.F32 = make([]float32, 0, n)
	case ir.Int64:
		t.I64 = make([]int64, 0, n)
	case ir.Int32:
		t.I32 = make([]int32, 0, n)
	case ir.Int8:
		t.I8 = make([]int8, 0, n)
	case ir.Uint8:
		t.U8 = make([]uint8, 0, n)
	}
	kind := varintElems
	switch num {
	case 4:
		kind = fixed32Elems
	case 10:
		kind = fixed64Elems
	}
	var bad error
	put := func(v uint64) {
		if bad != nil {
			return
		}
		i32 := int64(v) // proto int32 values are sign-extended varints
		inRange := func(lo, hi int64) bool {
			if i32 < lo || i32 > hi {
				bad = fmt.Errorf("int32_data value %d out of range for %s", i32, onnxTypeName(tp.dtype))
				return false
			}
			return true
		}
		switch tp.dtype {
		case tFloat:
			t.F32 = append(t.F32, math.Float32frombits(uint32(v)))
		case tDouble:
			t.F32 = append(t.F32, float32(math.Float64frombits(v)))
		case tFloat16:
			if inRange(0, math.MaxUint16) {
				t.F32 = append(t.F32, ir.Float16ToFloat32(uint16(v)))
			}
		case tBfloat16:
			if inRange(0, math.MaxUint16) {
				t.F32 = append(t.F32, math.Float32frombits(uint32(v)<<16))
			}
		case tInt64:
			t.I64 = append(t.I64, int64(v))
		case tInt32:
			if inRange(math.MinInt32, math.MaxInt32) {
				t.I32 = append(t.I32, int32(i32))
			}
		case tInt8:
			if inRange(math.MinInt8, math.MaxInt8) {
				t.I8 = append(t.I8, int8(i32))
			}
		case tUint8:
			if inRange(0, math.MaxUint8) {
				t.U8 = append(t.U8, uint8(i32))
			}
		case tBool:
			if inRange(0, 1) {
				t.U8 = append(t.U8, uint8(i32))
			}
		}
	}
	err := walk(tp.msg, func(f field) error {
		if int(f.num) != num {
			return nil
		}
		return f.each(kind, put)
	})
	if err != nil {
		return err
	}
	if bad != nil {
		return bad
	}
	if t.Len() != n {
		return fmt.Errorf("decoded %d values, want %d", t.Len(), n)
	}
	return nil
}
