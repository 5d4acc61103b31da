package onnx

import (
	"fmt"
	"math"
	"unicode"

	"google.golang.org/protobuf/encoding/protowire"
)

// field is one decoded protobuf field: v holds varint and fixed-width values,
// b the payload of a length-delimited field (a sub-slice of the input, not a
// copy).
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

var wireTypeNames = map[protowire.Type]string{
	protowire.VarintType:     "varint",
	protowire.Fixed32Type:    "fixed32",
	protowire.Fixed64Type:    "fixed64",
	protowire.BytesType:      "length-delimited",
	protowire.StartGroupType: "group",
	protowire.EndGroupType:   "end-group",
}

func wireTypeName(t protowire.Type) string {
	if s, ok := wireTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("wire type %d", t)
}

// walk calls fn for every field of the message encoded in b. Groups (unused
// by ONNX) are refused rather than skipped.
func walk(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("malformed field tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			f.v = uint64(x)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			return fmt.Errorf("field %d has unsupported %s encoding", num, wireTypeName(typ))
		}
		if n < 0 {
			return fmt.Errorf("field %d (%s): %w", num, wireTypeName(typ), protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// want checks the wire type of a singular field.
func (f field) want(t protowire.Type, name string) error {
	if f.typ != t {
		return fmt.Errorf("field %s (%d) has %s encoding, want %s", name, f.num, wireTypeName(f.typ), wireTypeName(t))
	}
	return nil
}

// maxQuoted bounds how much of a refused string an error message shows.
const maxQuoted = 80

// str returns a length-delimited field as a string. Strings holding control
// or other non-printable characters are refused: they name nodes, values,
// ops and the graph, and end up in messages and model files.
func (f field) str(name string) (string, error) {
	if err := f.want(protowire.BytesType, name); err != nil {
		return "", err
	}
	s := string(f.b)
	for _, r := range s {
		if !unicode.IsPrint(r) {
			q := s
			if len(q) > maxQuoted {
				q = q[:maxQuoted]
			}
			return "", fmt.Errorf("field %s (%d) holds a control or non-printable character: %q", name, f.num, q)
		}
	}
	return s, nil
}

// int64 returns a varint field as a signed 64-bit integer (proto int64/int32
// encoding: negative values are ten-byte two's complement).
func (f field) int64(name string) (int64, error) {
	if err := f.want(protowire.VarintType, name); err != nil {
		return 0, err
	}
	return int64(f.v), nil
}

// int32 returns a varint field holding a proto int32.
func (f field) int32(name string) (int32, error) {
	v, err := f.int64(name)
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("field %s (%d) value %d overflows int32", name, f.num, v)
	}
	return int32(v), nil
}

// scalar is the wire encoding of the elements of a repeated numeric field.
type scalar uint8

const (
	varintElems scalar = iota
	fixed32Elems
	fixed64Elems
)

func (k scalar) wireType() protowire.Type {
	switch k {
	case fixed32Elems:
		return protowire.Fixed32Type
	case fixed64Elems:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}

// count returns how many elements one occurrence of a repeated numeric field
// carries: one if unpacked, or the number of elements of a packed run. The
// packed run is only counted, not decoded, so callers can check the count
// before allocating.
func (f field) count(k scalar, name string) (int, error) {
	if f.typ == k.wireType() {
		return 1, nil
	}
	if f.typ != protowire.BytesType {
		return 0, fmt.Errorf("repeated field %s (%d) has %s encoding, want %s or packed", name, f.num, wireTypeName(f.typ), wireTypeName(k.wireType()))
	}
	switch k {
	case fixed32Elems:
		if len(f.b)%4 != 0 {
			return 0, fmt.Errorf("packed field %s (%d) has %d bytes, not a multiple of 4", name, f.num, len(f.b))
		}
		return len(f.b) / 4, nil
	case fixed64Elems:
		if len(f.b)%8 != 0 {
			return 0, fmt.Errorf("packed field %s (%d) has %d bytes, not a multiple of 8", name, f.num, len(f.b))
		}
		return len(f.b) / 8, nil
	}
	n := 0
	for _, c := range f.b {
		if c < 0x80 {
			n++
		}
	}
	if len(f.b) > 0 && f.b[len(f.b)-1] >= 0x80 {
		return 0, fmt.Errorf("packed field %s (%d) ends inside a varint", name, f.num)
	}
	return n, nil
}

// each calls fn for every element of one occurrence of a repeated numeric
// field (already validated by count).
func (f field) each(k scalar, fn func(uint64)) error {
	if f.typ != protowire.BytesType {
		fn(f.v)
		return nil
	}
	b := f.b
	for len(b) > 0 {
		var v uint64
		n := 0
		switch k {
		case fixed32Elems:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case fixed64Elems:
			v, n = protowire.ConsumeFixed64(b)
		default:
			v, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			return fmt.Errorf("packed field %d: %w", f.num, protowire.ParseError(n))
		}
		fn(v)
		b = b[n:]
	}
	return nil
}

// repeated decodes a whole repeated scalar field of message b (all its
// occurrences, packed or not), turning each raw element into a T with elem.
// At most limit elements are accepted; the count is checked before
// allocating.
func repeated[T any](b []byte, num protowire.Number, name string, limit int, kind scalar, elem func(uint64) T) ([]T, error) {
	n := 0
	err := walk(b, func(f field) error {
		if f.num != num {
			return nil
		}
		c, err := f.count(kind, name)
		n += c
		return err
	})
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("field %s has %d values, more than the %d allowed", name, n, limit)
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]T, 0, n)
	err = walk(b, func(f field) error {
		if f.num != num {
			return nil
		}
		return f.each(kind, func(v uint64) { out = append(out, elem(v)) })
	})
	return out, err
}

// repeatedInt64 decodes a whole repeated int64 field of message b.
func repeatedInt64(b []byte, num protowire.Number, name string, limit int) ([]int64, error) {
	return repeated(b, num, name, limit, varintElems, func(v uint64) int64 { return int64(v) })
}

// repeatedFloat32 decodes a whole repeated float field of message b.
func repeatedFloat32(b []byte, num protowire.Number, name string, limit int) ([]float32, error) {
	return repeated(b, num, name, limit, fixed32Elems, func(v uint64) float32 { return math.Float32frombits(uint32(v)) })
}
