package codegen

// The graph conversion: ir nodes become tensor and operator definitions
// (tensorDef, opDef), in graph order.

import (
	"errors"
	"fmt"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/mncfb"
)

type tensorDef struct {
	name   string
	dtype  mncfb.DType
	shape  []int
	data   []byte // constant data, nil for activations
	scale  []float32
	zero   []int32
	axis   int
	bytes  int64
	offset int64
	first  int
	last   int
}

type opDef struct {
	code    mncfb.BuiltinOp
	name    string
	in      []int
	out     []int
	mid     []int
	conv    *convDef
	act     *ir.Activation
	gate    *ir.Activation
	perm    []int
	shape   []int // RESHAPE
	axis    *int  // SOFTMAX
	actOpts bool  // standalone CLIP / HARD_SIGMOID: act goes in ActivationOptions
	pool    *ir.PoolAttrs
	fcOpts  bool
	resize  *ir.ResizeAttrs // RESIZE_BILINEAR, a fused ARG_MAX
	opAxis  int             // ARG_MAX, CONCATENATION: the axis, in [0, rank)
}

type convDef struct {
	a      *ir.ConvAttrs
	layout mncfb.WeightLayout
}

// dtypeOf maps ir element types.
func dtypeOf(d ir.DType) (mncfb.DType, error) {
	switch d {
	case ir.Float32:
		return mncfb.DTypeFLOAT32, nil
	case ir.Int8:
		return mncfb.DTypeINT8, nil
	case ir.Int32:
		return mncfb.DTypeINT32, nil
	}
	return 0, fmt.Errorf("element type %v cannot be stored", d)
}

// activation returns the tensor of a non-constant value, adding it.
func (b *builder) activation(v *ir.Value) int {
	if i, ok := b.tensorOf[v]; ok {
		return i
	}
	dt, _ := dtypeOf(v.Type.DType)
	t := &tensorDef{name: v.Name, dtype: dt, shape: b.shapes[v]}
	if q := v.Quant; q != nil {
		t.scale, t.zero = q.Scale, q.ZeroPoint
	}
	b.tensors = append(b.tensors, t)
	b.tensorOf[v] = len(b.tensors) - 1
	return len(b.tensors) - 1
}

// scratch adds an intermediate tensor.
func (b *builder) scratch(name string, dt mncfb.DType, shape []int, q *ir.QuantParams) int {
	t := &tensorDef{name: name, dtype: dt, shape: shape}
	if q != nil {
		t.scale, t.zero = q.Scale, q.ZeroPoint
	}
	b.tensors = append(b.tensors, t)
	return len(b.tensors) - 1
}

// constant adds a constant tensor with the given (packed) data.
func (b *builder) constant(name string, dt mncfb.DType, shape []int, data []byte, q *ir.QuantParams) int {
	t := &tensorDef{name: name, dtype: dt, shape: shape, data: data}
	if q != nil {
		t.scale, t.axis = q.Scale, q.Axis
		allZero := true
		for _, z := range q.ZeroPoint {
			allZero = allZero && z == 0
		}
		switch {
		case allZero && len(q.ZeroPoint) > 0:
			t.zero = []int32{0} // one entry for every channel
		case len(q.ZeroPoint) > 0:
			t.zero = q.ZeroPoint
		}
	}
	b.tensors = append(b.tensors, t)
	return len(b.tensors) - 1
}

func (b *builder) op(code mncfb.BuiltinOp, n *ir.Node, in []int, mid ...int) *opDef {
	o := &opDef{code: code, name: n.Name, in: in, out: []int{b.activation(n.Output())}, mid: mid}
	b.ops = append(b.ops, o)
	return o
}

func (b *builder) in(n *ir.Node, i int) (int, error) {
	v := n.Inputs[i]
	if v.IsConst() {
		return 0, fmt.Errorf("input %d (%s) is a constant; only activations are supported there", i, v)
	}
	t, ok := b.tensorOf[v]
	if !ok {
		return 0, fmt.Errorf("input %s is not computed before", v)
	}
	return t, nil
}

func (b *builder) node(n *ir.Node) error {
	x, err := b.in(n, 0)
	if err != nil {
		return err
	}
	switch n.Op {
	case ir.Quantize:
		b.op(mncfb.BuiltinOpQUANTIZE, n, []int{x})
	case ir.Dequantize:
		b.op(mncfb.BuiltinOpDEQUANTIZE, n, []int{x})
	case ir.Conv:
		return b.conv(n, x)
	case ir.Gemm:
		return b.gemm(n, x)
	case ir.Add, ir.Mul:
		y, err := b.in(n, 1)
		if err != nil {
			return err
		}
		code := mncfb.BuiltinOpADD
		if n.Op == ir.Mul {
			code = mncfb.BuiltinOpMUL
		}
		o := b.op(code, n, []int{x, y})
		if a, ok := n.Attrs.(*ir.EltwiseAttrs); ok && a != nil && a.Act.Kind != ir.ActNone {
			act := a.Act
			o.act = &act
		}
	case ir.SqueezeExcite:
		return b.squeezeExcite(n, x)
	case ir.GlobalAveragePool:
		if n.Layout != ir.NHWC {
			return errors.New("needs the NHWC layout (run the passes pipeline)")
		}
		b.op(mncfb.BuiltinOpGLOBAL_AVERAGE_POOL, n, []int{x})
	case ir.AveragePool:
		if n.Layout != ir.NHWC {
			return errors.New("needs the NHWC layout (run the passes pipeline)")
		}
		o := b.op(mncfb.BuiltinOpAVERAGE_POOL_2D, n, []int{x})
		o.pool = n.Attrs.(*ir.PoolAttrs)
	case ir.Lookup:
		a := n.Attrs.(*ir.LookupAttrs)
		tb := make([]byte, 256)
		for i, v := range a.Table {
			tb[i] = byte(v)
		}
		t := b.constant(n.Name+".table", mncfb.DTypeINT8, []int{256}, tb, nil)
		b.op(mncfb.BuiltinOpLOOKUP, n, []int{x, t})
	case ir.Transpose:
		o := b.op(mncfb.BuiltinOpTRANSPOSE, n, []int{x})
		o.perm = n.Attrs.(*ir.TransposeAttrs).Perm
	case ir.Flatten, ir.Reshape, ir.Identity, ir.Dropout:
		o := b.op(mncfb.BuiltinOpRESHAPE, n, []int{x})
		o.shape = b.shapes[n.Output()]
	case ir.Relu:
		b.op(mncfb.BuiltinOpRELU, n, []int{x})
	case ir.Relu6:
		b.op(mncfb.BuiltinOpRELU6, n, []int{x})
	case ir.Clip:
		a := n.Attrs.(*ir.ClipAttrs)
		o := b.op(mncfb.BuiltinOpCLIP, n, []int{x})
		o.act, o.actOpts = &ir.Activation{Kind: ir.ActClip, Min: a.Min, Max: a.Max}, true
	case ir.HardSigmoid:
		a := n.Attrs.(*ir.HardSigmoidAttrs)
		o := b.op(mncfb.BuiltinOpHARD_SIGMOID, n, []int{x})
		o.act, o.actOpts = &ir.Activation{Kind: ir.ActHardSigmoid, Alpha: a.Alpha, Beta: a.Beta}, true
	case ir.HardSwish:
		b.op(mncfb.BuiltinOpHARD_SWISH, n, []int{x})
	case ir.Sigmoid:
		b.op(mncfb.BuiltinOpSIGMOID, n, []int{x})
	case ir.Softmax:
		ax := n.Attrs.(*ir.SoftmaxAttrs).Axis
		o := b.op(mncfb.BuiltinOpSOFTMAX, n, []int{x})
		o.axis = &ax
	case ir.ResizeBilinear:
		if n.Layout != ir.NHWC {
			return errors.New("needs the NHWC layout (run the passes pipeline)")
		}
		o := b.op(mncfb.BuiltinOpRESIZE_BILINEAR, n, []int{x})
		o.resize = n.Attrs.(*ir.ResizeAttrs)
	case ir.Concat:
		ins := []int{x}
		for i := 1; i < len(n.Inputs); i++ {
			t, err := b.in(n, i)
			if err != nil {
				return err
			}
			ins = append(ins, t)
		}
		ax, err := ir.NormAxis(n.Attrs.(*ir.ConcatAttrs).Axis, len(b.shapes[n.Output()]))
		if err != nil {
			return err
		}
		o := b.op(mncfb.BuiltinOpCONCATENATION, n, ins)
		o.opAxis = ax
	case ir.ArgMax:
		// The indices are stored INT32 whatever the graph's type (an
		// i64 ArgMax of TFLite included): an axis of a model file has
		// fewer than 2^30 elements.
		ax, err := ir.NormAxis(n.Attrs.(*ir.ArgMaxAttrs).Axis, len(b.tensors[x].shape))
		if err != nil {
			return err
		}
		o := b.op(mncfb.BuiltinOpARG_MAX, n, []int{x})
		o.opAxis = ax
		o.resize = n.Attrs.(*ir.ArgMaxAttrs).Resize
		b.tensors[o.out[0]].dtype = mncfb.DTypeINT32
	default:
		return fmt.Errorf("op %v is not supported in model files", n.Op)
	}
	return nil
}

func (b *builder) conv(n *ir.Node, x int) error {
	a := n.Attrs.(*ir.ConvAttrs)
	if n.Layout != ir.NHWC {
		return errors.New("needs the NHWC layout (run the passes pipeline)")
	}
	w := n.Inputs[1]
	if !w.IsConst() || len(w.Type.Shape) != 4 {
		return fmt.Errorf("weights %s must be a 4-D constant", w)
	}
	s := w.Type.Shape
	c := b.shapes[n.Inputs[0]][3]
	g := a.Groups()
	layout := mncfb.WeightLayoutOHWI
	var wt int
	var err error
	if b.opts.depthwiseHWO && w.Const.DType == ir.Int8 && g > 1 && g == c && s[1] == 1 {
		layout = mncfb.WeightLayoutHWO
		q := *w.Quant
		q.Axis = 2
		dt, _ := dtypeOf(w.Const.DType)
		wt = b.constant(w.Name, dt, []int{s[2], s[3], s[0]}, hwo(w.Const), &q)
	} else {
		t, err := stored(w)
		if err != nil {
			return err
		}
		wt, err = b.weight(w, []int{s[0], s[2], s[3], s[1]}, ohwi(t))
		if err != nil {
			return err
		}
	}
	bias, err := b.optionalBias(n, 2)
	if err != nil {
		return err
	}
	o := b.op(mncfb.BuiltinOpCONV_2D, n, []int{x, wt, bias})
	o.conv = &convDef{a: a, layout: layout}
	return nil
}

func (b *builder) gemm(n *ir.Node, x int) error {
	a := n.Attrs.(*ir.GemmAttrs)
	if a.TransA {
		return errors.New("transA is not supported")
	}
	w := n.Inputs[1]
	if !w.IsConst() || len(w.Type.Shape) != 2 {
		return fmt.Errorf("weights %s must be a 2-D constant", w)
	}
	// The canonical Gemm of the passes pipeline (canonicalize): W [N][K]
	// with alpha folded in, beta folded into a bias [N].
	if !a.TransB || a.Alpha != 1 || (a.Beta != 1 && len(n.Inputs) > 2) {
		return errors.New("needs the canonical Gemm of the passes pipeline: weights [N,K] (transB), alpha = beta = 1")
	}
	if len(n.Inputs) > 2 {
		if c := n.Inputs[2]; !c.IsConst() || len(c.Type.Shape) != 1 || c.Type.Shape[0] != w.Type.Shape[0] {
			return fmt.Errorf("bias %s %v must be a constant [N]", c, c.Type.Shape)
		}
	}
	wt, err := b.weight(w, w.Type.Shape, nil)
	if err != nil {
		return err
	}
	bias, err := b.optionalBias(n, 2)
	if err != nil {
		return err
	}
	o := b.op(mncfb.BuiltinOpFULLY_CONNECTED, n, []int{x, wt, bias})
	o.fcOpts = true
	if a.Act.Kind != ir.ActNone {
		act := a.Act
		o.act = &act
	}
	return nil
}

func (b *builder) squeezeExcite(n *ir.Node, x int) error {
	a := n.Attrs.(*ir.SqueezeExciteAttrs)
	if n.Layout != ir.NHWC {
		return errors.New("needs the NHWC layout (run the passes pipeline)")
	}
	w1, w2 := n.Inputs[1], n.Inputs[3]
	sq, c := w1.Type.Shape[0], w2.Type.Shape[0]
	t1, err := b.weight(w1, []int{sq, c}, nil)
	if err != nil {
		return err
	}
	t2, err := b.weight(w2, []int{c, sq}, nil)
	if err != nil {
		return err
	}
	b1, err := b.optionalBias(n, 2)
	if err != nil {
		return err
	}
	b2, err := b.optionalBias(n, 4)
	if err != nil {
		return err
	}
	in := []int{x, t1, b1, t2, b2}
	var mid []int
	if n.Output().Type.DType == ir.Int8 {
		// quant.Quantize stores the gate table as input 5, with the gate's
		// quantization (that of the table's entries) as its Quant.
		if len(n.Inputs) != 6 || !n.Inputs[5].IsConst() || n.Inputs[5].Quant == nil {
			return errors.New("an int8 unit needs its gate table and the gate's quantization (input 5, as quant.Quantize stores them)")
		}
		xq, ex, tbl := n.Inputs[0].Quant, a.Gate.InQuant, n.Inputs[5]
		in = append(in, b.constant(tbl.Name, mncfb.DTypeINT8, []int{256}, bytesOf(tbl.Const), nil))
		mid = []int{
			b.scratch(n.Name+".pooled", mncfb.DTypeINT8, []int{1, c}, xq),
			b.scratch(n.Name+".squeezed", mncfb.DTypeINT8, []int{1, sq}, a.Act.InQuant),
			b.scratch(n.Name+".excited", mncfb.DTypeINT8, []int{1, c}, ex),
			b.scratch(n.Name+".gate", mncfb.DTypeINT8, []int{1, c}, tbl.Quant),
		}
	} else {
		mid = []int{
			b.scratch(n.Name+".pooled", mncfb.DTypeFLOAT32, []int{1, c}, nil),
			b.scratch(n.Name+".squeezed", mncfb.DTypeFLOAT32, []int{1, sq}, nil),
			b.scratch(n.Name+".gate", mncfb.DTypeFLOAT32, []int{1, c}, nil),
		}
	}
	o := b.op(mncfb.BuiltinOpSQUEEZE_EXCITE, n, in, mid...)
	act, gate := a.Act, a.Gate
	o.act, o.gate = &act, &gate
	return nil
}
