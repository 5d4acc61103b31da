package onnx

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mncdev/mnc/ir"
)

// opInfo describes how one ONNX op type is imported.
type opInfo struct {
	since    int // first opset defining the op
	importOp func(c *nodeCtx) error
}

// ops maps the supported op types to their import functions, which live in
// files by op family: conv.go (Conv, AveragePool, BatchNormalization),
// matmul.go (Gemm, MatMul), elementwise.go (activations, arithmetic,
// Softmax, Identity, Dropout, and unary, which also serves
// GlobalAveragePool), layout.go (Flatten, Pad, Concat, Constant),
// shape.go (Reshape and the folded shape computations), resize.go
// (Resize) and qdq.go
// (QuantizeLinear, DequantizeLinear).
var ops map[string]opInfo

func init() {
	ops = map[string]opInfo{
		"Conv":               {1, importConv},
		"Relu":               {1, unary(ir.Relu)},
		"Sigmoid":            {1, unary(ir.Sigmoid)},
		"HardSwish":          {14, unary(ir.HardSwish)},
		"HardSigmoid":        {1, importHardSigmoid},
		"Clip":               {1, importClip},
		"Add":                {1, eltwise(ir.Add)},
		"Sub":                {1, eltwise(ir.Sub)},
		"Mul":                {1, eltwise(ir.Mul)},
		"Div":                {1, eltwise(ir.Div)},
		"GlobalAveragePool":  {1, unary(ir.GlobalAveragePool)},
		"AveragePool":        {1, importAveragePool},
		"Flatten":            {1, importFlatten},
		"Reshape":            {5, importReshape},
		"Gemm":               {1, importGemm},
		"MatMul":             {1, importMatMul},
		"Identity":           {1, importIdentity},
		"Dropout":            {1, importDropout},
		"Softmax":            {1, importSoftmax},
		"Pad":                {2, importPad},
		"Concat":             {4, importConcat},
		"Transpose":          {1, importTranspose},
		"BatchNormalization": {1, importBatchNorm},
		"Constant":           {1, importConstant},
		"QuantizeLinear":     {10, importQuantizeLinear},
		"DequantizeLinear":   {10, importDequantizeLinear},
		// Folded only as parts of constant shape computations.
		"Shape":     {1, foldShape},
		"Gather":    {1, foldGather},
		"Unsqueeze": {1, foldUnsqueeze},
		"Squeeze":   {1, foldSqueeze},
		"Cast":      {6, foldCast},
		"Slice":     {1, foldSlice},
		"Resize":    {10, importResize},
	}
}

// notFoldable reports a fold-only op that is not part of a foldable shape
// computation.
type notFoldable struct{ reason string }

func (e *notFoldable) Error() string { return e.reason }

func (imp *importer) node(n *nodeProto) error {
	if n.domain != "" && n.domain != "ai.onnx" {
		return fmt.Errorf("unsupported op %q in domain %q (node %s, opset %d)", n.opType, n.domain, nodeLabel(n), imp.opset)
	}
	info, ok := ops[n.opType]
	if !ok || int64(info.since) > imp.opset {
		return fmt.Errorf("unsupported op %q (node %s, opset %d)", n.opType, nodeLabel(n), imp.opset)
	}
	c := &nodeCtx{imp: imp, n: n, attrs: map[string]*attrProto{}}
	for _, a := range n.attrs {
		if _, dup := c.attrs[a.name]; dup {
			return fmt.Errorf("node %s (%s): attribute %q is given twice", nodeLabel(n), n.opType, a.name)
		}
		if a.refAttr != "" {
			return fmt.Errorf("node %s (%s): attribute %q refers to a function attribute, which is invalid in a main graph", nodeLabel(n), n.opType, a.name)
		}
		c.attrs[a.name] = a
	}
	if err := info.importOp(c); err != nil {
		var nf *notFoldable
		if errors.As(err, &nf) {
			return fmt.Errorf("unsupported op %q (node %s, opset %d): mnc folds %s only inside constant shape computations (%v)",
				n.opType, nodeLabel(n), imp.opset, n.opType, err)
		}
		return fmt.Errorf("node %s (%s, opset %d): %w", nodeLabel(n), n.opType, imp.opset, err)
	}
	return nil
}

// nodeCtx gives an op's import function access to its node's inputs and
// attributes.
type nodeCtx struct {
	imp   *importer
	n     *nodeProto
	attrs map[string]*attrProto
}

func (c *nodeCtx) opset() int64 { return c.imp.opset }

// arity checks the number of inputs (hi < 0: unbounded) and that at most one
// output per op output exists.
func (c *nodeCtx) arity(lo, hi, outs int) error {
	n := len(c.n.inputs)
	for n > 0 && c.n.inputs[n-1] == "" {
		n-- // trailing optional inputs left out
	}
	if n < lo || (hi >= 0 && n > hi) {
		if lo == hi {
			return fmt.Errorf("has %d inputs, want %d", n, lo)
		}
		if hi < 0 {
			return fmt.Errorf("has %d inputs, want at least %d", n, lo)
		}
		return fmt.Errorf("has %d inputs, want %d to %d", n, lo, hi)
	}
	for i := range lo {
		if c.n.inputs[i] == "" {
			return fmt.Errorf("required input %d is empty", i)
		}
	}
	if len(c.n.outputs) > outs {
		return fmt.Errorf("has %d outputs, the op has at most %d", len(c.n.outputs), outs)
	}
	return nil
}

// extraOutputsUnused fails if an output after the first is read.
func (c *nodeCtx) extraOutputsUnused(why string) error {
	for i, o := range c.n.outputs {
		if i > 0 && o != "" && c.imp.uses[o] > 0 {
			return fmt.Errorf("output %d (%q) is used; %s", i, o, why)
		}
	}
	return nil
}

func (c *nodeCtx) has(i int) bool { return i < len(c.n.inputs) && c.n.inputs[i] != "" }

func (c *nodeCtx) entry(i int) (*entry, error) {
	if !c.has(i) {
		return nil, fmt.Errorf("input %d is missing", i)
	}
	e := c.imp.env[c.n.inputs[i]]
	if e == nil {
		return nil, fmt.Errorf("input %d (%q) is not defined", i, c.n.inputs[i])
	}
	return e, nil
}

// in returns input i as a graph value.
func (c *nodeCtx) in(i int) (*ir.Value, error) {
	e, err := c.entry(i)
	if err != nil {
		return nil, err
	}
	return c.imp.value(c.n.inputs[i], e)
}

// plainInputs checks that the node has no attributes, n inputs and one
// output, and returns the inputs as graph values.
func (c *nodeCtx) plainInputs(n int) ([]*ir.Value, error) {
	if err := c.allow(); err != nil {
		return nil, err
	}
	if err := c.arity(n, n, 1); err != nil {
		return nil, err
	}
	ins := make([]*ir.Value, n)
	for i := range ins {
		v, err := c.in(i)
		if err != nil {
			return nil, err
		}
		ins[i] = v
	}
	return ins, nil
}

// konst returns the data of input i, which must be constant.
func (c *nodeCtx) konst(i int, what string) (*ir.Tensor, error) {
	e, err := c.entry(i)
	if err != nil {
		return nil, err
	}
	switch {
	case e.c != nil:
		return e.c.t, nil
	case e.sym != nil:
		if t, ok := e.sym.tensor(); ok {
			return t, nil
		}
	}
	return nil, fmt.Errorf("input %d (%s, %q) must be a constant (an initializer or a Constant node), not computed at run time", i, what, c.n.inputs[i])
}

// konstFloat returns the single value of input i, which must be a numeric
// constant.
func (c *nodeCtx) konstFloat(i int, what string) (float32, error) {
	t, err := c.konst(i, what)
	if err != nil {
		return 0, err
	}
	v, err := scalarFloat(t)
	if err != nil {
		return 0, fmt.Errorf("%s %w", what, err)
	}
	return v, nil
}

// konstInts returns the values of input i, which must be an integer
// constant.
func (c *nodeCtx) konstInts(i int, what string) ([]int64, error) {
	t, err := c.konst(i, what)
	if err != nil {
		return nil, err
	}
	v, err := tensorInts(t)
	if err != nil {
		return nil, fmt.Errorf("%s %w", what, err)
	}
	return v, nil
}

// bind binds the first output to e.
func (c *nodeCtx) bind(e *entry) { c.imp.env[c.n.outputs[0]] = e }

// emit appends an ir node computing the first output.
func (c *nodeCtx) emit(op ir.Op, attrs ir.Attrs, ins ...*ir.Value) error {
	node, err := c.imp.g.AddNode(op, c.n.outputs[0], attrs, ins...)
	if err != nil {
		return err
	}
	if c.n.name != "" {
		node.Name = c.n.name
	}
	out := node.Output()
	if err := checkShape(out.Type.Shape); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	c.bind(&entry{v: out})
	return nil
}

// allow fails on attributes outside names.
func (c *nodeCtx) allow(names ...string) error {
	for _, a := range c.n.attrs {
		if !slices.Contains(names, a.name) {
			return fmt.Errorf("unexpected attribute %q", a.name)
		}
	}
	return nil
}

func (c *nodeCtx) attr(name string, typ int32) (*attrProto, error) {
	a := c.attrs[name]
	if a == nil {
		return nil, nil
	}
	if a.typ != typ {
		return nil, fmt.Errorf("attribute %q has type %s, want %s", name, attrTypeName(a.typ), attrTypeName(typ))
	}
	return a, nil
}

func (c *nodeCtx) int(name string, def int64) (int64, error) {
	a, err := c.attr(name, attrInt)
	if a == nil || err != nil {
		return def, err
	}
	return a.i, nil
}

// smallInt reads an int attribute bounded in magnitude by maxDim.
func (c *nodeCtx) smallInt(name string, def int) (int, error) {
	v, err := c.int(name, int64(def))
	if err != nil {
		return 0, err
	}
	if v < -maxDim || v > maxDim {
		return 0, fmt.Errorf("attribute %q is %d", name, v)
	}
	return int(v), nil
}

// flag reads a 0/1 int attribute.
func (c *nodeCtx) flag(name string) (bool, error) {
	v, err := c.int(name, 0)
	if err != nil {
		return false, err
	}
	if v != 0 && v != 1 {
		return false, fmt.Errorf("attribute %q is %d, want 0 or 1", name, v)
	}
	return v == 1, nil
}

func (c *nodeCtx) float(name string, def float32) (float32, error) {
	a, err := c.attr(name, attrFloat)
	if a == nil || err != nil {
		return def, err
	}
	return a.f, nil
}

func (c *nodeCtx) str(name, def string) (string, error) {
	a, err := c.attr(name, attrString)
	if a == nil || err != nil {
		return def, err
	}
	return string(a.s), nil
}

// ints reads an ints attribute with every value bounded by maxDim in
// magnitude.
func (c *nodeCtx) ints(name string) ([]int, bool, error) {
	a, err := c.attr(name, attrInts)
	if a == nil || err != nil {
		return nil, false, err
	}
	out, err := smallInts(a.ints)
	if err != nil {
		return nil, false, fmt.Errorf("attribute %q: %w", name, err)
	}
	return out, true, nil
}

func smallInts(v []int64) ([]int, error) {
	if len(v) > maxAttrElems {
		return nil, fmt.Errorf("%d values", len(v))
	}
	out := make([]int, len(v))
	for i, x := range v {
		if x < -maxDim || x > maxDim {
			return nil, fmt.Errorf("value %d out of range", x)
		}
		out[i] = int(x)
	}
	return out, nil
}

// pair reads a 2-element ints attribute (strides, dilations) whose values
// must be >= 1, defaulting to def.
func (c *nodeCtx) pair(name string, def int) ([2]int, error) {
	v, ok, err := c.ints(name)
	if err != nil {
		return [2]int{}, err
	}
	if !ok {
		return [2]int{def, def}, nil
	}
	if len(v) != 2 {
		return [2]int{}, fmt.Errorf("attribute %q has %d values, want 2 (2-D only)", name, len(v))
	}
	if v[0] < 1 || v[1] < 1 {
		return [2]int{}, fmt.Errorf("attribute %q is %v, want values >= 1", name, v)
	}
	return [2]int{v[0], v[1]}, nil
}

// tensorInts returns the values of an integer constant.
func tensorInts(t *ir.Tensor) ([]int64, error) {
	switch t.DType {
	case ir.Int64:
		return t.I64, nil
	case ir.Int32:
		out := make([]int64, len(t.I32))
		for i, v := range t.I32 {
			out[i] = int64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("is %v, want an integer tensor", t.DType)
}

// scalarFloat returns the single value of a numeric constant as float32.
func scalarFloat(t *ir.Tensor) (float32, error) {
	if t.Len() != 1 {
		return 0, fmt.Errorf("has shape %v, want a single value", t.Shape)
	}
	switch t.DType {
	case ir.Float32:
		return t.F32[0], nil
	case ir.Int8:
		return float32(t.I8[0]), nil
	case ir.Uint8:
		return float32(t.U8[0]), nil
	case ir.Int32:
		return float32(t.I32[0]), nil
	case ir.Int64:
		return float32(t.I64[0]), nil
	}
	return 0, fmt.Errorf("has invalid type %v", t.DType)
}
