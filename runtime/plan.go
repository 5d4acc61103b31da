package runtime

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// The execution plan. Each operator family has a file of its own holding
// its step types (both precisions), their planning and their thread
// splitting: layout.go (QUANTIZE, DEQUANTIZE, TRANSPOSE, RESHAPE), conv.go
// (CONV_2D), fc.go (FULLY_CONNECTED), elementwise.go (ADD, MUL),
// activation.go (LOOKUP, the clamps, the hard activations, SIGMOID,
// SOFTMAX), pool.go (GLOBAL_AVERAGE_POOL, AVERAGE_POOL_2D), se.go
// (SQUEEZE_EXCITE) and segment.go (RESIZE_BILINEAR, CONCATENATION,
// ARG_MAX). This file holds what they share: the step interface,
// arena views, the table of operators and the operand checks.

// step is one operator of the execution plan with everything resolved at
// load time: kernel parameters, weight slices, arena positions. run must
// not allocate; check validates the kernel parameters against the views
// of a real arena (NewInterpreter calls it once per interpreter).
type step interface {
	run(ar []byte)
	check(ar []byte) error
}

// macCounter is a step that multiplies and accumulates: macs is its count
// per item, as Info reports it.
type macCounter interface{ macs() int64 }

// opKind is an operator this runtime executes: the newest version of it
// that it reads and the planner of its steps.
type opKind struct {
	version int
	plan    func(p *planner, op *operator) (step, error)
}

// ops lists the operators this runtime executes.
var ops = map[mncfb.BuiltinOp]opKind{
	mncfb.BuiltinOpQUANTIZE:            {1, (*planner).quantize},
	mncfb.BuiltinOpDEQUANTIZE:          {1, (*planner).dequantize},
	mncfb.BuiltinOpTRANSPOSE:           {1, (*planner).transpose},
	mncfb.BuiltinOpRESHAPE:             {1, (*planner).reshape},
	mncfb.BuiltinOpCONV_2D:             {1, (*planner).conv},
	mncfb.BuiltinOpFULLY_CONNECTED:     {1, (*planner).fc},
	mncfb.BuiltinOpADD:                 {1, (*planner).add},
	mncfb.BuiltinOpMUL:                 {1, (*planner).mul},
	mncfb.BuiltinOpLOOKUP:              {1, (*planner).lookup},
	mncfb.BuiltinOpRELU:                {1, (*planner).unary},
	mncfb.BuiltinOpRELU6:               {1, (*planner).unary},
	mncfb.BuiltinOpCLIP:                {1, (*planner).unary},
	mncfb.BuiltinOpHARD_SIGMOID:        {1, (*planner).unary},
	mncfb.BuiltinOpHARD_SWISH:          {1, (*planner).unary},
	mncfb.BuiltinOpSIGMOID:             {1, (*planner).unary},
	mncfb.BuiltinOpSOFTMAX:             {1, (*planner).softmax},
	mncfb.BuiltinOpGLOBAL_AVERAGE_POOL: {1, (*planner).globalPool},
	mncfb.BuiltinOpAVERAGE_POOL_2D:     {1, (*planner).avgPool},
	mncfb.BuiltinOpSQUEEZE_EXCITE:      {1, (*planner).squeezeExcite},
	mncfb.BuiltinOpRESIZE_BILINEAR:     {1, (*planner).resize},
	mncfb.BuiltinOpARG_MAX:             {1, (*planner).argMax},
	mncfb.BuiltinOpCONCATENATION:       {1, (*planner).concat},
}

// view is a tensor's place in the arena: n elements from byte off.
type view struct{ off, n int }

func (v view) i8(ar []byte) []int8 {
	b := ar[v.off : v.off+v.n]
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), v.n)
}

func (v view) f32(ar []byte) []float32 {
	b := ar[v.off : v.off+4*v.n]
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), v.n)
}

func (v view) bytes(ar []byte, size int) []byte { return ar[v.off : v.off+size*v.n] }

// planner builds the steps of one model.
type planner struct {
	m   *Model
	k   *kernels.Set
	bud *budget
}

func (m *Model) buildPlan() error {
	p := &planner{m: m, k: m.kern, bud: &budget{left: 16*int64(len(m.data)) + 16<<20}}
	m.steps = make([]step, len(m.ops))
	for i := range m.ops {
		op := &m.ops[i]
		if err := int32Tensors(m, op); err != nil {
			return fmt.Errorf("operator %d (%v %q): %w", i, op.code, op.name, err)
		}
		s, err := p.op(op)
		if err != nil {
			return fmt.Errorf("operator %d (%v %q): %w", i, op.code, op.name, err)
		}
		m.steps[i] = s
	}
	return nil
}

// int32Tensors checks that int32 activations are ARG_MAX's outputs, read
// by no operator (the graph output), whatever each planner checks.
func int32Tensors(m *Model, op *operator) error {
	is32 := func(x int) bool {
		return x >= 0 && !m.tensors[x].isConst() && m.tensors[x].dtype == mncfb.DTypeINT32
	}
	for _, list := range [][]int{op.in, op.mid} {
		for _, x := range list {
			if is32(x) {
				return fmt.Errorf("reads the int32 activation %v; int32 activations are ARG_MAX's outputs, read by no operator", &m.tensors[x])
			}
		}
	}
	for _, x := range op.out {
		if is32(x) && op.code != mncfb.BuiltinOpARG_MAX {
			return fmt.Errorf("writes the int32 activation %v; only ARG_MAX writes int32 activations", &m.tensors[x])
		}
	}
	return nil
}

func (p *planner) op(op *operator) (step, error) {
	if len(op.in) == 0 || op.in[0] < 0 {
		return nil, errors.New("has no first input")
	}
	k, ok := ops[op.code]
	if !ok {
		return nil, fmt.Errorf("unknown operator code %d", op.code)
	}
	return k.plan(p, op)
}

func (m *Model) viewOf(x int) view { return view{off: int(m.tensors[x].offset), n: m.tensors[x].n} }

// arg returns input k, or nil when it is absent.
func (p *planner) arg(op *operator, k int) *tensor {
	if k >= len(op.in) || op.in[k] < 0 {
		return nil
	}
	return &p.m.tensors[op.in[k]]
}

func (p *planner) argView(op *operator, k int) view { return p.m.viewOf(op.in[k]) }

func (p *planner) out(op *operator) *tensor { return &p.m.tensors[op.out[0]] }

func (p *planner) outView(op *operator) view { return p.m.viewOf(op.out[0]) }

// float reports whether op runs in float32 (its first input is float32).
func (p *planner) float(op *operator) bool { return p.arg(op, 0).dtype == mncfb.DTypeFLOAT32 }

// arity checks the numbers of inputs (min..max), outputs and
// intermediates; inputs below minIn must be present except the optional
// ones listed (-1 in the file), those from minIn on may be absent.
func arity(op *operator, minIn, maxIn, nOut, nMid int, optional ...int) error {
	if len(op.in) < minIn || len(op.in) > maxIn || len(op.out) != nOut || len(op.mid) != nMid {
		return fmt.Errorf("has %d inputs, %d outputs and %d intermediates; want %d to %d, %d and %d",
			len(op.in), len(op.out), len(op.mid), minIn, maxIn, nOut, nMid)
	}
	for k := range minIn {
		if op.in[k] < 0 && !slices.Contains(optional, k) {
			return fmt.Errorf("required input %d is absent", k)
		}
	}
	return nil
}

func wantOptions(op *operator, ts ...mncfb.OpOptions) error {
	for _, t := range ts {
		if op.optType == t {
			return nil
		}
	}
	if op.optType == mncfb.OpOptionsNONE && len(ts) > 0 && ts[len(ts)-1] == mncfb.OpOptionsNONE {
		return nil
	}
	return fmt.Errorf("has options %v, want %v", op.optType, ts)
}

// act8 checks an int8 activation tensor with per-tensor quantization.
func act8(t *tensor) (kernels.Quant, error) {
	if t.dtype != mncfb.DTypeINT8 || t.isConst() {
		return kernels.Quant{}, fmt.Errorf("%v must be an int8 activation, is %v", t, t.dtype)
	}
	if !t.perTensor() {
		return kernels.Quant{}, fmt.Errorf("%v needs one scale (per-tensor quantization), has %d", t, len(t.scale))
	}
	return kernels.Quant{Scale: float64(t.scale[0]), Zero: t.zeroAt(0)}, nil
}

// acts8 checks int8 activation tensors (act8) and returns their
// quantization, in order.
func acts8(ts ...*tensor) ([]kernels.Quant, error) {
	qs := make([]kernels.Quant, len(ts))
	for i, t := range ts {
		q, err := act8(t)
		if err != nil {
			return nil, err
		}
		qs[i] = q
	}
	return qs, nil
}

// actsF32 checks float32 activation tensors.
func actsF32(ts ...*tensor) error {
	for _, t := range ts {
		if t.dtype != mncfb.DTypeFLOAT32 || t.isConst() {
			return fmt.Errorf("%v must be a float32 activation, is %v", t, t.dtype)
		}
	}
	return nil
}

// weights8 checks an int8 constant with o per-channel scales on axis and
// zero points 0, and returns the scales.
func weights8(t *tensor, o, axis int) ([]float64, error) {
	if t == nil || t.dtype != mncfb.DTypeINT8 || !t.isConst() {
		return nil, errors.New("weights must be an int8 constant")
	}
	if len(t.scale) != o || (o > 1 && t.axis != axis) {
		return nil, fmt.Errorf("%v needs %d scales on axis %d, has %d on axis %d", t, o, axis, len(t.scale), t.axis)
	}
	s := make([]float64, o)
	for i := range o {
		if t.zeroAt(i) != 0 {
			return nil, fmt.Errorf("%v has a nonzero zero point (weights are symmetric)", t)
		}
		s[i] = float64(t.scale[i])
	}
	return s, nil
}

// bias32 checks an optional int32 constant [o], the bias of a layer whose
// input has scale sx and whose weights have the scales sw (one per output
// channel, or one). The scheme fixes a bias's quantization (scale
// sx*sw[i], zero point 0), so the compiler stores none; a file that does
// store one must state exactly that (within float32 rounding), or the
// file says something the runtime would not do.
func bias32(t *tensor, o int, sx float64, sw []float64) ([]int32, error) {
	if t == nil {
		return nil, nil
	}
	if t.dtype != mncfb.DTypeINT32 || !t.isConst() || len(t.shape) != 1 || t.shape[0] != o {
		return nil, fmt.Errorf("bias must be an int32 constant [%d], is %v %v", o, t.dtype, t.shape)
	}
	if t.scale != nil {
		if len(t.scale) != 1 && len(t.scale) != o {
			return nil, fmt.Errorf("bias %v has %d scales for %d channels", t, len(t.scale), o)
		}
		for i := range o {
			want := sx * sw[min(i, len(sw)-1)]
			got := float64(t.scale[min(i, len(t.scale)-1)])
			// float32 rounding of the product: half an ulp, and as
			// much again if the writer rounded both factors first.
			if math.Abs(got-want) > want*0x1p-23 {
				return nil, fmt.Errorf("bias %v: channel %d has scale %g, but the layer's input and weight scales make it %g (s_x*s_w)", t, i, got, want)
			}
		}
		for i := range t.zero {
			if t.zero[i] != 0 {
				return nil, fmt.Errorf("bias %v has the nonzero zero point %d (a bias's is 0)", t, t.zero[i])
			}
		}
	}
	return int32s(t.data), nil
}

// weightsF checks the weights of a float32 layer, a constant of the given
// shape: float32, or (format 1.6) int8 codes with one scale per output
// channel (axis 0) and zero points 0, which it returns dequantized, each
// value float32(q)*s in one float32 multiplication (the floats the
// compiler computed; quant's storedWeights), charged to the load budget.
func (p *planner) weightsF(t *tensor, shape ...int) ([]float32, error) {
	if t == nil || !t.isConst() || !slices.Equal(t.shape, shape) {
		return nil, fmt.Errorf("weights must be a float32 constant %v", shape)
	}
	switch t.dtype {
	case mncfb.DTypeFLOAT32:
		return float32s(t.data), nil
	case mncfb.DTypeINT8:
		s, err := weights8(t, shape[0], 0)
		if err != nil {
			return nil, err
		}
		codes := int8s(t.data)
		if err := p.bud.spend(4*int64(len(codes)), "dequantized weights"); err != nil {
			return nil, err
		}
		per := len(codes) / shape[0]
		f := make([]float32, len(codes))
		for i, q := range codes {
			f[i] = float32(q) * float32(s[i/per])
		}
		return f, nil
	}
	return nil, fmt.Errorf("weights must be a float32 constant %v (or int8 codes with per-channel scales), are %v", shape, t.dtype)
}

// biasF checks an optional float32 constant [o].
func biasF(t *tensor, o int) ([]float32, error) {
	if t == nil {
		return nil, nil
	}
	if t.dtype != mncfb.DTypeFLOAT32 || !t.isConst() || !slices.Equal(t.shape, []int{o}) {
		return nil, fmt.Errorf("bias must be a float32 constant [%d], is %v %v", o, t.dtype, t.shape)
	}
	return float32s(t.data), nil
}

// bounds returns a fused activation that int8 ops apply as a clamp.
func bounds(a activation) (kernels.Bounds, error) {
	switch a.kind {
	case mncfb.ActivationKindNONE:
		return kernels.NoClamp, nil
	case mncfb.ActivationKindRELU:
		return kernels.ReLU, nil
	case mncfb.ActivationKindRELU6:
		return kernels.ReLU6, nil
	case mncfb.ActivationKindCLIP:
		return kernels.Bounds{Lo: float64(a.min), Hi: float64(a.max)}, nil
	}
	return kernels.Bounds{}, fmt.Errorf("activation %v cannot be fused into an int8 op (it needs a lookup table)", a.kind)
}

// clampRange is the fused activation a in the codes of an output
// quantized as y.
func clampRange(a activation, y kernels.Quant) (kernels.Range, error) {
	b, err := bounds(a)
	if err != nil {
		return kernels.Range{}, err
	}
	return b.Range(y), nil
}

// nhwc returns the dimensions of a [1,H,W,C] tensor.
func nhwc(t *tensor) (h, w, c int, err error) {
	if len(t.shape) != 4 || t.shape[0] != 1 {
		return 0, 0, 0, fmt.Errorf("%v has shape %v, want [1,H,W,C]", t, t.shape)
	}
	return t.shape[1], t.shape[2], t.shape[3], nil
}

// maxPad bounds strides, dilations, pads and kernel sizes.
const maxPad = 1 << 16
