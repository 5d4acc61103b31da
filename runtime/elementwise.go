package runtime

import (
	"fmt"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// eltwiseFStep is ADD or MUL of two tensors of one shape, or MUL of a
// [1,H,W,C] tensor by a per-channel [1,1,1,C] gate (c > 0).
type eltwiseFStep struct {
	mul     bool
	c       int // channels of a broadcast gate, 0 for same shapes
	a, b, y view
	act     activation
}

func (s *eltwiseFStep) check([]byte) error { return nil }

func (s *eltwiseFStep) run(ar []byte) {
	a, b, y := s.a.f32(ar), s.b.f32(ar), s.y.f32(ar)
	y = y[:len(a)]
	switch {
	case s.c > 0:
		for i, v := range a {
			y[i] = float32(applyAct(s.act, float64(v)*float64(b[i%s.c])))
		}
	case s.mul:
		b = b[:len(a)]
		for i, v := range a {
			y[i] = float32(applyAct(s.act, float64(v)*float64(b[i])))
		}
	default:
		b = b[:len(a)]
		for i, v := range a {
			y[i] = float32(applyAct(s.act, float64(v)+float64(b[i])))
		}
	}
}

func (p *planner) eltwiseF(op *operator) (step, error) {
	if err := arity(op, 2, 2, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsEltwiseOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	a, b, y := p.arg(op, 0), p.arg(op, 1), &p.m.tensors[op.out[0]]
	for _, t := range []*tensor{a, b, y} {
		if err := actF32(t); err != nil {
			return nil, err
		}
	}
	s := &eltwiseFStep{mul: op.code == mncfb.BuiltinOpMUL, a: p.argView(op, 0), b: p.argView(op, 1), y: p.m.viewOf(op.out[0]), act: op.act}
	if sameShape(a.shape, b.shape) && sameShape(a.shape, y.shape) {
		return s, nil
	}
	if s.mul {
		ai, bi := 0, 1
		_, c, ok := channelShape(a.shape, b.shape)
		if !ok {
			ai, bi = 1, 0
			_, c, ok = channelShape(b.shape, a.shape)
		}
		if ok && sameShape(p.arg(op, ai).shape, y.shape) {
			s.a, s.b, s.c = p.argView(op, ai), p.argView(op, bi), c
			return s, nil
		}
	}
	return nil, fmt.Errorf("shapes %v and %v -> %v are not supported (same shapes, or a per-channel gate for MUL)", a.shape, b.shape, y.shape)
}

type addStep struct {
	p       kernels.AddParams
	a, b, y view
	fn      func(p *kernels.AddParams, a, b, y []int8)
}

func (s *addStep) run(ar []byte) { s.fn(&s.p, s.a.i8(ar), s.b.i8(ar), s.y.i8(ar)) }
func (s *addStep) check(ar []byte) error {
	return s.p.Validate(s.a.i8(ar), s.b.i8(ar), s.y.i8(ar))
}

func (p *planner) add8(op *operator) (step, error) {
	if err := arity(op, 2, 2, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsEltwiseOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	a, b, y := p.arg(op, 0), p.arg(op, 1), &p.m.tensors[op.out[0]]
	sa, za, err := act8(a)
	if err != nil {
		return nil, err
	}
	sb, zb, err := act8(b)
	if err != nil {
		return nil, err
	}
	sy, zy, err := act8(y)
	if err != nil {
		return nil, err
	}
	if !sameShape(a.shape, b.shape) || !sameShape(a.shape, y.shape) {
		return nil, fmt.Errorf("int8 ADD needs operands of one shape, have %v + %v -> %v", a.shape, b.shape, y.shape)
	}
	out, err := clampRange(op.act, sy, zy)
	if err != nil {
		return nil, err
	}
	ap, err := kernels.NewAddParams(sa, sb, sy, za, zb, zy, out)
	if err != nil {
		return nil, err
	}
	return &addStep{p: ap, a: p.argView(op, 0), b: p.argView(op, 1), y: p.m.viewOf(op.out[0]), fn: p.m.kern.add}, nil
}

type chanMulStep struct {
	p       kernels.ChannelMulParams
	x, g, y view
	fn      func(p *kernels.ChannelMulParams, x, g, y []int8, lo, hi int)
}

func (s *chanMulStep) run(ar []byte) { s.runRange(ar, 0, s.extent()) }
func (s *chanMulStep) check(ar []byte) error {
	return s.p.Validate(s.x.i8(ar), s.g.i8(ar), s.y.i8(ar))
}

// channelShape returns HW and C when x [1,H,W,C] (or [1,C]) is scaled per
// channel by g [1,1,1,C] (or [1,C]).
func channelShape(x, g []int) (hw, c int, ok bool) {
	switch {
	case len(x) == 4 && len(g) == 4 && g[0] == x[0] && g[1] == 1 && g[2] == 1 && g[3] == x[3]:
		return x[1] * x[2], x[3], x[0] == 1
	case len(x) == 2 && sameShape(x, g):
		return 1, x[1], x[0] == 1
	}
	return 0, 0, false
}

func (p *planner) mul8(op *operator) (step, error) {
	if err := arity(op, 2, 2, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsEltwiseOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	a, b, y := p.arg(op, 0), p.arg(op, 1), &p.m.tensors[op.out[0]]
	sa, za, err := act8(a)
	if err != nil {
		return nil, err
	}
	sb, zb, err := act8(b)
	if err != nil {
		return nil, err
	}
	sy, zy, err := act8(y)
	if err != nil {
		return nil, err
	}
	xi, gi := 0, 1
	hw, c, ok := channelShape(a.shape, b.shape)
	if !ok {
		xi, gi = 1, 0
		if hw, c, ok = channelShape(b.shape, a.shape); !ok {
			return nil, fmt.Errorf("int8 MUL supports a [1,H,W,C] tensor times a [1,1,1,C] gate, have %v x %v", a.shape, b.shape)
		}
	}
	if !sameShape(p.arg(op, xi).shape, y.shape) {
		return nil, fmt.Errorf("output shape %v, want %v", y.shape, p.arg(op, xi).shape)
	}
	out, err := clampRange(op.act, sy, zy)
	if err != nil {
		return nil, err
	}
	m, err := kernels.NewMultiplier(sa * sb / sy)
	if err != nil {
		return nil, err
	}
	zs := [2]int32{za, zb}
	cp := kernels.ChannelMulParams{N: 1, HW: hw, C: c, XZero: zs[xi], GZero: zs[gi], YZero: zy, Mult: m, Out: out}
	return &chanMulStep{p: cp, x: p.argView(op, xi), g: p.argView(op, gi), y: p.m.viewOf(op.out[0]), fn: p.m.kern.chanMul}, nil
}

// Residual adds and lookup tables are elementwise: split over elements.
// Their work is counted as elemCost MACs per element, about what an
// element costs next to a multiply-accumulate of the GEMM kernels.
const elemCost = 16

func (s *addStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.a.i8(ar)[lo:hi], s.b.i8(ar)[lo:hi], s.y.i8(ar)[lo:hi])
}
func (s *addStep) extent() int { return s.y.n }
func (s *addStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *addStep) align() int  { return 64 }

// A channel multiply (the scale of a squeeze-excite unit) splits over
// positions; a squeeze-excite unit computes its gate first, on the caller
// (prologue), then splits its scale.
func (s *chanMulStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.i8(ar), s.g.i8(ar), s.y.i8(ar), lo, hi)
}
func (s *chanMulStep) extent() int { return s.p.N * s.p.HW }
func (s *chanMulStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *chanMulStep) align() int  { return 8 }
