package tflite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/limits"
)

// Load reads a TensorFlow Lite file into a verified float ir graph.
func Load(path string) (*ir.Graph, error) {
	data, err := limits.ReadFile(path, limits.ModelFile, "TFLite file")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("load %s: %w", esc.String(path), err)
		}
		return nil, err
	}
	g, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", esc.String(path), err)
	}
	return g, nil
}

// IsTFLite reports whether data starts like a TFLite file: a FlatBuffer
// with the identifier "TFL3".
func IsTFLite(data []byte) bool { return len(data) >= 8 && string(data[4:8]) == fileIdent }

// Decode reads a TFLite model held in data (which the graph's constants do
// not alias) into a float ir graph that has passed ir.Verify and
// ir.CheckBudget.
func Decode(data []byte) (g *ir.Graph, err error) {
	defer func() {
		if p := recover(); p != nil {
			g, err = nil, fmt.Errorf("malformed model (importer panic: %v)", p)
		}
	}()
	return decode(data)
}

func decode(data []byte) (*ir.Graph, error) {
	m, err := decodeModel(data)
	if err != nil {
		return nil, err
	}
	name := m.name
	if name == "" {
		name = "tflite"
	}
	imp := &importer{m: m, g: ir.NewGraph(name), vals: make([]*ir.Value, len(m.tensors))}
	if err := imp.run(); err != nil {
		return nil, err
	}
	if err := ir.Verify(imp.g); err != nil {
		return nil, err
	}
	if err := ir.CheckBudget(imp.g); err != nil {
		return nil, err
	}
	return imp.g, nil
}

// importer builds the graph. Every 4-D activation is held NCHW (the
// TFLite tensor [N,H,W,C] is the ir value [N,C,H,W]); other ranks keep
// their shape.
type importer struct {
	m       *model
	g       *ir.Graph
	vals    []*ir.Value // the ir value of each tensor, once defined
	weights int64       // bytes of constants made so far (limits.Weights)
	// softmaxIn lists the SOFTMAX operators over class scores, which
	// dropFinalSoftmax may leave out.
	softmaxIn []softmaxOf
}

func (imp *importer) run() error {
	m := imp.m
	if len(m.inputs) == 0 {
		return errors.New("the subgraph has no inputs")
	}
	if len(m.outputs) == 0 {
		return errors.New("the subgraph has no outputs")
	}
	for _, i := range m.inputs {
		t := &m.tensors[i]
		if imp.vals[i] != nil {
			return fmt.Errorf("input tensor %d %q is listed twice", i, t.name)
		}
		if t.isConst() {
			return fmt.Errorf("input tensor %d %q has constant data", i, t.name)
		}
		switch {
		case t.dtype == ttFloat32:
		case (t.dtype == ttUint8 || t.dtype == ttInt8) && t.q != nil && len(t.q.scale) == 1:
		default:
			return fmt.Errorf("input tensor %d %q is %s%s; mnc takes FLOAT32 inputs or UINT8/INT8 ones with one scale (read as the real values they stand for)",
				i, t.name, typeName(t.dtype), quantNote(t))
		}
		v := imp.g.AddInput(t.name, ir.TensorType{DType: ir.Float32, Shape: irShape(t.shape)})
		imp.setRange(v, t)
		imp.vals[i] = v
	}
	for k := range m.ops {
		if err := imp.operator(&m.ops[k]); err != nil {
			return fmt.Errorf("operator %d (%s): %w", k, imp.opLabel(&m.ops[k]), err)
		}
	}
	imp.dropFinalSoftmax()
	for _, i := range m.outputs {
		v, err := imp.value(i)
		if err != nil {
			return fmt.Errorf("output tensor %d: %w", i, err)
		}
		imp.g.Outputs = append(imp.g.Outputs, v)
	}
	return nil
}

func quantNote(t *tensor) string {
	switch {
	case t.q == nil:
		return " without quantization parameters"
	case len(t.q.scale) > 1:
		return fmt.Sprintf(" with %d scales", len(t.q.scale))
	}
	return ""
}

func (imp *importer) opLabel(op *operator) string {
	s := opName(op.code)
	if op.code == 32 && op.custom != "" {
		s += " " + fmt.Sprintf("%q", op.custom)
	}
	return s
}

// irShape is the ir shape of a TFLite tensor: NCHW for 4-D ones.
func irShape(s []int) ir.Shape {
	if len(s) == 4 {
		return ir.Shape{s[0], s[3], s[1], s[2]}
	}
	return ir.Shape(append([]int(nil), s...))
}

// irAxis maps an axis of a TFLite tensor of rank r to the ir value's.
func irAxis(a, r int) int {
	if r == 4 {
		return [4]int{0, 2, 3, 1}[a]
	}
	return a
}

// normAxis checks axis a (negative counts from the end) against rank r.
func normAxis(a int32, r int) (int, error) {
	if a < int32(-r) || a >= int32(r) {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", a, r)
	}
	if a < 0 {
		a += int32(r)
	}
	return int(a), nil
}

// value returns the ir value of tensor i: a defined activation, or its
// constant data (dequantized to float32 for quantized types) in ir layout.
func (imp *importer) value(i int) (*ir.Value, error) {
	if v := imp.vals[i]; v != nil {
		return v, nil
	}
	t := &imp.m.tensors[i]
	if !t.isConst() {
		return nil, fmt.Errorf("tensor %d %q is read before any operator writes it", i, t.name)
	}
	data, err := imp.floats(i)
	if err != nil {
		return nil, err
	}
	if len(t.shape) == 4 {
		data = permute(data, t.shape, [4]int{0, 3, 1, 2})
	}
	v := imp.g.AddConst(t.name, ir.NewFloat32(irShape(t.shape), data))
	imp.vals[i] = v
	return v, nil
}

// input returns the value of input k of op, which must be present.
func (imp *importer) input(op *operator, k int) (*ir.Value, error) {
	if k >= len(op.inputs) || op.inputs[k] < 0 {
		return nil, fmt.Errorf("input %d is missing", k)
	}
	return imp.value(op.inputs[k])
}

// spendWeights charges n float32 elements of constant data to the budget.
func (imp *importer) spendWeights(n int) error {
	b := 4 * int64(n)
	if b > limits.Weights-imp.weights {
		return fmt.Errorf("the model's weights need more than %s; the limit is %s", limits.Bytes(limits.Weights), limits.Bytes(limits.Weights))
	}
	imp.weights += b
	return nil
}

// floats returns constant tensor i as float32 in TFLite layout: float32
// and float16 data as they are, quantized integers as (q - zero) * scale
// per quantized dimension.
func (imp *importer) floats(i int) ([]float32, error) {
	t := &imp.m.tensors[i]
	n := t.elems()
	if err := imp.spendWeights(n); err != nil {
		return nil, err
	}
	out := make([]float32, n)
	b := t.data
	switch t.dtype {
	case ttFloat32:
		for j := range out {
			out[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		}
		return out, checkFinite(out, t)
	case ttFloat16:
		for j := range out {
			out[j] = ir.Float16ToFloat32(binary.LittleEndian.Uint16(b[2*j:]))
		}
		return out, checkFinite(out, t)
	case ttUint8, ttInt8, ttInt32:
	default:
		return nil, fmt.Errorf("constant %q of element type %s is not supported", t.name, typeName(t.dtype))
	}
	if t.q == nil {
		return nil, fmt.Errorf("constant %q is %s without quantization parameters", t.name, typeName(t.dtype))
	}
	inner, ch := 1, 1
	if len(t.q.scale) > 1 {
		for _, d := range t.shape[t.q.dim+1:] {
			inner *= d
		}
		ch = t.shape[t.q.dim]
	}
	for j := range out {
		c := (j / inner) % ch
		var q int64
		switch t.dtype {
		case ttUint8:
			q = int64(b[j])
		case ttInt8:
			q = int64(int8(b[j]))
		default:
			q = int64(int32(binary.LittleEndian.Uint32(b[4*j:])))
		}
		out[j] = float32(float64(q-t.q.zero[c]) * float64(t.q.scale[c]))
	}
	return out, nil
}

func checkFinite(x []float32, t *tensor) error {
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("constant %q holds %v", t.name, v)
		}
	}
	return nil
}

// ints returns constant tensor i (INT32 or INT64) as ints, each bounded in
// magnitude by maxElems.
func (imp *importer) ints(i int, what string) ([]int, error) {
	if i < 0 {
		return nil, fmt.Errorf("%s is missing", what)
	}
	t := &imp.m.tensors[i]
	if !t.isConst() {
		return nil, fmt.Errorf("%s %q must be a constant", what, t.name)
	}
	n := t.elems()
	if n > maxRank*2 {
		return nil, fmt.Errorf("%s %q has %d values", what, t.name, n)
	}
	xs, err := imp.intData(i)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make([]int, n)
	for j, x := range xs {
		if x < -maxElems || x > maxElems {
			return nil, fmt.Errorf("%s %q holds %d", what, t.name, x)
		}
		out[j] = int(x)
	}
	return out, nil
}

// permute reorders data of shape s (rank 4) so that output dimension i is
// input dimension perm[i] (kernels.Permute).
func permute(data []float32, s []int, perm [4]int) []float32 {
	p, err := kernels.NewPermutation(s, perm[:])
	if err != nil {
		panic(err) // the callers' perms permute 4 axes and s has rank 4
	}
	out := make([]float32, len(data))
	kernels.Permute(&p, data, out, 0, len(out))
	return out
}

// setRange records on v the float range that quantized tensor t stands
// for: [(qmin - zero) * scale, (qmax - zero) * scale].
func (imp *importer) setRange(v *ir.Value, t *tensor) {
	if t.q == nil || len(t.q.scale) != 1 || v.FileRange != nil {
		return
	}
	var lo, hi int64
	switch t.dtype {
	case ttUint8:
		lo, hi = 0, 255
	case ttInt8:
		lo, hi = -128, 127
	case ttInt16:
		lo, hi = -32768, 32767
	default:
		return
	}
	s, z := float64(t.q.scale[0]), t.q.zero[0]
	v.FileRange = &[2]float32{float32(float64(lo-z) * s), float32(float64(hi-z) * s)}
}
