package onnx

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mncdev/mnc/runtime/limits"
)

// The subset of onnx.proto that mnc reads, decoded by hand with protowire.
// Field numbers are those of onnx/onnx.proto; unknown fields are skipped.

// Limits on counts that are not otherwise bounded by the data they describe.
const (
	maxRank = 64                      // dimensions of a tensor or value
	maxDim  = min(1<<31, math.MaxInt) // one dimension (capped by int on 32-bit builds)
	// maxElems bounds the element count of a value's static shape. Constant
	// data is further bounded by the bytes actually present in the file.
	maxElems = min(1<<40, math.MaxInt)
	// maxAttrElems bounds the ints/floats of one attribute.
	maxAttrElems = 1 << 20
	// maxOpsets bounds the opset_import entries (one per domain).
	maxOpsets = 64
)

type opsetID struct {
	domain  string
	version int64
}

type modelProto struct {
	irVersion int64
	opsets    []opsetID
	producer  string
	graph     []byte
	hasGraph  bool
}

type graphProto struct {
	name    string
	nodes   []*nodeProto
	inits   []*tensorProto
	inputs  []*valueInfo
	outputs []*valueInfo
	sparse  int // sparse initializers (refused)
}

type nodeProto struct {
	index   int // position in the file
	inputs  []string
	outputs []string
	name    string
	opType  string
	domain  string
	attrs   []*attrProto
}

// Attribute types (AttributeProto.AttributeType).
const (
	attrFloat   = 1
	attrInt     = 2
	attrString  = 3
	attrTensor  = 4
	attrGraph   = 5
	attrFloats  = 6
	attrInts    = 7
	attrStrings = 8
	attrTensors = 9
	attrGraphs  = 10
)

var attrTypeNames = map[int32]string{
	attrFloat: "FLOAT", attrInt: "INT", attrString: "STRING", attrTensor: "TENSOR", attrGraph: "GRAPH",
	attrFloats: "FLOATS", attrInts: "INTS", attrStrings: "STRINGS", attrTensors: "TENSORS", attrGraphs: "GRAPHS",
	11: "SPARSE_TENSOR", 12: "SPARSE_TENSORS", 13: "TYPE_PROTO", 14: "TYPE_PROTOS",
}

func attrTypeName(t int32) string {
	if s, ok := attrTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

type attrProto struct {
	name    string
	typ     int32
	f       float32
	i       int64
	s       []byte
	t       []byte // encoded TensorProto
	floats  []float32
	ints    []int64
	refAttr string
}

type valueInfo struct {
	name     string
	hasType  bool
	isTensor bool
	elemType int32
	hasShape bool
	dims     []dimProto
}

type dimProto struct {
	value    int64
	hasValue bool
	param    string
}

// tensorProto is a TensorProto whose scalar fields are decoded and whose
// data fields are only counted; toTensor decodes the data once the counts
// have been checked against the dims.
type tensorProto struct {
	name       string
	dims       []int64
	dtype      int32
	raw        []byte
	hasRaw     bool
	external   bool
	location   string // external_data "location"
	segment    bool
	floatN     int // float_data elements
	int32N     int
	stringN    int
	int64N     int
	doubleN    int
	uint64N    int
	msg        []byte
	hasDType   bool
	dimsCount  int
	hasExtData bool
}

func decodeModel(b []byte) (*modelProto, error) {
	m := &modelProto{}
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			m.irVersion, err = f.int64("ir_version")
		case 2:
			m.producer, err = f.str("producer_name")
		case 7:
			if err = f.want(protowire.BytesType, "graph"); err == nil {
				m.graph, m.hasGraph = f.b, true
			}
		case 8:
			if err = f.want(protowire.BytesType, "opset_import"); err != nil {
				return err
			}
			var o opsetID
			err = walk(f.b, func(g field) error {
				var err error
				switch g.num {
				case 1:
					o.domain, err = g.str("domain")
				case 2:
					o.version, err = g.int64("version")
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			if len(m.opsets) >= maxOpsets {
				return fmt.Errorf("more than %d opset_import entries", maxOpsets)
			}
			m.opsets = append(m.opsets, o)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return m, nil
}

// elements counts the parts of a graph that each cost a decoded struct or
// string however few bytes encode them (an empty node is 2 bytes), against
// limits.GraphElements.
type elements int

func (e *elements) take() error {
	if *e++; *e > limits.GraphElements {
		return fmt.Errorf("the graph has more nodes, initializers, inputs, outputs and attributes than the limit of %d", limits.GraphElements)
	}
	return nil
}

func decodeGraph(b []byte) (*graphProto, error) {
	g := &graphProto{}
	var count elements
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1, 5, 11, 12:
			if err := count.take(); err != nil {
				return err
			}
		}
		switch f.num {
		case 1:
			if err = f.want(protowire.BytesType, "node"); err != nil {
				return err
			}
			var n *nodeProto
			n, err = decodeNode(f.b, &count)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(g.nodes), err)
			}
			n.index = len(g.nodes)
			g.nodes = append(g.nodes, n)
		case 2:
			g.name, err = f.str("name")
		case 5:
			if err = f.want(protowire.BytesType, "initializer"); err != nil {
				return err
			}
			var t *tensorProto
			t, err = decodeTensorProto(f.b)
			if err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.inits), err)
			}
			g.inits = append(g.inits, t)
		case 11, 12:
			what := "input"
			if f.num == 12 {
				what = "output"
			}
			if err = f.want(protowire.BytesType, what); err != nil {
				return err
			}
			var vi *valueInfo
			vi, err = decodeValueInfo(f.b)
			if err != nil {
				return fmt.Errorf("graph %s %d: %w", what, len(g.inputs)+len(g.outputs), err)
			}
			if f.num == 11 {
				g.inputs = append(g.inputs, vi)
			} else {
				g.outputs = append(g.outputs, vi)
			}
		case 15:
			g.sparse++
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	return g, nil
}

func decodeNode(b []byte, count *elements) (*nodeProto, error) {
	n := &nodeProto{}
	err := walk(b, func(f field) error {
		var err error
		var s string
		switch f.num {
		case 1, 2, 5:
			if err := count.take(); err != nil {
				return err
			}
		}
		switch f.num {
		case 1:
			s, err = f.str("input")
			n.inputs = append(n.inputs, s)
		case 2:
			s, err = f.str("output")
			n.outputs = append(n.outputs, s)
		case 3:
			n.name, err = f.str("name")
		case 4:
			n.opType, err = f.str("op_type")
		case 7:
			n.domain, err = f.str("domain")
		case 5:
			if err = f.want(protowire.BytesType, "attribute"); err != nil {
				return err
			}
			var a *attrProto
			a, err = decodeAttr(f.b)
			if err != nil {
				return fmt.Errorf("attribute %d: %w", len(n.attrs), err)
			}
			n.attrs = append(n.attrs, a)
		}
		return err
	})
	return n, err
}

func decodeAttr(b []byte) (*attrProto, error) {
	a := &attrProto{}
	var seen [24]bool
	err := walk(b, func(f field) error {
		var err error
		if int(f.num) < len(seen) {
			seen[f.num] = true
		}
		switch f.num {
		case 1:
			a.name, err = f.str("name")
		case 20:
			a.typ, err = f.int32("type")
		case 2:
			if err = f.want(protowire.Fixed32Type, "f"); err == nil {
				a.f = math.Float32frombits(uint32(f.v))
			}
		case 3:
			a.i, err = f.int64("i")
		case 4:
			if err = f.want(protowire.BytesType, "s"); err == nil {
				a.s = f.b
			}
		case 5:
			if err = f.want(protowire.BytesType, "t"); err == nil {
				a.t = f.b
			}
		case 21:
			a.refAttr, err = f.str("ref_attr_name")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if a.floats, err = repeatedFloat32(b, 7, "floats", maxAttrElems); err != nil {
		return nil, fmt.Errorf("attribute %q: %w", a.name, err)
	}
	if a.ints, err = repeatedInt64(b, 8, "ints", maxAttrElems); err != nil {
		return nil, fmt.Errorf("attribute %q: %w", a.name, err)
	}
	if a.typ == 0 {
		// IR version 1 had no type discriminator: infer it from the field set.
		for _, c := range []struct {
			num int
			typ int32
		}{{2, attrFloat}, {3, attrInt}, {4, attrString}, {5, attrTensor}, {6, attrGraph}, {7, attrFloats}, {8, attrInts}, {9, attrStrings}, {10, attrTensors}, {11, attrGraphs}} {
			if seen[c.num] {
				a.typ = c.typ
				break
			}
		}
	}
	return a, nil
}

func decodeValueInfo(b []byte) (*valueInfo, error) {
	vi := &valueInfo{}
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			vi.name, err = f.str("name")
		case 2:
			if err = f.want(protowire.BytesType, "type"); err != nil {
				return err
			}
			vi.hasType = true
			err = walk(f.b, func(f field) error {
				if f.num != 1 {
					return nil
				}
				if err := f.want(protowire.BytesType, "tensor_type"); err != nil {
					return err
				}
				vi.isTensor = true
				return decodeTensorType(f.b, vi)
			})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("value %q: %w", vi.name, err)
	}
	return vi, nil
}

func decodeTensorType(b []byte, vi *valueInfo) error {
	return walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			vi.elemType, err = f.int32("elem_type")
		case 2:
			if err = f.want(protowire.BytesType, "shape"); err != nil {
				return err
			}
			vi.hasShape = true
			vi.dims = vi.dims[:0]
			err = walk(f.b, func(f field) error {
				if f.num != 1 {
					return nil
				}
				if err := f.want(protowire.BytesType, "dim"); err != nil {
					return err
				}
				if len(vi.dims) >= maxRank {
					return fmt.Errorf("shape has more than %d dimensions", maxRank)
				}
				var d dimProto
				err := walk(f.b, func(f field) error {
					var err error
					switch f.num {
					case 1:
						d.value, err = f.int64("dim_value")
						d.hasValue = err == nil
					case 2:
						d.param, err = f.str("dim_param")
						d.hasValue = false
					}
					return err
				})
				vi.dims = append(vi.dims, d)
				return err
			})
		}
		return err
	})
}

func decodeTensorProto(b []byte) (*tensorProto, error) {
	t := &tensorProto{msg: b}
	err := walk(b, func(f field) error {
		var err error
		var c int
		switch f.num {
		case 1:
			c, err = f.count(varintElems, "dims")
			t.dimsCount += c
		case 2:
			t.dtype, err = f.int32("data_type")
			t.hasDType = true
		case 3:
			t.segment = true
		case 4:
			c, err = f.count(fixed32Elems, "float_data")
			t.floatN += c
		case 5:
			c, err = f.count(varintElems, "int32_data")
			t.int32N += c
		case 6:
			t.stringN++
		case 7:
			c, err = f.count(varintElems, "int64_data")
			t.int64N += c
		case 8:
			t.name, err = f.str("name")
		case 9:
			if err = f.want(protowire.BytesType, "raw_data"); err == nil {
				t.raw, t.hasRaw = f.b, true
			}
		case 10:
			c, err = f.count(fixed64Elems, "double_data")
			t.doubleN += c
		case 11:
			c, err = f.count(varintElems, "uint64_data")
			t.uint64N += c
		case 13:
			if err = f.want(protowire.BytesType, "external_data"); err != nil {
				return err
			}
			var key, val string
			err = walk(f.b, func(g field) error {
				var err error
				switch g.num {
				case 1:
					key, err = g.str("key")
				case 2:
					val, err = g.str("value")
				}
				return err
			})
			if key == "location" {
				t.location = val
			}
			t.hasExtData = true
		case 14:
			var loc int32
			loc, err = f.int32("data_location")
			if loc == 1 {
				t.external = true
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.name, err)
	}
	if t.dimsCount > maxRank {
		return nil, fmt.Errorf("tensor %q has %d dimensions, more than %d", t.name, t.dimsCount, maxRank)
	}
	if t.dims, err = repeatedInt64(b, 1, "dims", maxRank); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.name, err)
	}
	return t, nil
}
