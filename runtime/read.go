package runtime

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"unsafe"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/limits"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// tensor is the verified description of one tensor of the file.
type tensor struct {
	name   string
	dtype  mncfb.DType
	shape  []int
	n      int // elements
	bytes  int
	buffer int    // 0: an activation
	data   []byte // constant data (in place), nil for activations
	scale  []float32
	zero   []int32 // nil: 0; one entry: every channel; else one per channel
	axis   int
	offset int64 // arena offset; -1 for constants
	first  int   // lifetime, in op indices (activations)
	last   int
}

func (t *tensor) isConst() bool { return t.buffer != 0 }

// zeroAt returns the zero point of channel i.
func (t *tensor) zeroAt(i int) int32 {
	switch len(t.zero) {
	case 0:
		return 0
	case 1:
		return t.zero[0]
	}
	return t.zero[i]
}

func (t *tensor) perTensor() bool { return len(t.scale) == 1 }

func (t *tensor) String() string { return fmt.Sprintf("tensor %q", t.name) }

// activation is a fused or standalone activation.
type activation struct {
	kind                  mncfb.ActivationKind
	min, max, alpha, beta float32
}

type convOptions struct {
	strideH, strideW, dilH, dilW int
	padT, padL, padB, padR       int
	groups                       int
	act                          activation
	layout                       mncfb.WeightLayout
}

// resizeOptions are RESIZE_BILINEAR's (format 1.4).
type resizeOptions struct {
	h, w                    int
	alignCorners, halfPixel bool
}

type poolOptions struct {
	kh, kw, strideH, strideW int
	padT, padL, padB, padR   int
	countIncludePad          bool
}

// operator is the verified description of one operator.
type operator struct {
	code    mncfb.BuiltinOp
	version int
	name    string
	in      []int // tensor indices, -1 absent
	out     []int
	mid     []int
	optType mncfb.OpOptions
	conv    convOptions
	pool    poolOptions
	act     activation // fused activation (or a standalone op's parameters)
	gate    activation
	perm    []int
	axis    int // SOFTMAX, ARG_MAX, CONCATENATION
	resize  resizeOptions
	// argResize is ARG_MAX's fused resize (nil: none).
	argResize *resizeOptions
}

// budget bounds what reading a file may copy or allocate beyond the file:
// strings and tables may be shared inside a file, so a small file could
// otherwise make the reader allocate without bound.
type budget struct{ left int64 }

func (b *budget) spend(n int64, what string) error {
	if n < 0 || n > b.left {
		return fmt.Errorf("the file's %s would need more memory than the file could justify", what)
	}
	b.left -= n
	return nil
}

func elemSize(d mncfb.DType) int {
	switch d {
	case mncfb.DTypeINT8:
		return 1
	case mncfb.DTypeFLOAT32, mncfb.DTypeINT32:
		return 4
	}
	return 0
}

func (m *Model) str(b []byte, bud *budget, what string) (string, error) {
	if err := bud.spend(int64(len(b)), what); err != nil {
		return "", err
	}
	return string(b), nil
}

// read copies the file's tables into Go structures, checking every index,
// shape, dtype and option; constant data stays in place.
func (m *Model) read(r *mncfb.Model) error {
	bud := &budget{left: int64(len(m.data)) + 1<<20}
	var err error
	m.info.Format = fmt.Sprintf("%d.%d", r.FormatMajor(), r.FormatMinor())
	if m.info.Name, err = m.str(r.Name(), bud, "name"); err != nil {
		return err
	}
	switch r.Precision() {
	case mncfb.PrecisionINT8:
		m.info.Precision = "int8"
	case mncfb.PrecisionFLOAT32:
		m.info.Precision = "float32"
	case mncfb.PrecisionMIXED:
		m.info.Precision = "mixed"
	default:
		return fmt.Errorf("unknown precision %d", r.Precision())
	}
	if m.info.Target, err = m.str(r.Target(), bud, "target"); err != nil {
		return err
	}

	bufs, err := m.readBuffers(r)
	if err != nil {
		return err
	}

	// Operator codes.
	nc := r.OperatorCodesLength()
	if nc > maxOps {
		return fmt.Errorf("%d operator codes (at most %d)", nc, maxOps)
	}
	codes := make([]mncfb.OperatorCode, nc)
	for i := range nc {
		r.OperatorCodes(&codes[i], i)
	}

	// Tensors.
	nt := r.TensorsLength()
	if nt < 1 || nt > maxTensors {
		return fmt.Errorf("%d tensors (want 1 to %d)", nt, maxTensors)
	}
	if err := bud.spend(int64(nt)*int64(unsafe.Sizeof(tensor{})), "tensor table"); err != nil {
		return err
	}
	m.tensors = make([]tensor, nt)
	var ft mncfb.Tensor
	var fq mncfb.Quantization
	for i := range nt {
		r.Tensors(&ft, i)
		t := &m.tensors[i]
		if err := m.readTensor(t, &ft, &fq, bufs, bud); err != nil {
			return fmt.Errorf("tensor %d (%q): %w", i, t.name, err)
		}
	}

	// The precision field says what the tensors are: an int8 model
	// quantizes (some tensor is int8), a float32 one computes nothing in
	// int8 (no activation is int8; since 1.6 its layers' weights may be
	// stored as int8 codes, which the planner dequantizes: weightsF).
	first8, act8 := -1, -1
	for i := range m.tensors {
		if m.tensors[i].dtype == mncfb.DTypeINT8 {
			if first8 < 0 {
				first8 = i
			}
			if !m.tensors[i].isConst() {
				act8 = i
				break
			}
		}
	}
	switch {
	case m.info.Precision != "float32" && first8 < 0:
		return fmt.Errorf("the file's precision is %s, but none of its tensors is int8", m.info.Precision)
	case m.info.Precision == "float32" && act8 >= 0:
		return fmt.Errorf("the file's precision is float32, but tensor %d (%q) is int8", act8, esc.String(m.tensors[act8].name))
	}

	// Operators.
	no := r.OperatorsLength()
	if no < 1 || no > maxOps {
		return fmt.Errorf("%d operators (want 1 to %d)", no, maxOps)
	}
	if err := bud.spend(int64(no)*int64(unsafe.Sizeof(operator{})), "operator table"); err != nil {
		return err
	}
	m.ops = make([]operator, no)
	var fo mncfb.Operator
	for i := range no {
		r.Operators(&fo, i)
		op := &m.ops[i]
		if err := m.readOperator(op, &fo, codes, bud); err != nil {
			return fmt.Errorf("operator %d (%q): %w", i, op.name, err)
		}
	}
	if err := m.checkPrecisions(r); err != nil {
		return err
	}

	// Graph inputs and outputs: one input, 1 to MaxOutputs outputs
	// (several: format 1.4), each a distinct activation.
	if r.InputsLength() != 1 || r.OutputsLength() < 1 || r.OutputsLength() > MaxOutputs {
		return fmt.Errorf("the graph has %d inputs and %d outputs; this runtime runs one input and 1 to %d outputs", r.InputsLength(), r.OutputsLength(), MaxOutputs)
	}
	m.input = int(r.Inputs(0))
	if m.input < 0 || m.input >= nt {
		return fmt.Errorf("graph input tensor %d out of range", m.input)
	}
	in := &m.tensors[m.input]
	if in.dtype != mncfb.DTypeFLOAT32 || in.isConst() {
		return fmt.Errorf("the graph input must be a float32 activation (have %v, %s)", in.dtype, constWord(in))
	}
	if in.shape[0] != 1 {
		return fmt.Errorf("input %v must have batch 1", in.shape)
	}
	m.outputs = make([]int, r.OutputsLength())
	for i := range m.outputs {
		x := int(r.Outputs(i))
		if x < 0 || x >= nt {
			return fmt.Errorf("graph output %d: tensor %d out of range", i, x)
		}
		if j := slices.Index(m.outputs[:i], x); j >= 0 {
			return fmt.Errorf("graph outputs %d and %d are the same tensor %d (%q)", j, i, x, m.tensors[x].name)
		}
		out := &m.tensors[x]
		// An output may be int32: an ARG_MAX's indices (format 1.4; the
		// planner checks that only ARG_MAX writes int32 activations).
		if (out.dtype != mncfb.DTypeFLOAT32 && out.dtype != mncfb.DTypeINT32) || out.isConst() {
			return fmt.Errorf("graph output %d (tensor %d, %q) must be a float32 or int32 activation (have %v, %s)", i, x, out.name, out.dtype, constWord(out))
		}
		if out.shape[0] != 1 {
			return fmt.Errorf("graph output %d %v must have batch 1", i, out.shape)
		}
		m.outputs[i] = x
	}
	m.output = m.outputs[0]

	if err := m.readArena(r); err != nil {
		return err
	}

	// Metadata.
	var md mncfb.Metadata
	if r.Metadata(&md) != nil {
		if err := m.readMetadata(&md, bud); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
	}
	return nil
}

// readBuffers returns the data of every buffer (in place in the file),
// checking that buffer 0 is empty and that data is aligned.
func (m *Model) readBuffers(r *mncfb.Model) ([][]byte, error) {
	nb := r.BuffersLength()
	if nb < 1 || nb > maxBuffers {
		return nil, fmt.Errorf("%d buffers (want 1 to %d; buffer 0 is the empty one)", nb, maxBuffers)
	}
	bufs := make([][]byte, nb)
	var fb mncfb.Buffer
	for i := range nb {
		r.Buffers(&fb, i)
		d := fb.DataBytes()
		if i == 0 && len(d) != 0 {
			return nil, fmt.Errorf("buffer 0 holds %d bytes; it must be empty", len(d))
		}
		if len(d) > 0 {
			if start := cap(m.data) - cap(d); start%BufferAlignment != 0 {
				return nil, fmt.Errorf("buffer %d starts at byte %d, not a multiple of %d", i, start, BufferAlignment)
			}
		}
		bufs[i] = d
	}
	return bufs, nil
}

// readArena reads the arena plan and places every activation in it.
func (m *Model) readArena(r *mncfb.Model) error {
	var fa mncfb.ArenaPlan
	if r.Arena(&fa) == nil {
		return fmt.Errorf("no arena plan")
	}
	if fa.OffsetsLength() != len(m.tensors) {
		return fmt.Errorf("arena plan has %d offsets for %d tensors", fa.OffsetsLength(), len(m.tensors))
	}
	if fa.Size() > MaxArenaBytes {
		return fmt.Errorf("the model's activations need %s (its arena); the limit is %s", limits.Bytes(int64(min(fa.Size(), 1<<62))), limits.Bytes(MaxArenaBytes))
	}
	al := fa.Alignment()
	if al < BufferAlignment || al > 4096 || al&(al-1) != 0 {
		return fmt.Errorf("arena alignment %d is not a power of two in [%d, 4096]", al, BufferAlignment)
	}
	m.arena = int(fa.Size())
	m.info.Arena = ArenaInfo{Bytes: int64(fa.Size()), LowerBound: int64(fa.LowerBound()), Alignment: int(al)}
	for i := range m.tensors {
		t := &m.tensors[i]
		off := fa.Offsets(i)
		if t.isConst() {
			if off != -1 {
				return fmt.Errorf("constant tensor %d has arena offset %d, want -1", i, off)
			}
			t.offset = -1
			continue
		}
		if off < 0 || off%int64(al) != 0 || off > int64(m.arena) || int64(t.bytes) > int64(m.arena)-off {
			return fmt.Errorf("tensor %d (%q, %d bytes) at arena offset %d does not fit an arena of %d bytes aligned to %d", i, t.name, t.bytes, off, m.arena, al)
		}
		t.offset = off
	}
	return nil
}

func (m *Model) readTensor(t *tensor, ft *mncfb.Tensor, fq *mncfb.Quantization, bufs [][]byte, bud *budget) error {
	var err error
	if t.name, err = m.str(ft.Name(), bud, "tensor names"); err != nil {
		return err
	}
	t.dtype = ft.Dtype()
	es := elemSize(t.dtype)
	if es == 0 {
		return fmt.Errorf("unknown dtype %d", t.dtype)
	}
	rank := ft.ShapeLength()
	if rank < 1 || rank > maxRank {
		return fmt.Errorf("rank %d (want 1 to %d)", rank, maxRank)
	}
	if err := bud.spend(int64(rank)*8, "shapes"); err != nil {
		return err
	}
	t.shape = make([]int, rank)
	t.n = 1
	for i := range rank {
		d := int(ft.Shape(i))
		if d < 1 || d > maxElements || t.n > maxElements/d {
			return fmt.Errorf("shape has dimension %d or more than %d elements", d, maxElements)
		}
		t.shape[i] = d
		t.n *= d
	}
	if int64(t.n)*int64(es) > maxFileBytes {
		return fmt.Errorf("shape %v needs %s; the limit is %s", t.shape, limits.Bytes(int64(t.n)*int64(es)), limits.Bytes(maxFileBytes))
	}
	t.bytes = t.n * es
	t.buffer = int(ft.Buffer())
	if t.buffer < 0 || t.buffer >= len(bufs) {
		return fmt.Errorf("buffer index %d out of range (%d buffers)", ft.Buffer(), len(bufs))
	}
	if t.isConst() {
		t.data = bufs[t.buffer]
		if len(t.data) != t.bytes {
			return fmt.Errorf("buffer %d holds %d bytes, the %v tensor of shape %v needs %d", t.buffer, len(t.data), t.dtype, t.shape, t.bytes)
		}
	} else if t.bytes > MaxArenaBytes {
		return fmt.Errorf("activation of shape %v needs %s; the limit on activation memory (the arena) is %s", t.shape, limits.Bytes(int64(t.bytes)), limits.Bytes(MaxArenaBytes))
	}
	if ft.Quantization(fq) == nil {
		return nil
	}
	ns, nz := fq.ScaleLength(), fq.ZeroPointLength()
	if ns == 0 {
		if nz != 0 {
			return fmt.Errorf("quantization has zero points but no scales")
		}
		return nil
	}
	t.axis = int(fq.Axis())
	if ns > 1 {
		if t.axis < 0 || t.axis >= rank || t.shape[t.axis] != ns {
			return fmt.Errorf("%d per-channel scales do not match axis %d of shape %v", ns, t.axis, t.shape)
		}
	}
	if nz != 0 && nz != 1 && nz != ns {
		return fmt.Errorf("%d zero points for %d scales", nz, ns)
	}
	if err := bud.spend(int64(ns+nz)*4, "quantization parameters"); err != nil {
		return err
	}
	t.scale = make([]float32, ns)
	for i := range ns {
		s := fq.Scale(i)
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("scale %d is %g; scales must be positive and finite", i, s)
		}
		t.scale[i] = s
	}
	if nz > 0 {
		t.zero = make([]int32, nz)
		for i := range nz {
			z := fq.ZeroPoint(i)
			if t.dtype == mncfb.DTypeINT8 && (z < -128 || z > 127) {
				return fmt.Errorf("zero point %d outside [-128, 127]", z)
			}
			t.zero[i] = z
		}
	}
	return nil
}

func readActivation(a *mncfb.Activation) (activation, error) {
	if a == nil {
		return activation{}, nil
	}
	act := activation{kind: a.Kind(), min: a.Min(), max: a.Max(), alpha: a.Alpha(), beta: a.Beta()}
	if act.kind > mncfb.ActivationKindHARD_SWISH {
		return act, fmt.Errorf("unknown activation %d", act.kind)
	}
	for _, v := range []float32{act.min, act.max, act.alpha, act.beta} {
		if v != v {
			return act, fmt.Errorf("activation parameter is NaN")
		}
	}
	if act.kind == mncfb.ActivationKindCLIP && act.min > act.max {
		return act, fmt.Errorf("clip range [%g, %g] is empty", act.min, act.max)
	}
	return act, nil
}

func indices(n int, get func(int) int32, what string, bud *budget) ([]int, error) {
	if n > maxOpArgs {
		return nil, fmt.Errorf("%d %s (at most %d)", n, what, maxOpArgs)
	}
	if err := bud.spend(int64(n)*8, what); err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i := range n {
		out[i] = int(get(i))
	}
	return out, nil
}

func (m *Model) readOperator(op *operator, fo *mncfb.Operator, codes []mncfb.OperatorCode, bud *budget) error {
	var err error
	if op.name, err = m.str(fo.Name(), bud, "operator names"); err != nil {
		return err
	}
	ci := int(fo.OpcodeIndex())
	if ci < 0 || ci >= len(codes) {
		return fmt.Errorf("operator code index %d out of range (%d codes)", fo.OpcodeIndex(), len(codes))
	}
	op.code = codes[ci].BuiltinCode()
	op.version = int(codes[ci].Version())
	kind, ok := ops[op.code]
	if !ok {
		return fmt.Errorf("unknown operator code %d", op.code)
	}
	if op.version < 1 || op.version > kind.version {
		return fmt.Errorf("%v version %d is not supported (this mnc runs versions 1 to %d): update mnc", op.code, op.version, kind.version)
	}
	if op.in, err = indices(fo.InputsLength(), fo.Inputs, "inputs", bud); err != nil {
		return err
	}
	if op.out, err = indices(fo.OutputsLength(), fo.Outputs, "outputs", bud); err != nil {
		return err
	}
	if op.mid, err = indices(fo.IntermediatesLength(), fo.Intermediates, "intermediates", bud); err != nil {
		return err
	}
	for _, list := range [][]int{op.in, op.out, op.mid} {
		for _, x := range list {
			if x < -1 || x >= len(m.tensors) {
				return fmt.Errorf("tensor index %d out of range", x)
			}
		}
	}
	for _, x := range append(append([]int(nil), op.out...), op.mid...) {
		if x < 0 {
			return fmt.Errorf("an output or intermediate is absent")
		}
	}
	op.optType = fo.OptionsType()
	var t flatbuffers.Table
	if op.optType == mncfb.OpOptionsNONE || !fo.Options(&t) {
		op.optType = mncfb.OpOptionsNONE
		op.conv = convOptions{strideH: 1, strideW: 1, dilH: 1, dilW: 1, groups: 1}
		return nil
	}
	var a mncfb.Activation
	switch op.optType {
	case mncfb.OpOptionsConv2DOptions:
		var o mncfb.Conv2DOptions
		o.Init(t.Bytes, t.Pos)
		op.conv = convOptions{strideH: int(o.StrideH()), strideW: int(o.StrideW()), dilH: int(o.DilationH()),
			dilW: int(o.DilationW()), padT: int(o.PadTop()), padL: int(o.PadLeft()), padB: int(o.PadBottom()),
			padR: int(o.PadRight()), groups: int(o.Groups()), layout: o.WeightLayout()}
		op.act, err = readActivation(o.Activation(&a))
		op.conv.act = op.act
	case mncfb.OpOptionsFullyConnectedOptions:
		var o mncfb.FullyConnectedOptions
		o.Init(t.Bytes, t.Pos)
		op.act, err = readActivation(o.Activation(&a))
	case mncfb.OpOptionsEltwiseOptions:
		var o mncfb.EltwiseOptions
		o.Init(t.Bytes, t.Pos)
		op.act, err = readActivation(o.Activation(&a))
	case mncfb.OpOptionsSqueezeExciteOptions:
		var o mncfb.SqueezeExciteOptions
		o.Init(t.Bytes, t.Pos)
		if op.act, err = readActivation(o.Activation(&a)); err == nil {
			op.gate, err = readActivation(o.Gate(&a))
		}
	case mncfb.OpOptionsPool2DOptions:
		var o mncfb.Pool2DOptions
		o.Init(t.Bytes, t.Pos)
		op.pool = poolOptions{kh: int(o.KernelH()), kw: int(o.KernelW()), strideH: int(o.StrideH()), strideW: int(o.StrideW()),
			padT: int(o.PadTop()), padL: int(o.PadLeft()), padB: int(o.PadBottom()), padR: int(o.PadRight()),
			countIncludePad: o.CountIncludePad()}
	case mncfb.OpOptionsTransposeOptions:
		var o mncfb.TransposeOptions
		o.Init(t.Bytes, t.Pos)
		op.perm, err = indices(o.PermLength(), o.Perm, "transpose axes", bud)
	case mncfb.OpOptionsReshapeOptions:
		// Informational: the output tensor's shape is the new shape.
	case mncfb.OpOptionsActivationOptions:
		var o mncfb.ActivationOptions
		o.Init(t.Bytes, t.Pos)
		op.act, err = readActivation(o.Activation(&a))
	case mncfb.OpOptionsSoftmaxOptions:
		var o mncfb.SoftmaxOptions
		o.Init(t.Bytes, t.Pos)
		op.axis = int(o.Axis())
	case mncfb.OpOptionsResizeBilinearOptions:
		var o mncfb.ResizeBilinearOptions
		o.Init(t.Bytes, t.Pos)
		op.resize = resizeOptions{h: int(o.Height()), w: int(o.Width()), alignCorners: o.AlignCorners(), halfPixel: o.HalfPixelCenters()}
	case mncfb.OpOptionsArgMaxOptions:
		var o mncfb.ArgMaxOptions
		o.Init(t.Bytes, t.Pos)
		op.axis = int(o.Axis())
		var r mncfb.ResizeBilinearOptions
		if o.Resize(&r) != nil { // a fused resize (format 1.4)
			op.argResize = &resizeOptions{h: int(r.Height()), w: int(r.Width()), alignCorners: r.AlignCorners(), halfPixel: r.HalfPixelCenters()}
		}
	case mncfb.OpOptionsConcatenationOptions:
		var o mncfb.ConcatenationOptions
		o.Init(t.Bytes, t.Pos)
		op.axis = int(o.Axis())
	default:
		return fmt.Errorf("unknown options type %d", op.optType)
	}
	return err
}

// Views of constant data. Files are little-endian; on a little-endian host
// with aligned data the values are used in place (memory-mapped weights),
// otherwise they are decoded into a copy.

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

func aligned4(b []byte) bool { return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%4 == 0 }

func int8s(b []byte) []int8 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}

func int32s(b []byte) []int32 {
	if len(b) == 0 {
		return nil
	}
	if littleEndian && aligned4(b) {
		return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
	}
	v := make([]int32, len(b)/4)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func float32s(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	if littleEndian && aligned4(b) {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// constWord says whether t is a constant, for errors.
func constWord(t *tensor) string {
	if t.isConst() {
		return "a constant"
	}
	return "an activation"
}
