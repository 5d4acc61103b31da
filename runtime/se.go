package runtime

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// SQUEEZE_EXCITE: the squeeze-and-excitation unit, composed of the kernel
// set's pool, two fully connected layers, the gate's lookup table and the
// channel multiply (kernels.SEParams), with its intermediate results in the
// arena. Its gate is computed on the calling thread (prologue); the scale
// by the gate, over every position, is what threads split.

func (p *planner) squeezeExcite(op *operator) (step, error) {
	if err := wantOptions(op, mncfb.OpOptionsSqueezeExciteOptions); err != nil {
		return nil, err
	}
	if p.float(op) {
		return p.seF(op)
	}
	return p.se8(op)
}

// seStep is the int8 unit.
type seStep struct {
	pool    poolStep
	squeeze splitter
	excite  splitter
	gate    lutStep
	scale   chanMulStep
	n       int64 // MACs
}

func (s *seStep) run(ar []byte) {
	s.prologue(ar)
	s.scale.run(ar)
}

// prologue computes the gate: pool, squeeze, excite, hard sigmoid.
func (s *seStep) prologue(ar []byte) {
	s.pool.run(ar)
	s.squeeze.run(ar)
	s.excite.run(ar)
	s.gate.run(ar)
}

func (s *seStep) check(ar []byte) error {
	for _, c := range []step{&s.pool, s.squeeze, s.excite, &s.scale} {
		if err := c.check(ar); err != nil {
			return err
		}
	}
	return nil
}

func (s *seStep) runRange(ar []byte, lo, hi int) { s.scale.runRange(ar, lo, hi) }
func (s *seStep) extent() int                    { return s.scale.extent() }
func (s *seStep) work() int64                    { return s.scale.work() }
func (s *seStep) align() int                     { return s.scale.align() }
func (s *seStep) macs() int64                    { return s.n }

// prologuer is a splitter with a part that runs on the caller alone, before
// the split.
type prologuer interface{ prologue(ar []byte) }

func (p *planner) se8(op *operator) (step, error) {
	if err := arity(op, 6, 6, 1, 4, 2, 4); err != nil {
		return nil, err
	}
	x, w1, w2, y := p.arg(op, 0), p.arg(op, 1), p.arg(op, 3), p.out(op)
	mids := make([]*tensor, 4)
	for i, t := range op.mid {
		mids[i] = &p.m.tensors[t]
	}
	pooled, squeezed, excited, gate := mids[0], mids[1], mids[2], mids[3]
	q, err := acts8(x, y)
	if err != nil {
		return nil, err
	}
	h, w, c, err := nhwc(x)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(x.shape, y.shape) {
		return nil, fmt.Errorf("output shape %v, want %v", y.shape, x.shape)
	}
	if len(w1.shape) != 2 || w1.shape[1] != c || len(w2.shape) != 2 || w2.shape[0] != c || w2.shape[1] != w1.shape[0] {
		return nil, fmt.Errorf("weights %v and %v do not fit %d channels ([S,%d] and [%d,S])", w1.shape, w2.shape, c, c, c)
	}
	sq := w1.shape[0]
	qm, err := acts8(pooled, squeezed, excited, gate)
	if err != nil {
		return nil, err
	}
	if qm[0] != q[0] {
		return nil, errors.New("the pooled intermediate must keep the input's quantization")
	}
	for _, t := range []struct {
		t *tensor
		n int
	}{{pooled, c}, {squeezed, sq}, {excited, c}, {gate, c}} {
		if len(t.t.shape) != 2 || t.t.shape[0] != 1 || t.t.shape[1] != t.n {
			return nil, fmt.Errorf("intermediate %v has shape %v, want [1,%d]", t.t, t.t.shape, t.n)
		}
	}
	sw1, err := weights8(w1, sq, 0)
	if err != nil {
		return nil, err
	}
	sw2, err := weights8(w2, c, 0)
	if err != nil {
		return nil, err
	}
	b1, err := bias32(p.arg(op, 2), sq, q[0].Scale, sw1)
	if err != nil {
		return nil, err
	}
	b2, err := bias32(p.arg(op, 4), c, qm[1].Scale, sw2)
	if err != nil {
		return nil, err
	}
	tb, err := table(p.arg(op, 5))
	if err != nil {
		return nil, err
	}
	act, err := bounds(op.act)
	if err != nil {
		return nil, err
	}
	sp, err := kernels.NewSEParams(1, h*w, &kernels.SEQuant{X: q[0], Squeeze: qm[1], Excite: qm[2], Gate: qm[3], Y: q[1],
		W1: sw1, W2: sw2, Act: act, Table: tb}, b1, b2)
	if err != nil {
		return nil, err
	}
	if err := p.bud.spend(int64(c+sq)*8, "multipliers"); err != nil {
		return nil, err
	}
	vx, vp, vs, ve, vg := p.argView(op, 0), p.m.viewOf(op.mid[0]), p.m.viewOf(op.mid[1]), p.m.viewOf(op.mid[2]), p.m.viewOf(op.mid[3])
	s := &seStep{
		pool:  poolStep{p: sp.Pool, x: vx, y: vp, fn: p.k.GlobalAveragePool},
		gate:  lutStep{t: sp.Gate, x: ve, y: vg, fn: p.k.LUT},
		scale: chanMulStep{p: sp.Scale, x: vx, g: vg, y: p.outView(op), fn: p.k.ChannelMul},
		n:     int64(w1.n) + int64(w2.n),
	}
	if s.squeeze, err = p.gemm8(vp, int8s(w1.data), b1, vs, sp.Squeeze); err != nil {
		return nil, err
	}
	if s.excite, err = p.gemm8(vs, int8s(w2.data), b2, ve, sp.Excite); err != nil {
		return nil, err
	}
	return s, nil
}

// seFStep is the float32 squeeze-and-excitation unit on the kernel set's
// float32 kernels (GlobalAveragePoolF32, two GemmF32 with their fused
// activations, ChannelMulF32), with its intermediates (pooled, squeezed,
// gate) in the arena: the gate on the calling thread (prologue), the scale
// split over positions.
type seFStep struct {
	hw, c           int
	x, p            view
	squeeze, excite splitter
	scale           eltwiseFStep
	pool            func(n, hw, c int, x, y []float32)
}

func (s *seFStep) check(ar []byte) error {
	for _, c := range []step{s.squeeze, s.excite, &s.scale} {
		if err := c.check(ar); err != nil {
			return err
		}
	}
	return nil
}
func (s *seFStep) macs() int64 { return s.squeeze.work() + s.excite.work() }

func (s *seFStep) run(ar []byte) {
	s.prologue(ar)
	s.scale.run(ar)
}

func (s *seFStep) prologue(ar []byte) {
	s.pool(1, s.hw, s.c, s.x.f32(ar), s.p.f32(ar))
	s.squeeze.run(ar)
	s.excite.run(ar)
}

func (s *seFStep) runRange(ar []byte, lo, hi int) { s.scale.runRange(ar, lo, hi) }
func (s *seFStep) extent() int                    { return s.scale.extent() }
func (s *seFStep) work() int64                    { return s.scale.work() }
func (s *seFStep) align() int                     { return s.scale.align() }

func (p *planner) seF(op *operator) (step, error) {
	if err := arity(op, 4, 5, 1, 3, 2); err != nil {
		return nil, err
	}
	x, w1, w2, y := p.arg(op, 0), p.arg(op, 1), p.arg(op, 3), p.out(op)
	if err := actsF32(x, y); err != nil {
		return nil, err
	}
	h, w, c, err := nhwc(x)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(x.shape, y.shape) || len(w1.shape) != 2 {
		return nil, fmt.Errorf("shapes %v -> %v, squeeze weights %v", x.shape, y.shape, w1.shape)
	}
	sq := w1.shape[0]
	wt1, err := p.weightsF(w1, sq, c)
	if err != nil {
		return nil, err
	}
	wt2, err := p.weightsF(w2, c, sq)
	if err != nil {
		return nil, err
	}
	b1, err := biasF(p.arg(op, 2), sq)
	if err != nil {
		return nil, err
	}
	b2, err := biasF(p.arg(op, 4), c)
	if err != nil {
		return nil, err
	}
	for i, n := range []int{c, sq, c} {
		t := &p.m.tensors[op.mid[i]]
		if err := actsF32(t); err != nil {
			return nil, err
		}
		if len(t.shape) != 2 || t.shape[0] != 1 || t.shape[1] != n {
			return nil, fmt.Errorf("intermediate %v has shape %v, want [1,%d]", t, t.shape, n)
		}
	}
	act, err := floatAct(op.act)
	if err != nil {
		return nil, err
	}
	gate, err := floatAct(op.gate)
	if err != nil {
		return nil, err
	}
	vx, vp, vq, vg := p.argView(op, 0), p.m.viewOf(op.mid[0]), p.m.viewOf(op.mid[1]), p.m.viewOf(op.mid[2])
	s := &seFStep{hw: h * w, c: c, x: vx, p: vp, pool: p.k.GlobalAveragePoolF32,
		scale: eltwiseFStep{mul: true, gate: &kernels.ChannelMulF32Params{N: 1, HW: h * w, C: c}, a: vx, b: vg, y: p.outView(op), k: p.k}}
	if s.squeeze, err = p.gemmF(vp, wt1, b1, vq, kernels.GemmF32Params{M: 1, K: c, N: sq, Act: act}); err != nil {
		return nil, err
	}
	if s.excite, err = p.gemmF(vq, wt2, b2, vg, kernels.GemmF32Params{M: 1, K: sq, N: c, Act: gate}); err != nil {
		return nil, err
	}
	return s, nil
}
