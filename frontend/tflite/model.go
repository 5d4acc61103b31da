package tflite

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/mncdev/mnc/runtime/limits"
)

// The decoded file: the first subgraph's tensors and operators with their
// buffers, every index, shape, size and quantization checked.

const (
	maxRank = 8 // TFLite's kernels take at most 6 dimensions
	// maxElems bounds the elements of one tensor (the runtime's bound).
	maxElems = limits.ModelTensorElements
)

type qparams struct {
	scale []float32
	zero  []int64
	dim   int // the quantized dimension when there are several scales
}

type tensor struct {
	name  string
	dtype int8
	shape []int
	data  []byte // the constant's bytes (shape x element size), or nil
	q     *qparams
}

func (t *tensor) isConst() bool { return t.data != nil }

func (t *tensor) elems() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

type operator struct {
	code    int32
	custom  string
	inputs  []int // -1: an optional input left out
	outputs []int
	optType uint8
	opts    table // when hasOpts
	hasOpts bool
}

type model struct {
	description string
	name        string
	tensors     []tensor
	inputs      []int
	outputs     []int
	ops         []operator
}

// elemSize is the size of one element of a TFLite type mnc reads, or 0.
func elemSize(t int8) int {
	switch t {
	case ttFloat32, ttInt32:
		return 4
	case ttFloat16, ttInt16:
		return 2
	case ttUint8, ttInt8:
		return 1
	case ttInt64:
		return 8
	}
	return 0
}

// decoder holds the file and the element budget (limits.GraphElements) its
// tables spend: tensors, operators, their inputs and outputs.
type decoder struct {
	b       []byte
	spent   int
	buffers vector
}

func (d *decoder) spend(n int, what string) error {
	if n > limits.GraphElements-d.spent {
		return fmt.Errorf("the model has more than %d tensors, operators and operands (%s); the limit is %d",
			limits.GraphElements, what, limits.GraphElements)
	}
	d.spent += n
	return nil
}

func decodeModel(b []byte) (*model, error) {
	d := &decoder{b: b}
	root, err := root(b, fileIdent, "Model")
	if err != nil {
		return nil, err
	}
	version, err := root.uint32(modelVersion, "version")
	if err != nil {
		return nil, err
	}
	if version != 3 {
		return nil, fmt.Errorf("schema version %d is not supported (mnc reads version 3)", version)
	}
	m := &model{}
	if m.description, err = root.string(modelDescription, "description"); err != nil {
		return nil, err
	}
	if d.buffers, err = root.vector(modelBuffers, 4, "buffers"); err != nil {
		return nil, err
	}
	codes, err := d.operatorCodes(root)
	if err != nil {
		return nil, err
	}
	sgs, err := root.vector(modelSubgraphs, 4, "subgraphs")
	if err != nil {
		return nil, err
	}
	if sgs.n == 0 {
		return nil, errors.New("the model has no subgraph")
	}
	sg, err := sgs.table(0, "SubGraph")
	if err != nil {
		return nil, err
	}
	if m.name, err = sg.string(sgName, "name"); err != nil {
		return nil, err
	}
	tv, err := sg.vector(sgTensors, 4, "tensors")
	if err != nil {
		return nil, err
	}
	if err := d.spend(tv.n, "tensors"); err != nil {
		return nil, err
	}
	m.tensors = make([]tensor, tv.n)
	for i := range m.tensors {
		t, err := tv.table(i, "Tensor")
		if err == nil {
			err = d.tensor(&m.tensors[i], t)
		}
		if err != nil {
			return nil, fmt.Errorf("tensor %d: %w", i, err)
		}
	}
	if m.inputs, err = d.indices(sg, sgInputs, "subgraph inputs", len(m.tensors), false); err != nil {
		return nil, err
	}
	if m.outputs, err = d.indices(sg, sgOutputs, "subgraph outputs", len(m.tensors), false); err != nil {
		return nil, err
	}
	ov, err := sg.vector(sgOperators, 4, "operators")
	if err != nil {
		return nil, err
	}
	if err := d.spend(ov.n, "operators"); err != nil {
		return nil, err
	}
	m.ops = make([]operator, ov.n)
	for i := range m.ops {
		t, err := ov.table(i, "Operator")
		if err == nil {
			err = d.operator(&m.ops[i], t, codes, len(m.tensors))
		}
		if err != nil {
			return nil, fmt.Errorf("operator %d: %w", i, err)
		}
	}
	return m, nil
}

type opcode struct {
	code   int32
	custom string
}

func (d *decoder) operatorCodes(root table) ([]opcode, error) {
	v, err := root.vector(modelOperatorCodes, 4, "operator_codes")
	if err != nil {
		return nil, err
	}
	if err := d.spend(v.n, "operator codes"); err != nil {
		return nil, err
	}
	codes := make([]opcode, v.n)
	for i := range codes {
		t, err := v.table(i, "OperatorCode")
		if err != nil {
			return nil, fmt.Errorf("operator code %d: %w", i, err)
		}
		dep, err := t.int8(ocDeprecatedCode, 0, "deprecated_builtin_code")
		if err != nil {
			return nil, err
		}
		code, err := t.int32(ocBuiltinCode, 0, "builtin_code")
		if err != nil {
			return nil, err
		}
		// Files written before the 32-bit field have only the byte; later
		// ones set both, the byte saturating at the placeholder.
		codes[i].code = max(int32(dep), code)
		if codes[i].code < 0 {
			return nil, fmt.Errorf("operator code %d: builtin code %d is negative", i, codes[i].code)
		}
		if codes[i].custom, err = t.string(ocCustomCode, "custom_code"); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// indices reads a vector of tensor indices, each below n (or -1 where
// optional allows it).
func (d *decoder) indices(t table, slot int, what string, n int, optional bool) ([]int, error) {
	v, err := t.vector(slot, 4, what)
	if err != nil {
		return nil, err
	}
	if err := d.spend(v.n, what); err != nil {
		return nil, err
	}
	out := make([]int, v.n)
	for i := range out {
		x := v.i32(i)
		switch {
		case x == -1 && optional:
		case x < 0 || int(x) >= n:
			return nil, fmt.Errorf("%s: tensor index %d is out of range (the subgraph has %d tensors)", what, x, n)
		}
		out[i] = int(x)
	}
	return out, nil
}

func (d *decoder) tensor(t *tensor, ft table) error {
	var err error
	if t.name, err = ft.string(tensorName, "name"); err != nil {
		return err
	}
	// The converter names a fused tensor after all its parts, "A;B;...":
	// the first says what it is.
	if i := strings.IndexByte(t.name, ';'); i > 0 {
		t.name = t.name[:i]
	}
	label := func(err error) error { return fmt.Errorf("%q: %w", t.name, err) }
	if t.dtype, err = ft.int8(tensorType, 0, "type"); err != nil {
		return label(err)
	}
	sv, err := ft.vector(tensorShape, 4, "shape")
	if err != nil {
		return label(err)
	}
	if sv.n > maxRank {
		return label(fmt.Errorf("rank %d is larger than %d", sv.n, maxRank))
	}
	t.shape = make([]int, sv.n)
	n := 1
	for i := range t.shape {
		x := sv.i32(i)
		if x < 1 {
			return label(fmt.Errorf("shape has dimension %d; mnc reads static shapes of positive dimensions", x))
		}
		if int(x) > maxElems/n {
			return label(fmt.Errorf("shape %v holds more than %d elements", sv.ints(), maxElems))
		}
		n *= int(x)
		t.shape[i] = int(x)
	}
	if p, err := ft.ref(tensorSparsity, "sparsity"); err != nil || p >= 0 {
		return label(orErr(err, "sparse tensors are not supported"))
	}
	if v, err := ft.bool(tensorIsVariable, "is_variable"); err != nil || v {
		return label(orErr(err, "variable tensors are not supported"))
	}
	buf, err := ft.uint32(tensorBuffer, "buffer")
	if err != nil {
		return label(err)
	}
	if t.data, err = d.buffer(buf); err != nil {
		return label(err)
	}
	if t.data != nil {
		size := elemSize(t.dtype)
		if size == 0 {
			return label(fmt.Errorf("constant of element type %s is not supported", typeName(t.dtype)))
		}
		if int64(len(t.data)) != int64(n)*int64(size) {
			return label(fmt.Errorf("buffer %d holds %d bytes; shape %v of %s needs %d", buf, len(t.data), t.shape,
				typeName(t.dtype), int64(n)*int64(size)))
		}
	}
	q, ok, err := ft.sub(tensorQuantization, "quantization", "QuantizationParameters")
	if err != nil {
		return label(err)
	}
	if ok {
		if t.q, err = quantization(q, t.shape); err != nil {
			return label(err)
		}
	}
	return nil
}

func (v vector) ints() []int32 {
	out := make([]int32, v.n)
	for i := range out {
		out[i] = v.i32(i)
	}
	return out
}

// buffer returns the data of buffer i (nil when it is empty).
func (d *decoder) buffer(i uint32) ([]byte, error) {
	if i == 0 && d.buffers.n == 0 {
		return nil, nil
	}
	if int64(i) >= int64(d.buffers.n) {
		return nil, fmt.Errorf("buffer index %d is out of range (the model has %d buffers)", i, d.buffers.n)
	}
	t, err := d.buffers.table(int(i), "Buffer")
	if err != nil {
		return nil, err
	}
	data, err := t.vector(bufferData, 1, "data")
	if err != nil {
		return nil, err
	}
	off, err := t.uint64(bufferOffset, "offset")
	if err != nil {
		return nil, err
	}
	if off > 1 { // the data lies after the FlatBuffer, at offset from the file's start
		size, err := t.uint64(bufferSize, "size")
		if err != nil {
			return nil, err
		}
		if data.n > 0 || off > uint64(len(d.b)) || size > uint64(len(d.b))-off {
			return nil, fmt.Errorf("buffer %d: %d bytes at offset %d do not lie inside the file (%d bytes)", i, size, off, len(d.b))
		}
		if size == 0 {
			return nil, nil
		}
		return d.b[off : off+size : off+size], nil
	}
	if data.n == 0 {
		return nil, nil
	}
	return data.bytes(), nil
}

func quantization(q table, shape []int) (*qparams, error) {
	dt, err := q.uint8(quantDetailsType, "details_type")
	if err != nil {
		return nil, err
	}
	if dt != 0 {
		return nil, fmt.Errorf("custom quantization (details type %d) is not supported", dt)
	}
	sv, err := q.vector(quantScale, 4, "scale")
	if err != nil {
		return nil, err
	}
	zv, err := q.vector(quantZeroPoint, 8, "zero_point")
	if err != nil {
		return nil, err
	}
	dim, err := q.int32(quantDimension, 0, "quantized_dimension")
	if err != nil {
		return nil, err
	}
	if sv.n == 0 && zv.n == 0 {
		return nil, nil // min/max only, or nothing: not quantized
	}
	if zv.n != sv.n {
		return nil, fmt.Errorf("quantization has %d scales and %d zero points", sv.n, zv.n)
	}
	p := &qparams{scale: make([]float32, sv.n), zero: make([]int64, sv.n)}
	if sv.n > 1 {
		if dim < 0 || int(dim) >= len(shape) || shape[dim] != sv.n {
			return nil, fmt.Errorf("%d scales along quantized dimension %d of shape %v", sv.n, dim, shape)
		}
		p.dim = int(dim)
	}
	for i := range p.scale {
		s, z := sv.f32(i), zv.i64(i)
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("quantization scale %g, want a positive finite number", s)
		}
		if z < math.MinInt32 || z > math.MaxInt32 {
			return nil, fmt.Errorf("quantization zero point %d is out of range", z)
		}
		p.scale[i], p.zero[i] = s, z
	}
	return p, nil
}

func (d *decoder) operator(op *operator, t table, codes []opcode, ntensors int) error {
	idx, err := t.uint32(opOpcodeIndex, "opcode_index")
	if err != nil {
		return err
	}
	if int64(idx) >= int64(len(codes)) {
		return fmt.Errorf("opcode index %d is out of range (the model has %d operator codes)", idx, len(codes))
	}
	op.code, op.custom = codes[idx].code, codes[idx].custom
	if op.inputs, err = d.indices(t, opInputs, "inputs", ntensors, true); err != nil {
		return err
	}
	if op.outputs, err = d.indices(t, opOutputs, "outputs", ntensors, false); err != nil {
		return err
	}
	if op.optType, err = t.uint8(opOptionsType, "builtin_options_type"); err != nil {
		return err
	}
	o, ok, err := t.sub(opOptions, "builtin_options", "BuiltinOptions")
	if err != nil {
		return err
	}
	if ok && op.optType == optNone {
		return errors.New("builtin_options given with type NONE")
	}
	op.opts, op.hasOpts = o, ok
	return nil
}

// orErr is err, or else an error saying msg.
func orErr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}
