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

func (p *planner) floatOp(op *operator) (step, error) {
	if err := actF32(p.arg(op, 0)); err != nil {
		return nil, err
	}
	switch op.code {
	case mncfb.BuiltinOpCONV_2D:
		return p.convF(op)
	case mncfb.BuiltinOpFULLY_CONNECTED:
		return p.fcF(op)
	case mncfb.BuiltinOpADD, mncfb.BuiltinOpMUL:
		return p.eltwiseF(op)
	case mncfb.BuiltinOpSQUEEZE_EXCITE:
		return p.seF(op)
	case mncfb.BuiltinOpGLOBAL_AVERAGE_POOL:
		return p.gapF(op)
	case mncfb.BuiltinOpAVERAGE_POOL_2D:
		return p.avgPoolF(op)
	case mncfb.BuiltinOpRELU, mncfb.BuiltinOpRELU6, mncfb.BuiltinOpCLIP, mncfb.BuiltinOpHARD_SIGMOID,
		mncfb.BuiltinOpHARD_SWISH, mncfb.BuiltinOpSIGMOID:
		return p.unaryF(op)
	case mncfb.BuiltinOpSOFTMAX:
		return p.softmaxF(op)
	}
	return nil, errors.New("has no float32 kernel")
}

// weightsF checks a float32 constant of the given shape.
func weightsF(t *tensor, shape ...int) ([]float32, error) {
	if t == nil || t.dtype != mncfb.DTypeFLOAT32 || !t.isConst() || !sameShape(t.shape, shape) {
		return nil, fmt.Errorf("weights must be a float32 constant %v", shape)
	}
	return float32s(t.data), nil
}

// biasF checks an optional float32 constant [o].
func biasF(t *tensor, o int) ([]float32, error) {
	if t == nil {
		return nil, nil
	}
	return weightsF(t, o)
}

// step is one operator of the execution plan with everything resolved at
// load time: kernel parameters, weight slices, arena positions. run must
// not allocate; check validates the kernel parameters against the views
// of a real arena (NewInterpreter calls it once per interpreter).
type step interface {
	run(ar []byte)
	check(ar []byte) error
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
	bud *budget
}

func (m *Model) buildPlan() error {
	p := &planner{m: m, bud: &budget{left: 16*int64(len(m.data)) + 16<<20}}
	m.steps = make([]step, len(m.ops))
	for i := range m.ops {
		op := &m.ops[i]
		s, err := p.op(op)
		if err != nil {
			return fmt.Errorf("operator %d (%v %q): %w", i, op.code, op.name, err)
		}
		m.steps[i] = s
	}
	return nil
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
func act8(t *tensor) (float64, int32, error) {
	if t.dtype != mncfb.DTypeINT8 || t.isConst() {
		return 0, 0, fmt.Errorf("%v must be an int8 activation, is %v", t, t.dtype)
	}
	if !t.perTensor() {
		return 0, 0, fmt.Errorf("%v needs one scale (per-tensor quantization), has %d", t, len(t.scale))
	}
	return float64(t.scale[0]), t.zeroAt(0), nil
}

func actF32(t *tensor) error {
	if t.dtype != mncfb.DTypeFLOAT32 || t.isConst() {
		return fmt.Errorf("%v must be a float32 activation, is %v", t, t.dtype)
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

// bias32 checks an optional int32 constant [o].
func bias32(t *tensor, o int) ([]int32, error) {
	if t == nil {
		return nil, nil
	}
	if t.dtype != mncfb.DTypeINT32 || !t.isConst() || len(t.shape) != 1 || t.shape[0] != o {
		return nil, fmt.Errorf("bias must be an int32 constant [%d], is %v %v", o, t.dtype, t.shape)
	}
	return int32s(t.data), nil
}

func maxAbs(b []int32) int64 {
	var m int64
	for _, v := range b {
		m = max(m, int64(math.Abs(float64(v))))
	}
	return m
}

// multipliers returns kernels.NewMultiplier(sx * sw[o] / sy) for every o,
// the expression of the quantization scheme.
func multipliers(sx float64, sw []float64, sy float64) ([]kernels.Multiplier, error) {
	ms := make([]kernels.Multiplier, len(sw))
	for o, s := range sw {
		m, err := kernels.NewMultiplier(sx * s / sy)
		if err != nil {
			return nil, fmt.Errorf("channel %d: %w", o, err)
		}
		ms[o] = m
	}
	return ms, nil
}

// clampRange is a fused clamp in the quantized domain of the output (scale
// s, zero z): a bound b becomes z + round_half_away(b/s) within
// [-128, 127]; ReLU is [z, 127], ReLU6 [z, z + round(6/s)].
func clampRange(a activation, s float64, z int32) (kernels.Range, error) {
	switch a.kind {
	case mncfb.ActivationKindNONE:
		return kernels.Full, nil
	case mncfb.ActivationKindRELU:
		return kernels.ClampRange(0, math.Inf(1), s, z), nil
	case mncfb.ActivationKindRELU6:
		return kernels.ClampRange(0, 6, s, z), nil
	case mncfb.ActivationKindCLIP:
		return kernels.ClampRange(float64(a.min), float64(a.max), s, z), nil
	}
	return kernels.Range{}, fmt.Errorf("activation %v cannot be fused into an int8 op (it needs a lookup table)", a.kind)
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// nhwc returns the dimensions of a [1,H,W,C] tensor.
func nhwc(t *tensor) (h, w, c int, err error) {
	if len(t.shape) != 4 || t.shape[0] != 1 {
		return 0, 0, 0, fmt.Errorf("%v has shape %v, want [1,H,W,C]", t, t.shape)
	}
	return t.shape[1], t.shape[2], t.shape[3], nil
}

// outSize is the output size of a window of k taps (dilation d) sliding
// with stride s over n positions padded by a and b.
func outSize(n, k, s, d, a, b int) int {
	span := int64(n) + int64(a) + int64(b) - int64(d)*int64(k-1) - 1
	if span < 0 {
		return 0
	}
	return int(span/int64(s) + 1)
}

const maxPad = 1 << 16

func (p *planner) op(op *operator) (step, error) {
	if len(op.in) == 0 || op.in[0] < 0 {
		return nil, errors.New("has no first input")
	}
	x := p.arg(op, 0)
	float := x.dtype == mncfb.DTypeFLOAT32
	switch op.code {
	case mncfb.BuiltinOpQUANTIZE:
		return p.quantize(op)
	case mncfb.BuiltinOpDEQUANTIZE:
		return p.dequantize(op)
	case mncfb.BuiltinOpTRANSPOSE:
		return p.transpose(op)
	case mncfb.BuiltinOpRESHAPE:
		return p.reshape(op)
	}
	if float {
		return p.floatOp(op)
	}
	switch op.code {
	case mncfb.BuiltinOpCONV_2D:
		return p.conv8(op)
	case mncfb.BuiltinOpFULLY_CONNECTED:
		return p.fc8(op)
	case mncfb.BuiltinOpADD:
		return p.add8(op)
	case mncfb.BuiltinOpMUL:
		return p.mul8(op)
	case mncfb.BuiltinOpSQUEEZE_EXCITE:
		return p.se8(op)
	case mncfb.BuiltinOpGLOBAL_AVERAGE_POOL:
		return p.gap8(op)
	case mncfb.BuiltinOpLOOKUP:
		return p.lookup(op)
	case mncfb.BuiltinOpRELU, mncfb.BuiltinOpRELU6, mncfb.BuiltinOpCLIP:
		return p.clamp8(op)
	}
	return nil, fmt.Errorf("has no int8 kernel")
}
