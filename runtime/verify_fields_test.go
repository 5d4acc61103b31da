package runtime_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// TestTrailingBytes: bytes appended to a model file are refused (the
// verifier works out where the FlatBuffer ends); the zero padding a
// builder may leave after its first object (less than BufferAlignment) is
// not.
func TestTrailingBytes(t *testing.T) {
	tm := blobs(t)
	for _, good := range [][]byte{tm.int8, tm.f32} {
		if _, err := runtime.Load(good); err != nil {
			t.Fatal(err)
		}
		wantError(t, append(append([]byte(nil), good...), "appended"...), "bytes follow the model's FlatBuffer")
		wantError(t, append(append([]byte(nil), good...), make([]byte, runtime.BufferAlignment)...), "16 bytes follow")
		if _, err := runtime.Load(append(append([]byte(nil), good...), make([]byte, runtime.BufferAlignment-1)...)); err != nil {
			t.Errorf("alignment padding refused: %v", err)
		}
	}
	// A newer minor version may reference objects this runtime cannot
	// see: its tail is not judged.
	newer := mutate(tm.int8, func(m *mncfb.Model) { m.MutateFormatMinor(runtime.FormatMinor + 1) })
	if _, err := runtime.Load(append(newer, "future fields"...)); err != nil {
		t.Errorf("newer minor version: %v", err)
	}
	// Files of the older minor versions (1.0 to 1.3, which lack the
	// fields appended since) still load.
	for minor := range uint32(runtime.FormatMinor) {
		for _, good := range [][]byte{tm.int8, tm.f32} {
			older := mutate(good, func(m *mncfb.Model) { m.MutateFormatMinor(minor) })
			if _, err := runtime.Load(older); err != nil {
				t.Errorf("format 1.%d: %v", minor, err)
			}
		}
	}
}

// TestPrecisionMatchesTensors: a file whose precision field says float32
// while it holds int8 tensors is refused (it loaded and was reported as a
// float32 model).
func TestPrecisionMatchesTensors(t *testing.T) {
	tm := blobs(t)
	b := mutate(tm.int8, func(m *mncfb.Model) {
		if !m.MutatePrecision(mncfb.PrecisionFLOAT32) {
			t.Fatal("the int8 file does not store its precision")
		}
	})
	wantError(t, b, "the file's precision is float32, but tensor")
}

// TestMixedPrecision: a mixed model (int8 with some operators in
// float32) loads, says so and names its float32 operators; every
// operator's stated precision must be the one its tensors make it, a
// mixed model must hold both precisions, and int8 and float32 models state
// none.
func TestMixedPrecision(t *testing.T) {
	tm := blobs(t)
	m, err := runtime.Load(tm.mixed)
	if err != nil {
		t.Fatal(err)
	}
	if in := m.Info(); in.Precision != "mixed" || len(in.FloatOps) < 3 || in.Format != "1.6" {
		t.Fatalf("precision %s, float ops %q, format %s", in.Precision, in.FloatOps, in.Format)
	}
	// The stem convolution (operator 1, after the input's transpose)
	// computes in float32.
	b := mutate(tm.mixed, func(m *mncfb.Model) {
		var op mncfb.Operator
		m.Operators(&op, 1)
		if !op.MutatePrecision(mncfb.PrecisionINT8) {
			t.Fatal("the mixed file does not store operator 1's precision")
		}
	})
	wantError(t, b, "states precision INT8, but its tensors make it FLOAT32")
	wantError(t, mutate(tm.int8, func(m *mncfb.Model) { m.MutatePrecision(mncfb.PrecisionMIXED) }), "(\"input.quantize\") states precision FLOAT32, but its tensors make it INT8")
	b = mutate(tm.mixed, func(m *mncfb.Model) { m.MutatePrecision(mncfb.PrecisionINT8) })
	wantError(t, b, "states precision INT8 in a model of precision int8")
	wantError(t, mutate(tm.mixed, func(m *mncfb.Model) { m.MutatePrecision(mncfb.PrecisionFLOAT32) }), "the file's precision is float32, but tensor")
}

// TestStoredFloatWeights (format 1.6): the weights of a convolution kept
// in float32 are stored as int8 codes with per-channel scales and
// dequantized at load; such weights must have one scale per output channel
// (finite, positive, zero points 0), and the float32 model of a mixed one
// holds none.
func TestStoredFloatWeights(t *testing.T) {
	tm := blobs(t)
	w := -1
	m := mncfb.GetRootAsModel(tm.mixed, 0)
	var op mncfb.Operator
	m.Operators(&op, 1) // the stem convolution, kept float (after the input's transpose)
	if op.Precision() != mncfb.PrecisionFLOAT32 {
		t.Fatalf("operator 1 has precision %v", op.Precision())
	}
	w = int(op.Inputs(1))
	if d := tensorAt(m, w).Dtype(); d != mncfb.DTypeINT8 {
		t.Fatalf("the float stem's weights are %v, want int8 codes", d)
	}
	if q := tensorAt(m, w).Quantization(nil); q.ZeroPointLength() > 0 {
		wantError(t, mutate(tm.mixed, func(m *mncfb.Model) {
			tensorAt(m, w).Quantization(nil).MutateZeroPoint(0, 3)
		}), "nonzero zero point")
	}
	wantError(t, mutate(tm.mixed, func(m *mncfb.Model) {
		tensorAt(m, w).Quantization(nil).MutateScale(0, float32(math.NaN()))
	}), "scale")
	wantError(t, mutate(tm.mixed, func(m *mncfb.Model) {
		if !tensorAt(m, w).MutateDtype(mncfb.DTypeINT32) {
			t.Fatal("no dtype stored")
		}
	}), "the INT32 tensor of shape")
	f := mncfb.GetRootAsModel(tm.f32, 0)
	for i := range f.TensorsLength() {
		if d := tensorAt(f, i).Dtype(); d != mncfb.DTypeFLOAT32 {
			t.Errorf("the float32 model's tensor %d is %v", i, d)
		}
	}
}

// TestBiasQuantization: an int32 bias that states a quantization must
// state the scheme's: scale s_x*s_w per channel, zero point 0. (The
// compiler stores none; a stored one that contradicts it was ignored.)
func TestBiasQuantization(t *testing.T) {
	tm := blobs(t)
	for _, c := range []struct {
		name   string
		factor float32
		zero   int32
		want   string
	}{
		{"the scheme's", 1, 0, ""},
		{"twice the scale", 2, 0, "s_x*s_w"},
		{"a zero point", 1, 3, "nonzero zero point"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := withBiasQuant(t, tm.int8, c.factor, c.zero)
			if c.want == "" {
				if _, err := runtime.Load(b); err != nil {
					t.Fatalf("the scheme's bias quantization refused: %v", err)
				}
				return
			}
			wantError(t, b, c.want)
		})
	}
}

// withBiasQuant returns a copy of an int8 model file whose first
// convolution's bias tensor states a quantization: scale factor*s_x*s_w
// per channel and the given zero point. Tensor tables cannot grow in
// place, so a new one (with its name, shape and quantization) is appended
// and the tensor vector's entry pointed at it (FlatBuffers offsets point
// forward).
func withBiasQuant(t testing.TB, blob []byte, factor float32, zero int32) []byte {
	t.Helper()
	m := mncfb.GetRootAsModel(blob, 0)
	var op mncfb.Operator
	var code mncfb.OperatorCode
	bias := -1
	var sx float64
	var sw []float64
	for i := range m.OperatorsLength() {
		m.Operators(&op, i)
		m.OperatorCodes(&code, int(op.OpcodeIndex()))
		if code.BuiltinCode() != mncfb.BuiltinOpCONV_2D || op.InputsLength() < 3 || op.Inputs(2) < 0 {
			continue
		}
		var q mncfb.Quantization
		tensorAt(m, int(op.Inputs(0))).Quantization(&q)
		sx = float64(q.Scale(0))
		tensorAt(m, int(op.Inputs(1))).Quantization(&q)
		for j := range q.ScaleLength() {
			sw = append(sw, float64(q.Scale(j)))
		}
		bias = int(op.Inputs(2))
		break
	}
	if bias < 0 {
		t.Fatal("no convolution with a bias")
	}
	bt := tensorAt(m, bias)
	shape := make([]int32, bt.ShapeLength())
	for i := range shape {
		shape[i] = bt.Shape(i)
	}
	o := int(shape[0])
	b := append([]byte(nil), blob...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	le := binary.LittleEndian
	u32 := func(v uint32) { b = le.AppendUint32(b, v) }
	u16 := func(v uint16) { b = le.AppendUint16(b, v) }
	// Tensor: vtable (name, dtype, shape, buffer, quantization), table.
	vt := len(b)
	u16(14)
	u16(24)
	for _, off := range []uint16{4, 20, 8, 12, 16} {
		u16(off)
	}
	u16(0) // pad to 4
	tab := len(b)
	u32(uint32(tab - vt))
	fixName, fixShape, fixQuant := len(b), len(b)+4, len(b)+12
	u32(0)
	u32(0)
	u32(bt.Buffer())
	u32(0)
	u32(uint32(mncfb.DTypeINT32))
	// Name, shape.
	le.PutUint32(b[fixName:], uint32(len(b)-fixName))
	name := bt.Name()
	u32(uint32(len(name)))
	b = append(b, name...)
	b = append(b, 0)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	le.PutUint32(b[fixShape:], uint32(len(b)-fixShape))
	u32(uint32(len(shape)))
	for _, d := range shape {
		u32(uint32(d))
	}
	// Quantization: vtable (scale, zero_point, axis), table, vectors.
	qvt := len(b)
	u16(10)
	u16(16)
	for _, off := range []uint16{4, 8, 12} {
		u16(off)
	}
	u16(0)
	qt := len(b)
	u32(uint32(qt - qvt))
	fixScale, fixZero := len(b), len(b)+4
	u32(0)
	u32(0)
	u32(0) // axis 0
	le.PutUint32(b[fixQuant:], uint32(qt-fixQuant))
	le.PutUint32(b[fixScale:], uint32(len(b)-fixScale))
	u32(uint32(o))
	for i := range o {
		s := float32(sx*sw[min(i, len(sw)-1)]) * factor
		u32(math.Float32bits(s))
	}
	le.PutUint32(b[fixZero:], uint32(len(b)-fixZero))
	u32(1)
	u32(uint32(zero))
	// Point the tensors vector's entry at the new table.
	vec := tensorsVector(b, mncfb.GetRootAsModel(b, 0))
	e := vec + 4 + 4*bias
	le.PutUint32(b[e:], uint32(tab-e))
	if got := tensorAt(mncfb.GetRootAsModel(b, 0), bias); string(got.Name()) != string(name) || got.Dtype() != mncfb.DTypeINT32 {
		t.Fatalf("rewritten bias tensor reads %q %v", got.Name(), got.Dtype())
	}
	return b
}

// tensorsVector returns the position of the length word of the model's
// tensors vector.
func tensorsVector(b []byte, m *mncfb.Model) int {
	tab := m.Table()
	o := int(tab.Offset(16)) // field 6: tensors
	p := int(tab.Pos) + o
	return p + int(binary.LittleEndian.Uint32(b[p:]))
}
