package codegen

import (
	"sort"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// serialize writes the FlatBuffer. Buffers go first (at the end of the
// file, as FlatBuffers builds back to front), each 16-byte aligned.
func (b *builder) serialize() []byte {
	size := 1 << 16
	for _, t := range b.tensors {
		size += len(t.data) + runtime.BufferAlignment
	}
	fb := flatbuffers.NewBuilder(size)

	// Buffers: 0 is empty, then one per constant tensor, in tensor order.
	bufIdx := make([]uint32, len(b.tensors))
	var bufs []flatbuffers.UOffsetT
	mncfb.BufferStart(fb)
	bufs = append(bufs, mncfb.BufferEnd(fb))
	for i, t := range b.tensors {
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

	ints := func(v []int) flatbuffers.UOffsetT {
		fb.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			fb.PrependInt32(int32(v[i]))
		}
		return fb.EndVector(len(v))
	}
	floats := func(v []float32) flatbuffers.UOffsetT {
		fb.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			fb.PrependFloat32(v[i])
		}
		return fb.EndVector(len(v))
	}
	tables := func(v []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
		fb.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			fb.PrependUOffsetT(v[i])
		}
		return fb.EndVector(len(v))
	}

	// Tensors.
	tens := make([]flatbuffers.UOffsetT, len(b.tensors))
	for i, t := range b.tensors {
		name := fb.CreateString(t.name)
		shape := ints(t.shape)
		var q flatbuffers.UOffsetT
		if len(t.scale) > 0 {
			sc := floats(t.scale)
			var zp flatbuffers.UOffsetT
			if len(t.zero) > 0 {
				z := make([]int, len(t.zero))
				for j, v := range t.zero {
					z[j] = int(v)
				}
				zp = ints(z)
			}
			mncfb.QuantizationStart(fb)
			mncfb.QuantizationAddScale(fb, sc)
			if zp != 0 {
				mncfb.QuantizationAddZeroPoint(fb, zp)
			}
			mncfb.QuantizationAddAxis(fb, int32(t.axis))
			q = mncfb.QuantizationEnd(fb)
		}
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

	// Operator codes, in order of first use.
	codeIdx := map[mncfb.BuiltinOp]uint32{}
	var codes []mncfb.BuiltinOp
	for _, o := range b.ops {
		if _, ok := codeIdx[o.code]; !ok {
			codeIdx[o.code] = uint32(len(codes))
			codes = append(codes, o.code)
		}
	}
	codeOffs := make([]flatbuffers.UOffsetT, len(codes))
	for i, c := range codes {
		mncfb.OperatorCodeStart(fb)
		mncfb.OperatorCodeAddBuiltinCode(fb, c)
		// The version is written even though 1 is its default, so that
		// every file states it (and it can be patched in tests).
		fb.PrependInt32(1)
		fb.Slot(1)
		codeOffs[i] = mncfb.OperatorCodeEnd(fb)
	}

	activation := func(a *ir.Activation) flatbuffers.UOffsetT {
		if a == nil || a.Kind == ir.ActNone {
			return 0
		}
		kinds := map[ir.ActKind]mncfb.ActivationKind{ir.ActRelu: mncfb.ActivationKindRELU,
			ir.ActRelu6: mncfb.ActivationKindRELU6, ir.ActClip: mncfb.ActivationKindCLIP,
			ir.ActHardSigmoid: mncfb.ActivationKindHARD_SIGMOID, ir.ActHardSwish: mncfb.ActivationKindHARD_SWISH}
		mncfb.ActivationStart(fb)
		mncfb.ActivationAddKind(fb, kinds[a.Kind])
		mncfb.ActivationAddMin(fb, a.Min)
		mncfb.ActivationAddMax(fb, a.Max)
		mncfb.ActivationAddAlpha(fb, a.Alpha)
		mncfb.ActivationAddBeta(fb, a.Beta)
		return mncfb.ActivationEnd(fb)
	}

	// Operators.
	opOffs := make([]flatbuffers.UOffsetT, len(b.ops))
	for i, o := range b.ops {
		name := fb.CreateString(o.name)
		in, out := ints(o.in), ints(o.out)
		var mid flatbuffers.UOffsetT
		if len(o.mid) > 0 {
			mid = ints(o.mid)
		}
		var optType mncfb.OpOptions
		var opt flatbuffers.UOffsetT
		switch {
		case o.conv != nil:
			a := o.conv.a
			act := activation(&a.Act)
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
			mncfb.Conv2DOptionsAddWeightLayout(fb, o.conv.layout)
			optType, opt = mncfb.OpOptionsConv2DOptions, mncfb.Conv2DOptionsEnd(fb)
		case o.code == mncfb.BuiltinOpSQUEEZE_EXCITE:
			act, gate := activation(o.act), activation(o.gate)
			mncfb.SqueezeExciteOptionsStart(fb)
			if act != 0 {
				mncfb.SqueezeExciteOptionsAddActivation(fb, act)
			}
			if gate != 0 {
				mncfb.SqueezeExciteOptionsAddGate(fb, gate)
			}
			optType, opt = mncfb.OpOptionsSqueezeExciteOptions, mncfb.SqueezeExciteOptionsEnd(fb)
		case o.fcOpts:
			act := activation(o.act)
			mncfb.FullyConnectedOptionsStart(fb)
			if act != 0 {
				mncfb.FullyConnectedOptionsAddActivation(fb, act)
			}
			optType, opt = mncfb.OpOptionsFullyConnectedOptions, mncfb.FullyConnectedOptionsEnd(fb)
		case o.actOpts:
			act := activation(o.act)
			mncfb.ActivationOptionsStart(fb)
			mncfb.ActivationOptionsAddActivation(fb, act)
			optType, opt = mncfb.OpOptionsActivationOptions, mncfb.ActivationOptionsEnd(fb)
		case o.code == mncfb.BuiltinOpADD || o.code == mncfb.BuiltinOpMUL:
			if act := activation(o.act); act != 0 {
				mncfb.EltwiseOptionsStart(fb)
				mncfb.EltwiseOptionsAddActivation(fb, act)
				optType, opt = mncfb.OpOptionsEltwiseOptions, mncfb.EltwiseOptionsEnd(fb)
			}
		case o.pool != nil:
			p := o.pool
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
			optType, opt = mncfb.OpOptionsPool2DOptions, mncfb.Pool2DOptionsEnd(fb)
		case o.perm != nil:
			perm := ints(o.perm)
			mncfb.TransposeOptionsStart(fb)
			mncfb.TransposeOptionsAddPerm(fb, perm)
			optType, opt = mncfb.OpOptionsTransposeOptions, mncfb.TransposeOptionsEnd(fb)
		case o.shape != nil:
			sh := ints(o.shape)
			mncfb.ReshapeOptionsStart(fb)
			mncfb.ReshapeOptionsAddNewShape(fb, sh)
			optType, opt = mncfb.OpOptionsReshapeOptions, mncfb.ReshapeOptionsEnd(fb)
		case o.axis != nil:
			mncfb.SoftmaxOptionsStart(fb)
			mncfb.SoftmaxOptionsAddAxis(fb, int32(*o.axis))
			optType, opt = mncfb.OpOptionsSoftmaxOptions, mncfb.SoftmaxOptionsEnd(fb)
		}
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
		opOffs[i] = mncfb.OperatorEnd(fb)
	}

	// Arena plan.
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
	arena := mncfb.ArenaPlanEnd(fb)

	meta := b.serializeMetadata(fb, floats, tables)

	name, target := fb.CreateString(b.g.Name), fb.CreateString(b.target.Name)
	codesV, tensV, opsV, bufsV := tables(codeOffs), tables(tens), tables(opOffs), tables(bufs)
	inV, outV := ints([]int{b.input}), ints([]int{b.output})
	mncfb.ModelStart(fb)
	mncfb.ModelAddFormatMajor(fb, runtime.FormatMajor)
	mncfb.ModelAddFormatMinor(fb, runtime.FormatMinor)
	mncfb.ModelAddName(fb, name)
	prec := mncfb.PrecisionFLOAT32
	if b.int8 {
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

func (b *builder) serializeMetadata(fb *flatbuffers.Builder, floats func([]float32) flatbuffers.UOffsetT,
	tables func([]flatbuffers.UOffsetT) flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	producer := fb.CreateString(b.opts.Producer)
	var pp flatbuffers.UOffsetT
	if s := b.spec; s != nil {
		preset := fb.CreateString(string(s.Preset))
		mean, std := floats(s.Mean[:]), floats(s.Std[:])
		mncfb.PreprocessStart(fb)
		mncfb.PreprocessAddPreset(fb, preset)
		mncfb.PreprocessAddHeight(fb, int32(s.Height))
		mncfb.PreprocessAddWidth(fb, int32(s.Width))
		mncfb.PreprocessAddMean(fb, mean)
		mncfb.PreprocessAddStd(fb, std)
		pp = mncfb.PreprocessEnd(fb)
	}
	var labels flatbuffers.UOffsetT
	if len(b.opts.Labels) > 0 {
		ls := make([]flatbuffers.UOffsetT, len(b.opts.Labels))
		for i, l := range b.opts.Labels {
			ls[i] = fb.CreateString(l)
		}
		labels = tables(ls)
	}
	var calib flatbuffers.UOffsetT
	if c := b.opts.Calibration; c != nil {
		scheme, method, hash := fb.CreateString(c.Scheme), fb.CreateString(c.Method), fb.CreateString(c.ImageListSHA256)
		quality := func(q *runtime.Quality) flatbuffers.UOffsetT {
			if q == nil {
				return 0
			}
			mncfb.QualityFiguresStart(fb)
			mncfb.QualityFiguresAddImages(fb, int32(q.Images))
			mncfb.QualityFiguresAddLogitsSqnrDb(fb, q.LogitsSQNR)
			mncfb.QualityFiguresAddTop1Agree(fb, int32(q.Top1Agree))
			mncfb.QualityFiguresAddCosine(fb, q.Cosine)
			mncfb.QualityFiguresAddMinCosine(fb, q.MinCosine)
			return mncfb.QualityFiguresEnd(fb)
		}
		cq, eq := quality(c.Calib), quality(c.Eval)
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
		calib = mncfb.CalibrationEnd(fb)
	}
	var extra flatbuffers.UOffsetT
	if len(b.opts.Extra) > 0 {
		keys := make([]string, 0, len(b.opts.Extra))
		for k := range b.opts.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kvs := make([]flatbuffers.UOffsetT, len(keys))
		for i, k := range keys {
			ko, vo := fb.CreateString(k), fb.CreateString(b.opts.Extra[k])
			mncfb.KeyValueStart(fb)
			mncfb.KeyValueAddKey(fb, ko)
			mncfb.KeyValueAddValue(fb, vo)
			kvs[i] = mncfb.KeyValueEnd(fb)
		}
		extra = tables(kvs)
	}
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
	return mncfb.MetadataEnd(fb)
}
