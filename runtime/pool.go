package runtime

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// GLOBAL_AVERAGE_POOL (int8: the kernel set's GlobalAveragePool; float32)
// and AVERAGE_POOL_2D (float32).

func (p *planner) globalPool(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), p.out(op)
	float := p.float(op)
	var q []kernels.Quant
	var err error
	if float {
		err = actsF32(x, y)
	} else {
		q, err = acts8(x, y)
	}
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
	if float {
		return &gapFStep{hw: h * w, c: c, x: p.argView(op, 0), y: p.outView(op), fn: p.k.GlobalAveragePoolF32}, nil
	}
	pp, err := kernels.NewPoolParams(1, h*w, c, q[0], q[1])
	if err != nil {
		return nil, err
	}
	return &poolStep{p: pp, x: p.argView(op, 0), y: p.outView(op), fn: p.k.GlobalAveragePool}, nil
}

type poolStep struct {
	p    kernels.PoolParams
	x, y view
	fn   func(p *kernels.PoolParams, x, y []int8)
}

func (s *poolStep) run(ar []byte)         { s.fn(&s.p, s.x.i8(ar), s.y.i8(ar)) }
func (s *poolStep) check(ar []byte) error { return s.p.Validate(s.x.i8(ar), s.y.i8(ar)) }

// gapFStep is a float32 global average pool (GlobalAveragePoolF32).
type gapFStep struct {
	hw, c int
	x, y  view
	fn    func(n, hw, c int, x, y []float32)
}

func (s *gapFStep) check([]byte) error { return nil }
func (s *gapFStep) run(ar []byte)      { s.fn(1, s.hw, s.c, s.x.f32(ar), s.y.f32(ar)) }

type avgPoolFStep struct {
	h, w, c, oh, ow int
	o               poolOptions
	x, y            view
}

func (s *avgPoolFStep) check([]byte) error { return nil }
func (s *avgPoolFStep) macs() int64 {
	return int64(s.oh) * int64(s.ow) * int64(s.c) * int64(s.o.kh) * int64(s.o.kw)
}

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

func (p *planner) avgPool(op *operator) (step, error) {
	if !p.float(op) {
		return nil, errNoInt8
	}
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsPool2DOptions); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), p.out(op)
	if err := actsF32(x, y); err != nil {
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
	// The file does not record the ceil mode: the output size is that of
	// the window rule with or without it.
	fits := func(out, n, k, s, a, b int) bool {
		floor, err := kernels.OutSize(n, k, s, 1, a, b, false)
		if err != nil {
			return false
		}
		ceil, _ := kernels.OutSize(n, k, s, 1, a, b, true)
		return out == floor || out == ceil
	}
	if oc != c || !fits(oh, h, o.kh, o.strideH, o.padT, o.padB) || !fits(ow, w, o.kw, o.strideW, o.padL, o.padR) {
		return nil, fmt.Errorf("output shape %v does not fit input %v and the pool options", y.shape, x.shape)
	}
	return &avgPoolFStep{h: h, w: w, c: c, oh: oh, ow: ow, o: o, x: p.argView(op, 0), y: p.outView(op)}, nil
}
