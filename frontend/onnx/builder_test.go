package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// A tiny ONNX encoder for tests: each helper returns encoded protobuf fields,
// and messages are concatenations of fields.

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func fBytes(num protowire.Number, b []byte) []byte {
	out := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(out, b)
}

func fStr(num protowire.Number, s string) []byte { return fBytes(num, []byte(s)) }

func fVarint(num protowire.Number, v int64) []byte {
	out := protowire.AppendTag(nil, num, protowire.VarintType)
	return protowire.AppendVarint(out, uint64(v))
}

func fFixed32(num protowire.Number, f float32) []byte {
	out := protowire.AppendTag(nil, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(out, math.Float32bits(f))
}

func packedVarints(num protowire.Number, vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return fBytes(num, b)
}

func packedFloats(num protowire.Number, vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed32(b, math.Float32bits(v))
	}
	return fBytes(num, b)
}

// model wraps a graph into a ModelProto importing the default opset.
func model(opset int64, graph ...[]byte) []byte {
	return cat(fVarint(1, 8), fBytes(8, cat(fStr(1, ""), fVarint(2, opset))), fStr(2, "mnc-test"), fBytes(7, cat(graph...)))
}

// node is a GraphProto.node field; extra holds NodeProto fields (attributes
// from the a* helpers, nodeName).
func node(op string, ins, outs []string, extra ...[]byte) []byte {
	var b []byte
	for _, in := range ins {
		b = append(b, fStr(1, in)...)
	}
	for _, o := range outs {
		b = append(b, fStr(2, o)...)
	}
	b = append(b, fStr(4, op)...)
	for _, e := range extra {
		b = append(b, e...)
	}
	return fBytes(1, b)
}

func nodeName(name string) []byte { return fStr(3, name) }

// input is a GraphProto.input of a tensor type; a negative dim becomes a
// dim_param.
func input(name string, elem int64, dims ...int64) []byte {
	var shape []byte
	for _, d := range dims {
		if d < 0 {
			shape = append(shape, fBytes(1, fStr(2, "N"))...)
		} else {
			shape = append(shape, fBytes(1, fVarint(1, d))...)
		}
	}
	tt := cat(fVarint(1, elem), fBytes(2, shape))
	return fBytes(11, cat(fStr(1, name), fBytes(2, fBytes(1, tt))))
}

func output(name string) []byte { return fBytes(12, fStr(1, name)) }

func graphName(name string) []byte { return fStr(2, name) }

// init is a GraphProto.initializer.
func initializer(tensor []byte) []byte { return fBytes(5, tensor) }

func dimsField(dims []int64) []byte {
	var b []byte
	for _, d := range dims {
		b = append(b, fVarint(1, d)...)
	}
	return b
}

// tensorF encodes a FLOAT tensor with raw_data.
func tensorF(name string, dims []int64, vals ...float32) []byte {
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return cat(dimsField(dims), fVarint(2, tFloat), fStr(8, name), fBytes(9, raw))
}

// tensorFTyped encodes a FLOAT tensor with float_data.
func tensorFTyped(name string, dims []int64, vals ...float32) []byte {
	return cat(dimsField(dims), fVarint(2, tFloat), fStr(8, name), packedFloats(4, vals...))
}

// tensorI64 encodes an INT64 tensor with int64_data.
func tensorI64(name string, dims []int64, vals ...int64) []byte {
	return cat(dimsField(dims), fVarint(2, tInt64), fStr(8, name), packedVarints(7, vals...))
}

func attr(name string, typ int64, fields ...[]byte) []byte {
	return fBytes(5, cat(fStr(1, name), fVarint(20, typ), cat(fields...)))
}

func aInt(name string, v int64) []byte     { return attr(name, attrInt, fVarint(3, v)) }
func aFloat(name string, v float32) []byte { return attr(name, attrFloat, fFixed32(2, v)) }
func aStr(name, v string) []byte           { return attr(name, attrString, fStr(4, v)) }
func aInts(name string, vs ...int64) []byte {
	return attr(name, attrInts, packedVarints(8, vs...))
}
func aFloats(name string, vs ...float32) []byte {
	return attr(name, attrFloats, packedFloats(7, vs...))
}
func aTensor(name string, t []byte) []byte { return attr(name, attrTensor, fBytes(5, t)) }

func seq(n int, start, step float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = start + step*float32(i)
	}
	return v
}
