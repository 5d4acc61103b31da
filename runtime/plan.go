package runtime

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// step is one operator of the execution plan with everything resolved at
// load time: kernel parameters, weight slices, arena positions. run must
// not allocate; check validates the kernel parameters against the views
// of a real arena (NewInterpreter calls it once per interpreter).
type step interface {
	run(ar []byte)
	check(ar []byte) error
}

// view is a tensor's place in the arena: n elements from byte off.
type view struct{ off, n int }

func (v view) i8(ar []byte) []int8 {
	b := ar[v.off : v.off+v.n]
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), v.n)
}

func (v view) f32(ar []byte) []float32 {
	b := ar[v.off : v.off+4*v.n]
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), v.n)
}

func (v view) bytes(ar []byte, size int) []byte { return ar[v.off : v.off+size*v.n] }

// planner builds the steps of one model.
type planner struct {
	m   *Model
	bud *budget
}

func (m *Model) buildPlan() error {
	p := &planner{m: m, bud: &budget{left: 16*int64(len(m.data)) + 16<<20}}
	m.steps = make([]step, len(m.ops))
	for i := range m.ops {
		op := &m.ops[i]
		s, err := p.op(op)
		if err != nil {
			return fmt.Errorf("operator %d (%v %q): %w", i, op.code, op.name, err)
		}
		m.steps[i] = s
	}
	return nil
}

func (m *Model) viewOf(x int) view { return view{off: int(m.tensors[x].offset), n: m.tensors[x].n} }

// arg returns input k, or nil when it is absent.
func (p *planner) arg(op *operator, k int) *tensor {
	if k >= len(op.in) || op.in[k] < 0 {
		return nil
	}
	return &p.m.tensors[op.in[k]]
}

func (p *planner) argView(op *operator, k int) view { return p.m.viewOf(op.in[k]) }

// arity checks the numbers of inputs (min..max), outputs and
// intermediates; inputs below minIn must be present except the optional
// ones listed (-1 in the file), those from minIn on may be absent.
func arity(op *operator, minIn, maxIn, nOut, nMid int, optional ...int) error {
	if len(op.in) < minIn || len(op.in) > maxIn || len(op.out) != nOut || len(op.mid) != nMid {
		return fmt.Errorf("has %d inputs, %d outputs and %d intermediates; want %d to %d, %d and %d",
			len(op.in), len(op.out), len(op.mid), minIn, maxIn, nOut, nMid)
	}
	for k := range minIn {
		if op.in[k] < 0 && !slices.Contains(optional, k) {
			return fmt.Errorf("required input %d is absent", k)
		}
	}
	return nil
}

func wantOptions(op *operator, ts ...mncfb.OpOptions) error {
	for _, t := range ts {
		if op.optType == t {
			return nil
		}
	}
	if op.optType == mncfb.OpOptionsNONE && len(ts) > 0 && ts[len(ts)-1] == mncfb.OpOptionsNONE {
		return nil
	}
	return fmt.Errorf("has options %v, want %v", op.optType, ts)
}

// act8 checks an int8 activation tensor with per-tensor quantization.
func act8(t *tensor) (float64, int32, error) {
	if t.dtype != mncfb.DTypeINT8 || t.isConst() {
		return 0, 0, fmt.Errorf("%v must be an int8 activation, is %v", t, t.dtype)
	}
	if !t.perTensor() {
		return 0, 0, fmt.Errorf("%v needs one scale (per-tensor quantization), has %d", t, len(t.scale))
	}
	return float64(t.scale[0]), t.zeroAt(0), nil
}

func actF32(t *tensor) error {
	if t.dtype != mncfb.DTypeFLOAT32 || t.isConst() {
		return fmt.Errorf("%v must be a float32 activation, is %v", t, t.dtype)
	}
	return nil
}

// weights8 checks an int8 constant with o per-channel scales on axis and
// zero points 0, and returns the scales.
func weights8(t *tensor, o, axis int) ([]float64, error) {
	if t == nil || t.dtype != mncfb.DTypeINT8 || !t.isConst() {
		return nil, errors.New("weights must be an int8 constant")
	}
	if len(t.scale) != o || (o > 1 && t.axis != axis) {
		return nil, fmt.Errorf("%v needs %d scales on axis %d, has %d on axis %d", t, o, axis, len(t.scale), t.axis)
	}
	s := make([]float64, o)
	for i := range o {
		if t.zeroAt(i) != 0 {
			return nil, fmt.Errorf("%v has a nonzero zero point (weights are symmetric)", t)
		}
		s[i] = float64(t.scale[i])
	}
	return s, nil
}

// bias32 checks an optional int32 constant [o].
func bias32(t *tensor, o int) ([]int32, error) {
	if t == nil {
		return nil, nil
	}
	if t.dtype != mncfb.DTypeINT32 || !t.isConst() || len(t.shape) != 1 || t.shape[0] != o {
		return nil, fmt.Errorf("bias must be an int32 constant [%d], is %v %v", o, t.dtype, t.shape)
	}
	return int32s(t.data), nil
}

func maxAbs(b []int32) int64 {
	var m int64
	for _, v := range b {
		m = max(m, int64(math.Abs(float64(v))))
	}
	return m
}

// multipliers returns kernels.NewMultiplier(sx * sw[o] / sy) for every o,
// the expression of the quantization scheme.
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

// clampRange is a fused clamp in the quantized domain of the output (scale
// s, zero z): a bound b becomes z + round_half_away(b/s) within
// [-128, 127]; ReLU is [z, 127], ReLU6 [z, z + round(6/s)].
func clampRange(a activation, s float64, z int32) (kernels.Range, error) {
	switch a.kind {
	case mncfb.ActivationKindNONE:
		return kernels.Full, nil
	case mncfb.ActivationKindRELU:
		return kernels.ClampRange(0, math.Inf(1), s, z), nil
	case mncfb.ActivationKindRELU6:
		return kernels.ClampRange(0, 6, s, z), nil
	case mncfb.ActivationKindCLIP:
		return kernels.ClampRange(float64(a.min), float64(a.max), s, z), nil
	}
	return kernels.Range{}, fmt.Errorf("activation %v cannot be fused into an int8 op (it needs a lookup table)", a.kind)
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// nhwc returns the dimensions of a [1,H,W,C] tensor.
func nhwc(t *tensor) (h, w, c int, err error) {
	if len(t.shape) != 4 || t.shape[0] != 1 {
		return 0, 0, 0, fmt.Errorf("%v has shape %v, want [1,H,W,C]", t, t.shape)
	}
	return t.shape[1], t.shape[2], t.shape[3], nil
}

// outSize is the output size of a window of k taps (dilation d) sliding
// with stride s over n positions padded by a and b.
func outSize(n, k, s, d, a, b int) int {
	span := int64(n) + int64(a) + int64(b) - int64(d)*int64(k-1) - 1
	if span < 0 {
		return 0
	}
	return int(span/int64(s) + 1)
}

const maxPad = 1 << 16

func (p *planner) op(op *operator) (step, error) {
	if len(op.in) == 0 || op.in[0] < 0 {
		return nil, errors.New("has no first input")
	}
	x := p.arg(op, 0)
	float := x.dtype == mncfb.DTypeFLOAT32
	switch op.code {
	case mncfb.BuiltinOpQUANTIZE:
		return p.quantize(op)
	case mncfb.BuiltinOpDEQUANTIZE:
		return p.dequantize(op)
	case mncfb.BuiltinOpTRANSPOSE:
		return p.transpose(op)
	case mncfb.BuiltinOpRESHAPE:
		return p.reshape(op)
	}
	if float {
		return p.floatOp(op)
	}
	switch op.code {
	case mncfb.BuiltinOpCONV_2D:
		return p.conv8(op)
	case mncfb.BuiltinOpFULLY_CONNECTED:
		return p.fc8(op)
	case mncfb.BuiltinOpADD:
		return p.add8(op)
	case mncfb.BuiltinOpMUL:
		return p.mul8(op)
	case mncfb.BuiltinOpSQUEEZE_EXCITE:
		return p.se8(op)
	case mncfb.BuiltinOpGLOBAL_AVERAGE_POOL:
		return p.gap8(op)
	case mncfb.BuiltinOpLOOKUP:
		return p.lookup(op)
	case mncfb.BuiltinOpRELU, mncfb.BuiltinOpRELU6, mncfb.BuiltinOpCLIP:
		return p.clamp8(op)
	}
	return nil, fmt.Errorf("has no int8 kernel")
}

// --- boundary and layout ops (both precisions) ---

type quantizeStep struct {
	x, y  view
	scale float32
	zero  int32
	inv   float32 // kernels.QuantizeInv(scale)
	fn    func(x []float32, inv float32, zero int32, y []int8)
}

func (s *quantizeStep) run(ar []byte) { s.fn(s.x.f32(ar), s.inv, s.zero, s.y.i8(ar)) }

// check validates the parameters as kernels.Quantize does, then runs.
func (s *quantizeStep) check(ar []byte) error {
	if err := kernels.Quantize(nil, s.scale, s.zero, nil); err != nil {
		return err
	}
	s.run(ar)
	return nil
}

func (p *planner) quantize(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := actF32(x); err != nil {
		return nil, err
	}
	sy, zy, err := act8(y)
	if err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	s := &quantizeStep{x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), scale: float32(sy), zero: zy, fn: p.m.kern.quantize}
	if err := kernels.Quantize(nil, s.scale, s.zero, nil); err != nil {
		return nil, err
	}
	s.inv = kernels.QuantizeInv(s.scale)
	return s, nil
}

type dequantizeStep struct {
	x, y  view
	scale float32
	zero  int32
}

func (s *dequantizeStep) run(ar []byte) {
	_ = kernels.Dequantize(s.x.i8(ar), s.scale, s.zero, s.y.f32(ar))
}
func (s *dequantizeStep) check(ar []byte) error {
	return kernels.Dequantize(s.x.i8(ar), s.scale, s.zero, s.y.f32(ar))
}

func (p *planner) dequantize(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	sx, zx, err := act8(x)
	if err != nil {
		return nil, err
	}
	if err := actF32(y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	return &dequantizeStep{x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), scale: float32(sx), zero: zx}, nil
}

// sameCodes checks that a code-preserving op keeps dtype and quantization.
func sameCodes(x, y *tensor) error {
	if x.dtype != y.dtype || y.isConst() {
		return fmt.Errorf("input is %v, output %v", x.dtype, y.dtype)
	}
	if x.dtype == mncfb.DTypeINT8 {
		sx, zx, err := act8(x)
		if err != nil {
			return err
		}
		sy, zy, err := act8(y)
		if err != nil {
			return err
		}
		if sx != sy || zx != zy {
			return errors.New("input and output quantization differ; this op does not requantize")
		}
	} else if err := actF32(x); err != nil {
		return err
	}
	return nil
}

// transposeStep permutes the dimensions of a tensor of rank <= maxRank.
type transposeStep struct {
	x, y    view
	size    int // element size in bytes
	rank    int
	outDims [maxRank]int
	stride  [maxRank]int // input stride of output dimension i
	// toNHWC is C for the int8 NCHW -> NHWC permutation (the model
	// input's), which runs a loop of its own (il3 for 3 channels); 0
	// otherwise.
	toNHWC, hw int
	il3        func(r, g, b, y []int8)
}

func (s *transposeStep) check([]byte) error { return nil }

// run is runRange (threads.go) over every output element.
func (s *transposeStep) run(ar []byte) { s.runRange(ar, 0, s.y.n) }

func (p *planner) transpose(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsTransposeOptions); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	r := len(x.shape)
	if len(op.perm) != r || len(y.shape) != r {
		return nil, fmt.Errorf("permutation %v does not fit shapes %v -> %v", op.perm, x.shape, y.shape)
	}
	s := &transposeStep{x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), size: elemSize(x.dtype), rank: r}
	var inStride [maxRank]int
	st := 1
	for i := r - 1; i >= 0; i-- {
		inStride[i] = st
		st *= x.shape[i]
	}
	used := [maxRank]bool{}
	for i, a := range op.perm {
		if a < 0 || a >= r || used[a] {
			return nil, fmt.Errorf("%v is not a permutation of %d axes", op.perm, r)
		}
		used[a] = true
		if y.shape[i] != x.shape[a] {
			return nil, fmt.Errorf("output shape %v is not %v permuted by %v", y.shape, x.shape, op.perm)
		}
		s.outDims[i] = y.shape[i]
		s.stride[i] = inStride[a]
	}
	if r == 4 && s.size == 1 && slices.Equal(op.perm, []int{0, 2, 3, 1}) && x.shape[1] > 0 {
		s.toNHWC, s.hw, s.il3 = x.shape[1], x.shape[2]*x.shape[3], p.m.kern.interleave3
	}
	return s, nil
}

type copyStep struct {
	x, y view
	size int
}

func (s *copyStep) run(ar []byte)      { copy(s.y.bytes(ar, s.size), s.x.bytes(ar, s.size)) }
func (s *copyStep) check([]byte) error { return nil }

func (p *planner) reshape(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsReshapeOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("reshape of %v into %v changes the element count", x.shape, y.shape)
	}
	return &copyStep{x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), size: elemSize(x.dtype)}, nil
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

// colsStep computes a GEMM with a single row (a 1x1 convolution of one
// pixel, a fully connected layer of batch 1: the classifiers) as blocks of
// output channels, each with weights packed on their own, so that the
// threads can share a layer that has no rows to split. Every channel is
// computed by the same kernel code as in one call, so the bytes are the
// same.
type colsStep struct {
	x, y  view
	parts []colPart
	conv  convKernel // the pointwise kernel, or nil
	gemm  func(p *kernels.GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int)
	macs  int64
}

// colPart is output channels [o0, o0+n) of a colsStep: the kernel's
// parameters (cp for conv, gp for gemm) restricted to them, and their
// weights packed (w) and not (wv, for validation).
type colPart struct {
	o0, n int
	cp    kernels.ConvParams
	gp    kernels.GemmParams
	w, wv []int8
	b     []int32
}

// colsMin is the smallest block of channels of a colsStep.
const colsMin = 64

func (s *colsStep) run(ar []byte) { s.runRange(ar, 0, len(s.parts)) }

func (s *colsStep) runRange(ar []byte, lo, hi int) {
	x, y := s.x.i8(ar), s.y.i8(ar)
	for i := lo; i < hi; i++ {
		pt := &s.parts[i]
		if s.conv != nil {
			s.conv(&pt.cp, x, pt.w, pt.b, y[pt.o0:pt.o0+pt.n], 0, 1)
		} else {
			s.gemm(&pt.gp, x, pt.w, pt.b, y[pt.o0:pt.o0+pt.n], 0, 1)
		}
	}
}

func (s *colsStep) check(ar []byte) error {
	x, y := s.x.i8(ar), s.y.i8(ar)
	for i := range s.parts {
		pt := &s.parts[i]
		var err error
		if s.conv != nil {
			err = pt.cp.ValidatePointwise(x, pt.wv, pt.b, y[pt.o0:pt.o0+pt.n])
		} else {
			err = pt.gp.Validate(x, pt.wv, pt.b, y[pt.o0:pt.o0+pt.n])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *colsStep) extent() int { return len(s.parts) }
func (s *colsStep) work() int64 { return s.macs }
func (s *colsStep) align() int  { return 1 }

// cols builds a colsStep over o output channels of k inputs, weights w
// [o][k] and bias b (or nil): at most 8 blocks of a multiple of 16 channels,
// at least colsMin each; part gives each block's kernel parameters.
func (p *planner) cols(x, y view, w []int8, b []int32, o, k int, part func(o0, n int) colPart, conv convKernel,
	gemm func(*kernels.GemmParams, []int8, []int8, []int32, []int8, int, int)) (*colsStep, error) {
	if len(w) < o*k || (b != nil && len(b) < o) {
		return nil, fmt.Errorf("weights of %d values for %d x %d", len(w), o, k)
	}
	bs := max(colsMin, (o+7)/8+15&^15)
	s := &colsStep{x: x, y: y, conv: conv, gemm: gemm, macs: int64(o) * int64(k)}
	kern := p.m.kern
	for o0 := 0; o0 < o; o0 += bs {
		n := min(bs, o-o0)
		pt := part(o0, n)
		pt.o0, pt.n, pt.wv = o0, n, w[o0*k:(o0+n)*k]
		if b != nil {
			pt.b = b[o0 : o0+n]
		}
		pt.w = pt.wv
		var err error
		switch {
		case conv != nil && kern.packPointwise != nil:
			pt.w, err = p.pack(func() []int8 { return kern.packPointwise(pt.wv, n, k) })
		case gemm != nil && kern.packGemm != nil:
			pt.w, err = p.pack(func() []int8 { return kern.packGemm(pt.wv, n, k) })
		}
		if err != nil {
			return nil, err
		}
		s.parts = append(s.parts, pt)
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

type gemmStep struct {
	p    kernels.GemmParams
	x, y view
	w    []int8 // packed
	wv   []int8 // before packing, for Validate
	b    []int32
	fn   func(p *kernels.GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int)
}

func (s *gemmStep) run(ar []byte) { s.fn(&s.p, s.x.i8(ar), s.w, s.b, s.y.i8(ar), 0, s.p.M) }
func (s *gemmStep) check(ar []byte) error {
	return s.p.Validate(s.x.i8(ar), s.wv, s.b, s.y.i8(ar))
}

// gemmParams checks a fully connected layer x[M,K] w[N,K] b?[N] -> y[M,N].
func gemmShape(x, w, y *tensor) (m, k, n int, err error) {
	if len(x.shape) != 2 || len(w.shape) != 2 || len(y.shape) != 2 {
		return 0, 0, 0, fmt.Errorf("shapes %v x %v -> %v, want [M,K] x [N,K] -> [M,N]", x.shape, w.shape, y.shape)
	}
	m, k, n = x.shape[0], x.shape[1], w.shape[0]
	if w.shape[1] != k || y.shape[0] != m || y.shape[1] != n {
		return 0, 0, 0, fmt.Errorf("shapes %v x %v -> %v, want [M,K] x [N,K] -> [M,N]", x.shape, w.shape, y.shape)
	}
	return m, k, n, nil
}

// gemm8 prepares an int8 fully connected layer (FULLY_CONNECTED, and the
// two layers of SQUEEZE_EXCITE): as the kernel set's gemm, or as a 1x1
// convolution over M pixels.
func (p *planner) gemm8(x view, w []int8, b []int32, y view, gp kernels.GemmParams) step {
	if fn := p.m.kern.gemm; fn != nil && gp.M == 1 && gp.N >= 2*colsMin {
		s, err := p.cols(x, y, w, b, gp.N, gp.K, func(o0, n int) colPart {
			q := gp
			q.N, q.Mult = n, gp.Mult[o0:o0+n]
			return colPart{gp: q}
		}, nil, fn)
		if err == nil {
			return s
		}
	}
	if fn := p.m.kern.gemm; fn != nil {
		wv := w
		if pk := p.m.kern.packGemm; pk != nil {
			// Packing sizes are the kernel set's business; it is not
			// charged to the budget here, as the result may share w.
			w = pk(w, gp.N, gp.K)
		}
		return &gemmStep{p: gp, x: x, y: y, w: w, wv: wv, b: b, fn: fn}
	}
	cp := kernels.ConvParams{N: gp.M, H: 1, W: 1, C: gp.K, OH: 1, OW: 1, O: gp.N, KH: 1, KW: 1,
		StrideH: 1, StrideW: 1, Groups: 1, XZero: gp.AZero, YZero: gp.YZero, Mult: gp.Mult, Out: gp.Out}
	return &convStep{p: cp, x: x, y: y, w: w, wv: w, b: b, fn: p.m.kern.conv, n: gp.M,
		validate: (*kernels.ConvParams).Validate}
}

func (p *planner) fc8(op *operator) (step, error) {
	if err := arity(op, 2, 3, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsFullyConnectedOptions, mncfb.OpOptionsNONE); err != nil {
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
	mm, k, n, err := gemmShape(x, w, y)
	if err != nil {
		return nil, err
	}
	sw, err := weights8(w, n, 0)
	if err != nil {
		return nil, err
	}
	b, err := bias32(p.arg(op, 2), n)
	if err != nil {
		return nil, err
	}
	gp := kernels.GemmParams{M: mm, K: k, N: n, AZero: zx, YZero: zy}
	if gp.Mult, err = multipliers(sx, sw, sy); err != nil {
		return nil, err
	}
	if gp.Out, err = clampRange(op.act, sy, zy); err != nil {
		return nil, err
	}
	if err := kernels.ValidateAccumulator(k, maxAbs(b)); err != nil {
		return nil, err
	}
	if err := p.bud.spend(int64(n)*8, "multipliers"); err != nil {
		return nil, err
	}
	return p.gemm8(p.argView(op, 0), int8s(w.data), b, p.m.viewOf(op.out[0]), gp), nil
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

type lutStep struct {
	t    kernels.Table
	x, y view
	fn   func(t *kernels.Table, x, y []int8)
}

func (s *lutStep) run(ar []byte)      { s.fn(&s.t, s.x.i8(ar), s.y.i8(ar)) }
func (s *lutStep) check([]byte) error { return nil }

// table reads a constant int8 [256] lookup table.
func table(t *tensor) (kernels.Table, error) {
	var tb kernels.Table
	if t == nil || t.dtype != mncfb.DTypeINT8 || !t.isConst() || t.n != 256 || len(t.shape) != 1 {
		return tb, errors.New("the table must be an int8 constant [256]")
	}
	copy(tb[:], int8s(t.data))
	return tb, nil
}

func (p *planner) lookup(op *operator) (step, error) {
	if err := arity(op, 2, 2, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if _, _, err := act8(x); err != nil {
		return nil, err
	}
	if _, _, err := act8(y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	tb, err := table(p.arg(op, 1))
	if err != nil {
		return nil, err
	}
	return &lutStep{t: tb, x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), fn: p.m.kern.lut}, nil
}

type clampStep struct {
	r    kernels.Range
	x, y view
}

func (s *clampStep) run(ar []byte) {
	x, y := s.x.i8(ar), s.y.i8(ar)
	y = y[:len(x)]
	for i, v := range x {
		y[i] = max(s.r.Lo, min(s.r.Hi, v))
	}
}
func (s *clampStep) check([]byte) error { return nil }

func (p *planner) clamp8(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	sx, zx, _ := act8(x)
	a := activation{kind: mncfb.ActivationKindRELU}
	switch op.code {
	case mncfb.BuiltinOpRELU6:
		a.kind = mncfb.ActivationKindRELU6
	case mncfb.BuiltinOpCLIP:
		if err := wantOptions(op, mncfb.OpOptionsActivationOptions); err != nil {
			return nil, err
		}
		a = activation{kind: mncfb.ActivationKindCLIP, min: op.act.min, max: op.act.max}
	}
	r, err := clampRange(a, sx, zx)
	if err != nil {
		return nil, err
	}
	return &clampStep{r: r, x: p.argView(op, 0), y: p.m.viewOf(op.out[0])}, nil
}

// seStep is the int8 squeeze-and-excitation unit, composed of the kernel
// set's pool, gemm (or 1x1 conv), lut and channel-mul entries, with its
// intermediate results in the arena.
type seStep struct {
	pool    poolStep
	squeeze step
	excite  step
	gate    lutStep
	scale   chanMulStep
}

func (s *seStep) run(ar []byte) {
	s.prologue(ar)
	s.scale.run(ar)
}

// prologue computes the gate: pool, squeeze, excite, hard sigmoid (small,
// on the calling thread); the scale by the gate, over every position,
// is what threads split (runRange).
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

func (p *planner) se8(op *operator) (step, error) {
	if err := arity(op, 6, 6, 1, 4, 2, 4); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsSqueezeExciteOptions); err != nil {
		return nil, err
	}
	x, w1, w2, y := p.arg(op, 0), p.arg(op, 1), p.arg(op, 3), &p.m.tensors[op.out[0]]
	mids := make([]*tensor, 4)
	for i, t := range op.mid {
		mids[i] = &p.m.tensors[t]
	}
	pooled, squeezed, excited, gate := mids[0], mids[1], mids[2], mids[3]
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
	if !sameShape(x.shape, y.shape) {
		return nil, fmt.Errorf("output shape %v, want %v", y.shape, x.shape)
	}
	if len(w1.shape) != 2 || w1.shape[1] != c || len(w2.shape) != 2 || w2.shape[0] != c || w2.shape[1] != w1.shape[0] {
		return nil, fmt.Errorf("weights %v and %v do not fit %d channels ([S,%d] and [%d,S])", w1.shape, w2.shape, c, c, c)
	}
	sq := w1.shape[0]
	sp, zp, err := act8(pooled)
	if err != nil {
		return nil, err
	}
	ssq, zsq, err := act8(squeezed)
	if err != nil {
		return nil, err
	}
	sex, zex, err := act8(excited)
	if err != nil {
		return nil, err
	}
	sg, zg, err := act8(gate)
	if err != nil {
		return nil, err
	}
	if sp != sx || zp != zx {
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
	b1, err := bias32(p.arg(op, 2), sq)
	if err != nil {
		return nil, err
	}
	b2, err := bias32(p.arg(op, 4), c)
	if err != nil {
		return nil, err
	}
	tb, err := table(p.arg(op, 5))
	if err != nil {
		return nil, err
	}
	hw := h * w
	if int64(hw)*255 >= math.MaxInt32 {
		return nil, fmt.Errorf("a pool over %d positions may overflow int32", hw)
	}
	pm, err := kernels.NewMultiplier(1 / float64(hw))
	if err != nil {
		return nil, err
	}
	m1, err := multipliers(sx, sw1, ssq)
	if err != nil {
		return nil, fmt.Errorf("squeeze: %w", err)
	}
	m2, err := multipliers(ssq, sw2, sex)
	if err != nil {
		return nil, fmt.Errorf("excite: %w", err)
	}
	out1, err := clampRange(op.act, ssq, zsq)
	if err != nil {
		return nil, err
	}
	if err := kernels.ValidateAccumulator(max(c, sq), max(maxAbs(b1), maxAbs(b2))); err != nil {
		return nil, err
	}
	ms, err := kernels.NewMultiplier(sx * sg / sy)
	if err != nil {
		return nil, err
	}
	if err := p.bud.spend(int64(c+sq)*8, "multipliers"); err != nil {
		return nil, err
	}
	vx, vp, vs, ve, vg := p.argView(op, 0), p.m.viewOf(op.mid[0]), p.m.viewOf(op.mid[1]), p.m.viewOf(op.mid[2]), p.m.viewOf(op.mid[3])
	k := p.m.kern
	return &seStep{
		pool: poolStep{p: kernels.PoolParams{N: 1, HW: hw, C: c, XZero: zx, YZero: zx, Mult: pm, Out: kernels.Full},
			x: vx, y: vp, fn: k.pool},
		squeeze: p.gemm8(vp, int8s(w1.data), b1, vs, kernels.GemmParams{M: 1, K: c, N: sq, AZero: zx, YZero: zsq, Mult: m1, Out: out1}),
		excite:  p.gemm8(vs, int8s(w2.data), b2, ve, kernels.GemmParams{M: 1, K: sq, N: c, AZero: zsq, YZero: zex, Mult: m2, Out: kernels.Full}),
		gate:    lutStep{t: tb, x: ve, y: vg, fn: k.lut},
		scale: chanMulStep{p: kernels.ChannelMulParams{N: 1, HW: hw, C: c, XZero: zx, GZero: zg, YZero: zy, Mult: ms, Out: kernels.Full},
			x: vx, g: vg, y: p.m.viewOf(op.out[0]), fn: k.chanMul},
	}, nil
}
