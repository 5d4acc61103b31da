package runtime

import (
	"errors"
	"fmt"
	"math"

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

type convFStep struct {
	h, w, c, oh, ow, o, kh, kw int
	sh, sw, dh, dw, pt, pl     int
	cpg, opg                   int
	x, y                       view
	wt, b                      []float32
	act                        activation
}

func (s *convFStep) check([]byte) error { return nil }

func (s *convFStep) run(ar []byte) {
	x, y := s.x.f32(ar), s.y.f32(ar)
	cpg := s.cpg
	for oy := range s.oh {
		for ox := range s.ow {
			yo := y[(oy*s.ow+ox)*s.o:][:s.o]
			for o := range s.o {
				c0 := (o / s.opg) * cpg
				wo := s.wt[o*s.kh*s.kw*cpg:][:s.kh*s.kw*cpg]
				var acc float64
				for kh := range s.kh {
					iy := oy*s.sh - s.pt + kh*s.dh
					if iy < 0 || iy >= s.h {
						continue
					}
					for kw := range s.kw {
						ix := ox*s.sw - s.pl + kw*s.dw
						if ix < 0 || ix >= s.w {
							continue
						}
						xs := x[(iy*s.w+ix)*s.c+c0:][:cpg]
						ws := wo[(kh*s.kw+kw)*cpg:][:cpg]
						for ci, v := range xs {
							acc += float64(v) * float64(ws[ci])
						}
					}
				}
				if s.b != nil {
					acc += float64(s.b[o])
				}
				yo[o] = float32(applyAct(s.act, acc))
			}
		}
	}
}

func (p *planner) convF(op *operator) (step, error) {
	if err := arity(op, 2, 3, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsConv2DOptions); err != nil {
		return nil, err
	}
	x, w, y := p.arg(op, 0), p.arg(op, 1), &p.m.tensors[op.out[0]]
	if err := actF32(x); err != nil {
		return nil, err
	}
	if err := actF32(y); err != nil {
		return nil, err
	}
	if op.conv.layout != mncfb.WeightLayoutOHWI {
		return nil, errors.New("float32 convolutions need OHWI weights")
	}
	cp, _, err := p.convGeometry(op, x, w, y)
	if err != nil {
		return nil, err
	}
	cpg := cp.C / cp.Groups
	wt, err := weightsF(w, cp.O, cp.KH, cp.KW, cpg)
	if err != nil {
		return nil, err
	}
	b, err := biasF(p.arg(op, 2), cp.O)
	if err != nil {
		return nil, err
	}
	return &convFStep{h: cp.H, w: cp.W, c: cp.C, oh: cp.OH, ow: cp.OW, o: cp.O, kh: cp.KH, kw: cp.KW,
		sh: cp.StrideH, sw: cp.StrideW, dh: cp.DilationH, dw: cp.DilationW, pt: cp.PadTop, pl: cp.PadLeft,
		cpg: cpg, opg: cp.O / cp.Groups, x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), wt: wt, b: b, act: op.conv.act}, nil
}

type fcFStep struct {
	m, k, n int
	x, y    view
	w, b    []float32
	act     activation
}

func (s *fcFStep) check([]byte) error { return nil }
func (s *fcFStep) run(ar []byte)      { fcF(s.m, s.k, s.n, s.x.f32(ar), s.w, s.b, s.y.f32(ar), s.act) }

func fcF(m, k, n int, x, w, b, y []float32, act activation) {
	for r := range m {
		xr := x[r*k : (r+1)*k]
		for o := range n {
			wr := w[o*k : (o+1)*k]
			var acc float64
			for i, v := range xr {
				acc += float64(v) * float64(wr[i])
			}
			if b != nil {
				acc += float64(b[o])
			}
			y[r*n+o] = float32(applyAct(act, acc))
		}
	}
}

func (p *planner) fcF(op *operator) (step, error) {
	if err := arity(op, 2, 3, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsFullyConnectedOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	x, w, y := p.arg(op, 0), p.arg(op, 1), &p.m.tensors[op.out[0]]
	if err := actF32(x); err != nil {
		return nil, err
	}
	if err := actF32(y); err != nil {
		return nil, err
	}
	m, k, n, err := gemmShape(x, w, y)
	if err != nil {
		return nil, err
	}
	wt, err := weightsF(w, n, k)
	if err != nil {
		return nil, err
	}
	b, err := biasF(p.arg(op, 2), n)
	if err != nil {
		return nil, err
	}
	return &fcFStep{m: m, k: k, n: n, x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), w: wt, b: b, act: op.act}, nil
}

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

type gapFStep struct {
	hw, c int
	x, y  view
}

func (s *gapFStep) check([]byte) error { return nil }
func (s *gapFStep) run(ar []byte)      { gapF(s.hw, s.c, s.x.f32(ar), s.y.f32(ar)) }

func gapF(hw, c int, x, y []float32) {
	x = x[:hw*c]
	for ch := range y[:c] {
		var sum float64
		for i := ch; i < len(x); i += c {
			sum += float64(x[i])
		}
		y[ch] = float32(sum / float64(hw))
	}
}

func (p *planner) gapF(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := actF32(y); err != nil {
		return nil, err
	}
	h, w, c, err := nhwc(x)
	if err != nil {
		return nil, err
	}
	if y.n != c || y.shape[0] != 1 {
		return nil, fmt.Errorf("output shape %v, want [1,1,1,%d]", y.shape, c)
	}
	return &gapFStep{hw: h * w, c: c, x: p.argView(op, 0), y: p.m.viewOf(op.out[0])}, nil
}

type avgPoolFStep struct {
	h, w, c, oh, ow int
	o               poolOptions
	x, y            view
}

func (s *avgPoolFStep) check([]byte) error { return nil }

// run averages each window as ir/interp does: clipped first to the padded
// input (the divisor with count_include_pad), then to the input itself.
func (s *avgPoolFStep) run(ar []byte) {
	x, y := s.x.f32(ar), s.y.f32(ar)
	o := s.o
	for oy := range s.oh {
		h0 := oy*o.strideH - o.padT
		h1 := min(h0+o.kh, s.h+o.padB)
		ph := h1 - h0
		h0, h1 = max(h0, 0), min(h1, s.h)
		for ox := range s.ow {
			w0 := ox*o.strideW - o.padL
			w1 := min(w0+o.kw, s.w+o.padR)
			pw := w1 - w0
			w0, w1 = max(w0, 0), min(w1, s.w)
			n := (h1 - h0) * (w1 - w0)
			if o.countIncludePad {
				n = ph * pw
			}
			for ch := range s.c {
				var sum float64
				for iy := h0; iy < h1; iy++ {
					for ix := w0; ix < w1; ix++ {
						sum += float64(x[(iy*s.w+ix)*s.c+ch])
					}
				}
				v := math.NaN()
				if n > 0 {
					v = sum / float64(n)
				}
				y[(oy*s.ow+ox)*s.c+ch] = float32(v)
			}
		}
	}
}

func (p *planner) avgPoolF(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsPool2DOptions); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := actF32(y); err != nil {
		return nil, err
	}
	h, w, c, err := nhwc(x)
	if err != nil {
		return nil, err
	}
	oh, ow, oc, err := nhwc(y)
	if err != nil {
		return nil, err
	}
	o := op.pool
	if o.kh < 1 || o.kw < 1 || o.strideH < 1 || o.strideW < 1 || min(o.padT, o.padL, o.padB, o.padR) < 0 ||
		max(o.kh, o.kw, o.strideH, o.strideW, o.padT, o.padL, o.padB, o.padR) > maxPad {
		return nil, fmt.Errorf("bad pool kernel, strides or pads %+v", o)
	}
	// The output size is the floor or (ceil mode) the ceiling of the
	// window count.
	fits := func(out, n, k, s, a, b int) bool {
		span := n + a + b - k // all at most 2^30 + 3 x 2^16
		return span >= 0 && (out == span/s+1 || out == (span+s-1)/s+1)
	}
	if oc != c || !fits(oh, h, o.kh, o.strideH, o.padT, o.padB) || !fits(ow, w, o.kw, o.strideW, o.padL, o.padR) {
		return nil, fmt.Errorf("output shape %v does not fit input %v and the pool options", y.shape, x.shape)
	}
	return &avgPoolFStep{h: h, w: w, c: c, oh: oh, ow: ow, o: o, x: p.argView(op, 0), y: p.m.viewOf(op.out[0])}, nil
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

// seFStep is the float squeeze-and-excitation unit with its intermediates
// (pooled, squeezed, gate) in the arena, rounded to float32 like
// ir/interp's.
type seFStep struct {
	hw, c, s       int
	x, p, q, g, y  view
	w1, b1, w2, b2 []float32
	act, gate      activation
}

func (s *seFStep) check([]byte) error { return nil }

func (s *seFStep) run(ar []byte) {
	x, pooled, sq, g, y := s.x.f32(ar), s.p.f32(ar), s.q.f32(ar), s.g.f32(ar), s.y.f32(ar)
	gapF(s.hw, s.c, x, pooled)
	fcF(1, s.c, s.s, pooled, s.w1, s.b1, sq, s.act)
	fcF(1, s.s, s.c, sq, s.w2, s.b2, g, s.gate)
	y = y[:len(x)]
	for i, v := range x {
		y[i] = float32(float64(v) * float64(g[i%s.c]))
	}
}

func (p *planner) seF(op *operator) (step, error) {
	if err := arity(op, 4, 5, 1, 3, 2); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsSqueezeExciteOptions); err != nil {
		return nil, err
	}
	x, w1, w2, y := p.arg(op, 0), p.arg(op, 1), p.arg(op, 3), &p.m.tensors[op.out[0]]
	if err := actF32(y); err != nil {
		return nil, err
	}
	h, w, c, err := nhwc(x)
	if err != nil {
		return nil, err
	}
	if !sameShape(x.shape, y.shape) || len(w1.shape) != 2 {
		return nil, fmt.Errorf("shapes %v -> %v, squeeze weights %v", x.shape, y.shape, w1.shape)
	}
	sq := w1.shape[0]
	wt1, err := weightsF(w1, sq, c)
	if err != nil {
		return nil, err
	}
	wt2, err := weightsF(w2, c, sq)
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
		if err := actF32(t); err != nil {
			return nil, err
		}
		if len(t.shape) != 2 || t.shape[0] != 1 || t.shape[1] != n {
			return nil, fmt.Errorf("intermediate %v has shape %v, want [1,%d]", t, t.shape, n)
		}
	}
	return &seFStep{hw: h * w, c: c, s: sq, x: p.argView(op, 0), p: p.m.viewOf(op.mid[0]), q: p.m.viewOf(op.mid[1]),
		g: p.m.viewOf(op.mid[2]), y: p.m.viewOf(op.out[0]), w1: wt1, b1: b1, w2: wt2, b2: b2, act: op.act, gate: op.gate}, nil
}
