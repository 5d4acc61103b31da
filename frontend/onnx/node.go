package onnx

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/mncdev/mnc/ir"
)

// opInfo describes how one ONNX op type is imported.
type opInfo struct {
	since    int // first opset defining the op
	importOp func(c *nodeCtx) error
}

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
		"BatchNormalization": {1, importBatchNorm},
		"Constant":           {1, importConstant},
		// Folded only as parts of constant shape computations.
		"Shape":     {1, foldShape},
		"Gather":    {1, foldGather},
		"Unsqueeze": {1, foldUnsqueeze},
		"Squeeze":   {1, foldSqueeze},
		"Cast":      {6, foldCast},
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

func unary(op ir.Op) func(c *nodeCtx) error {
	return func(c *nodeCtx) error {
		if err := c.allow(); err != nil {
			return err
		}
		if err := c.arity(1, 1, 1); err != nil {
			return err
		}
		x, err := c.in(0)
		if err != nil {
			return err
		}
		return c.emit(op, nil, x)
	}
}

func eltwise(op ir.Op) func(c *nodeCtx) error {
	return func(c *nodeCtx) error {
		if c.opset() < 7 {
			return fmt.Errorf("legacy broadcasting (before opset 7) is not supported")
		}
		if err := c.allow(); err != nil {
			return err
		}
		if err := c.arity(2, 2, 1); err != nil {
			return err
		}
		a, err := c.in(0)
		if err != nil {
			return err
		}
		b, err := c.in(1)
		if err != nil {
			return err
		}
		return c.emit(op, nil, a, b)
	}
}

func importHardSigmoid(c *nodeCtx) error {
	if err := c.allow("alpha", "beta"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	alpha, err := c.float("alpha", 0.2)
	if err != nil {
		return err
	}
	beta, err := c.float("beta", 0.5)
	if err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	return c.emit(ir.HardSigmoid, &ir.HardSigmoidAttrs{Alpha: alpha, Beta: beta}, x)
}

func importClip(c *nodeCtx) error {
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	var err error
	if c.opset() < 11 {
		if err := c.allow("min", "max"); err != nil {
			return err
		}
		if err := c.arity(1, 1, 1); err != nil {
			return err
		}
		if lo, err = c.float("min", lo); err != nil {
			return err
		}
		if hi, err = c.float("max", hi); err != nil {
			return err
		}
	} else {
		if err := c.allow(); err != nil {
			return err
		}
		if err := c.arity(1, 3, 1); err != nil {
			return err
		}
		for i, dst := range []*float32{&lo, &hi} {
			if !c.has(i + 1) {
				continue
			}
			t, err := c.konst(i+1, []string{"min", "max"}[i])
			if err != nil {
				return err
			}
			if *dst, err = scalarFloat(t); err != nil {
				return fmt.Errorf("%s %w", []string{"min", "max"}[i], err)
			}
		}
	}
	if math.IsNaN(float64(lo)) || math.IsNaN(float64(hi)) {
		return fmt.Errorf("NaN bound (min %g, max %g)", lo, hi)
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	return c.emit(ir.Clip, &ir.ClipAttrs{Min: lo, Max: hi}, x)
}

// autoPads resolves auto_pad for a 2-D window over in (H, W) with kernel k,
// stride s and dilation d. pads holds the explicit pads (top, left, bottom,
// right) and given whether the attribute was present.
func autoPads(mode string, pads [4]int, given bool, in, k, s, d [2]int) ([4]int, error) {
	switch mode {
	case "NOTSET", "":
		return pads, nil
	case "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return pads, fmt.Errorf("unknown auto_pad %q", mode)
	}
	if given && pads != [4]int{} {
		return pads, fmt.Errorf("auto_pad %s and explicit pads %v are both given", mode, pads)
	}
	if mode == "VALID" {
		return [4]int{}, nil
	}
	var out [4]int
	for i := range 2 {
		if in[i] < 0 || k[i] < 0 {
			return pads, fmt.Errorf("auto_pad %s needs known spatial sizes, input has %v and kernel %v", mode, in, k)
		}
		o := (in[i] + s[i] - 1) / s[i]
		total := max(0, (o-1)*s[i]+(k[i]-1)*d[i]+1-in[i])
		begin := total / 2
		if mode == "SAME_LOWER" {
			begin = total - total/2
		}
		out[i], out[i+2] = begin, total-begin
	}
	return out, nil
}

// pads4 reads a 2-D pads attribute.
func (c *nodeCtx) pads4() ([4]int, bool, error) {
	v, ok, err := c.ints("pads")
	if err != nil || !ok {
		return [4]int{}, false, err
	}
	if len(v) != 4 {
		return [4]int{}, false, fmt.Errorf("attribute \"pads\" has %d values, want 4 (2-D only)", len(v))
	}
	for _, p := range v {
		if p < 0 {
			return [4]int{}, false, fmt.Errorf("negative pads %v", v)
		}
	}
	return [4]int{v[0], v[1], v[2], v[3]}, true, nil
}

func importConv(c *nodeCtx) error {
	if err := c.allow("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"); err != nil {
		return err
	}
	if err := c.arity(2, 3, 1); err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	w, err := c.in(1)
	if err != nil {
		return err
	}
	xs, ws := x.Type.Shape, w.Type.Shape
	if len(xs) != 4 || len(ws) != 4 {
		return fmt.Errorf("input %v with weight %v: mnc supports 2-D convolutions (rank-4 input and weight) only", xs, ws)
	}
	k := [2]int{ws[2], ws[3]}
	if ks, ok, err := c.ints("kernel_shape"); err != nil {
		return err
	} else if ok {
		if len(ks) != 2 || ks[0] < 1 || ks[1] < 1 {
			return fmt.Errorf("kernel_shape %v, want 2 positive values", ks)
		}
		for i := range 2 {
			if k[i] >= 0 && k[i] != ks[i] {
				return fmt.Errorf("kernel_shape %v does not match the weight %v", ks, ws)
			}
			k[i] = ks[i]
		}
	}
	strides, err := c.pair("strides", 1)
	if err != nil {
		return err
	}
	dil, err := c.pair("dilations", 1)
	if err != nil {
		return err
	}
	group, err := c.smallInt("group", 1)
	if err != nil {
		return err
	}
	if group < 1 {
		return fmt.Errorf("group %d, want >= 1", group)
	}
	pads, given, err := c.pads4()
	if err != nil {
		return err
	}
	mode, err := c.str("auto_pad", "NOTSET")
	if err != nil {
		return err
	}
	if pads, err = autoPads(mode, pads, given, [2]int{xs[2], xs[3]}, k, strides, dil); err != nil {
		return err
	}
	ins := []*ir.Value{x, w}
	if c.has(2) {
		b, err := c.in(2)
		if err != nil {
			return err
		}
		ins = append(ins, b)
	}
	return c.emit(ir.Conv, &ir.ConvAttrs{Stride: strides, Dilation: dil, Pads: pads, Group: group}, ins...)
}

func importAveragePool(c *nodeCtx) error {
	if err := c.allow("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", "dilations"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	if c.attrs["ceil_mode"] != nil && c.opset() < 10 {
		return fmt.Errorf("attribute ceil_mode needs opset 10")
	}
	if c.attrs["dilations"] != nil {
		if c.opset() < 19 {
			return fmt.Errorf("attribute dilations needs opset 19")
		}
		d, ok, err := c.ints("dilations")
		if err != nil {
			return err
		}
		for _, v := range d {
			if ok && v != 1 {
				return fmt.Errorf("dilated average pooling (dilations %v) is not supported", d)
			}
		}
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	xs := x.Type.Shape
	if len(xs) != 4 {
		return fmt.Errorf("input %v: mnc supports 2-D pooling (rank-4 input) only", xs)
	}
	ks, ok, err := c.ints("kernel_shape")
	if err != nil {
		return err
	}
	if !ok || len(ks) != 2 || ks[0] < 1 || ks[1] < 1 {
		return fmt.Errorf("kernel_shape %v, want 2 positive values", ks)
	}
	k := [2]int{ks[0], ks[1]}
	strides, err := c.pair("strides", 1)
	if err != nil {
		return err
	}
	pads, given, err := c.pads4()
	if err != nil {
		return err
	}
	mode, err := c.str("auto_pad", "NOTSET")
	if err != nil {
		return err
	}
	if pads, err = autoPads(mode, pads, given, [2]int{xs[2], xs[3]}, k, strides, [2]int{1, 1}); err != nil {
		return err
	}
	cip, err := c.flag("count_include_pad")
	if err != nil {
		return err
	}
	ceil, err := c.flag("ceil_mode")
	if err != nil {
		return err
	}
	return c.emit(ir.AveragePool, &ir.PoolAttrs{Kernel: k, Stride: strides, Pads: pads, CountIncludePad: cip, CeilMode: ceil}, x)
}

func importFlatten(c *nodeCtx) error {
	if err := c.allow("axis"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	axis, err := c.smallInt("axis", 1)
	if err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	return c.emit(ir.Flatten, &ir.FlattenAttrs{Axis: axis}, x)
}

func importGemm(c *nodeCtx) error {
	if err := c.allow("alpha", "beta", "transA", "transB"); err != nil {
		return err
	}
	if err := c.arity(2, 3, 1); err != nil {
		return err
	}
	a := &ir.GemmAttrs{}
	var err error
	if a.Alpha, err = c.float("alpha", 1); err != nil {
		return err
	}
	if a.Beta, err = c.float("beta", 1); err != nil {
		return err
	}
	if a.TransA, err = c.flag("transA"); err != nil {
		return err
	}
	if a.TransB, err = c.flag("transB"); err != nil {
		return err
	}
	var ins []*ir.Value
	for i := range 3 {
		if !c.has(i) {
			continue
		}
		v, err := c.in(i)
		if err != nil {
			return err
		}
		ins = append(ins, v)
	}
	return c.emit(ir.Gemm, a, ins...)
}

func importMatMul(c *nodeCtx) error {
	if err := c.allow(); err != nil {
		return err
	}
	if err := c.arity(2, 2, 1); err != nil {
		return err
	}
	a, err := c.in(0)
	if err != nil {
		return err
	}
	b, err := c.in(1)
	if err != nil {
		return err
	}
	if len(a.Type.Shape) < 2 || len(b.Type.Shape) != 2 {
		return fmt.Errorf("%v x %v: mnc supports MatMul of an A of rank >= 2 by a 2-D B only", a.Type.Shape, b.Type.Shape)
	}
	return c.emit(ir.MatMul, nil, a, b)
}

func importIdentity(c *nodeCtx) error {
	if err := c.allow(); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	e, err := c.entry(0)
	if err != nil {
		return err
	}
	switch {
	case e.c != nil:
		// Keep constants constant (a Reshape target may go through an
		// Identity); the data is cloned if it enters the graph twice.
		e.c.shared = true
		c.bind(&entry{c: &constant{name: c.n.outputs[0], t: e.c.t, onnxType: e.c.onnxType, shared: true}})
		return nil
	case e.sym != nil:
		c.bind(&entry{sym: e.sym})
		return nil
	}
	return c.emit(ir.Identity, nil, e.v)
}

func importDropout(c *nodeCtx) error {
	if c.opset() < 12 {
		if err := c.allow("ratio"); err != nil {
			return err
		}
		if err := c.arity(1, 1, 2); err != nil {
			return err
		}
	} else {
		if err := c.allow("seed"); err != nil {
			return err
		}
		if err := c.arity(1, 3, 2); err != nil {
			return err
		}
		if c.has(2) {
			t, err := c.konst(2, "training_mode")
			if err != nil {
				return fmt.Errorf("%w (mnc imports Dropout in inference mode only)", err)
			}
			v, err := scalarFloat(t)
			if err != nil {
				return fmt.Errorf("training_mode %w", err)
			}
			if v != 0 {
				return errors.New("training_mode is true: mnc imports Dropout in inference mode only")
			}
		}
	}
	if err := c.extraOutputsUnused("mnc imports Dropout as an inference-mode identity and has no mask"); err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	return c.emit(ir.Dropout, nil, x)
}

func importSoftmax(c *nodeCtx) error {
	if err := c.allow("axis"); err != nil {
		return err
	}
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	def := -1
	if c.opset() < 13 {
		def = 1
	}
	axis, err := c.smallInt("axis", def)
	if err != nil {
		return err
	}
	x, err := c.in(0)
	if err != nil {
		return err
	}
	s := x.Type.Shape
	if c.opset() < 13 {
		// Before opset 13 Softmax flattens the input to 2-D at axis and
		// normalises over all trailing dimensions. That equals a softmax
		// along one axis only when every other trailing dimension is 1.
		ax, err := ir.NormAxis(axis, len(s))
		if err != nil {
			return err
		}
		along := len(s) - 1
		if ax != along {
			nonUnit := -1
			for i := ax; i < len(s); i++ {
				if s[i] < 0 || (s[i] != 1 && nonUnit >= 0) {
					return fmt.Errorf("axis %d on input %v: before opset 13 Softmax normalises over all dimensions from the axis on, "+
						"which mnc supports only when the axis is the last dimension or the other trailing dimensions are 1 "+
						"(re-export with opset 13 or later)", axis, s)
				}
				if s[i] != 1 {
					nonUnit = i
				}
			}
			if nonUnit >= 0 {
				along = nonUnit
			}
		}
		axis = along
	}
	return c.emit(ir.Softmax, &ir.SoftmaxAttrs{Axis: axis}, x)
}

func importPad(c *nodeCtx) error {
	var pads []int
	var value float32
	var err error
	x, err := c.in(0)
	if err != nil {
		return err
	}
	r := len(x.Type.Shape)
	if c.opset() < 11 {
		if err := c.allow("mode", "pads", "value"); err != nil {
			return err
		}
		if err := c.arity(1, 1, 1); err != nil {
			return err
		}
		var ok bool
		if pads, ok, err = c.ints("pads"); err != nil {
			return err
		} else if !ok {
			return errors.New("attribute pads is missing")
		}
		if value, err = c.float("value", 0); err != nil {
			return err
		}
	} else {
		if err := c.allow("mode"); err != nil {
			return err
		}
		hi := 3
		if c.opset() >= 18 {
			hi = 4
		}
		if err := c.arity(2, hi, 1); err != nil {
			return err
		}
		t, err := c.konst(1, "pads")
		if err != nil {
			return err
		}
		p, err := tensorInts(t)
		if err != nil {
			return fmt.Errorf("pads %w", err)
		}
		if pads, err = smallInts(p); err != nil {
			return fmt.Errorf("pads: %w", err)
		}
		if c.has(2) {
			t, err := c.konst(2, "constant_value")
			if err != nil {
				return err
			}
			if value, err = scalarFloat(t); err != nil {
				return fmt.Errorf("constant_value %w", err)
			}
		}
		if c.has(3) {
			t, err := c.konst(3, "axes")
			if err != nil {
				return err
			}
			a, err := tensorInts(t)
			if err != nil {
				return fmt.Errorf("axes %w", err)
			}
			if len(pads) != 2*len(a) {
				return fmt.Errorf("%d pads for %d axes, want %d", len(pads), len(a), 2*len(a))
			}
			full := make([]int, 2*r)
			seen := make([]bool, r)
			for i, ax := range a {
				if ax < int64(-r) || ax >= int64(r) {
					return fmt.Errorf("axis %d out of range for rank %d", ax, r)
				}
				j := int(ax)
				if j < 0 {
					j += r
				}
				if seen[j] {
					return fmt.Errorf("axis %d is repeated in axes %v", ax, a)
				}
				seen[j] = true
				full[j], full[r+j] = pads[i], pads[len(a)+i]
			}
			pads = full
		}
	}
	mode, err := c.str("mode", "constant")
	if err != nil {
		return err
	}
	switch mode {
	case "constant", "reflect", "edge":
	default:
		return fmt.Errorf("pad mode %q is not supported (constant, reflect, edge)", mode)
	}
	if len(pads) != 2*r {
		return fmt.Errorf("%d pads for an input of rank %d, want %d", len(pads), r, 2*r)
	}
	for i, p := range pads {
		if p < 0 {
			return fmt.Errorf("negative pads %v (cropping) are not supported", pads)
		}
		if d := x.Type.Shape[i%r]; mode == "reflect" && d >= 0 && p > 0 && p >= d {
			return fmt.Errorf("reflect pads %v need dimension %d (%d) larger than its pads", pads, i%r, d)
		}
		if d := x.Type.Shape[i%r]; mode == "edge" && d == 0 && p > 0 {
			return fmt.Errorf("edge pads %v on an empty dimension %d", pads, i%r)
		}
	}
	return c.emit(ir.Pad, &ir.PadAttrs{Pads: pads, Mode: mode, Value: value}, x)
}

func importConcat(c *nodeCtx) error {
	if err := c.allow("axis"); err != nil {
		return err
	}
	if err := c.arity(1, -1, 1); err != nil {
		return err
	}
	if c.attrs["axis"] == nil {
		return errors.New("attribute axis is missing")
	}
	axis, err := c.smallInt("axis", 0)
	if err != nil {
		return err
	}
	if done, err := foldConcat(c, axis); done || err != nil {
		return err
	}
	var ins []*ir.Value
	for i := range c.n.inputs {
		v, err := c.in(i)
		if err != nil {
			return err
		}
		ins = append(ins, v)
	}
	return c.emit(ir.Concat, &ir.ConcatAttrs{Axis: axis}, ins...)
}

func importBatchNorm(c *nodeCtx) error {
	if err := c.allow("epsilon", "momentum", "spatial", "training_mode"); err != nil {
		return err
	}
	if err := c.arity(5, 5, 5); err != nil {
		return err
	}
	eps, err := c.float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	if c.attrs["spatial"] != nil {
		sp, err := c.int("spatial", 1)
		if err != nil {
			return err
		}
		if sp != 1 {
			return fmt.Errorf("spatial=%d (per-activation statistics) is not supported", sp)
		}
	}
	training, err := c.flag("training_mode")
	if err != nil {
		return err
	}
	if training {
		return errors.New("training_mode=1 is not supported: mnc imports inference-mode BatchNormalization only")
	}
	if err := c.extraOutputsUnused("mnc imports inference-mode BatchNormalization, which has only the output Y"); err != nil {
		return err
	}
	ins := make([]*ir.Value, 5)
	for i := range ins {
		if ins[i], err = c.in(i); err != nil {
			return err
		}
	}
	return c.emit(ir.BatchNorm, &ir.BatchNormAttrs{Epsilon: eps}, ins...)
}

func importConstant(c *nodeCtx) error {
	if err := c.arity(0, 0, 1); err != nil {
		return err
	}
	if len(c.n.attrs) != 1 {
		return fmt.Errorf("has %d attributes, want exactly one value attribute", len(c.n.attrs))
	}
	a := c.n.attrs[0]
	k := &constant{name: c.n.outputs[0]}
	var err error
	switch a.name {
	case "value":
		if a.typ != attrTensor {
			return fmt.Errorf("attribute value has type %s, want TENSOR", attrTypeName(a.typ))
		}
		tp, err := decodeTensorProto(a.t)
		if err != nil {
			return err
		}
		if k.t, err = tp.toTensor(); err != nil {
			return err
		}
		k.onnxType = tp.dtype
	case "value_float":
		if _, err = c.attr(a.name, attrFloat); err != nil {
			return err
		}
		k.t, k.onnxType = &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{}, F32: []float32{a.f}}, tFloat
	case "value_floats":
		if _, err = c.attr(a.name, attrFloats); err != nil {
			return err
		}
		k.t, k.onnxType = &ir.Tensor{DType: ir.Float32, Shape: ir.Shape{len(a.floats)}, F32: slices.Clone(a.floats)}, tFloat
	case "value_int":
		if _, err = c.attr(a.name, attrInt); err != nil {
			return err
		}
		k.t, k.onnxType = &ir.Tensor{DType: ir.Int64, Shape: ir.Shape{}, I64: []int64{a.i}}, tInt64
	case "value_ints":
		if _, err = c.attr(a.name, attrInts); err != nil {
			return err
		}
		k.t, k.onnxType = &ir.Tensor{DType: ir.Int64, Shape: ir.Shape{len(a.ints)}, I64: slices.Clone(a.ints)}, tInt64
	default:
		return fmt.Errorf("attribute %q is not supported (value, value_float(s) or value_int(s))", a.name)
	}
	c.bind(&entry{c: k})
	return nil
}
