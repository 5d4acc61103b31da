package tflite

import "fmt"

// The parts of TensorFlow Lite's FlatBuffer schema (schema.fbs, version 3)
// that mnc reads, as vtable slots (4 + 2*field index; a union takes two
// fields, its type then its value) and enum values. testdata/tflite.fbs
// restates them as a schema in TFLite's field order; TestSchemaAgrees
// checks these constants against flatc's reading of the test files with it.

// fileIdent is the file identifier of TFLite files.
const fileIdent = "TFL3"

// Field slots of each table.
const (
	// Model
	modelVersion       = 4
	modelOperatorCodes = 6
	modelSubgraphs     = 8
	modelDescription   = 10
	modelBuffers       = 12

	// SubGraph
	sgTensors   = 4
	sgInputs    = 6
	sgOutputs   = 8
	sgOperators = 10
	sgName      = 12

	// Tensor
	tensorShape        = 4
	tensorType         = 6
	tensorBuffer       = 8
	tensorName         = 10
	tensorQuantization = 12
	tensorIsVariable   = 14
	tensorSparsity     = 16

	// QuantizationParameters
	quantScale       = 8
	quantZeroPoint   = 10
	quantDetailsType = 12
	quantDimension   = 16

	// Buffer
	bufferData   = 4
	bufferOffset = 6
	bufferSize   = 8

	// OperatorCode
	ocDeprecatedCode = 4
	ocCustomCode     = 6
	ocVersion        = 8
	ocBuiltinCode    = 10

	// Operator
	opOpcodeIndex = 4
	opInputs      = 6
	opOutputs     = 8
	opOptionsType = 10
	opOptions     = 12
)

// Options fields, by table.
const (
	// Conv2DOptions
	convPadding = 4
	convStrideW = 6
	convStrideH = 8
	convAct     = 10
	convDilW    = 12
	convDilH    = 14
	// DepthwiseConv2DOptions
	dwPadding    = 4
	dwStrideW    = 6
	dwStrideH    = 8
	dwMultiplier = 10
	dwAct        = 12
	dwDilW       = 14
	dwDilH       = 16
	// Pool2DOptions
	poolPadding = 4
	poolStrideW = 6
	poolStrideH = 8
	poolFilterW = 10
	poolFilterH = 12
	poolAct     = 14
	// FullyConnectedOptions
	fcAct           = 4
	fcWeightsFormat = 6
	fcKeepNumDims   = 8
	// SoftmaxOptions
	softmaxBeta = 4
	// ConcatenationOptions
	concatAxis = 4
	concatAct  = 6
	// AddOptions, MulOptions, SubOptions
	eltwiseAct = 4
	// ReshapeOptions
	reshapeNewShape = 4
	// ReducerOptions
	reducerKeepDims = 4
	// SqueezeOptions
	squeezeDims = 4
	// ResizeBilinearOptions (slots 4 and 6, new_height and new_width, are
	// deprecated: the size is input 1)
	resizeAlignCorners = 8
	resizeHalfPixel    = 10
	// ArgMaxOptions
	argMaxOutputType = 4
)

// Members of union BuiltinOptions that mnc reads (0 is NONE).
const (
	optNone           = 0
	optConv2D         = 1
	optDepthwiseConv  = 2
	optPool2D         = 5
	optFullyConnected = 8
	optSoftmax        = 9
	optConcatenation  = 10
	optAdd            = 11
	optResizeBilinear = 15
	optReshape        = 17
	optMul            = 21
	optPad            = 22
	optReducer        = 27
	optSub            = 28
	optDiv            = 29
	optSqueeze        = 30
	optDequantize     = 38
	optArgMax         = 40
	optPadV2          = 43
	optQuantize       = 89
	optHardSwish      = 91
)

// TensorType values.
const (
	ttFloat32 = 0
	ttFloat16 = 1
	ttInt32   = 2
	ttUint8   = 3
	ttInt64   = 4
	ttInt16   = 7
	ttInt8    = 9
)

var typeNames = map[int8]string{0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 5: "STRING",
	6: "BOOL", 7: "INT16", 8: "COMPLEX64", 9: "INT8", 10: "FLOAT64", 11: "COMPLEX128", 12: "UINT64",
	13: "RESOURCE", 14: "VARIANT", 15: "UINT32", 16: "UINT16", 17: "INT4", 18: "BFLOAT16"}

func typeName(t int8) string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

// Padding values.
const (
	padSame  = 0
	padValid = 1
)

// ActivationFunctionType values.
const (
	actNone      = 0
	actRelu      = 1
	actReluN1To1 = 2
	actRelu6     = 3
	actTanh      = 4
	actSignBit   = 5
)

// BuiltinOperator values of the operators mnc maps.
const (
	bAdd             = 0
	bAveragePool2D   = 1
	bConcatenation   = 2
	bConv2D          = 3
	bDepthwiseConv2D = 4
	bDequantize      = 6
	bFullyConnected  = 9
	bLogistic        = 14
	bMul             = 18
	bRelu            = 19
	bRelu6           = 21
	bReshape         = 22
	bResizeBilinear  = 23
	bSoftmax         = 25
	bPad             = 34
	bMean            = 40
	bSub             = 41
	bDiv             = 42
	bSqueeze         = 43
	bArgMax          = 56
	bPadV2           = 60
	bQuantize        = 114
	bHardSwish       = 117
	// placeholderCode is BuiltinOperator PLACEHOLDER_FOR_GREATER_OP_CODES:
	// codes from it on are only in the 32-bit builtin_code field.
	placeholderCode = 127
)

// opNames names the operators in errors: those mnc maps and the common
// others of vision models.
var opNames = map[int32]string{
	0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
	5: "DEPTH_TO_SPACE", 6: "DEQUANTIZE", 8: "FLOOR", 9: "FULLY_CONNECTED", 11: "L2_NORMALIZATION",
	12: "L2_POOL_2D", 13: "LOCAL_RESPONSE_NORMALIZATION", 14: "LOGISTIC", 16: "LSTM", 17: "MAX_POOL_2D",
	18: "MUL", 19: "RELU", 20: "RELU_N1_TO_1", 21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR",
	25: "SOFTMAX", 26: "SPACE_TO_DEPTH", 28: "TANH", 31: "CALL", 32: "CUSTOM", 34: "PAD", 36: "GATHER",
	37: "BATCH_TO_SPACE_ND", 38: "SPACE_TO_BATCH_ND", 39: "TRANSPOSE", 40: "MEAN", 41: "SUB", 42: "DIV",
	43: "SQUEEZE", 45: "STRIDED_SLICE", 47: "EXP", 49: "SPLIT", 50: "LOG_SOFTMAX", 53: "CAST", 54: "PRELU",
	55: "MAXIMUM", 56: "ARG_MAX", 57: "MINIMUM", 60: "PADV2", 65: "SLICE", 67: "TRANSPOSE_CONV",
	70: "EXPAND_DIMS", 74: "SUM", 75: "SQRT", 76: "RSQRT", 77: "SHAPE", 80: "FAKE_QUANT", 82: "REDUCE_MAX",
	83: "PACK", 88: "UNPACK", 92: "SQUARE", 97: "RESIZE_NEAREST_NEIGHBOR", 98: "LEAKY_RELU",
	100: "MIRROR_PAD", 102: "SPLIT_V", 114: "QUANTIZE", 117: "HARD_SWISH", 118: "IF", 119: "WHILE",
	126: "BATCH_MATMUL", 150: "GELU",
}

func opName(code int32) string {
	if s, ok := opNames[code]; ok {
		return s
	}
	return fmt.Sprintf("builtin operator %d", code)
}
