package runtime

import (
	"errors"
	"fmt"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// CONV_2D: int8 convolutions run the kernel set's Depthwise, Pointwise (a
// one-pixel pointwise convolution, a classifier, runs as a classifierStep,
// see fc.go) or Conv, split over output rows (Pointwise over pixels);
// float32 ones the same on the float32 kernels (a one-pixel pointwise
// convolution as a colsFStep).

func (p *planner) conv(op *operator) (step, error) {
	if err := arity(op, 2, 3, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsConv2DOptions); err != nil {
		return nil, err
	}
	if p.float(op) {
		return p.convF(op)
	}
	return p.conv8(op)
}

// convGeometry checks a convolution's shapes and options and returns its
// kernel parameters (without quantization) and the axis of the weights'
// output channels.
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
	if err := checkOutSize("height", oh, h, kh, o.strideH, o.dilH, o.padT, o.padB); err != nil {
		return cp, 0, err
	}
	if err := checkOutSize("width", ow, wd, kw, o.strideW, o.dilW, o.padL, o.padR); err != nil {
		return cp, 0, err
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

// checkOutSize checks an output size against the window rule
// (kernels.OutSize, without ceil mode).
func checkOutSize(what string, out, n, k, s, d, a, b int) error {
	want, err := kernels.OutSize(n, k, s, d, a, b, false)
	if err != nil {
		return fmt.Errorf("output %s %d: %w", what, out, err)
	}
	if out != want {
		return fmt.Errorf("output %s %d, want %d", what, out, want)
	}
	return nil
}

// convStep is an int8 convolution.
type convStep struct {
	p        kernels.ConvParams
	x, y     view
	w        []int8 // as the kernel reads them (packed)
	wv       []int8 // in the layout validate checks (before packing)
	b        []int32
	fn       func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int)
	n        int // rows or pixels
	validate func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8) error
}

func (s *convStep) run(ar []byte) { s.runRange(ar, 0, s.n) }
func (s *convStep) check(ar []byte) error {
	return s.validate(&s.p, s.x.i8(ar), s.wv, s.b, s.y.i8(ar))
}
func (s *convStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.i8(ar), s.w, s.b, s.y.i8(ar), lo, hi)
}
func (s *convStep) extent() int { return s.n }
func (s *convStep) macs() int64 { return s.p.MACs() }
func (s *convStep) work() int64 { return s.p.MACs() }
func (s *convStep) align() int {
	if s.n == s.p.Pixels() && s.n != s.p.Rows() {
		return 8 // pixels: keep the GEMM's row blocks whole
	}
	return 1
}

func (p *planner) conv8(op *operator) (step, error) {
	x, w, y := p.arg(op, 0), p.arg(op, 1), p.out(op)
	q, err := acts8(x, y)
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
	b, err := bias32(p.arg(op, 2), cp.O, q[0].Scale, sw)
	if err != nil {
		return nil, err
	}
	act, err := bounds(op.conv.act)
	if err != nil {
		return nil, err
	}
	if cp.Mult, cp.Out, err = kernels.Requantization(q[0], sw, q[1], act); err != nil {
		return nil, err
	}
	cp.XZero, cp.YZero = q[0].Zero, q[1].Zero
	cpg := cp.C / cp.Groups
	if err := kernels.ValidateAccumulator(cp.KH*cp.KW*cpg, kernels.MaxAbs(b)); err != nil {
		return nil, err
	}
	if err := p.bud.spend(int64(cp.O)*8, "multipliers"); err != nil {
		return nil, err
	}
	s := &convStep{p: cp, x: p.argView(op, 0), y: p.outView(op), w: int8s(w.data), b: b}
	depthwise := cp.Groups > 1 && cp.Groups == cp.C && cpg == 1
	pointwise := cp.KH == 1 && cp.KW == 1 && cp.StrideH == 1 && cp.StrideW == 1 && cp.Groups == 1 &&
		op.conv.padT == 0 && op.conv.padL == 0 && op.conv.padB == 0 && op.conv.padR == 0
	k := p.k
	taps := cp.KH * cp.KW
	switch {
	case depthwise:
		if op.conv.layout == mncfb.WeightLayoutOHWI { // [O][K] -> [K][O]
			if s.w, err = p.transpose2D(s.w, cp.O, taps); err != nil {
				return nil, err
			}
		}
		s.fn, s.n, s.validate, s.wv = k.Depthwise, cp.Rows(), (*kernels.ConvParams).ValidateDepthwise, s.w
		s.w, err = p.pack(k.PackDepthwise(&cp, s.w))
	case op.conv.layout == mncfb.WeightLayoutHWO: // one channel, one group: [K][O] -> [O][K]
		if s.w, err = p.transpose2D(s.w, taps, cp.O); err != nil {
			return nil, err
		}
		s.fn, s.n, s.validate, s.wv = k.Conv, cp.Rows(), (*kernels.ConvParams).Validate, s.w
		s.w, err = p.pack(k.PackConv(&cp, s.w))
	case pointwise && cp.Pixels() == 1 && cp.O >= 2*colsMin:
		// One pixel (a classifier as a 1x1 convolution): split the channels.
		cs, err := p.cols(s.x, s.y, s.w, b, cp.O, cp.C, func(o0, n int) channelBlock {
			q := cp
			q.O, q.Mult = n, cp.Mult[o0:o0+n]
			return channelBlock{cp: q}
		}, true)
		if err != nil {
			return nil, err
		}
		return cs, nil
	case pointwise:
		s.fn, s.n, s.validate, s.wv = k.Pointwise, cp.Pixels(), (*kernels.ConvParams).ValidatePointwise, s.w
		s.w, err = p.pack(k.PackPointwise(s.w, cp.O, cp.C))
	default:
		s.fn, s.n, s.validate, s.wv = k.Conv, cp.Rows(), (*kernels.ConvParams).Validate, s.w
		s.w, err = p.pack(k.PackConv(&cp, s.w))
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// pack charges weights a kernel set's Pack function returned to the load
// budget.
func (p *planner) pack(w []int8) ([]int8, error) {
	if err := p.bud.spend(int64(len(w)), "packed weights"); err != nil {
		return nil, err
	}
	return w, nil
}

// transpose2D returns w [rows][cols] as [cols][rows] (depthwise weights
// between [O][KH*KW], OHWI with one input channel per group, and
// [KH*KW][O], HWO), charged to the load budget.
func (p *planner) transpose2D(w []int8, rows, cols int) ([]int8, error) {
	if err := p.bud.spend(int64(len(w)), "repacked weights"); err != nil {
		return nil, err
	}
	return kernels.Transpose2D(w, rows, cols), nil
}

// convFStep is a float32 convolution on the kernel set's float32 kernels:
// DepthwiseF32, PointwiseF32 or ConvF32, split like the int8 ones.
type convFStep struct {
	p        kernels.ConvF32Params
	x, y     view
	w        []float32 // packed
	wv       []float32 // before packing, for validate
	b        []float32
	fn       func(p *kernels.ConvF32Params, x, w, bias, y []float32, lo, hi int)
	n        int // rows or pixels
	validate func(p *kernels.ConvF32Params, x, w, bias, y []float32) error
}

func (s *convFStep) run(ar []byte) { s.runRange(ar, 0, s.n) }
func (s *convFStep) check(ar []byte) error {
	return s.validate(&s.p, s.x.f32(ar), s.wv, s.b, s.y.f32(ar))
}
func (s *convFStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.f32(ar), s.w, s.b, s.y.f32(ar), lo, hi)
}
func (s *convFStep) extent() int { return s.n }
func (s *convFStep) macs() int64 { return s.p.MACs() }
func (s *convFStep) work() int64 { return s.p.MACs() }
func (s *convFStep) align() int {
	if s.n == s.p.Pixels() && s.n != s.p.Rows() {
		return 8
	}
	return 1
}

func (p *planner) convF(op *operator) (step, error) {
	x, w, y := p.arg(op, 0), p.arg(op, 1), p.out(op)
	if err := actsF32(x, y); err != nil {
		return nil, err
	}
	if op.conv.layout != mncfb.WeightLayoutOHWI {
		return nil, errors.New("float32 convolutions need OHWI weights")
	}
	g, _, err := p.convGeometry(op, x, w, y)
	if err != nil {
		return nil, err
	}
	cpg := g.C / g.Groups
	wt, err := p.weightsF(w, g.O, g.KH, g.KW, cpg)
	if err != nil {
		return nil, err
	}
	b, err := biasF(p.arg(op, 2), g.O)
	if err != nil {
		return nil, err
	}
	act, err := floatAct(op.conv.act)
	if err != nil {
		return nil, err
	}
	s := &convFStep{p: kernels.ConvF32Params{N: g.N, H: g.H, W: g.W, C: g.C, OH: g.OH, OW: g.OW, O: g.O, KH: g.KH, KW: g.KW,
		StrideH: g.StrideH, StrideW: g.StrideW, DilationH: g.DilationH, DilationW: g.DilationW,
		PadTop: g.PadTop, PadLeft: g.PadLeft, Groups: g.Groups, Act: act},
		x: p.argView(op, 0), y: p.outView(op), b: b}
	k, cp := p.k, &s.p
	switch {
	case g.Groups > 1 && g.Groups == g.C && cpg == 1: // depthwise: [O][K] -> [K][O]
		if s.wv, err = p.transpose2DF32(wt, g.O, g.KH*g.KW); err != nil {
			return nil, err
		}
		s.fn, s.n, s.validate = k.DepthwiseF32, cp.Rows(), (*kernels.ConvF32Params).ValidateDepthwise
		s.w, err = p.packF32(k.PackDepthwiseF32(cp, s.wv))
	case g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.Groups == 1 &&
		op.conv.padT == 0 && op.conv.padL == 0 && op.conv.padB == 0 && op.conv.padR == 0:
		if cp.Pixels() == 1 && g.O >= 2*colsMin {
			// One pixel (a classifier as a 1x1 convolution): split the channels.
			return p.colsF(s.x, s.y, wt, b, kernels.GemmF32Params{M: 1, K: g.C, N: g.O, Act: act})
		}
		s.wv, s.fn, s.n, s.validate = wt, k.PointwiseF32, cp.Pixels(), (*kernels.ConvF32Params).ValidatePointwise
		s.w, err = p.packF32(k.PackPointwiseF32(wt, g.O, g.C))
	default:
		s.wv, s.fn, s.n, s.validate = wt, k.ConvF32, cp.Rows(), (*kernels.ConvF32Params).Validate
		s.w, err = p.packF32(k.PackConvF32(cp, wt))
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// packF32 charges float32 weights a kernel set's Pack function returned to
// the load budget.
func (p *planner) packF32(w []float32) ([]float32, error) {
	if err := p.bud.spend(4*int64(len(w)), "packed weights"); err != nil {
		return nil, err
	}
	return w, nil
}

// transpose2DF32 is transpose2D for float32 weights.
func (p *planner) transpose2DF32(w []float32, rows, cols int) ([]float32, error) {
	if err := p.bud.spend(4*int64(len(w)), "repacked weights"); err != nil {
		return nil, err
	}
	return kernels.Transpose2D(w, rows, cols), nil
}
