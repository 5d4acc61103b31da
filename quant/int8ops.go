package quant

import (
	"errors"
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/kernels"
)

// The int8 reference interpreter's steps, one per op: prepare checks a node
// and derives its integer parameters with kernels' scheme functions; run
// executes it with the generic kernels.

// prepare returns the step of node n.
func prepare(n *ir.Node) (opStep, error) {
	var xs []kernels.Quant // the int8 activation inputs, in order
	for _, in := range n.Inputs {
		if in.Type.DType == ir.Int8 && !in.IsConst() {
			q, err := perTensor(in)
			if err != nil {
				return nil, err
			}
			xs = append(xs, q)
		}
	}
	y := n.Output()
	var qy kernels.Quant
	if y.Type.DType == ir.Int8 {
		var err error
		if qy, err = perTensor(y); err != nil {
			return nil, err
		}
	}
	switch n.Op {
	case ir.Quantize:
		return &quantizeOp{scale: y.Quant.Scale[0], zero: y.Quant.ZeroPoint[0]}, nil
	case ir.Dequantize:
		q := n.Inputs[0].Quant
		if _, err := perTensor(n.Inputs[0]); err != nil {
			return nil, err
		}
		return &dequantizeOp{scale: q.Scale[0], zero: q.ZeroPoint[0]}, nil
	}
	if n.Op == ir.ArgMax {
		// On the int8 codes, or on float32 values (an ArgMax reading a
		// value kept float).
		return prepareArgMax(n)
	}
	if len(xs) == 0 && y.Type.DType == ir.Float32 {
		return prepareFloat(n) // kept float (Options.KeepFloat)
	}
	if in0 := n.Inputs[0].Type.DType; in0 != ir.Int8 || y.Type.DType != ir.Int8 {
		return nil, fmt.Errorf("op on %v -> %v: the int8 interpreter runs int8 ops between Quantize and Dequantize", in0, y.Type.DType)
	}
	switch n.Op {
	case ir.Conv:
		return prepareConv(n, xs[0], qy)
	case ir.Gemm:
		return prepareGemm(n, xs[0], qy)
	case ir.SqueezeExcite:
		return prepareSE(n, xs[0], qy)
	case ir.Add, ir.Mul:
		return prepareBinary(n, xs, qy)
	case ir.GlobalAveragePool:
		if n.Layout != ir.NHWC {
			return nil, errors.New("int8 GlobalAveragePool needs NHWC")
		}
		return &poolOp{x: xs[0], y: qy}, nil
	case ir.Lookup:
		return &lookupOp{table: kernels.Table(n.Attrs.(*ir.LookupAttrs).Table)}, nil
	case ir.ResizeBilinear:
		if n.Layout != ir.NHWC {
			return nil, errors.New("int8 ResizeBilinear needs NHWC")
		}
		return &resizeOp{a: n.Attrs.(*ir.ResizeAttrs)}, sameQuant(n)
	case ir.Concat:
		return prepareConcat(n, xs, qy)
	case ir.Transpose:
		return &transposeOp{perm: n.Attrs.(*ir.TransposeAttrs).Perm}, sameQuant(n)
	case ir.Flatten, ir.Reshape, ir.Identity, ir.Dropout:
		return copyOp{}, sameQuant(n)
	case ir.Relu, ir.Relu6, ir.Clip:
		b := kernels.ReLU
		switch n.Op {
		case ir.Relu6:
			b = kernels.ReLU6
		case ir.Clip:
			a := n.Attrs.(*ir.ClipAttrs)
			b = kernels.Bounds{Lo: float64(a.Min), Hi: float64(a.Max)}
		}
		return &clampOp{r: b.Range(xs[0])}, sameQuant(n)
	}
	return nil, fmt.Errorf("op %v has no int8 kernel", n.Op)
}

// sameQuant checks that a code-preserving op keeps its input's quantization.
func sameQuant(n *ir.Node) error {
	x, y := n.Inputs[0].Quant, n.Output().Quant
	if x == nil || y == nil || len(x.Scale) != 1 || len(y.Scale) != 1 || x.Scale[0] != y.Scale[0] || x.ZeroPoint[0] != y.ZeroPoint[0] {
		return errors.New("input and output quantization differ; this op does not requantize")
	}
	return nil
}

// weightScales checks an int8 per-output-channel weight constant.
func weightScales(w *ir.Value) ([]float64, error) {
	if !w.IsConst() || w.Const.DType != ir.Int8 {
		return nil, fmt.Errorf("weight %s is not an int8 constant", w)
	}
	o := w.Type.Shape[0]
	q := w.Quant
	if q == nil || q.Axis != 0 || len(q.Scale) != o || len(q.ZeroPoint) != o {
		return nil, fmt.Errorf("weight %s needs %d per-channel scales on axis 0", w, o)
	}
	s := make([]float64, o)
	for i, v := range q.Scale {
		if !(v > 0) || math.IsInf(float64(v), 0) || q.ZeroPoint[i] != 0 {
			return nil, fmt.Errorf("weight %s channel %d has scale %g zero point %d", w, i, v, q.ZeroPoint[i])
		}
		s[i] = float64(v)
	}
	for _, c := range w.Const.I8 {
		if c == -128 {
			return nil, fmt.Errorf("weight %s holds -128 (weights are in [-127, 127])", w)
		}
	}
	return s, nil
}

// biasOf returns the int32 constant input i, or nil if there is none.
func biasOf(n *ir.Node, i int) ([]int32, error) {
	if len(n.Inputs) <= i {
		return nil, nil
	}
	b := n.Inputs[i]
	if !b.IsConst() || b.Const.DType != ir.Int32 {
		return nil, fmt.Errorf("bias %s is not an int32 constant", b)
	}
	return b.Const.I32, nil
}

// eltwiseAct returns the fused activation of an Add or Mul.
func eltwiseAct(n *ir.Node) ir.Activation {
	if a, ok := n.Attrs.(*ir.EltwiseAttrs); ok && a != nil {
		return a.Act
	}
	return ir.Activation{}
}

type quantizeOp struct {
	scale float32
	zero  int32
}

func (s *quantizeOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	return kernels.Quantize(ins[0].F32, s.scale, s.zero, out.I8)
}

type dequantizeOp struct {
	scale float32
	zero  int32
}

func (s *dequantizeOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	return kernels.Dequantize(ins[0].I8, s.scale, s.zero, out.F32)
}

type convKind uint8

const (
	convGeneral   convKind = iota // kernels.Conv, weights [O][KH][KW][C/G]
	convDepthwise                 // kernels.Depthwise, weights [KH][KW][O]
	convPointwise                 // kernels.Pointwise, weights [O][C]
)

// convOp is an int8 convolution; the geometry comes from the shapes of
// each run.
type convOp struct {
	a        *ir.ConvAttrs
	kind     convKind
	w        []int8 // in the kernel's layout
	b        []int32
	mult     []kernels.Multiplier
	out      kernels.Range
	xz, yz   int32
	kh, kw   int
	validate func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8) error
	kernel   func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int)
}

func prepareConv(n *ir.Node, qx, qy kernels.Quant) (*convOp, error) {
	a := n.Attrs.(*ir.ConvAttrs)
	if n.Layout != ir.NHWC {
		return nil, errors.New("int8 Conv needs NHWC")
	}
	w := n.Inputs[1]
	sw, err := weightScales(w)
	if err != nil {
		return nil, err
	}
	s := &convOp{a: a, xz: qx.Zero, yz: qy.Zero}
	if s.b, err = biasOf(n, 2); err != nil {
		return nil, err
	}
	act, err := bounds(a.Act)
	if err != nil {
		return nil, err
	}
	if s.mult, s.out, err = kernels.Requantization(qx, sw, qy, act); err != nil {
		return nil, err
	}
	ws := w.Type.Shape // O, C/g, KH, KW
	o, cpg, kh, kw := ws[0], ws[1], ws[2], ws[3]
	s.kh, s.kw = kh, kw
	c := n.Inputs[0].Type.Shape[3]
	g := a.Groups()
	src := w.Const.I8
	switch {
	case g > 1 && g == c && cpg == 1 && o%c == 0:
		// [O][1][KH][KW] is [O][K]: transposed to [K][O].
		s.kind, s.w = convDepthwise, kernels.Transpose2D(src, o, kh*kw)
		s.validate, s.kernel = (*kernels.ConvParams).ValidateDepthwise, kernels.Depthwise
	case kh == 1 && kw == 1 && g == 1 && a.Stride == [2]int{1, 1} && a.Pads == [4]int{}:
		s.kind, s.w = convPointwise, src
		s.validate, s.kernel = (*kernels.ConvParams).ValidatePointwise, kernels.Pointwise
	default:
		// OIHW -> OHWI.
		s.kind, s.w = convGeneral, kernels.OHWI(src, o, cpg, kh, kw)
		s.validate, s.kernel = (*kernels.ConvParams).Validate, kernels.Conv
	}
	return s, kernels.ValidateAccumulator(cpg*kh*kw, kernels.MaxAbs(s.b))
}

func (s *convOp) run(ins []*ir.Tensor, out *ir.Tensor, workers int) error {
	x := ins[0]
	xs, ys := x.Shape, out.Shape
	d := s.a.Dilations()
	cp := &kernels.ConvParams{
		N: xs[0], H: xs[1], W: xs[2], C: xs[3], OH: ys[1], OW: ys[2], O: ys[3], KH: s.kh, KW: s.kw,
		StrideH: s.a.Stride[0], StrideW: s.a.Stride[1], DilationH: d[0], DilationW: d[1],
		PadTop: s.a.Pads[0], PadLeft: s.a.Pads[1], Groups: s.a.Groups(),
		XZero: s.xz, YZero: s.yz, Mult: s.mult, Out: s.out,
	}
	if err := s.validate(cp, x.I8, s.w, s.b, out.I8); err != nil {
		return err
	}
	n := cp.Rows()
	if s.kind == convPointwise {
		n = cp.Pixels()
	}
	parallelFor(n, workers, func(lo, hi int) { s.kernel(cp, x.I8, s.w, s.b, out.I8, lo, hi) })
	return nil
}

// gemmOp is an int8 fully connected layer (transB, alpha = beta = 1).
type gemmOp struct {
	w      []int8
	b      []int32
	mult   []kernels.Multiplier
	out    kernels.Range
	az, yz int32
}

func prepareGemm(n *ir.Node, qx, qy kernels.Quant) (*gemmOp, error) {
	a := n.Attrs.(*ir.GemmAttrs)
	if a.TransA || !a.TransB || a.Alpha != 1 || (a.Beta != 1 && len(n.Inputs) == 3) {
		return nil, errors.New("int8 Gemm needs transB, no transA, alpha = beta = 1")
	}
	sw, err := weightScales(n.Inputs[1])
	if err != nil {
		return nil, err
	}
	s := &gemmOp{w: n.Inputs[1].Const.I8, az: qx.Zero, yz: qy.Zero}
	if s.b, err = biasOf(n, 2); err != nil {
		return nil, err
	}
	if s.b != nil && len(s.b) != len(sw) {
		return nil, fmt.Errorf("bias has %d values for %d outputs", len(s.b), len(sw))
	}
	act, err := bounds(a.Act)
	if err != nil {
		return nil, err
	}
	if s.mult, s.out, err = kernels.Requantization(qx, sw, qy, act); err != nil {
		return nil, err
	}
	return s, kernels.ValidateAccumulator(n.Inputs[1].Type.Shape[1], kernels.MaxAbs(s.b))
}

func (s *gemmOp) run(ins []*ir.Tensor, out *ir.Tensor, workers int) error {
	x := ins[0]
	gp := &kernels.GemmParams{M: x.Shape[0], K: x.Shape[1], N: out.Shape[1], AZero: s.az, YZero: s.yz, Mult: s.mult, Out: s.out}
	if err := gp.Validate(x.I8, s.w, s.b, out.I8); err != nil {
		return err
	}
	parallelFor(gp.M, workers, func(lo, hi int) { kernels.Gemm(gp, x.I8, s.w, s.b, out.I8, lo, hi) })
	return nil
}

// seOp is an int8 squeeze-and-excitation unit (kernels.SqueezeExcite).
type seOp struct {
	q      kernels.SEQuant
	w1, w2 []int8
	b1, b2 []int32
}

func prepareSE(n *ir.Node, qx, qy kernels.Quant) (*seOp, error) {
	a := n.Attrs.(*ir.SqueezeExciteAttrs)
	if n.Layout != ir.NHWC {
		return nil, errors.New("int8 SqueezeExcite needs NHWC")
	}
	if a.Act.InQuant == nil || a.Gate.InQuant == nil {
		return nil, errors.New("SqueezeExcite needs Act.InQuant (squeeze result) and Gate.InQuant (excite result)")
	}
	if a.Gate.Kind != ir.ActHardSigmoid || math.Abs(float64(a.Gate.Alpha)-1.0/6) > 1e-6 || a.Gate.Beta != 0.5 {
		return nil, fmt.Errorf("gate %v has no int8 table", a.Gate)
	}
	sq, err := perTensor(&ir.Value{Name: n.Name + ".squeeze", Quant: a.Act.InQuant})
	if err != nil {
		return nil, err
	}
	ex, err := perTensor(&ir.Value{Name: n.Name + ".excite", Quant: a.Gate.InQuant})
	if err != nil {
		return nil, err
	}
	if len(n.Inputs) < 6 {
		return nil, errors.New("int8 SqueezeExcite needs its gate table: an int8 constant [256], input 5")
	}
	table := n.Inputs[5]
	gate, err := perTensor(table)
	if err != nil || !table.IsConst() {
		return nil, fmt.Errorf("gate table %s: an int8 constant [256] with the gate's quantization, input 5", table)
	}
	s := &seOp{q: kernels.SEQuant{X: qx, Squeeze: sq, Excite: ex, Gate: gate, Y: qy, Table: kernels.Table(table.Const.I8)}}
	if s.q.W1, err = weightScales(n.Inputs[1]); err != nil {
		return nil, err
	}
	if s.q.W2, err = weightScales(n.Inputs[3]); err != nil {
		return nil, err
	}
	if s.b1, err = biasOf(n, 2); err != nil {
		return nil, err
	}
	if s.b2, err = biasOf(n, 4); err != nil {
		return nil, err
	}
	if s.q.Act, err = bounds(a.Act); err != nil {
		return nil, err
	}
	s.w1, s.w2 = n.Inputs[1].Const.I8, n.Inputs[3].Const.I8
	return s, nil
}

func (s *seOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	x := ins[0]
	sh := x.Shape
	sp, err := kernels.NewSEParams(sh[0], sh[1]*sh[2], &s.q, s.b1, s.b2)
	if err != nil {
		return err
	}
	if err := sp.Validate(x.I8, s.w1, s.b1, s.w2, s.b2, out.I8); err != nil {
		return err
	}
	kernels.SqueezeExcite(&sp, x.I8, s.w1, s.b1, s.w2, s.b2, out.I8)
	return nil
}

// addOp is a residual addition; mulOp a tensor times a per-channel gate
// (kernels.ChannelMul).
type (
	addOp struct{ p kernels.AddParams }
	mulOp struct {
		q   [3]kernels.Quant // inputs and output
		out kernels.Range
	}
)

func prepareBinary(n *ir.Node, xs []kernels.Quant, qy kernels.Quant) (opStep, error) {
	if len(xs) != 2 {
		return nil, fmt.Errorf("int8 %v needs two int8 activations", n.Op)
	}
	act, err := bounds(eltwiseAct(n))
	if err != nil {
		return nil, err
	}
	out := act.Range(qy)
	if n.Op == ir.Mul {
		return &mulOp{q: [3]kernels.Quant{xs[0], xs[1], qy}, out: out}, nil
	}
	if !n.Inputs[0].Type.Shape.Equal(n.Inputs[1].Type.Shape) {
		return nil, errors.New("int8 Add needs operands of one shape")
	}
	p, err := kernels.NewAddParams(xs[0].Scale, xs[1].Scale, qy.Scale, xs[0].Zero, xs[1].Zero, qy.Zero, out)
	return &addOp{p: p}, err
}

func (s *addOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	if err := s.p.Validate(ins[0].I8, ins[1].I8, out.I8); err != nil {
		return err
	}
	kernels.Add(&s.p, ins[0].I8, ins[1].I8, out.I8)
	return nil
}

func (s *mulOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	xi, gi := 0, 1
	hw, c, ok := kernels.ChannelMulShape(ins[0].Shape, ins[1].Shape)
	if !ok {
		xi, gi = 1, 0
		if hw, c, ok = kernels.ChannelMulShape(ins[1].Shape, ins[0].Shape); !ok {
			return fmt.Errorf("int8 Mul supports only an NHWC tensor times a per-channel [N,1,1,C] gate, have %v x %v", ins[0].Shape, ins[1].Shape)
		}
	}
	cp, err := kernels.NewChannelMulParams(out.Shape[0], hw, c, s.q[xi], s.q[gi], s.q[2], s.out)
	if err != nil {
		return err
	}
	x, g := ins[xi].I8, ins[gi].I8
	if err := cp.Validate(x, g, out.I8); err != nil {
		return err
	}
	kernels.ChannelMul(&cp, x, g, out.I8, 0, cp.N*cp.HW)
	return nil
}

// poolOp is a global average pool of an NHWC tensor.
type poolOp struct{ x, y kernels.Quant }

func (s *poolOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	x := ins[0]
	sh := x.Shape
	pp, err := kernels.NewPoolParams(sh[0], sh[1]*sh[2], sh[3], s.x, s.y)
	if err != nil {
		return err
	}
	if err := pp.Validate(x.I8, out.I8); err != nil {
		return err
	}
	kernels.GlobalAveragePool(&pp, x.I8, out.I8)
	return nil
}

type lookupOp struct{ table kernels.Table }

func (s *lookupOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	kernels.LUT(&s.table, ins[0].I8, out.I8)
	return nil
}

type transposeOp struct{ perm []int }

func (s *transposeOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	p, err := kernels.NewPermutation(ins[0].Shape, s.perm)
	if err != nil {
		return err
	}
	kernels.Permute(&p, ins[0].I8, out.I8, 0, len(out.I8))
	return nil
}

// copyOp is a reshape: the codes as they are.
type copyOp struct{}

func (copyOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	copy(out.I8, ins[0].I8)
	return nil
}

// clampOp is a standalone ReLU, ReLU6 or Clip in its input's codes.
type clampOp struct{ r kernels.Range }

func (s *clampOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	for i, v := range ins[0].I8 {
		out.I8[i] = max(s.r.Lo, min(s.r.Hi, v))
	}
	return nil
}

// resizeOp is an int8 bilinear resize of an NHWC tensor (the input's
// quantization kept): kernels.ResizeBilinearI8, the runtime's kernel.
type resizeOp struct{ a *ir.ResizeAttrs }

func (s *resizeOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	x := ins[0].Shape
	p, err := kernels.NewResizeParams(x[0], x[1], x[2], x[3], s.a.Size[0], s.a.Size[1], s.a.AlignCorners, s.a.HalfPixelCenters)
	if err != nil {
		return err
	}
	if err := p.Validate(len(ins[0].I8), len(out.I8)); err != nil {
		return err
	}
	kernels.ResizeBilinearI8(&p, ins[0].I8, out.I8, 0, p.N*p.OH)
	return nil
}

// concatOp is an int8 concatenation, each input requantized to the
// output's quantization (kernels.NewRequant: a copy where they are the
// same).
type concatOp struct {
	axis int
	req  []kernels.Requant
}

func prepareConcat(n *ir.Node, xs []kernels.Quant, qy kernels.Quant) (opStep, error) {
	if len(xs) != len(n.Inputs) {
		return nil, errors.New("int8 Concat needs int8 activations as every input")
	}
	ax, err := ir.NormAxis(n.Attrs.(*ir.ConcatAttrs).Axis, len(n.Output().Type.Shape))
	if err != nil {
		return nil, err
	}
	s := &concatOp{axis: ax}
	for i, q := range xs {
		r, err := kernels.NewRequant(q, qy)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		s.req = append(s.req, r)
	}
	return s, nil
}

func (s *concatOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	inner := 1
	for _, d := range out.Shape[s.axis+1:] {
		inner *= d
	}
	p := kernels.ConcatParams{Outer: len(out.I8) / max(1, out.Shape[s.axis]*inner), Requant: s.req}
	lens := make([]int, len(ins))
	for k, x := range ins {
		p.Chunks = append(p.Chunks, x.Shape[s.axis]*inner)
		lens[k] = len(x.I8)
	}
	if err := p.Validate(lens, len(out.I8)); err != nil {
		return err
	}
	for k, x := range ins {
		kernels.ConcatI8(&p, k, x.I8, out.I8)
	}
	return nil
}

// argMaxOp is the ArgMax of int8 codes or float32 values by the runtime's
// kernels (kernels.ArgMax; with a fused resize kernels.ResizeArgMaxI8 or
// ResizeArgMaxF32); i32 or i64 out.
type argMaxOp struct {
	axis   int
	resize *ir.ResizeAttrs
}

func prepareArgMax(n *ir.Node) (opStep, error) {
	x := n.Inputs[0]
	if x.Type.DType != ir.Float32 && x.Type.DType != ir.Int8 {
		return nil, fmt.Errorf("ArgMax reads %v, want i8 or f32", x.Type.DType)
	}
	a := n.Attrs.(*ir.ArgMaxAttrs)
	ax, err := ir.NormAxis(a.Axis, len(x.Type.Shape))
	return &argMaxOp{axis: ax, resize: a.Resize}, err
}

func (s *argMaxOp) run(ins []*ir.Tensor, out *ir.Tensor, _ int) error {
	x := ins[0]
	idx := out.I32
	if out.DType == ir.Int64 {
		idx = make([]int32, len(out.I64))
	}
	if r := s.resize; r != nil {
		if len(x.Shape) != 4 || s.axis != 3 {
			return fmt.Errorf("ArgMax with a fused resize of %v over axis %d", x.Shape, s.axis)
		}
		p, err := kernels.NewResizeParams(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], r.Size[0], r.Size[1], r.AlignCorners, r.HalfPixelCenters)
		if err != nil {
			return err
		}
		if err := p.Validate(x.Len(), len(idx)*p.C); err != nil {
			return err
		}
		if x.DType == ir.Int8 {
			kernels.ResizeArgMaxI8(&p, x.I8, idx, 0, p.N*p.OH)
		} else {
			kernels.ResizeArgMaxF32(&p, x.F32, idx, 0, p.N*p.OH)
		}
	} else {
		dim, inner := x.Shape[s.axis], 1
		for _, d := range x.Shape[s.axis+1:] {
			inner *= d
		}
		if dim < 1 || x.Len()%(dim*inner) != 0 {
			return fmt.Errorf("ArgMax of %v over axis %d", x.Shape, s.axis)
		}
		outer := x.Len() / (dim * inner)
		if len(idx) != outer*inner {
			return fmt.Errorf("ArgMax output %v for input %v", out.Shape, x.Shape)
		}
		if x.DType == ir.Int8 {
			kernels.ArgMax(x.I8, outer, dim, inner, idx)
		} else {
			kernels.ArgMax(x.F32, outer, dim, inner, idx)
		}
	}
	for i, v := range idx {
		if out.DType == ir.Int64 {
			out.I64[i] = int64(v)
		}
	}
	return nil
}
