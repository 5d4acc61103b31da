package tflite

import (
	"bytes"
	"encoding/binary"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
)

// A small writer of TFLite files for the tests and the generator of
// testdata (TestWriteTestdata), on the flatbuffers Go builder with the field
// slots of schema.go (a builder slot is the field index, (slot-4)/2).

type tTensor struct {
	name  string
	typ   int8
	shape []int32
	data  []byte // constant data, or nil
	// external, for a constant, writes its buffer as TFLite does for
	// models over 2 GB: no data vector, offset 2 (a placeholder the test
	// patches) and the data's size; the data is left out of the file.
	external bool
	scale    []float32
	zero     []int64
	qdim     int32
}

type tOp struct {
	code    int32
	in, out []int32
	optType uint8
	opts    func(b *flatbuffers.Builder) flatbuffers.UOffsetT // builds the options table, or nil
}

type tModel struct {
	tensors         []tTensor
	ops             []tOp
	inputs, outputs []int32
}

func fi(slot int) int { return (slot - 4) / 2 }

// add appends a tensor and returns its index.
func (m *tModel) add(t tTensor) int32 {
	m.tensors = append(m.tensors, t)
	return int32(len(m.tensors) - 1)
}

// act adds a float32 activation.
func (m *tModel) act(name string, shape ...int32) int32 {
	return m.add(tTensor{name: name, typ: ttFloat32, shape: shape})
}

// f32 adds a float32 constant.
func (m *tModel) f32(name string, shape []int32, v ...float32) int32 {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return m.add(tTensor{name: name, typ: ttFloat32, shape: shape, data: b})
}

// i32 adds an int32 constant.
func (m *tModel) i32(name string, shape []int32, v ...int32) int32 {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return m.add(tTensor{name: name, typ: ttInt32, shape: shape, data: b})
}

// i64 adds an int64 constant.
func (m *tModel) i64(name string, shape []int32, v ...int64) int32 {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return m.add(tTensor{name: name, typ: ttInt64, shape: shape, data: b})
}

func (m *tModel) op(code int32, in []int32, out int32, optType uint8, opts func(b *flatbuffers.Builder) flatbuffers.UOffsetT) {
	m.ops = append(m.ops, tOp{code: code, in: in, out: []int32{out}, optType: optType, opts: opts})
}

// options returns a builder of an options table from (slot, value) fields:
// int32, int8, bool and float32 values, or []int32 vectors.
func options(fields ...any) func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
	return func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
		vecs := map[int]flatbuffers.UOffsetT{}
		for i := 0; i < len(fields); i += 2 {
			if v, ok := fields[i+1].([]int32); ok {
				vecs[i] = int32Vector(b, v)
			}
		}
		b.StartObject(16)
		for i := 0; i < len(fields); i += 2 {
			slot := fi(fields[i].(int))
			switch v := fields[i+1].(type) {
			case int32:
				b.PrependInt32(v)
				b.Slot(slot)
			case int:
				b.PrependInt32(int32(v))
				b.Slot(slot)
			case int8:
				b.PrependInt8(v)
				b.Slot(slot)
			case bool:
				b.PrependBool(v)
				b.Slot(slot)
			case float32:
				b.PrependFloat32(v)
				b.Slot(slot)
			case []int32:
				b.PrependUOffsetTSlot(slot, vecs[i], 0)
			}
		}
		return b.EndObject()
	}
}

func int32Vector(b *flatbuffers.Builder, v []int32) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependInt32(v[i])
	}
	return b.EndVector(len(v))
}

func offsetVector(b *flatbuffers.Builder, v []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependUOffsetT(v[i])
	}
	return b.EndVector(len(v))
}

// bytes serializes the model: buffer 0 is the empty sentinel, each constant
// has a buffer of its own.
func (m *tModel) bytes() []byte {
	b := flatbuffers.NewBuilder(1024)
	var codes []int32
	codeIndex := map[int32]int{}
	for _, op := range m.ops {
		if _, ok := codeIndex[op.code]; !ok {
			codeIndex[op.code] = len(codes)
			codes = append(codes, op.code)
		}
	}
	bufs := []flatbuffers.UOffsetT{emptyBuffer(b)}
	tensors := make([]flatbuffers.UOffsetT, len(m.tensors))
	for i, t := range m.tensors {
		buf := 0
		switch {
		case t.external:
			b.StartObject(3)
			b.PrependUint64Slot(fi(bufferOffset), 2, 0)
			b.PrependUint64Slot(fi(bufferSize), uint64(len(t.data)), 0)
			bufs = append(bufs, b.EndObject())
			buf = len(bufs) - 1
		case t.data != nil:
			data := b.CreateByteVector(t.data)
			b.StartObject(3)
			b.PrependUOffsetTSlot(fi(bufferData), data, 0)
			bufs = append(bufs, b.EndObject())
			buf = len(bufs) - 1
		}
		name := b.CreateString(t.name)
		shape := int32Vector(b, t.shape)
		var q flatbuffers.UOffsetT
		if t.scale != nil {
			b.StartVector(4, len(t.scale), 4)
			for j := len(t.scale) - 1; j >= 0; j-- {
				b.PrependFloat32(t.scale[j])
			}
			sv := b.EndVector(len(t.scale))
			b.StartVector(8, len(t.zero), 8)
			for j := len(t.zero) - 1; j >= 0; j-- {
				b.PrependInt64(t.zero[j])
			}
			zv := b.EndVector(len(t.zero))
			b.StartObject(7)
			b.PrependUOffsetTSlot(fi(quantScale), sv, 0)
			b.PrependUOffsetTSlot(fi(quantZeroPoint), zv, 0)
			b.PrependInt32Slot(fi(quantDimension), t.qdim, 0)
			q = b.EndObject()
		}
		b.StartObject(8)
		b.PrependUOffsetTSlot(fi(tensorShape), shape, 0)
		b.PrependInt8Slot(fi(tensorType), t.typ, 0)
		b.PrependUint32Slot(fi(tensorBuffer), uint32(buf), 0)
		b.PrependUOffsetTSlot(fi(tensorName), name, 0)
		if q != 0 {
			b.PrependUOffsetTSlot(fi(tensorQuantization), q, 0)
		}
		tensors[i] = b.EndObject()
	}
	ops := make([]flatbuffers.UOffsetT, len(m.ops))
	for i, op := range m.ops {
		in, out := int32Vector(b, op.in), int32Vector(b, op.out)
		var opts flatbuffers.UOffsetT
		if op.opts != nil {
			opts = op.opts(b)
		}
		b.StartObject(13)
		b.PrependUint32Slot(fi(opOpcodeIndex), uint32(codeIndex[op.code]), 0)
		b.PrependUOffsetTSlot(fi(opInputs), in, 0)
		b.PrependUOffsetTSlot(fi(opOutputs), out, 0)
		b.PrependByteSlot(fi(opOptionsType), op.optType, 0)
		if opts != 0 {
			b.PrependUOffsetTSlot(fi(opOptions), opts, 0)
		}
		ops[i] = b.EndObject()
	}
	tv, ov := offsetVector(b, tensors), offsetVector(b, ops)
	iv, outv := int32Vector(b, m.inputs), int32Vector(b, m.outputs)
	name := b.CreateString("main")
	b.StartObject(5)
	b.PrependUOffsetTSlot(fi(sgTensors), tv, 0)
	b.PrependUOffsetTSlot(fi(sgInputs), iv, 0)
	b.PrependUOffsetTSlot(fi(sgOutputs), outv, 0)
	b.PrependUOffsetTSlot(fi(sgOperators), ov, 0)
	b.PrependUOffsetTSlot(fi(sgName), name, 0)
	sg := b.EndObject()
	oc := make([]flatbuffers.UOffsetT, len(codes))
	for i, c := range codes {
		b.StartObject(4)
		b.PrependInt8Slot(fi(ocDeprecatedCode), int8(min(c, placeholderCode)), 0)
		b.PrependInt32Slot(fi(ocVersion), 1, 1)
		b.PrependInt32Slot(fi(ocBuiltinCode), c, 0)
		oc[i] = b.EndObject()
	}
	ocv, sgv, bv := offsetVector(b, oc), offsetVector(b, []flatbuffers.UOffsetT{sg}), offsetVector(b, bufs)
	desc := b.CreateString("mnc test model")
	b.StartObject(8)
	b.PrependUint32Slot(fi(modelVersion), 3, 0)
	b.PrependUOffsetTSlot(fi(modelOperatorCodes), ocv, 0)
	b.PrependUOffsetTSlot(fi(modelSubgraphs), sgv, 0)
	b.PrependUOffsetTSlot(fi(modelDescription), desc, 0)
	b.PrependUOffsetTSlot(fi(modelBuffers), bv, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte(fileIdent))
	return b.FinishedBytes()
}

func emptyBuffer(b *flatbuffers.Builder) flatbuffers.UOffsetT {
	b.StartObject(3)
	return b.EndObject()
}

var update = flag.Bool("update", false, "rewrite testdata/*.tflite from the tests' models (testdata/gen/make_tflite.sh)")

// save serializes m and checks it against testdata/NAME.tflite, which
// -update rewrites: the committed files are the tests' models.
func save(t *testing.T, name string, m *tModel) []byte {
	t.Helper()
	b := m.bytes()
	path := filepath.Join("testdata", name+".tflite")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return b
	}
	old, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(old, b) {
		t.Errorf("%s differs from the test's model (%v): run testdata/gen/make_tflite.sh", path, err)
	}
	return b
}
