package runtime

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// Activations: LOOKUP (int8 tables: the hard activations of an int8
// model), the clamps RELU, RELU6, CLIP (int8 and float32), HARD_SIGMOID,
// HARD_SWISH, SIGMOID and SOFTMAX (float32). The lookups split over
// elements.
//
// The float32 ops, here and in the other files, compute in float64 and
// round each output element to float32 once, after its activation, as
// ir/interp does. Every product in a sum is of two float32 values, exact in
// float64, so a platform that fuses it with the addition (Go permits that;
// arm64 does it) gets the same sum; a product of values that are not both
// float32 (the hard sigmoid's slope times a float64 sum) is rounded
// explicitly, float64(a*b), which prevents the fusion. So the float32
// results are the same on every CPU.

// applyAct evaluates an activation on one value.
func applyAct(a activation, v float64) float64 {
	switch a.kind {
	case mncfb.ActivationKindRELU:
		return max(v, 0)
	case mncfb.ActivationKindRELU6:
		return min(max(v, 0), 6)
	case mncfb.ActivationKindCLIP:
		return min(max(v, float64(a.min)), float64(a.max))
	case mncfb.ActivationKindHARD_SIGMOID:
		return max(0, min(1, float64(float64(a.alpha)*v)+float64(a.beta)))
	case mncfb.ActivationKindHARD_SWISH:
		return v * min(max(v+3, 0), 6) / 6
	}
	return v
}

// noFloat is the error of an op without a float32 kernel.
func (p *planner) noFloat(op *operator) error {
	if err := actsF32(p.arg(op, 0)); err != nil {
		return err
	}
	return errors.New("has no float32 kernel")
}

// errNoInt8 is the error of an op without an int8 kernel.
var errNoInt8 = errors.New("has no int8 kernel")

type lutStep struct {
	t    kernels.Table
	x, y view
	fn   func(t *kernels.Table, x, y []int8)
}

func (s *lutStep) run(ar []byte)                  { s.fn(&s.t, s.x.i8(ar), s.y.i8(ar)) }
func (s *lutStep) check([]byte) error             { return nil }
func (s *lutStep) runRange(ar []byte, lo, hi int) { s.fn(&s.t, s.x.i8(ar)[lo:hi], s.y.i8(ar)[lo:hi]) }
func (s *lutStep) extent() int                    { return s.y.n }
func (s *lutStep) work() int64                    { return elemCost * int64(s.y.n) }
func (s *lutStep) align() int                     { return 64 }

// table reads a constant int8 [256] lookup table.
func table(t *tensor) (kernels.Table, error) {
	var tb kernels.Table
	if t == nil || t.dtype != mncfb.DTypeINT8 || !t.isConst() || t.n != 256 || len(t.shape) != 1 {
		return tb, errors.New("the table must be an int8 constant [256]")
	}
	copy(tb[:], int8s(t.data))
	return tb, nil
}

func (p *planner) lookup(op *operator) (step, error) {
	if p.float(op) {
		return nil, p.noFloat(op)
	}
	if err := arity(op, 2, 2, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), p.out(op)
	if _, err := acts8(x, y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	tb, err := table(p.arg(op, 1))
	if err != nil {
		return nil, err
	}
	return &lutStep{t: tb, x: p.argView(op, 0), y: p.outView(op), fn: p.k.LUT}, nil
}

// unary plans RELU, RELU6, CLIP, HARD_SIGMOID, HARD_SWISH and SIGMOID: in
// int8 only the clamps, which keep the codes' quantization.
func (p *planner) unary(op *operator) (step, error) {
	if p.float(op) {
		return p.unaryF(op)
	}
	switch op.code {
	case mncfb.BuiltinOpRELU, mncfb.BuiltinOpRELU6, mncfb.BuiltinOpCLIP:
		return p.clamp8(op)
	}
	return nil, errNoInt8
}

type clampStep struct {
	r    kernels.Range
	x, y view
}

func (s *clampStep) run(ar []byte) {
	x, y := s.x.i8(ar), s.y.i8(ar)
	y = y[:len(x)]
	for i, v := range x {
		y[i] = max(s.r.Lo, min(s.r.Hi, v))
	}
}
func (s *clampStep) check([]byte) error { return nil }

func (p *planner) clamp8(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), p.out(op)
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	qx, _ := act8(x)
	b := kernels.ReLU
	switch op.code {
	case mncfb.BuiltinOpRELU6:
		b = kernels.ReLU6
	case mncfb.BuiltinOpCLIP:
		if err := wantOptions(op, mncfb.OpOptionsActivationOptions); err != nil {
			return nil, err
		}
		b = kernels.Bounds{Lo: float64(op.act.min), Hi: float64(op.act.max)}
	}
	return &clampStep{r: b.Range(qx), x: p.argView(op, 0), y: p.outView(op)}, nil
}

type unaryFStep struct {
	act     activation
	sigmoid bool
	x, y    view
}

func (s *unaryFStep) check([]byte) error { return nil }

func (s *unaryFStep) run(ar []byte) {
	x, y := s.x.f32(ar), s.y.f32(ar)
	y = y[:len(x)]
	if s.sigmoid {
		for i, v := range x {
			y[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
		return
	}
	for i, v := range x {
		y[i] = float32(applyAct(s.act, float64(v)))
	}
}

// unaryF32 checks an op of one float32 input and an output of its shape.
func (p *planner) unaryF32(op *operator) (x, y *tensor, err error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, nil, err
	}
	x, y = p.arg(op, 0), p.out(op)
	if err := actsF32(x, y); err != nil {
		return nil, nil, err
	}
	if !slices.Equal(x.shape, y.shape) {
		return nil, nil, fmt.Errorf("output shape %v, want %v", y.shape, x.shape)
	}
	return x, y, nil
}

func (p *planner) unaryF(op *operator) (step, error) {
	if _, _, err := p.unaryF32(op); err != nil {
		return nil, err
	}
	s := &unaryFStep{x: p.argView(op, 0), y: p.outView(op)}
	switch op.code {
	case mncfb.BuiltinOpRELU:
		s.act.kind = mncfb.ActivationKindRELU
	case mncfb.BuiltinOpRELU6:
		s.act.kind = mncfb.ActivationKindRELU6
	case mncfb.BuiltinOpHARD_SWISH:
		s.act.kind = mncfb.ActivationKindHARD_SWISH
	case mncfb.BuiltinOpSIGMOID:
		s.sigmoid = true
	case mncfb.BuiltinOpCLIP, mncfb.BuiltinOpHARD_SIGMOID:
		if err := wantOptions(op, mncfb.OpOptionsActivationOptions); err != nil {
			return nil, err
		}
		want := mncfb.ActivationKindCLIP
		if op.code == mncfb.BuiltinOpHARD_SIGMOID {
			want = mncfb.ActivationKindHARD_SIGMOID
		}
		if op.act.kind != want {
			return nil, fmt.Errorf("options hold activation %v, want %v", op.act.kind, want)
		}
		s.act = op.act
	}
	return s, nil
}

// softmaxStep is kernels.Softmax over one axis.
type softmaxStep struct {
	outer, dim, inner int
	x, y              view
}

func (s *softmaxStep) check([]byte) error { return nil }
func (s *softmaxStep) run(ar []byte) {
	kernels.Softmax(s.x.f32(ar), s.y.f32(ar), s.outer, s.dim, s.inner)
}

func (p *planner) softmax(op *operator) (step, error) {
	if !p.float(op) {
		return nil, errNoInt8
	}
	x, _, err := p.unaryF32(op)
	if err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsSoftmaxOptions); err != nil {
		return nil, err
	}
	r := len(x.shape)
	axis := op.axis
	if axis < 0 {
		axis += r
	}
	if axis < 1 || axis >= r {
		return nil, fmt.Errorf("softmax axis %d of a rank-%d tensor (not the batch axis)", op.axis, r)
	}
	s := &softmaxStep{outer: 1, dim: x.shape[axis], inner: 1, x: p.argView(op, 0), y: p.outView(op)}
	for _, d := range x.shape[:axis] {
		s.outer *= d
	}
	for _, d := range x.shape[axis+1:] {
		s.inner *= d
	}
	return s, nil
}
