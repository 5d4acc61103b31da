package tflite

import (
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"
)

// A checked view of a FlatBuffer. The flatbuffers Go runtime decodes
// numbers from byte slices but trusts every offset it follows; here every
// table, vtable, field, vector and string is checked to lie inside the file
// before a byte of it is decoded, and a bad one is an error naming the table
// and field, never a panic.

// table is a FlatBuffer table whose header and vtable lie inside b.
type table struct {
	b     []byte
	pos   int // the table's start
	vt    int // its vtable's start
	vtLen int // the vtable's size in bytes
	size  int // the table's inline size in bytes
	name  string
}

// in reports whether [pos, pos+n) lies inside b.
func in(b []byte, pos, n int) bool {
	return pos >= 0 && n >= 0 && pos <= len(b) && n <= len(b)-pos
}

// tableAt checks the table at pos, called name in errors.
func tableAt(b []byte, pos int, name string) (table, error) {
	if !in(b, pos, 4) {
		return table{}, fmt.Errorf("%s: table at %d is outside the file (%d bytes)", name, pos, len(b))
	}
	vt := int64(pos) - int64(flatbuffers.GetSOffsetT(b[pos:]))
	if vt < 0 || vt > int64(len(b)-4) {
		return table{}, fmt.Errorf("%s: vtable at %d is outside the file (%d bytes)", name, vt, len(b))
	}
	t := table{b: b, pos: pos, vt: int(vt), name: name}
	t.vtLen = int(flatbuffers.GetVOffsetT(b[t.vt:]))
	t.size = int(flatbuffers.GetVOffsetT(b[t.vt+2:]))
	switch {
	case t.vtLen < 4 || t.vtLen%2 != 0 || !in(b, t.vt, t.vtLen):
		return table{}, fmt.Errorf("%s: vtable of %d bytes at %d does not fit the file", name, t.vtLen, t.vt)
	case t.size < 4 || !in(b, pos, t.size):
		return table{}, fmt.Errorf("%s: table of %d bytes at %d does not fit the file", name, t.size, pos)
	}
	return t, nil
}

// root checks the file header (the root offset and the identifier) and
// returns the root table.
func root(b []byte, ident, name string) (table, error) {
	if len(b) < 8 {
		return table{}, fmt.Errorf("file of %d bytes is too short for a FlatBuffer header", len(b))
	}
	if string(b[4:8]) != ident {
		return table{}, fmt.Errorf("file identifier is %q, want %q", b[4:8], ident)
	}
	return tableAt(b, int(flatbuffers.GetUOffsetT(b)), name)
}

// field returns the position of the field at vtable slot slot (4 + 2*index)
// holding n bytes, or -1 when the field is absent.
func (t table) field(slot, n int, what string) (int, error) {
	if slot+2 > t.vtLen {
		return -1, nil
	}
	o := int(flatbuffers.GetVOffsetT(t.b[t.vt+slot:]))
	if o == 0 {
		return -1, nil
	}
	if o < 4 || o+n > t.size {
		return -1, fmt.Errorf("%s.%s: field at %d of %d bytes lies outside its %d-byte table", t.name, what, o, n, t.size)
	}
	return t.pos + o, nil
}

func (t table) int32(slot int, def int32, what string) (int32, error) {
	p, err := t.field(slot, 4, what)
	if p < 0 || err != nil {
		return def, err
	}
	return flatbuffers.GetInt32(t.b[p:]), nil
}

func (t table) uint32(slot int, what string) (uint32, error) {
	p, err := t.field(slot, 4, what)
	if p < 0 || err != nil {
		return 0, err
	}
	return flatbuffers.GetUint32(t.b[p:]), nil
}

func (t table) uint64(slot int, what string) (uint64, error) {
	p, err := t.field(slot, 8, what)
	if p < 0 || err != nil {
		return 0, err
	}
	return flatbuffers.GetUint64(t.b[p:]), nil
}

func (t table) int8(slot int, def int8, what string) (int8, error) {
	p, err := t.field(slot, 1, what)
	if p < 0 || err != nil {
		return def, err
	}
	return flatbuffers.GetInt8(t.b[p:]), nil
}

func (t table) uint8(slot int, what string) (uint8, error) {
	p, err := t.field(slot, 1, what)
	if p < 0 || err != nil {
		return 0, err
	}
	return flatbuffers.GetUint8(t.b[p:]), nil
}

func (t table) bool(slot int, what string) (bool, error) {
	v, err := t.uint8(slot, what)
	return v != 0, err
}

func (t table) float32(slot int, def float32, what string) (float32, error) {
	p, err := t.field(slot, 4, what)
	if p < 0 || err != nil {
		return def, err
	}
	return flatbuffers.GetFloat32(t.b[p:]), nil
}

// ref follows the offset field at slot: the position it points to, or -1
// when the field is absent.
func (t table) ref(slot int, what string) (int, error) {
	p, err := t.field(slot, 4, what)
	if p < 0 || err != nil {
		return -1, err
	}
	target := int64(p) + int64(flatbuffers.GetUOffsetT(t.b[p:]))
	if target > int64(len(t.b)-4) {
		return -1, fmt.Errorf("%s.%s: offset to %d is outside the file (%d bytes)", t.name, what, target, len(t.b))
	}
	return int(target), nil
}

// vector is a checked FlatBuffer vector: n elements of elem bytes from
// start, all inside the file.
type vector struct {
	b     []byte
	start int
	n     int
	elem  int
}

// vector reads the vector field at slot with elements of elem bytes; an
// absent field is an empty vector.
func (t table) vector(slot, elem int, what string) (vector, error) {
	p, err := t.ref(slot, what)
	if p < 0 || err != nil {
		return vector{b: t.b, elem: elem}, err
	}
	n := int64(flatbuffers.GetUOffsetT(t.b[p:]))
	if n > int64(len(t.b)-p-4)/int64(elem) {
		return vector{}, fmt.Errorf("%s.%s: vector of %d elements of %d bytes at %d runs past the end of the file (%d bytes)",
			t.name, what, n, elem, p, len(t.b))
	}
	return vector{b: t.b, start: p + 4, n: int(n), elem: elem}, nil
}

func (v vector) bytes() []byte     { return v.b[v.start : v.start+v.n*v.elem : v.start+v.n*v.elem] }
func (v vector) i32(i int) int32   { return flatbuffers.GetInt32(v.b[v.start+4*i:]) }
func (v vector) f32(i int) float32 { return flatbuffers.GetFloat32(v.b[v.start+4*i:]) }
func (v vector) i64(i int) int64   { return flatbuffers.GetInt64(v.b[v.start+8*i:]) }

// table returns the i-th table of a vector of tables.
func (v vector) table(i int, name string) (table, error) {
	p := v.start + 4*i
	target := int64(p) + int64(flatbuffers.GetUOffsetT(v.b[p:]))
	if target > int64(len(v.b)) {
		return table{}, fmt.Errorf("%s: offset to %d is outside the file (%d bytes)", name, target, len(v.b))
	}
	return tableAt(v.b, int(target), name)
}

// string reads the string field at slot ("" when absent).
func (t table) string(slot int, what string) (string, error) {
	v, err := t.vector(slot, 1, what)
	if err != nil {
		return "", err
	}
	return string(v.bytes()), nil
}

// sub reads the table field at slot; ok is false when it is absent.
func (t table) sub(slot int, what, name string) (table, bool, error) {
	p, err := t.ref(slot, what)
	if p < 0 || err != nil {
		return table{}, false, err
	}
	s, err := tableAt(t.b, p, name)
	return s, err == nil, err
}
