package tflite

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Hostile files are refused with one line, never a panic (decode has no
// recover).
func refused(t *testing.T, what string, b []byte, want string) {
	t.Helper()
	g, err := decode(b)
	switch {
	case err == nil:
		t.Errorf("%s: accepted (%d nodes)", what, len(g.Nodes))
	case strings.ContainsAny(err.Error(), "\n\r"):
		t.Errorf("%s: error of more than one line: %q", what, err)
	case !strings.Contains(err.Error(), want):
		t.Errorf("%s: %v, want %q", what, err, want)
	}
}

func small() *tModel {
	m := &tModel{}
	x := m.act("x", 1, 4, 4, 2)
	w := m.f32("w", []int32{3, 1, 1, 2}, seqf(6, -1, 0.5)...)
	y := m.act("y", 1, 4, 4, 3)
	m.op(bConv2D, []int32{x, w, -1}, y, optConv2D, options(convStrideW, 1, convStrideH, 1))
	z := m.act("z", 1, 4, 4, 3)
	m.op(bRelu, []int32{y}, z, 0, nil)
	m.inputs, m.outputs = []int32{x}, []int32{z}
	return m
}

// locate finds positions in a file written by tModel.bytes.
type locator struct {
	t *testing.T
	b []byte
}

func (l locator) must(tb table, err error) table {
	if err != nil {
		l.t.Fatal(err)
	}
	return tb
}

func (l locator) subgraph() table {
	r := l.must(root(l.b, fileIdent, "Model"))
	v, err := r.vector(modelSubgraphs, 4, "subgraphs")
	if err != nil {
		l.t.Fatal(err)
	}
	return l.must(v.table(0, "SubGraph"))
}

func (l locator) tensor(i int) table {
	v, err := l.subgraph().vector(sgTensors, 4, "tensors")
	if err != nil {
		l.t.Fatal(err)
	}
	return l.must(v.table(i, "Tensor"))
}

func (l locator) field(tb table, slot int) int {
	p, err := tb.field(slot, 4, "field")
	if err != nil || p < 0 {
		l.t.Fatalf("field %d: %d %v", slot, p, err)
	}
	return p
}

func (l locator) ref(tb table, slot int) int {
	p, err := tb.ref(slot, "field")
	if err != nil || p < 0 {
		l.t.Fatalf("ref %d: %d %v", slot, p, err)
	}
	return p
}

func patched(b []byte, pos int, v uint32) []byte {
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(c[pos:], v)
	return c
}

func TestHostileFiles(t *testing.T) {
	b := small().bytes()
	if _, err := decode(b); err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		if _, err := decode(b[:n]); err == nil || strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	refused(t, "truncated", b[:len(b)/2], "outside the file")
	refused(t, "empty", nil, "too short")
	refused(t, "identifier", append(append([]byte(nil), b[:4]...), append([]byte("TFL2"), b[8:]...)...), `identifier is "TFL2"`)
	refused(t, "root offset", patched(b, 0, 0xfffffff0), "outside the file")
	l := locator{t, b}
	sg := l.subgraph()
	refused(t, "tensors vector length", patched(b, l.ref(sg, sgTensors), 0x7fffffff), "runs past the end of the file")
	refused(t, "tensor offset", patched(b, l.ref(sg, sgTensors)+4, 0x7ffffff0), "outside the file")
	x := l.tensor(0)
	refused(t, "vtable offset", patched(b, x.pos, 0x80000000), "vtable")
	refused(t, "shape vector", patched(b, l.field(x, tensorShape), uint32(len(b))), "outside the file")
	refused(t, "buffer index", patched(b, l.field(l.tensor(1), tensorBuffer), 9999), "buffer index 9999 is out of range")
	w := l.tensor(1)
	r := l.must(root(b, fileIdent, "Model"))
	bufs, _ := r.vector(modelBuffers, 4, "buffers")
	buf1 := l.must(bufs.table(1, "Buffer"))
	refused(t, "buffer past the end", patched(b, l.ref(buf1, bufferData), 1<<20), "runs past the end of the file")
	refused(t, "buffer size", patched(b, l.ref(buf1, bufferData), 20), "buffer 1 holds 20 bytes; shape [3 1 1 2] of FLOAT32 needs 24")
	shape := l.ref(w, tensorShape)
	refused(t, "zero dimension", patched(b, shape+4, 0), "dimension 0")
	refused(t, "negative dimension", patched(b, shape+4, 0xffffffff), "dimension -1")
	huge := patched(patched(b, l.ref(x, tensorShape)+8, 1<<20), l.ref(x, tensorShape)+12, 1<<20)
	refused(t, "absurd shape", huge, "holds more than 1073741824 elements")
	ops, _ := sg.vector(sgOperators, 4, "operators")
	op := l.must(ops.table(0, "Operator"))
	refused(t, "tensor index", patched(b, l.ref(op, opInputs)+4, 77), "tensor index 77 is out of range")
	op1 := l.must(ops.table(1, "Operator"))
	refused(t, "opcode index", patched(b, l.field(op1, opOpcodeIndex), 5), "opcode index 5 is out of range")
	refused(t, "field outside its table", func() []byte {
		c := append([]byte(nil), b...)
		vt := op.vt + opInputs
		binary.LittleEndian.PutUint16(c[vt:], 0xfff0)
		return c
	}(), "lies outside its")

	big := &tModel{}
	bx := big.act("x", 1, 16384, 16384, 3)
	by := big.act("y", 1, 16384, 16384, 3)
	big.op(bRelu, []int32{bx}, by, 0, nil)
	big.inputs, big.outputs = []int32{bx}, []int32{by}
	refused(t, "activation budget", big.bytes(), "the model's activations need 6 GiB at batch 1; the limit is 4 GiB")

	bad := small()
	bad.tensors[2].shape = []int32{1, 4, 4, 5}
	refused(t, "declared shape", bad.bytes(), "operator 0 (CONV_2D): computes [1,3,4,4] where output tensor \"y\" declares [1 4 4 5]")
	bad = small()
	bad.tensors[2].name = "y\x1b[31m\n"
	bad.tensors[2].shape = []int32{1, 4, 4, 5}
	refused(t, "escaped name", bad.bytes(), `output tensor "y\x1b[31m\n" declares`)
	bad = small()
	bad.tensors[1].shape = []int32{3, 1, 1, 4}
	bad.tensors[1].data = make([]byte, 48)
	refused(t, "filter channels", bad.bytes(), `filter [3 1 1 4] over 2 input channels`)
}

// Truncations of the real MobileNetV1 are refused with one line. (Its last
// 22 KB are a zip of associated files that TFLite metadata appends after the
// FlatBuffer, which mnc does not read: cutting them leaves the model whole.)
func TestTruncatedShared(t *testing.T) {
	p := filepath.Join("..", "..", "..", "shared", "models", "tflite", "mobilenet_v1_0.25_128_quant.tflite")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("../shared not available (%v)", err)
	}
	for _, n := range []int{0, 7, 8, 100, 4096, len(b) / 3, len(b) / 2, 480000, 503000} {
		refused(t, "truncated", b[:n], "")
	}
}

// A buffer outside the FlatBuffer (offset and size, as TFLite writes
// models over 2 GB) is read from the file when it lies inside it.
func TestExternalBuffer(t *testing.T) {
	m := small()
	m.tensors[1].external = true
	fb := m.bytes()
	l := locator{t, fb}
	r := l.must(root(fb, fileIdent, "Model"))
	bufs, _ := r.vector(modelBuffers, 4, "buffers")
	off, err := l.must(bufs.table(1, "Buffer")).field(bufferOffset, 8, "offset")
	if err != nil || off < 0 {
		t.Fatal(off, err)
	}
	file := append(append([]byte(nil), fb...), m.tensors[1].data...)
	binary.LittleEndian.PutUint64(file[off:], uint64(len(fb)))
	g, err := decode(file)
	if err != nil {
		t.Fatal(err)
	}
	want := seqf(6, -1, 0.5)
	w := g.Consts[0].Const.F32
	for i := range want {
		if w[i] != want[i] {
			t.Fatalf("external weights %v, want %v", w, want)
		}
	}
	binary.LittleEndian.PutUint64(file[off:], uint64(len(fb)+1))
	refused(t, "external buffer past the end", file, "do not lie inside the file")
	binary.LittleEndian.PutUint64(file[off:], 1<<63)
	refused(t, "external buffer offset", file, "do not lie inside the file")
}
