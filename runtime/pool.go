package runtime

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

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

type poolStep struct {
	p    kernels.PoolParams
	x, y view
	fn   func(p *kernels.PoolParams, x, y []int8)
}

func (s *poolStep) run(ar []byte)         { s.fn(&s.p, s.x.i8(ar), s.y.i8(ar)) }
func (s *poolStep) check(ar []byte) error { return s.p.Validate(s.x.i8(ar), s.y.i8(ar)) }

func (p *planner) gap8(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	sx, zx, err := act8(x)
	if err != nil {
		return nil, err
	}
	sy, zy, err := act8(y)
	if err != nil {
		return nil, err
	}
	h, w, c, err := nhwc(x)
	if err != nil {
		return nil, err
	}
	if y.n != c || y.shape[0] != 1 {
		return nil, fmt.Errorf("output shape %v, want [1,1,1,%d]", y.shape, c)
	}
	hw := h * w
	if int64(hw)*255 >= math.MaxInt32 {
		return nil, fmt.Errorf("a pool over %d positions may overflow int32", hw)
	}
	m, err := kernels.NewMultiplier(sx / (float64(hw) * sy))
	if err != nil {
		return nil, err
	}
	pp := kernels.PoolParams{N: 1, HW: hw, C: c, XZero: zx, YZero: zy, Mult: m, Out: kernels.Full}
	return &poolStep{p: pp, x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), fn: p.m.kern.pool}, nil
}
