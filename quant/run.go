package quant

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/kernels"
)

// Runner is the int8 reference interpreter: it executes a quantized graph
// exactly by the contract of the package documentation, calling the generic
// kernels of runtime/kernels. NewRunner validates the graph and prepares
// every node's integer parameters (fixed-point multipliers, clamps, tables,
// repacked weights) once; Run may then be called repeatedly, also
// concurrently.
type Runner struct {
	g       *ir.Graph
	prep    map[*ir.Node]*prepared
	workers int
}

// prepared is the run-time form of one node.
type prepared struct {
	kind convKind
	w    []int8  // weights repacked for the kernel
	b    []int32 // bias or nil
	mult []kernels.Multiplier
	out  kernels.Range
	// Gemm/SE second weights.
	w2    []int8
	b2    []int32
	mult2 []kernels.Multiplier
	out2  kernels.Range
	table kernels.Table
	zero  []int32 // zero points of the inputs, in order
	yz    int32
	add   kernels.AddParams
	mul   kernels.Multiplier
	perm  []int
	sx    float64 // first input scale
	sy    float64 // output scale
	sAux  float64 // SE squeeze scale
}

type convKind uint8

const (
	convGeneral convKind = iota
	convDepthwise
	convPointwise
)

// NewRunner prepares q for execution with the given number of goroutines
// per op (0: runtime.GOMAXPROCS(0)).
func NewRunner(q *ir.Graph, workers int) (*Runner, error) {
	if q == nil {
		return nil, errors.New("int8 interpreter: nil graph")
	}
	if err := ir.Verify(q); err != nil {
		return nil, fmt.Errorf("int8 interpreter: %w", err)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	r := &Runner{g: q, prep: map[*ir.Node]*prepared{}, workers: workers}
	if len(q.Inputs) != 1 || q.Inputs[0].Type.DType != ir.Float32 {
		return nil, errors.New("int8 interpreter: the graph needs one float32 input")
	}
	for _, n := range q.Nodes {
		p, err := prepare(n)
		if err != nil {
			return nil, fmt.Errorf("int8 interpreter: %s %q: %w", n.Op, n.Name, err)
		}
		r.prep[n] = p
	}
	return r, nil
}

// Check validates a quantized graph: ir.Verify, then every node has the
// int8 form the interpreter (and so every backend) executes.
func Check(q *ir.Graph) error {
	_, err := NewRunner(q, 1)
	return err
}

// Run executes q on one float32 input (see Runner.Run).
func Run(q *ir.Graph, input *ir.Tensor) (*ir.Tensor, error) {
	r, err := NewRunner(q, 0)
	if err != nil {
		return nil, err
	}
	outs, err := r.Run(input, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// perTensor returns the scale and zero point of a per-tensor quantized
// value.
func perTensor(v *ir.Value) (float64, int32, error) {
	q := v.Quant
	if q == nil || len(q.Scale) != 1 || len(q.ZeroPoint) != 1 {
		return 0, 0, fmt.Errorf("value %s has no per-tensor quantization", v)
	}
	s, z := float64(q.Scale[0]), q.ZeroPoint[0]
	if !(s > 0) || math.IsInf(s, 0) {
		return 0, 0, fmt.Errorf("value %s has scale %g", v, s)
	}
	if z < -128 || z > 127 {
		return 0, 0, fmt.Errorf("value %s has zero point %d", v, z)
	}
	return s, z, nil
}

// actRange is the clamp of a fused activation in the quantized domain of
// the output (scale s, zero z): a bound b becomes z + round_half_away(b/s),
// saturated to [-128, 127]; ReLU is [z, 127], ReLU6 [z, z + round(6/s)].
func actRange(act ir.Activation, s float64, z int32) (kernels.Range, error) {
	switch act.Kind {
	case ir.ActNone:
		return kernels.Full, nil
	case ir.ActRelu:
		return kernels.ClampRange(0, math.Inf(1), s, z), nil
	case ir.ActRelu6:
		return kernels.ClampRange(0, 6, s, z), nil
	case ir.ActClip:
		return kernels.ClampRange(float64(act.Min), float64(act.Max), s, z), nil
	}
	return kernels.Range{}, fmt.Errorf("activation %v is not a clamp (lower it to a Lookup first)", act.Kind)
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

// multipliers returns the fixed-point multipliers sx*sw[o]/sy.
func multipliers(sx float64, sw []float64, sy float64) ([]kernels.Multiplier, error) {
	ms := make([]kernels.Multiplier, len(sw))
	for o, s := range sw {
		m, err := kernels.NewMultiplier(sx * s / sy)
		if err != nil {
			return nil, fmt.Errorf("channel %d: %w", o, err)
		}
		ms[o] = m
	}
	return ms, nil
}

func prepare(n *ir.Node) (*prepared, error) {
	p := &prepared{}
	for _, in := range n.Inputs {
		if in.Type.DType == ir.Int8 && !in.IsConst() {
			s, z, err := perTensor(in)
			if err != nil {
				return nil, err
			}
			if len(p.zero) == 0 {
				p.sx = s
			}
			p.zero = append(p.zero, z)
		}
	}
	y := n.Output()
	if y.Type.DType == ir.Int8 {
		s, z, err := perTensor(y)
		if err != nil {
			return nil, err
		}
		p.sy, p.yz = s, z
	}
	in0 := n.Inputs[0].Type.DType
	switch n.Op {
	case ir.Quantize:
		return p, nil
	case ir.Dequantize:
		_, _, err := perTensor(n.Inputs[0])
		return p, err
	}
	if in0 != ir.Int8 || y.Type.DType != ir.Int8 {
		return nil, fmt.Errorf("op on %v -> %v: the int8 interpreter runs int8 ops between Quantize and Dequantize", in0, y.Type.DType)
	}
	switch n.Op {
	case ir.Conv:
		return p, p.prepareConv(n)
	case ir.Gemm:
		return p, p.prepareGemm(n)
	case ir.SqueezeExcite:
		return p, p.prepareSE(n)
	case ir.Add:
		return p, p.prepareAdd(n)
	case ir.Mul:
		if len(p.zero) != 2 {
			return nil, errors.New("Mul needs two int8 activations")
		}
		var act ir.Activation
		if a, ok := n.Attrs.(*ir.EltwiseAttrs); ok && a != nil {
			act = a.Act
		}
		out, err := actRange(act, p.sy, p.yz)
		if err != nil {
			return nil, err
		}
		s2, _, _ := perTensor(n.Inputs[1])
		m, err := kernels.NewMultiplier(p.sx * s2 / p.sy)
		if err != nil {
			return nil, err
		}
		p.mul, p.out = m, out
		return p, nil
	case ir.GlobalAveragePool:
		if n.Layout != ir.NHWC {
			return nil, errors.New("int8 GlobalAveragePool needs NHWC")
		}
		return p, nil
	case ir.Lookup:
		a := n.Attrs.(*ir.LookupAttrs)
		p.table = kernels.Table(a.Table)
		return p, nil
	case ir.Transpose:
		p.perm = n.Attrs.(*ir.TransposeAttrs).Perm
		return p, sameQuant(n)
	case ir.Flatten, ir.Reshape, ir.Identity, ir.Dropout:
		return p, sameQuant(n)
	case ir.Relu, ir.Relu6, ir.Clip:
		var act ir.Activation
		switch n.Op {
		case ir.Relu:
			act.Kind = ir.ActRelu
		case ir.Relu6:
			act.Kind = ir.ActRelu6
		default:
			a := n.Attrs.(*ir.ClipAttrs)
			act = ir.Activation{Kind: ir.ActClip, Min: a.Min, Max: a.Max}
		}
		r, err := actRange(act, p.sx, p.zero[0])
		p.out = r
		if err != nil {
			return nil, err
		}
		return p, sameQuant(n)
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

func (p *prepared) prepareConv(n *ir.Node) error {
	a := n.Attrs.(*ir.ConvAttrs)
	if n.Layout != ir.NHWC {
		return errors.New("int8 Conv needs NHWC")
	}
	w := n.Inputs[1]
	sw, err := weightScales(w)
	if err != nil {
		return err
	}
	if p.b, err = biasOf(n, 2); err != nil {
		return err
	}
	if p.mult, err = multipliers(p.sx, sw, p.sy); err != nil {
		return err
	}
	if p.out, err = actRange(a.Act, p.sy, p.yz); err != nil {
		return err
	}
	ws := w.Type.Shape // O, C/g, KH, KW
	o, cpg, kh, kw := ws[0], ws[1], ws[2], ws[3]
	c := n.Inputs[0].Type.Shape[3]
	g := a.Groups()
	src := w.Const.I8
	switch {
	case g > 1 && g == c && cpg == 1 && o%c == 0:
		p.kind = convDepthwise
		p.w = kernels.Transpose2D(src, o, kh*kw)
	case kh == 1 && kw == 1 && g == 1 && a.Stride == [2]int{1, 1} && a.Pads == [4]int{}:
		p.kind = convPointwise
		p.w = src
	default:
		p.kind = convGeneral
		p.w = kernels.OHWI(src, o, cpg, kh, kw)
	}
	return kernels.ValidateAccumulator(cpg*kh*kw, maxAbs(p.b))
}

func maxAbs(b []int32) int64 {
	var m int64
	for _, v := range b {
		m = max(m, int64(math.Abs(float64(v))))
	}
	return m
}

func (p *prepared) prepareGemm(n *ir.Node) error {
	a := n.Attrs.(*ir.GemmAttrs)
	if a.TransA || !a.TransB || a.Alpha != 1 || (a.Beta != 1 && len(n.Inputs) == 3) {
		return errors.New("int8 Gemm needs transB, no transA, alpha = beta = 1")
	}
	sw, err := weightScales(n.Inputs[1])
	if err != nil {
		return err
	}
	if p.b, err = biasOf(n, 2); err != nil {
		return err
	}
	if p.b != nil && len(p.b) != len(sw) {
		return fmt.Errorf("bias has %d values for %d outputs", len(p.b), len(sw))
	}
	if p.mult, err = multipliers(p.sx, sw, p.sy); err != nil {
		return err
	}
	if p.out, err = actRange(a.Act, p.sy, p.yz); err != nil {
		return err
	}
	p.w = n.Inputs[1].Const.I8
	return kernels.ValidateAccumulator(n.Inputs[1].Type.Shape[1], maxAbs(p.b))
}

func (p *prepared) prepareAdd(n *ir.Node) error {
	if len(p.zero) != 2 {
		return errors.New("Add needs two int8 activations")
	}
	if !n.Inputs[0].Type.Shape.Equal(n.Inputs[1].Type.Shape) {
		return errors.New("int8 Add needs operands of one shape")
	}
	var act ir.Activation
	if a, ok := n.Attrs.(*ir.EltwiseAttrs); ok && a != nil {
		act = a.Act
	}
	out, err := actRange(act, p.sy, p.yz)
	if err != nil {
		return err
	}
	sb, _, _ := perTensor(n.Inputs[1])
	p.add, err = kernels.NewAddParams(p.sx, sb, p.sy, p.zero[0], p.zero[1], p.yz, out)
	return err
}

func (p *prepared) prepareSE(n *ir.Node) error {
	a := n.Attrs.(*ir.SqueezeExciteAttrs)
	if n.Layout != ir.NHWC {
		return errors.New("int8 SqueezeExcite needs NHWC")
	}
	if a.Act.InQuant == nil || a.Gate.InQuant == nil {
		return errors.New("SqueezeExcite needs Act.InQuant (squeeze result) and Gate.InQuant (excite result)")
	}
	if a.Gate.Kind != ir.ActHardSigmoid || math.Abs(float64(a.Gate.Alpha)-1.0/6) > 1e-6 || a.Gate.Beta != 0.5 {
		return fmt.Errorf("gate %v has no int8 table", a.Gate)
	}
	sqv := &ir.Value{Name: n.Name + ".squeeze", Quant: a.Act.InQuant}
	exv := &ir.Value{Name: n.Name + ".excite", Quant: a.Gate.InQuant}
	ssq, zsq, err := perTensor(sqv)
	if err != nil {
		return err
	}
	sex, zex, err := perTensor(exv)
	if err != nil {
		return err
	}
	sw1, err := weightScales(n.Inputs[1])
	if err != nil {
		return err
	}
	sw2, err := weightScales(n.Inputs[3])
	if err != nil {
		return err
	}
	if p.b, err = biasOf(n, 2); err != nil {
		return err
	}
	if p.b2, err = biasOf(n, 4); err != nil {
		return err
	}
	if p.mult, err = multipliers(p.sx, sw1, ssq); err != nil {
		return err
	}
	if p.mult2, err = multipliers(ssq, sw2, sex); err != nil {
		return err
	}
	if p.out, err = actRange(a.Act, ssq, zsq); err != nil {
		return err
	}
	p.out2 = kernels.Full
	p.zero = append(p.zero, zsq, zex)
	p.sAux = ssq
	p.w, p.w2 = n.Inputs[1].Const.I8, n.Inputs[3].Const.I8
	if len(n.Inputs) < 6 || !n.Inputs[5].IsConst() {
		return errors.New("SqueezeExcite needs its gate table: an int8 constant [256], input 5")
	}
	p.table = kernels.Table(n.Inputs[5].Const.I8)
	if p.mul, err = kernels.NewMultiplier(p.sx * float64(GateScale) / p.sy); err != nil {
		return err
	}
	return nil
}

// Run executes the graph on one float32 input whose shape matches the graph
// input (an unknown batch dimension takes the input's). observe, if not nil,
// sees every value computed (the tensor must not be kept). It returns the
// graph outputs.
func (r *Runner) Run(input *ir.Tensor, observe func(v *ir.Value, t *ir.Tensor)) (outs []*ir.Tensor, err error) {
	in := r.g.Inputs[0]
	if input == nil || input.DType != ir.Float32 {
		return nil, errors.New("int8 interpreter: the input must be a float32 tensor")
	}
	if err := input.Check(); err != nil {
		return nil, fmt.Errorf("int8 interpreter: input: %w", err)
	}
	if len(input.Shape) != len(in.Type.Shape) {
		return nil, fmt.Errorf("int8 interpreter: input shape %v, want %v", input.Shape, in.Type.Shape)
	}
	for i, d := range in.Type.Shape {
		if d >= 0 && input.Shape[i] != d {
			return nil, fmt.Errorf("int8 interpreter: input shape %v, want %v", input.Shape, in.Type.Shape)
		}
	}
	env := map[*ir.Value]*ir.Tensor{in: input}
	if observe != nil {
		observe(in, input)
	}
	lastUse := map[*ir.Value]int{}
	for i, n := range r.g.Nodes {
		for _, v := range n.Inputs {
			lastUse[v] = i
		}
	}
	keep := map[*ir.Value]bool{}
	for _, v := range r.g.Outputs {
		keep[v] = true
	}
	for i, n := range r.g.Nodes {
		ins := make([]*ir.Tensor, len(n.Inputs))
		types := make([]ir.TensorType, len(n.Inputs))
		for j, v := range n.Inputs {
			t := v.Const
			if t == nil {
				t = env[v]
			}
			if t == nil {
				return nil, fmt.Errorf("int8 interpreter: %s %q: input %s has no value", n.Op, n.Name, v)
			}
			ins[j] = t
			types[j] = ir.TensorType{DType: t.DType, Shape: t.Shape}
		}
		out, err := r.runNode(n, ins, types)
		if err != nil {
			return nil, fmt.Errorf("int8 interpreter: %s %q: %w", n.Op, n.Name, err)
		}
		env[n.Output()] = out
		if observe != nil {
			observe(n.Output(), out)
		}
		for _, v := range n.Inputs {
			if lastUse[v] == i && !keep[v] && v.Const == nil && v != in {
				delete(env, v)
			}
		}
	}
	outs = make([]*ir.Tensor, len(r.g.Outputs))
	for i, v := range r.g.Outputs {
		if outs[i] = env[v]; outs[i] == nil {
			return nil, fmt.Errorf("int8 interpreter: output %s was not computed", v)
		}
	}
	return outs, nil
}

func (r *Runner) runNode(n *ir.Node, ins []*ir.Tensor, types []ir.TensorType) (out *ir.Tensor, err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("panic: %v\n%s", e, debug.Stack())
		}
	}()
	ts, err := ir.InferNode(n, types)
	if err != nil {
		return nil, err
	}
	shape := ts[0].Shape
	if !shape.Known() {
		return nil, fmt.Errorf("output shape %v is not concrete", shape)
	}
	p := r.prep[n]
	if ts[0].DType == ir.Float32 {
		out = ir.NewFloat32(shape, nil)
	} else {
		out = &ir.Tensor{DType: ir.Int8, Shape: shape, I8: make([]int8, shape.NumElements())}
	}
	x := ins[0]
	switch n.Op {
	case ir.Quantize:
		q := n.Output().Quant
		err = kernels.Quantize(x.F32, q.Scale[0], q.ZeroPoint[0], out.I8)
	case ir.Dequantize:
		q := n.Inputs[0].Quant
		err = kernels.Dequantize(x.I8, q.Scale[0], q.ZeroPoint[0], out.F32)
	case ir.Conv:
		err = r.conv(n, p, ins, out)
	case ir.Gemm:
		s := x.Shape
		gp := &kernels.GemmParams{M: s[0], K: s[1], N: shape[1], AZero: p.zero[0], YZero: p.yz, Mult: p.mult, Out: p.out}
		if err = gp.Validate(x.I8, p.w, p.b, out.I8); err == nil {
			parallelFor(gp.M, r.workers, func(lo, hi int) { kernels.Gemm(gp, x.I8, p.w, p.b, out.I8, lo, hi) })
		}
	case ir.SqueezeExcite:
		err = r.squeezeExcite(p, x, out)
	case ir.Add:
		if err = p.add.Validate(x.I8, ins[1].I8, out.I8); err == nil {
			kernels.Add(&p.add, x.I8, ins[1].I8, out.I8)
		}
	case ir.Mul:
		xs, gs, xi, gi := x.Shape, ins[1].Shape, 0, 1
		hw, c, e := channelMulShape(xs, gs)
		if e != nil {
			xi, gi = 1, 0
			if hw, c, e = channelMulShape(gs, xs); e != nil {
				return nil, e
			}
		}
		cp := &kernels.ChannelMulParams{N: shape[0], HW: hw, C: c, XZero: p.zero[xi], GZero: p.zero[gi], YZero: p.yz, Mult: p.mul, Out: p.out}
		if err = cp.Validate(ins[xi].I8, ins[gi].I8, out.I8); err == nil {
			kernels.ChannelMul(cp, ins[xi].I8, ins[gi].I8, out.I8, 0, cp.N*cp.HW)
		}
	case ir.GlobalAveragePool:
		s := x.Shape
		hw := s[1] * s[2]
		var m kernels.Multiplier
		if m, err = kernels.NewMultiplier(p.sx / (float64(hw) * p.sy)); err != nil {
			return nil, err
		}
		pp := &kernels.PoolParams{N: s[0], HW: hw, C: s[3], XZero: p.zero[0], YZero: p.yz, Mult: m, Out: kernels.Full}
		if err = pp.Validate(x.I8, out.I8); err == nil {
			kernels.GlobalAveragePool(pp, x.I8, out.I8)
		}
	case ir.Lookup:
		kernels.LUT(&p.table, x.I8, out.I8)
	case ir.Transpose:
		transpose(x, out, p.perm)
	case ir.Flatten, ir.Reshape, ir.Identity, ir.Dropout:
		copy(out.I8, x.I8)
	case ir.Relu, ir.Relu6, ir.Clip:
		for i, v := range x.I8 {
			out.I8[i] = max(p.out.Lo, min(p.out.Hi, v))
		}
	default:
		err = fmt.Errorf("op %v has no int8 kernel", n.Op)
	}
	return out, err
}

func (r *Runner) conv(n *ir.Node, p *prepared, ins []*ir.Tensor, out *ir.Tensor) error {
	a := n.Attrs.(*ir.ConvAttrs)
	x := ins[0]
	xs, ys, ws := x.Shape, out.Shape, n.Inputs[1].Type.Shape
	d := a.Dilations()
	cp := &kernels.ConvParams{
		N: xs[0], H: xs[1], W: xs[2], C: xs[3], OH: ys[1], OW: ys[2], O: ys[3], KH: ws[2], KW: ws[3],
		StrideH: a.Stride[0], StrideW: a.Stride[1], DilationH: d[0], DilationW: d[1],
		PadTop: a.Pads[0], PadLeft: a.Pads[1], Groups: a.Groups(),
		XZero: p.zero[0], YZero: p.yz, Mult: p.mult, Out: p.out,
	}
	switch p.kind {
	case convDepthwise:
		if err := cp.ValidateDepthwise(x.I8, p.w, p.b, out.I8); err != nil {
			return err
		}
		parallelFor(cp.Rows(), r.workers, func(lo, hi int) { kernels.Depthwise(cp, x.I8, p.w, p.b, out.I8, lo, hi) })
	case convPointwise:
		if err := cp.ValidatePointwise(x.I8, p.w, p.b, out.I8); err != nil {
			return err
		}
		parallelFor(cp.Pixels(), r.workers, func(lo, hi int) { kernels.Pointwise(cp, x.I8, p.w, p.b, out.I8, lo, hi) })
	default:
		if err := cp.Validate(x.I8, p.w, p.b, out.I8); err != nil {
			return err
		}
		parallelFor(cp.Rows(), r.workers, func(lo, hi int) { kernels.Conv(cp, x.I8, p.w, p.b, out.I8, lo, hi) })
	}
	return nil
}

func (r *Runner) squeezeExcite(p *prepared, x, out *ir.Tensor) error {
	s := x.Shape
	nb, hw, c := s[0], s[1]*s[2], s[3]
	sq := len(p.b)
	if p.b == nil {
		sq = len(p.mult)
	}
	pm, err := kernels.NewMultiplier(1 / float64(hw))
	if err != nil {
		return err
	}
	zx, zsq, zex := p.zero[0], p.zero[1], p.zero[2]
	sp := &kernels.SEParams{
		Pool:    kernels.PoolParams{N: nb, HW: hw, C: c, XZero: zx, YZero: zx, Mult: pm, Out: kernels.Full},
		Squeeze: kernels.GemmParams{M: nb, K: c, N: sq, AZero: zx, YZero: zsq, Mult: p.mult, Out: p.out},
		Excite:  kernels.GemmParams{M: nb, K: sq, N: c, AZero: zsq, YZero: zex, Mult: p.mult2, Out: p.out2},
		Gate:    p.table,
		Scale:   kernels.ChannelMulParams{N: nb, HW: hw, C: c, XZero: zx, GZero: GateZero, YZero: p.yz, Mult: p.mul, Out: kernels.Full},
	}
	if err := sp.Validate(x.I8, p.w, p.b, p.w2, p.b2, out.I8); err != nil {
		return err
	}
	kernels.SqueezeExcite(sp, x.I8, p.w, p.b, p.w2, p.b2, out.I8)
	return nil
}

// transpose permutes the dimensions of an int8 tensor.
func transpose(x, out *ir.Tensor, perm []int) {
	r := len(x.Shape)
	inStride := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		inStride[i] = s
		s *= x.Shape[i]
	}
	idx := make([]int, r)
	for o := range out.I8 {
		off := 0
		for i := range r {
			off += idx[i] * inStride[perm[i]]
		}
		out.I8[o] = x.I8[off]
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < out.Shape[i] {
				break
			}
			idx[i] = 0
		}
	}
}

// parallelFor calls body over disjoint ranges covering [0, n) on up to
// workers goroutines; a panic in a worker is re-raised in the caller.
func parallelFor(n, workers int, body func(lo, hi int)) {
	w := min(max(workers, 1), n)
	if w <= 1 {
		if n > 0 {
			body(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var caught any
	for k := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if e := recover(); e != nil {
					mu.Lock()
					caught = e
					mu.Unlock()
				}
			}()
			body(k*n/w, (k+1)*n/w)
		}()
	}
	wg.Wait()
	if caught != nil {
		panic(caught)
	}
}
