package onnx

import (
	"container/heap"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/limits"
)

// Supported opset range of the default ONNX domain.
const (
	MinOpset = 7
	MaxOpset = 21
)

// Load reads an ONNX model file into an ir graph.
func Load(path string) (*ir.Graph, error) {
	data, err := limits.ReadFile(path, limits.ModelFile, "ONNX file")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		return nil, err // names the path and what is wrong with it
	}
	g, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return g, nil
}

// Decode reads a serialized ONNX ModelProto into an ir graph. The result has
// passed ir.Verify.
func Decode(data []byte) (g *ir.Graph, err error) {
	defer func() {
		if p := recover(); p != nil {
			g, err = nil, fmt.Errorf("malformed model (importer panic: %v)", p)
		}
	}()
	return decode(data)
}

// DecodeTensor reads a serialized TensorProto, such as the input_N.pb and
// output_N.pb files of the ONNX backend tests. Floating-point types (FLOAT,
// FLOAT16, BFLOAT16, DOUBLE) become float32.
func DecodeTensor(data []byte) (t *ir.Tensor, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("malformed tensor (decoder panic: %v)", p)
		}
	}()
	tp, err := decodeTensorProto(data)
	if err != nil {
		return nil, err
	}
	if tp.dtype == tBool {
		return nil, fmt.Errorf("tensor %q: element type BOOL is not supported", tp.name)
	}
	return tp.toTensor()
}

// constant is constant data that enters the graph (as an ir constant named
// name) only when an ir node or a graph output reads it.
type constant struct {
	name     string
	t        *ir.Tensor
	onnxType int32
	shared   bool      // t also belongs to another constant: clone it when materialising
	v        *ir.Value // once materialised
}

// entry is what an ONNX value name is bound to.
type entry struct {
	v   *ir.Value  // a graph value
	c   *constant  // or constant data
	sym *symVec    // or a folded shape computation
	q   *quantized // or a QuantizeLinear result (qdq.go), read only by DequantizeLinear
}

type importer struct {
	g     *ir.Graph
	opset int64
	env   map[string]*entry
	uses  map[string]int // node inputs and graph outputs reading each name
}

func decode(data []byte) (*ir.Graph, error) {
	m, err := decodeModel(data)
	if err != nil {
		return nil, err
	}
	opset, err := defaultOpset(m.opsets)
	if err != nil {
		return nil, err
	}
	if !m.hasGraph {
		return nil, errors.New("model has no graph")
	}
	gp, err := decodeGraph(m.graph)
	if err != nil {
		return nil, err
	}
	name := gp.name
	if name == "" {
		name = "onnx"
	}
	imp := &importer{g: ir.NewGraph(name), opset: opset, env: map[string]*entry{}, uses: map[string]int{}}
	if err := imp.run(gp); err != nil {
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

// defaultOpset returns the opset version imported for the default domain.
func defaultOpset(ops []opsetID) (int64, error) {
	v, found := int64(0), false
	for _, o := range ops {
		if o.domain == "" || o.domain == "ai.onnx" {
			v, found = max(v, o.version), true
		}
	}
	if !found {
		if len(ops) == 0 {
			return 0, errors.New("model has no opset_import")
		}
		return 0, errors.New("model imports no opset of the default ONNX domain")
	}
	if v < MinOpset || v > MaxOpset {
		return 0, fmt.Errorf("opset %d is not supported (mnc reads opsets %d to %d)", v, MinOpset, MaxOpset)
	}
	return v, nil
}

func (imp *importer) run(gp *graphProto) error {
	if gp.sparse > 0 {
		return errors.New("sparse initializers are not supported")
	}
	defined := map[string]bool{}
	for _, tp := range gp.inits {
		if tp.name == "" {
			return errors.New("initializer without a name")
		}
		if defined[tp.name] {
			return fmt.Errorf("initializer %q is defined twice", tp.name)
		}
		defined[tp.name] = true
		t, err := tp.decodeData()
		if err != nil {
			return fmt.Errorf("initializer %q: %w", tp.name, err)
		}
		imp.env[tp.name] = &entry{c: &constant{name: tp.name, t: t, onnxType: tp.dtype}}
	}
	inputSeen := map[string]bool{}
	for _, vi := range gp.inputs {
		if vi.name == "" {
			return errors.New("graph input without a name")
		}
		if inputSeen[vi.name] {
			return fmt.Errorf("graph input %q is listed twice", vi.name)
		}
		inputSeen[vi.name] = true
		if defined[vi.name] {
			continue // an initializer: a constant
		}
		t, err := inputType(vi)
		if err != nil {
			return fmt.Errorf("graph input %q: %w", vi.name, err)
		}
		defined[vi.name] = true
		imp.env[vi.name] = &entry{v: imp.g.AddInput(vi.name, t)}
	}
	order, err := topoOrder(gp.nodes, defined)
	if err != nil {
		return err
	}
	for _, n := range gp.nodes {
		for _, in := range n.inputs {
			if in != "" {
				imp.uses[in]++
			}
		}
	}
	for _, vi := range gp.outputs {
		imp.uses[vi.name]++
	}
	for _, n := range order {
		if err := imp.node(n); err != nil {
			return err
		}
	}
	if len(gp.outputs) == 0 {
		return errors.New("graph has no outputs")
	}
	for _, vi := range gp.outputs {
		if vi.name == "" {
			return errors.New("graph output without a name")
		}
		e := imp.env[vi.name]
		if e == nil {
			return fmt.Errorf("graph output %q is not produced by any node, input or initializer", vi.name)
		}
		v, err := imp.value(vi.name, e)
		if err != nil {
			return fmt.Errorf("graph output %q: %w", vi.name, err)
		}
		imp.g.Outputs = append(imp.g.Outputs, v)
	}
	return nil
}

// inputType converts the declared type of a graph input.
func inputType(vi *valueInfo) (ir.TensorType, error) {
	if !vi.hasType || !vi.isTensor {
		return ir.TensorType{}, errors.New("not declared as a tensor")
	}
	var dt ir.DType
	switch vi.elemType {
	case tFloat:
		dt = ir.Float32
	case tInt64:
		dt = ir.Int64
	case tInt32:
		dt = ir.Int32
	case tInt8:
		dt = ir.Int8
	case tUint8:
		dt = ir.Uint8
	default:
		return ir.TensorType{}, fmt.Errorf("element type %s is not supported (mnc takes FLOAT, INT64, INT32, INT8 or UINT8 inputs)", onnxTypeName(vi.elemType))
	}
	if !vi.hasShape {
		return ir.TensorType{}, errors.New("has no shape (mnc needs at least the rank)")
	}
	s := make(ir.Shape, len(vi.dims))
	for i, d := range vi.dims {
		switch {
		case !d.hasValue || d.value == -1:
			s[i] = -1
		case d.value < 0 || d.value > maxDim:
			return ir.TensorType{}, fmt.Errorf("dimension %d is %d", i, d.value)
		default:
			s[i] = int(d.value)
		}
	}
	if err := checkShape(s); err != nil {
		return ir.TensorType{}, err
	}
	return ir.TensorType{DType: dt, Shape: s}, nil
}

// checkShape rejects absurd static shapes.
func checkShape(s ir.Shape) error {
	if len(s) > maxRank {
		return fmt.Errorf("shape %v has more than %d dimensions", s, maxRank)
	}
	n := 1
	for _, d := range s {
		if d > maxDim {
			return fmt.Errorf("shape %v has a dimension larger than %d", s, maxDim)
		}
		if d > 0 {
			if n > maxElems/d {
				return fmt.Errorf("shape %v holds more than %d elements", s, int64(maxElems))
			}
			n *= d
		}
	}
	return nil
}

func nodeLabel(n *nodeProto) string {
	if n.name != "" {
		return strconv.Quote(n.name)
	}
	out := ""
	if len(n.outputs) > 0 {
		out = n.outputs[0]
	}
	return fmt.Sprintf("#%d, output %q", n.index, out)
}

// topoOrder sorts the nodes so that every input is defined before it is
// read, keeping the file's order where it allows.
func topoOrder(nodes []*nodeProto, defined map[string]bool) ([]*nodeProto, error) {
	producer := map[string]int{}
	for i, n := range nodes {
		if len(n.outputs) == 0 || n.outputs[0] == "" {
			return nil, fmt.Errorf("node %s (%s) has no output", nodeLabel(n), n.opType)
		}
		for _, o := range n.outputs {
			if o == "" {
				continue
			}
			if defined[o] {
				return nil, fmt.Errorf("node %s (%s) output %q redefines a graph input or initializer", nodeLabel(n), n.opType, o)
			}
			if j, ok := producer[o]; ok {
				if j == i {
					return nil, fmt.Errorf("node %s (%s) lists output %q twice", nodeLabel(n), n.opType, o)
				}
				return nil, fmt.Errorf("value %q is produced by node %s and by node %s", o, nodeLabel(nodes[j]), nodeLabel(n))
			}
			producer[o] = i
		}
	}
	indeg := make([]int, len(nodes))
	consumers := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.inputs {
			if in == "" || defined[in] {
				continue
			}
			p, ok := producer[in]
			if !ok {
				return nil, fmt.Errorf("node %s (%s) reads %q, which no node, graph input or initializer defines", nodeLabel(n), n.opType, in)
			}
			indeg[i]++
			consumers[p] = append(consumers[p], i)
		}
	}
	ready := &intHeap{}
	for i := range nodes {
		if indeg[i] == 0 {
			heap.Push(ready, i)
		}
	}
	order := make([]*nodeProto, 0, len(nodes))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		order = append(order, nodes[i])
		for _, c := range consumers[i] {
			indeg[c]--
			if indeg[c] == 0 {
				heap.Push(ready, c)
			}
		}
	}
	if len(order) < len(nodes) {
		for i, d := range indeg {
			if d > 0 {
				return nil, fmt.Errorf("the graph has a cycle: node %s (%s) cannot be ordered after its inputs", nodeLabel(nodes[i]), nodes[i].opType)
			}
		}
	}
	return order, nil
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// value returns the graph value bound to name, materialising constants.
func (imp *importer) value(name string, e *entry) (*ir.Value, error) {
	switch {
	case e.v != nil:
		return e.v, nil
	case e.c != nil:
		return imp.materialize(e.c)
	case e.sym != nil:
		t, ok := e.sym.tensor()
		if !ok {
			return nil, fmt.Errorf("%q is a shape computation that depends on run-time dimensions; "+
				"mnc folds Shape/Gather/Unsqueeze/Concat chains only into Reshape targets", name)
		}
		e.c = &constant{name: name, t: t, onnxType: tInt64}
		return imp.materialize(e.c)
	case e.q != nil:
		return nil, fmt.Errorf("%q is a QuantizeLinear result: mnc reads quantized activations only through a DequantizeLinear of the same parameters (a QDQ pair)", name)
	}
	return nil, fmt.Errorf("%q has no value", name)
}

func (imp *importer) materialize(c *constant) (*ir.Value, error) {
	if c.v != nil {
		return c.v, nil
	}
	if c.onnxType == tBool {
		return nil, fmt.Errorf("constant %q is BOOL, which mnc does not support as an operand", c.name)
	}
	t := c.t
	if c.shared {
		t = t.Clone()
	}
	c.v = imp.g.AddConst(c.name, t)
	return c.v, nil
}
