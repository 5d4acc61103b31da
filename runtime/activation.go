package runtime

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// Activations: LOOKUP (int8 tables: the hard activations of an int8
// model), the clamps RELU, RELU6, CLIP (int8 and float32), HARD_SIGMOID,
// HARD_SWISH (float32: the kernel set's ActivateF32), SIGMOID and SOFTMAX
// (float32, in float64 with kernels.Exp, the same on every CPU). The lookups split over elements.
//
// The float32 kernels follow the float rule of runtime/kernels (FMA32
// chains in a fixed order, activations by fixed float32 operations), so
// every kernel set gives the same bits.

// floatAct returns a fused or standalone activation as a float32 kernel
// applies it.
func floatAct(a activation) (kernels.Activation, error) {
	switch a.kind {
	case mncfb.ActivationKindNONE:
		return kernels.Activation{}, nil
	case mncfb.ActivationKindRELU:
		return kernels.Activation{Kind: kernels.ActReLU}, nil
	case mncfb.ActivationKindRELU6:
		return kernels.Activation{Kind: kernels.ActReLU6}, nil
	case mncfb.ActivationKindCLIP:
		return kernels.Activation{Kind: kernels.ActClip, Lo: a.min, Hi: a.max}, nil
	case mncfb.ActivationKindHARD_SIGMOID:
		return kernels.Activation{Kind: kernels.ActHardSigmoid, Alpha: a.alpha, Beta: a.beta}, nil
	case mncfb.ActivationKindHARD_SWISH:
		return kernels.Activation{Kind: kernels.ActHardSwish}, nil
	}
	return kernels.Activation{}, fmt.Errorf("activation %v has no float32 kernel", a.kind)
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
	fn := p.k.LUT
	if identityTable(&tb) {
		fn = copyLUT
	}
	return &lutStep{t: tb, x: p.argView(op, 0), y: p.outView(op), fn: fn}, nil
}

// identityTable reports whether t maps every int8 to itself (a hard-swish
// whose calibrated input and output share one quantization and every code
// rounds back to itself, as in most of torchvision's randomly initialized
// V3s).
func identityTable(t *kernels.Table) bool {
	for i, v := range t {
		if v != int8(i) {
			return false
		}
	}
	return true
}

// copyLUT is the lookup of an identity table: a copy, the same bytes.
func copyLUT(_ *kernels.Table, x, y []int8) { copy(y, x) }

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

// unaryFStep is a standalone float32 activation (ActivateF32), split over
// elements, or SIGMOID.
type unaryFStep struct {
	act     kernels.Activation
	sigmoid bool
	x, y    view
	fn      func(act kernels.Activation, x, y []float32)
}

func (s *unaryFStep) check([]byte) error { return nil }
func (s *unaryFStep) run(ar []byte)      { s.runRange(ar, 0, s.y.n) }

func (s *unaryFStep) runRange(ar []byte, lo, hi int) {
	x, y := s.x.f32(ar)[lo:hi], s.y.f32(ar)[lo:hi]
	if s.sigmoid {
		for i, v := range x {
			y[i] = float32(1 / (1 + kernels.Exp(-float64(v))))
		}
		return
	}
	s.fn(s.act, x, y)
}
func (s *unaryFStep) extent() int { return s.y.n }
func (s *unaryFStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *unaryFStep) align() int  { return 16 }

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
	s := &unaryFStep{x: p.argView(op, 0), y: p.outView(op), fn: p.k.ActivateF32}
	a := activation{kind: mncfb.ActivationKindRELU}
	switch op.code {
	case mncfb.BuiltinOpRELU6:
		a.kind = mncfb.ActivationKindRELU6
	case mncfb.BuiltinOpHARD_SWISH:
		a.kind = mncfb.ActivationKindHARD_SWISH
	case mncfb.BuiltinOpSIGMOID:
		s.sigmoid = true
		return s, nil
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
		a = op.act
	}
	var err error
	s.act, err = floatAct(a)
	return s, err
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
