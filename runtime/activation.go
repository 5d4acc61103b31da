package runtime

import (
	"errors"
	"fmt"
	"math"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// The float path: plain Go kernels for float32 models (NHWC activations,
// OHWI weights), so that a float blob can be compared with the int8 one on
// the board. Like ir/interp they store float32 and compute in float64:
// every sum is accumulated in float64 and each output element is rounded
// to float32 once, after its activation.

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
		return max(0, min(1, float64(a.alpha)*v+float64(a.beta)))
	case mncfb.ActivationKindHARD_SWISH:
		return v * min(max(v+3, 0), 6) / 6
	}
	return v
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

func (p *planner) unaryF(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := actF32(y); err != nil {
		return nil, err
	}
	if !sameShape(x.shape, y.shape) {
		return nil, fmt.Errorf("output shape %v, want %v", y.shape, x.shape)
	}
	s := &unaryFStep{x: p.argView(op, 0), y: p.m.viewOf(op.out[0])}
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

type softmaxFStep struct {
	outer, dim, inner int
	x, y              view
}

func (s *softmaxFStep) check([]byte) error { return nil }

func (s *softmaxFStep) run(ar []byte) {
	x, y := s.x.f32(ar), s.y.f32(ar)
	for o := range s.outer {
		for i := range s.inner {
			base := o*s.dim*s.inner + i
			m := math.Inf(-1)
			for k := range s.dim {
				m = math.Max(m, float64(x[base+k*s.inner]))
			}
			var sum float64
			for k := range s.dim {
				sum += math.Exp(float64(x[base+k*s.inner]) - m)
			}
			for k := range s.dim {
				y[base+k*s.inner] = float32(math.Exp(float64(x[base+k*s.inner])-m) / sum)
			}
		}
	}
}

func (p *planner) softmaxF(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsSoftmaxOptions); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := actF32(y); err != nil {
		return nil, err
	}
	if !sameShape(x.shape, y.shape) {
		return nil, fmt.Errorf("output shape %v, want %v", y.shape, x.shape)
	}
	r := len(x.shape)
	axis := op.axis
	if axis < 0 {
		axis += r
	}
	if axis < 1 || axis >= r {
		return nil, fmt.Errorf("softmax axis %d of a rank-%d tensor (not the batch axis)", op.axis, r)
	}
	s := &softmaxFStep{outer: 1, dim: x.shape[axis], inner: 1, x: p.argView(op, 0), y: p.m.viewOf(op.out[0])}
	for _, d := range x.shape[:axis] {
		s.outer *= d
	}
	for _, d := range x.shape[axis+1:] {
		s.inner *= d
	}
	return s, nil
}

type lutStep struct {
	t    kernels.Table
	x, y view
	fn   func(t *kernels.Table, x, y []int8)
}

func (s *lutStep) run(ar []byte)      { s.fn(&s.t, s.x.i8(ar), s.y.i8(ar)) }
func (s *lutStep) check([]byte) error { return nil }

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
	if err := arity(op, 2, 2, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if _, _, err := act8(x); err != nil {
		return nil, err
	}
	if _, _, err := act8(y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	tb, err := table(p.arg(op, 1))
	if err != nil {
		return nil, err
	}
	return &lutStep{t: tb, x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), fn: p.m.kern.lut}, nil
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
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	sx, zx, _ := act8(x)
	a := activation{kind: mncfb.ActivationKindRELU}
	switch op.code {
	case mncfb.BuiltinOpRELU6:
		a.kind = mncfb.ActivationKindRELU6
	case mncfb.BuiltinOpCLIP:
		if err := wantOptions(op, mncfb.OpOptionsActivationOptions); err != nil {
			return nil, err
		}
		a = activation{kind: mncfb.ActivationKindCLIP, min: op.act.min, max: op.act.max}
	}
	r, err := clampRange(a, sx, zx)
	if err != nil {
		return nil, err
	}
	return &clampStep{r: r, x: p.argView(op, 0), y: p.m.viewOf(op.out[0])}, nil
}

func (s *lutStep) runRange(ar []byte, lo, hi int) { s.fn(&s.t, s.x.i8(ar)[lo:hi], s.y.i8(ar)[lo:hi]) }
func (s *lutStep) extent() int                    { return s.y.n }
func (s *lutStep) work() int64                    { return elemCost * int64(s.y.n) }
func (s *lutStep) align() int                     { return 64 }
