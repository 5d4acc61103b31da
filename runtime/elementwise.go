package runtime

import (
	"fmt"
	"slices"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// ADD and MUL. In int8, ADD is the residual addition of two tensors of one
// shape (the kernel set's Add, split over elements) and MUL a tensor times
// a per-channel gate (ChannelMul, split over positions); in float32 both
// also take two tensors of one shape.

// elemCost is the work of one element of an elementwise step, in MACs:
// about what an element costs next to a multiply-accumulate of the GEMM
// kernels (the splitting threshold compares it with minParallelMACs).
const elemCost = 16

func (p *planner) add(op *operator) (step, error) { return p.eltwise(op, p.add8) }
func (p *planner) mul(op *operator) (step, error) { return p.eltwise(op, p.mul8) }

func (p *planner) eltwise(op *operator, int8op func(*operator) (step, error)) (step, error) {
	if err := arity(op, 2, 2, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsEltwiseOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	if p.float(op) {
		return p.eltwiseF(op)
	}
	return int8op(op)
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
func (s *addStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.a.i8(ar)[lo:hi], s.b.i8(ar)[lo:hi], s.y.i8(ar)[lo:hi])
}
func (s *addStep) extent() int { return s.y.n }
func (s *addStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *addStep) align() int  { return 64 }

func (p *planner) add8(op *operator) (step, error) {
	a, b, y := p.arg(op, 0), p.arg(op, 1), p.out(op)
	q, err := acts8(a, b, y)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(a.shape, b.shape) || !slices.Equal(a.shape, y.shape) {
		return nil, fmt.Errorf("int8 ADD needs operands of one shape, have %v + %v -> %v", a.shape, b.shape, y.shape)
	}
	out, err := clampRange(op.act, q[2])
	if err != nil {
		return nil, err
	}
	ap, err := kernels.NewAddParams(q[0].Scale, q[1].Scale, q[2].Scale, q[0].Zero, q[1].Zero, q[2].Zero, out)
	if err != nil {
		return nil, err
	}
	return &addStep{p: ap, a: p.argView(op, 0), b: p.argView(op, 1), y: p.outView(op), fn: p.k.Add}, nil
}

// chanMulStep multiplies a tensor by a per-channel gate (the scale of a
// squeeze-excite unit), split over positions.
type chanMulStep struct {
	p       kernels.ChannelMulParams
	x, g, y view
	fn      func(p *kernels.ChannelMulParams, x, g, y []int8, lo, hi int)
}

func (s *chanMulStep) run(ar []byte) { s.runRange(ar, 0, s.extent()) }
func (s *chanMulStep) check(ar []byte) error {
	return s.p.Validate(s.x.i8(ar), s.g.i8(ar), s.y.i8(ar))
}
func (s *chanMulStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.i8(ar), s.g.i8(ar), s.y.i8(ar), lo, hi)
}
func (s *chanMulStep) extent() int { return s.p.N * s.p.HW }
func (s *chanMulStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *chanMulStep) align() int  { return 8 }

// gated returns which input of a MUL is the tensor and which the
// per-channel gate (kernels.ChannelMulShape, either order) and the
// positions and channels; ok is false for other shapes.
func gated(a, b []int) (x, g, hw, c int, ok bool) {
	if hw, c, ok = kernels.ChannelMulShape(a, b); ok {
		return 0, 1, hw, c, true
	}
	hw, c, ok = kernels.ChannelMulShape(b, a)
	return 1, 0, hw, c, ok
}

func (p *planner) mul8(op *operator) (step, error) {
	a, b, y := p.arg(op, 0), p.arg(op, 1), p.out(op)
	q, err := acts8(a, b, y)
	if err != nil {
		return nil, err
	}
	xi, gi, hw, c, ok := gated(a.shape, b.shape)
	if !ok || a.shape[0] != 1 {
		return nil, fmt.Errorf("int8 MUL supports a [1,H,W,C] tensor times a [1,1,1,C] gate, have %v x %v", a.shape, b.shape)
	}
	if x := p.arg(op, xi); !slices.Equal(x.shape, y.shape) {
		return nil, fmt.Errorf("output shape %v, want %v", y.shape, x.shape)
	}
	out, err := clampRange(op.act, q[2])
	if err != nil {
		return nil, err
	}
	cp, err := kernels.NewChannelMulParams(1, hw, c, q[xi], q[gi], q[2], out)
	if err != nil {
		return nil, err
	}
	return &chanMulStep{p: cp, x: p.argView(op, xi), g: p.argView(op, gi), y: p.outView(op), fn: p.k.ChannelMul}, nil
}

// eltwiseFStep is ADD or MUL of two tensors of one shape (the kernel set's
// AddF32, MulF32: split over elements), or MUL of a [1,H,W,C] tensor by a
// per-channel [1,1,1,C] gate (ChannelMulF32: split over positions).
type eltwiseFStep struct {
	mul     bool
	gate    *kernels.ChannelMulF32Params // a broadcast gate; nil for same shapes
	a, b, y view
	act     kernels.Activation
	k       *kernels.Set
}

func (s *eltwiseFStep) check(ar []byte) error {
	if s.gate != nil {
		return s.gate.Validate(s.a.f32(ar), s.b.f32(ar), s.y.f32(ar))
	}
	return nil
}
func (s *eltwiseFStep) run(ar []byte) { s.runRange(ar, 0, s.extent()) }

func (s *eltwiseFStep) runRange(ar []byte, lo, hi int) {
	a, b, y := s.a.f32(ar), s.b.f32(ar), s.y.f32(ar)
	switch {
	case s.gate != nil:
		s.k.ChannelMulF32(s.gate, a, b, y, lo, hi)
	case s.mul:
		s.k.MulF32(s.act, a[lo:hi], b[lo:hi], y[lo:hi])
	default:
		s.k.AddF32(s.act, a[lo:hi], b[lo:hi], y[lo:hi])
	}
}

func (s *eltwiseFStep) extent() int {
	if s.gate != nil {
		return s.gate.N * s.gate.HW
	}
	return s.y.n
}
func (s *eltwiseFStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *eltwiseFStep) align() int {
	if s.gate != nil {
		return 8
	}
	return 16
}

func (p *planner) eltwiseF(op *operator) (step, error) {
	a, b, y := p.arg(op, 0), p.arg(op, 1), p.out(op)
	if err := actsF32(a, b, y); err != nil {
		return nil, err
	}
	act, err := floatAct(op.act)
	if err != nil {
		return nil, err
	}
	s := &eltwiseFStep{mul: op.code == mncfb.BuiltinOpMUL, a: p.argView(op, 0), b: p.argView(op, 1), y: p.outView(op), act: act, k: p.k}
	if slices.Equal(a.shape, b.shape) && slices.Equal(a.shape, y.shape) {
		return s, nil
	}
	if s.mul {
		if xi, gi, hw, c, ok := gated(a.shape, b.shape); ok && a.shape[0] == 1 && slices.Equal(p.arg(op, xi).shape, y.shape) {
			s.a, s.b, s.gate = p.argView(op, xi), p.argView(op, gi), &kernels.ChannelMulF32Params{N: 1, HW: hw, C: c, Act: act}
			return s, nil
		}
	}
	return nil, fmt.Errorf("shapes %v and %v -> %v are not supported (same shapes, or a per-channel gate for MUL)", a.shape, b.shape, y.shape)
}
