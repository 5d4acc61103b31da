package codegen

import (
	"sort"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// serializer writes the FlatBuffer of a built model. FlatBuffers builds
// back to front, so the order of the calls below fixes the file's bytes:
// buffers (at the end of the file, each 16-byte aligned), tensors,
// operator codes, operators, the arena plan, the metadata, the model.
type serializer struct {
	b  *builder
	fb *flatbuffers.Builder
}

// serialize writes the FlatBuffer.
func (b *builder) serialize() []byte {
	size := 1 << 16
	for _, t := range b.tensors {
		size += len(t.data) + runtime.BufferAlignment
	}
	s := &serializer{b: b, fb: flatbuffers.NewBuilder(size)}
	bufs, bufIdx := s.buffers()
	tens := s.tensors(bufIdx)
	codes, codeIdx := s.operatorCodes()
	ops := s.operators(codeIdx)
	arena := s.arenaPlan()
	meta := s.metadata()
	return s.model(codes, tens, ops, bufs, arena, meta)
}

// ints, floats and tables write vectors.
func (s *serializer) ints(v []int) flatbuffers.UOffsetT {
	s.fb.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		s.fb.PrependInt32(int32(v[i]))
	}
	return s.fb.EndVector(len(v))
}

func (s *serializer) floats(v []float32) flatbuffers.UOffsetT {
	s.fb.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		s.fb.PrependFloat32(v[i])
	}
	return s.fb.EndVector(len(v))
}

func (s *serializer) tables(v []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	s.fb.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		s.fb.PrependUOffsetT(v[i])
	}
	return s.fb.EndVector(len(v))
}

// buffers writes buffer 0 (empty), then one per constant tensor in tensor
// order; bufIdx[i] is tensor i's buffer (0 for an activation).
func (s *serializer) buffers() (bufs []flatbuffers.UOffsetT, bufIdx []uint32) {
	fb := s.fb
	bufIdx = make([]uint32, len(s.b.tensors))
	mncfb.BufferStart(fb)
	bufs = append(bufs, mncfb.BufferEnd(fb))
	for i, t := range s.b.tensors {
		if t.data == nil {
			continue
		}
		fb.StartVector(1, len(t.data), runtime.BufferAlignment)
		fb.Pad(len(t.data))
		copy(fb.Bytes[fb.Head():], t.data)
		v := fb.EndVector(len(t.data))
		mncfb.BufferStart(fb)
		mncfb.BufferAddData(fb, v)
		bufIdx[i] = uint32(len(bufs))
		bufs = append(bufs, mncfb.BufferEnd(fb))
	}
	return bufs, bufIdx
}

// tensors writes the tensor tables.
func (s *serializer) tensors(bufIdx []uint32) []flatbuffers.UOffsetT {
	fb := s.fb
	tens := make([]flatbuffers.UOffsetT, len(s.b.tensors))
	for i, t := range s.b.tensors {
		name := fb.CreateString(t.name)
		shape := s.ints(t.shape)
		q := s.quantization(t)
		mncfb.TensorStart(fb)
		mncfb.TensorAddName(fb, name)
		mncfb.TensorAddDtype(fb, t.dtype)
		mncfb.TensorAddShape(fb, shape)
		mncfb.TensorAddBuffer(fb, bufIdx[i])
		if q != 0 {
			mncfb.TensorAddQuantization(fb, q)
		}
		tens[i] = mncfb.TensorEnd(fb)
	}
	return tens
}

// quantization writes a tensor's quantization table, or returns 0.
func (s *serializer) quantization(t *tensorDef) flatbuffers.UOffsetT {
	if len(t.scale) == 0 {
		return 0
	}
	fb := s.fb
	sc := s.floats(t.scale)
	var zp flatbuffers.UOffsetT
	if len(t.zero) > 0 {
		z := make([]int, len(t.zero))
		for j, v := range t.zero {
			z[j] = int(v)
		}
		zp = s.ints(z)
	}
	mncfb.QuantizationStart(fb)
	mncfb.QuantizationAddScale(fb, sc)
	if zp != 0 {
		mncfb.QuantizationAddZeroPoint(fb, zp)
	}
	mncfb.QuantizationAddAxis(fb, int32(t.axis))
	return mncfb.QuantizationEnd(fb)
}

// operatorCodes writes the operator codes in order of first use and
// returns each code's index.
func (s *serializer) operatorCodes() ([]flatbuffers.UOffsetT, map[mncfb.BuiltinOp]uint32) {
	fb := s.fb
	codeIdx := map[mncfb.BuiltinOp]uint32{}
	var codes []mncfb.BuiltinOp
	for _, o := range s.b.ops {
		if _, ok := codeIdx[o.code]; !ok {
			codeIdx[o.code] = uint32(len(codes))
			codes = append(codes, o.code)
		}
	}
	offs := make([]flatbuffers.UOffsetT, len(codes))
	for i, c := range codes {
		mncfb.OperatorCodeStart(fb)
		mncfb.OperatorCodeAddBuiltinCode(fb, c)
		// The version is written even though 1 is its default, so that
		// every file states it (and it can be patched in tests).
		fb.PrependInt32(1)
		fb.Slot(1)
		offs[i] = mncfb.OperatorCodeEnd(fb)
	}
	return offs, codeIdx
}

// operators writes the operator tables with their options.
func (s *serializer) operators(codeIdx map[mncfb.BuiltinOp]uint32) []flatbuffers.UOffsetT {
	fb := s.fb
	offs := make([]flatbuffers.UOffsetT, len(s.b.ops))
	for i, o := range s.b.ops {
		name := fb.CreateString(o.name)
		in, out := s.ints(o.in), s.ints(o.out)
		var mid flatbuffers.UOffsetT
		if len(o.mid) > 0 {
			mid = s.ints(o.mid)
		}
		optType, opt := s.options(o)
		mncfb.OperatorStart(fb)
		mncfb.OperatorAddOpcodeIndex(fb, codeIdx[o.code])
		mncfb.OperatorAddInputs(fb, in)
		mncfb.OperatorAddOutputs(fb, out)
		if mid != 0 {
			mncfb.OperatorAddIntermediates(fb, mid)
		}
		if opt != 0 {
			mncfb.OperatorAddOptionsType(fb, optType)
			mncfb.OperatorAddOptions(fb, opt)
		}
		mncfb.OperatorAddName(fb, name)
		if s.b.mixed {
			// Written even where it is FLOAT32, the default, so that
			// every operator of a mixed file states it.
			fb.PrependInt8(int8(s.b.opPrecision(o)))
			fb.Slot(7)
		}
		offs[i] = mncfb.OperatorEnd(fb)
	}
	return offs
}

// activationKinds maps fused activations to the schema's.
var activationKinds = map[ir.ActKind]mncfb.ActivationKind{ir.ActRelu: mncfb.ActivationKindRELU,
	ir.ActRelu6: mncfb.ActivationKindRELU6, ir.ActClip: mncfb.ActivationKindCLIP,
	ir.ActHardSigmoid: mncfb.ActivationKindHARD_SIGMOID, ir.ActHardSwish: mncfb.ActivationKindHARD_SWISH}

// activation writes an Activation table, or returns 0 for none.
func (s *serializer) activation(a *ir.Activation) flatbuffers.UOffsetT {
	if a == nil || a.Kind == ir.ActNone {
		return 0
	}
	fb := s.fb
	mncfb.ActivationStart(fb)
	mncfb.ActivationAddKind(fb, activationKinds[a.Kind])
	mncfb.ActivationAddMin(fb, a.Min)
	mncfb.ActivationAddMax(fb, a.Max)
	mncfb.ActivationAddAlpha(fb, a.Alpha)
	mncfb.ActivationAddBeta(fb, a.Beta)
	return mncfb.ActivationEnd(fb)
}

// options writes an operator's typed options (0 when it has none).
func (s *serializer) options(o *opDef) (mncfb.OpOptions, flatbuffers.UOffsetT) {
	fb := s.fb
	switch {
	case o.conv != nil:
		return mncfb.OpOptionsConv2DOptions, s.convOptions(o.conv)
	case o.code == mncfb.BuiltinOpSQUEEZE_EXCITE:
		act, gate := s.activation(o.act), s.activation(o.gate)
		mncfb.SqueezeExciteOptionsStart(fb)
		if act != 0 {
			mncfb.SqueezeExciteOptionsAddActivation(fb, act)
		}
		if gate != 0 {
			mncfb.SqueezeExciteOptionsAddGate(fb, gate)
		}
		return mncfb.OpOptionsSqueezeExciteOptions, mncfb.SqueezeExciteOptionsEnd(fb)
	case o.fcOpts:
		act := s.activation(o.act)
		mncfb.FullyConnectedOptionsStart(fb)
		if act != 0 {
			mncfb.FullyConnectedOptionsAddActivation(fb, act)
		}
		return mncfb.OpOptionsFullyConnectedOptions, mncfb.FullyConnectedOptionsEnd(fb)
	case o.actOpts:
		act := s.activation(o.act)
		mncfb.ActivationOptionsStart(fb)
		mncfb.ActivationOptionsAddActivation(fb, act)
		return mncfb.OpOptionsActivationOptions, mncfb.ActivationOptionsEnd(fb)
	case o.code == mncfb.BuiltinOpADD || o.code == mncfb.BuiltinOpMUL:
		if act := s.activation(o.act); act != 0 {
			mncfb.EltwiseOptionsStart(fb)
			mncfb.EltwiseOptionsAddActivation(fb, act)
			return mncfb.OpOptionsEltwiseOptions, mncfb.EltwiseOptionsEnd(fb)
		}
	case o.pool != nil:
		return mncfb.OpOptionsPool2DOptions, s.poolOptions(o.pool)
	case o.perm != nil:
		perm := s.ints(o.perm)
		mncfb.TransposeOptionsStart(fb)
		mncfb.TransposeOptionsAddPerm(fb, perm)
		return mncfb.OpOptionsTransposeOptions, mncfb.TransposeOptionsEnd(fb)
	case o.shape != nil:
		sh := s.ints(o.shape)
		mncfb.ReshapeOptionsStart(fb)
		mncfb.ReshapeOptionsAddNewShape(fb, sh)
		return mncfb.OpOptionsReshapeOptions, mncfb.ReshapeOptionsEnd(fb)
	case o.code == mncfb.BuiltinOpARG_MAX:
		var r flatbuffers.UOffsetT
		if o.resize != nil { // fused (ir.ArgMaxAttrs.Resize)
			r = resizeOptions(fb, o.resize)
		}
		mncfb.ArgMaxOptionsStart(fb)
		mncfb.ArgMaxOptionsAddAxis(fb, int32(o.opAxis))
		if r != 0 {
			mncfb.ArgMaxOptionsAddResize(fb, r)
		}
		return mncfb.OpOptionsArgMaxOptions, mncfb.ArgMaxOptionsEnd(fb)
	case o.resize != nil:
		return mncfb.OpOptionsResizeBilinearOptions, resizeOptions(fb, o.resize)
	case o.code == mncfb.BuiltinOpCONCATENATION:
		mncfb.ConcatenationOptionsStart(fb)
		mncfb.ConcatenationOptionsAddAxis(fb, int32(o.opAxis))
		return mncfb.OpOptionsConcatenationOptions, mncfb.ConcatenationOptionsEnd(fb)
	case o.axis != nil:
		mncfb.SoftmaxOptionsStart(fb)
		mncfb.SoftmaxOptionsAddAxis(fb, int32(*o.axis))
		return mncfb.OpOptionsSoftmaxOptions, mncfb.SoftmaxOptionsEnd(fb)
	}
	return 0, 0
}

func (s *serializer) convOptions(c *convDef) flatbuffers.UOffsetT {
	fb, a := s.fb, c.a
	act := s.activation(&a.Act)
	d := a.Dilations()
	mncfb.Conv2DOptionsStart(fb)
	mncfb.Conv2DOptionsAddStrideH(fb, int32(a.Stride[0]))
	mncfb.Conv2DOptionsAddStrideW(fb, int32(a.Stride[1]))
	mncfb.Conv2DOptionsAddDilationH(fb, int32(d[0]))
	mncfb.Conv2DOptionsAddDilationW(fb, int32(d[1]))
	mncfb.Conv2DOptionsAddPadTop(fb, int32(a.Pads[0]))
	mncfb.Conv2DOptionsAddPadLeft(fb, int32(a.Pads[1]))
	mncfb.Conv2DOptionsAddPadBottom(fb, int32(a.Pads[2]))
	mncfb.Conv2DOptionsAddPadRight(fb, int32(a.Pads[3]))
	mncfb.Conv2DOptionsAddGroups(fb, int32(a.Groups()))
	if act != 0 {
		mncfb.Conv2DOptionsAddActivation(fb, act)
	}
	mncfb.Conv2DOptionsAddWeightLayout(fb, c.layout)
	return mncfb.Conv2DOptionsEnd(fb)
}

func (s *serializer) poolOptions(p *ir.PoolAttrs) flatbuffers.UOffsetT {
	fb := s.fb
	mncfb.Pool2DOptionsStart(fb)
	mncfb.Pool2DOptionsAddKernelH(fb, int32(p.Kernel[0]))
	mncfb.Pool2DOptionsAddKernelW(fb, int32(p.Kernel[1]))
	mncfb.Pool2DOptionsAddStrideH(fb, int32(p.Stride[0]))
	mncfb.Pool2DOptionsAddStrideW(fb, int32(p.Stride[1]))
	mncfb.Pool2DOptionsAddPadTop(fb, int32(p.Pads[0]))
	mncfb.Pool2DOptionsAddPadLeft(fb, int32(p.Pads[1]))
	mncfb.Pool2DOptionsAddPadBottom(fb, int32(p.Pads[2]))
	mncfb.Pool2DOptionsAddPadRight(fb, int32(p.Pads[3]))
	mncfb.Pool2DOptionsAddCountIncludePad(fb, p.CountIncludePad)
	return mncfb.Pool2DOptionsEnd(fb)
}

// arenaPlan writes every tensor's arena offset (-1 for constants), the
// arena's size, lower bound and alignment.
func (s *serializer) arenaPlan() flatbuffers.UOffsetT {
	fb, b := s.fb, s.b
	fb.StartVector(8, len(b.tensors), 8)
	for i := len(b.tensors) - 1; i >= 0; i-- {
		off := b.tensors[i].offset
		if b.tensors[i].data != nil {
			off = -1
		}
		fb.PrependInt64(off)
	}
	offsets := fb.EndVector(len(b.tensors))
	mncfb.ArenaPlanStart(fb)
	mncfb.ArenaPlanAddSize(fb, uint64(b.arena))
	mncfb.ArenaPlanAddLowerBound(fb, uint64(b.lower))
	mncfb.ArenaPlanAddAlignment(fb, ArenaAlignment)
	mncfb.ArenaPlanAddOffsets(fb, offsets)
	return mncfb.ArenaPlanEnd(fb)
}

// metadata writes the producer, the preprocessing, the labels, the
// calibration record and the free-form entries.
func (s *serializer) metadata() flatbuffers.UOffsetT {
	fb, opts := s.fb, s.b.opts
	producer := fb.CreateString(opts.Producer)
	pp := s.preprocess()
	var labels flatbuffers.UOffsetT
	if len(opts.Labels) > 0 {
		ls := make([]flatbuffers.UOffsetT, len(opts.Labels))
		for i, l := range opts.Labels {
			ls[i] = fb.CreateString(l)
		}
		labels = s.tables(ls)
	}
	calib := s.calibration(opts.Calibration)
	extra := s.extra(opts.Extra)
	det := s.detection()
	mncfb.MetadataStart(fb)
	mncfb.MetadataAddProducer(fb, producer)
	if pp != 0 {
		mncfb.MetadataAddPreprocess(fb, pp)
	}
	if labels != 0 {
		mncfb.MetadataAddLabels(fb, labels)
	}
	if calib != 0 {
		mncfb.MetadataAddCalibration(fb, calib)
	}
	if extra != 0 {
		mncfb.MetadataAddExtra(fb, extra)
	}
	if det != 0 {
		mncfb.MetadataAddDetection(fb, det)
	}
	return mncfb.MetadataEnd(fb)
}

// detection writes a detector's post-processing settings (format 1.5).
func (s *serializer) detection() flatbuffers.UOffsetT {
	d := s.b.det
	if d == nil {
		return 0
	}
	fb := s.fb
	maps := make([]flatbuffers.UOffsetT, len(d.FeatureMaps))
	for k, f := range d.FeatureMaps {
		r := d.Anchors.AspectRatios[k]
		fb.StartVector(4, len(r), 4)
		for i := len(r) - 1; i >= 0; i-- {
			fb.PrependInt32(int32(r[i]))
		}
		ratios := fb.EndVector(len(r))
		mncfb.AnchorMapStart(fb)
		mncfb.AnchorMapAddHeight(fb, int32(f[0]))
		mncfb.AnchorMapAddWidth(fb, int32(f[1]))
		mncfb.AnchorMapAddAspectRatios(fb, ratios)
		maps[k] = mncfb.AnchorMapEnd(fb)
	}
	fmaps := s.tables(maps)
	p := d.Params
	mncfb.DetectionStart(fb)
	mncfb.DetectionAddClsLogits(fb, uint32(d.ClsOutput))
	mncfb.DetectionAddBboxRegression(fb, uint32(d.BoxOutput))
	mncfb.DetectionAddClasses(fb, int32(d.Classes))
	mncfb.DetectionAddImageHeight(fb, int32(d.ImageHeight))
	mncfb.DetectionAddImageWidth(fb, int32(d.ImageWidth))
	mncfb.DetectionAddMinRatio(fb, d.Anchors.MinRatio)
	mncfb.DetectionAddMaxRatio(fb, d.Anchors.MaxRatio)
	mncfb.DetectionAddClip(fb, d.Anchors.Clip)
	mncfb.DetectionAddFeatureMaps(fb, fmaps)
	mncfb.DetectionAddScoreThresh(fb, p.ScoreThresh)
	mncfb.DetectionAddNmsThresh(fb, p.NMSThresh)
	mncfb.DetectionAddTopkCandidates(fb, int32(p.TopKCandidates))
	mncfb.DetectionAddDetectionsPerImg(fb, int32(p.DetectionsPerImg))
	return mncfb.DetectionEnd(fb)
}

func (s *serializer) preprocess() flatbuffers.UOffsetT {
	p := s.b.spec
	if p == nil {
		return 0
	}
	fb := s.fb
	preset := fb.CreateString(string(p.Preset))
	mean, std := s.floats(p.Mean[:]), s.floats(p.Std[:])
	// The custom fields (format 1.2) are written only when set, so a
	// preset's record is what format 1.1 wrote.
	var resize, channels flatbuffers.UOffsetT
	if p.Resize != "" {
		resize = fb.CreateString(string(p.Resize))
	}
	if p.Channels != "" {
		channels = fb.CreateString(string(p.Channels))
	}
	mncfb.PreprocessStart(fb)
	mncfb.PreprocessAddPreset(fb, preset)
	mncfb.PreprocessAddHeight(fb, int32(p.Height))
	mncfb.PreprocessAddWidth(fb, int32(p.Width))
	mncfb.PreprocessAddMean(fb, mean)
	mncfb.PreprocessAddStd(fb, std)
	mncfb.PreprocessAddScale(fb, p.Scale)
	if resize != 0 {
		mncfb.PreprocessAddResize(fb, resize)
	}
	mncfb.PreprocessAddResizeTo(fb, int32(p.ResizeTo))
	mncfb.PreprocessAddCrop(fb, p.Crop)
	if channels != 0 {
		mncfb.PreprocessAddChannels(fb, channels)
	}
	return mncfb.PreprocessEnd(fb)
}

func (s *serializer) calibration(c *runtime.Calibration) flatbuffers.UOffsetT {
	if c == nil {
		return 0
	}
	fb := s.fb
	scheme, method, hash := fb.CreateString(c.Scheme), fb.CreateString(c.Method), fb.CreateString(c.ImageListSHA256)
	cq, eq := s.quality(c.Calib), s.quality(c.Eval)
	mncfb.CalibrationStart(fb)
	mncfb.CalibrationAddScheme(fb, scheme)
	mncfb.CalibrationAddMethod(fb, method)
	mncfb.CalibrationAddImages(fb, int32(c.Images))
	mncfb.CalibrationAddImageListSha256(fb, hash)
	if cq != 0 {
		mncfb.CalibrationAddCalib(fb, cq)
	}
	if eq != 0 {
		mncfb.CalibrationAddEval(fb, eq)
	}
	return mncfb.CalibrationEnd(fb)
}

func (s *serializer) quality(q *runtime.Quality) flatbuffers.UOffsetT {
	if q == nil {
		return 0
	}
	fb := s.fb
	mncfb.QualityFiguresStart(fb)
	mncfb.QualityFiguresAddImages(fb, int32(q.Images))
	mncfb.QualityFiguresAddLogitsSqnrDb(fb, q.LogitsSQNR)
	mncfb.QualityFiguresAddTop1Agree(fb, int32(q.Top1Agree))
	mncfb.QualityFiguresAddCosine(fb, q.Cosine)
	mncfb.QualityFiguresAddMinCosine(fb, q.MinCosine)
	if q.MedianSQNR != nil {
		mncfb.QualityFiguresAddMedianSqnrDb(fb, *q.MedianSQNR)
	}
	if q.WorstSQNR != nil {
		mncfb.QualityFiguresAddWorstSqnrDb(fb, *q.WorstSQNR)
	}
	return mncfb.QualityFiguresEnd(fb)
}

// extra writes the free-form entries sorted by key.
func (s *serializer) extra(m map[string]string) flatbuffers.UOffsetT {
	if len(m) == 0 {
		return 0
	}
	fb := s.fb
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kvs := make([]flatbuffers.UOffsetT, len(keys))
	for i, k := range keys {
		ko, vo := fb.CreateString(k), fb.CreateString(m[k])
		mncfb.KeyValueStart(fb)
		mncfb.KeyValueAddKey(fb, ko)
		mncfb.KeyValueAddValue(fb, vo)
		kvs[i] = mncfb.KeyValueEnd(fb)
	}
	return s.tables(kvs)
}

// model writes the root table and finishes the file.
func (s *serializer) model(codes, tens, ops, bufs []flatbuffers.UOffsetT, arena, meta flatbuffers.UOffsetT) []byte {
	fb, b := s.fb, s.b
	name, target := fb.CreateString(b.g.Name), fb.CreateString(b.target.Name)
	codesV, tensV, opsV, bufsV := s.tables(codes), s.tables(tens), s.tables(ops), s.tables(bufs)
	inV, outV := s.ints([]int{b.input}), s.ints(b.outputs)
	mncfb.ModelStart(fb)
	mncfb.ModelAddFormatMajor(fb, runtime.FormatMajor)
	mncfb.ModelAddFormatMinor(fb, runtime.FormatMinor)
	mncfb.ModelAddName(fb, name)
	prec := mncfb.PrecisionFLOAT32
	switch {
	case b.mixed:
		prec = mncfb.PrecisionMIXED
	case b.int8:
		prec = mncfb.PrecisionINT8
	}
	mncfb.ModelAddPrecision(fb, prec)
	mncfb.ModelAddTarget(fb, target)
	mncfb.ModelAddOperatorCodes(fb, codesV)
	mncfb.ModelAddTensors(fb, tensV)
	mncfb.ModelAddOperators(fb, opsV)
	mncfb.ModelAddInputs(fb, inV)
	mncfb.ModelAddOutputs(fb, outV)
	mncfb.ModelAddBuffers(fb, bufsV)
	mncfb.ModelAddArena(fb, arena)
	if meta != 0 {
		mncfb.ModelAddMetadata(fb, meta)
	}
	fb.FinishWithFileIdentifier(mncfb.ModelEnd(fb), []byte(runtime.FileIdentifier))
	return fb.FinishedBytes()
}

func resizeOptions(fb *flatbuffers.Builder, r *ir.ResizeAttrs) flatbuffers.UOffsetT {
	mncfb.ResizeBilinearOptionsStart(fb)
	mncfb.ResizeBilinearOptionsAddHeight(fb, int32(r.Size[0]))
	mncfb.ResizeBilinearOptionsAddWidth(fb, int32(r.Size[1]))
	mncfb.ResizeBilinearOptionsAddAlignCorners(fb, r.AlignCorners)
	mncfb.ResizeBilinearOptionsAddHalfPixelCenters(fb, r.HalfPixelCenters)
	return mncfb.ResizeBilinearOptionsEnd(fb)
}
