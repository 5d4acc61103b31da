package runtime

import (
	"errors"
	"fmt"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

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

// --- int8 ops ---

type convKernel = func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int)

type convStep struct {
	p        kernels.ConvParams
	x, y     view
	w        []int8 // as the kernel reads them (packed)
	wv       []int8 // in the layout validate checks (before packing)
	b        []int32
	fn       convKernel
	n        int // rows or pixels
	validate func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8) error
}

func (s *convStep) run(ar []byte) { s.fn(&s.p, s.x.i8(ar), s.w, s.b, s.y.i8(ar), 0, s.n) }
func (s *convStep) check(ar []byte) error {
	return s.validate(&s.p, s.x.i8(ar), s.wv, s.b, s.y.i8(ar))
}

func (p *planner) convGeometry(op *operator, x, w, y *tensor) (kernels.ConvParams, int, error) {
	var cp kernels.ConvParams
	o := op.conv
	h, wd, c, err := nhwc(x)
	if err != nil {
		return cp, 0, err
	}
	oh, ow, oc, err := nhwc(y)
	if err != nil {
		return cp, 0, err
	}
	if o.strideH < 1 || o.strideW < 1 || o.dilH < 1 || o.dilW < 1 || o.groups < 1 ||
		min(o.padT, o.padL, o.padB, o.padR) < 0 || max(o.padT, o.padL, o.padB, o.padR) > maxPad ||
		max(o.strideH, o.strideW, o.dilH, o.dilW) > maxPad {
		return cp, 0, fmt.Errorf("bad strides %d,%d, dilations %d,%d, pads %d,%d,%d,%d or groups %d",
			o.strideH, o.strideW, o.dilH, o.dilW, o.padT, o.padL, o.padB, o.padR, o.groups)
	}
	g := o.groups
	if c%g != 0 || oc%g != 0 {
		return cp, 0, fmt.Errorf("%d input and %d output channels do not split into %d groups", c, oc, g)
	}
	var kh, kw int
	ws := w.shape
	switch o.layout {
	case mncfb.WeightLayoutOHWI:
		if len(ws) != 4 || ws[0] != oc || ws[3] != c/g {
			return cp, 0, fmt.Errorf("weights %v do not fit [%d,KH,KW,%d]", ws, oc, c/g)
		}
		kh, kw = ws[1], ws[2]
	case mncfb.WeightLayoutHWO:
		if len(ws) != 3 || ws[2] != oc || g != c {
			return cp, 0, fmt.Errorf("weights %v in layout HWO need a depthwise convolution [KH,KW,%d]", ws, oc)
		}
		kh, kw = ws[0], ws[1]
	default:
		return cp, 0, fmt.Errorf("unknown weight layout %d", o.layout)
	}
	if kh > maxPad || kw > maxPad {
		return cp, 0, fmt.Errorf("kernel %dx%d is too large", kh, kw)
	}
	if want := outSize(h, kh, o.strideH, o.dilH, o.padT, o.padB); oh != want {
		return cp, 0, fmt.Errorf("output height %d, want %d", oh, want)
	}
	if want := outSize(wd, kw, o.strideW, o.dilW, o.padL, o.padR); ow != want {
		return cp, 0, fmt.Errorf("output width %d, want %d", ow, want)
	}
	cp = kernels.ConvParams{N: 1, H: h, W: wd, C: c, OH: oh, OW: ow, O: oc, KH: kh, KW: kw,
		StrideH: o.strideH, StrideW: o.strideW, DilationH: o.dilH, DilationW: o.dilW,
		PadTop: o.padT, PadLeft: o.padL, Groups: g}
	axis := 0
	if o.layout == mncfb.WeightLayoutHWO {
		axis = 2
	}
	return cp, axis, nil
}

func (p *planner) conv8(op *operator) (step, error) {
	if err := arity(op, 2, 3, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsConv2DOptions); err != nil {
		return nil, err
	}
	x, w, y := p.arg(op, 0), p.arg(op, 1), &p.m.tensors[op.out[0]]
	sx, zx, err := act8(x)
	if err != nil {
		return nil, err
	}
	sy, zy, err := act8(y)
	if err != nil {
		return nil, err
	}
	cp, axis, err := p.convGeometry(op, x, w, y)
	if err != nil {
		return nil, err
	}
	sw, err := weights8(w, cp.O, axis)
	if err != nil {
		return nil, err
	}
	b, err := bias32(p.arg(op, 2), cp.O)
	if err != nil {
		return nil, err
	}
	if cp.Mult, err = multipliers(sx, sw, sy); err != nil {
		return nil, err
	}
	if cp.Out, err = clampRange(op.conv.act, sy, zy); err != nil {
		return nil, err
	}
	cp.XZero, cp.YZero = zx, zy
	cpg := cp.C / cp.Groups
	if err := kernels.ValidateAccumulator(cp.KH*cp.KW*cpg, maxAbs(b)); err != nil {
		return nil, err
	}
	if err := p.bud.spend(int64(cp.O)*8, "multipliers"); err != nil {
		return nil, err
	}
	s := &convStep{p: cp, x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), w: int8s(w.data), b: b}
	depthwise := cp.Groups > 1 && cp.Groups == cp.C && cpg == 1
	pointwise := cp.KH == 1 && cp.KW == 1 && cp.StrideH == 1 && cp.StrideW == 1 && cp.Groups == 1 &&
		op.conv.padT == 0 && op.conv.padL == 0 && op.conv.padB == 0 && op.conv.padR == 0
	k := p.m.kern
	switch {
	case depthwise && k.depthwise != nil:
		if op.conv.layout == mncfb.WeightLayoutOHWI {
			if s.w, err = p.repack(s.w, cp.O, cp.KH*cp.KW, true); err != nil {
				return nil, err
			}
		}
		s.fn, s.n, s.validate, s.wv = k.depthwise, cp.Rows(), (*kernels.ConvParams).ValidateDepthwise, s.w
		if k.packDepthwise != nil {
			s.w, err = p.pack(func() []int8 { return k.packDepthwise(&cp, s.w) })
		}
	case op.conv.layout == mncfb.WeightLayoutHWO:
		if s.w, err = p.repack(s.w, cp.O, cp.KH*cp.KW, false); err != nil {
			return nil, err
		}
		s.fn, s.n, s.validate, s.wv = k.conv, cp.Rows(), (*kernels.ConvParams).Validate, s.w
		if k.packConv != nil {
			s.w, err = p.pack(func() []int8 { return k.packConv(&cp, s.w) })
		}
	case pointwise && k.pointwise != nil && cp.Pixels() == 1 && cp.O >= 2*colsMin:
		// One pixel (a classifier as a 1x1 convolution): split the channels.
		return p.cols(s.x, s.y, s.w, b, cp.O, cp.C, func(o0, n int) colPart {
			q := cp
			q.O, q.Mult = n, cp.Mult[o0:o0+n]
			return colPart{cp: q}
		}, k.pointwise, nil)
	case pointwise && k.pointwise != nil:
		s.fn, s.n, s.validate, s.wv = k.pointwise, cp.Pixels(), (*kernels.ConvParams).ValidatePointwise, s.w
		if k.packPointwise != nil {
			s.w, err = p.pack(func() []int8 { return k.packPointwise(s.w, cp.O, cp.C) })
		}
	default:
		s.fn, s.n, s.validate, s.wv = k.conv, cp.Rows(), (*kernels.ConvParams).Validate, s.w
		if k.packConv != nil {
			s.w, err = p.pack(func() []int8 { return k.packConv(&cp, s.w) })
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// pack runs a kernel set's weight packing, charging its result to the
// load budget.
func (p *planner) pack(f func() []int8) ([]int8, error) {
	w := f()
	if err := p.bud.spend(int64(len(w)), "packed weights"); err != nil {
		return nil, err
	}
	return w, nil
}

// repack converts depthwise weights between [O][K] (OHWI with one input
// channel per group) and [K][O] (HWO), k = KH x KW taps.
func (p *planner) repack(w []int8, o, k int, toHWO bool) ([]int8, error) {
	if err := p.bud.spend(int64(len(w)), "repacked weights"); err != nil {
		return nil, err
	}
	r := make([]int8, len(w))
	for oc := range o {
		for t := range k {
			if toHWO {
				r[t*o+oc] = w[oc*k+t]
			} else {
				r[oc*k+t] = w[t*o+oc]
			}
		}
	}
	return r, nil
}

func (s *convStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.i8(ar), s.w, s.b, s.y.i8(ar), lo, hi)
}
func (s *convStep) extent() int { return s.n }
func (s *convStep) work() int64 {
	p := &s.p
	return int64(p.N) * int64(p.OH) * int64(p.OW) * int64(p.O) * int64(p.KH) * int64(p.KW) * int64(p.C/max(p.Groups, 1))
}
func (s *convStep) align() int {
	if s.n == s.p.Pixels() && s.n != s.p.Rows() {
		return 8 // pixels: keep the GEMM's row blocks whole
	}
	return 1
}
