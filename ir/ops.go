package ir

import (
	"fmt"
	"math"
	"strings"

	"github.com/mncdev/mnc/runtime/kernels"
)

// Op is the kind of a node.
type Op uint16

// Operations. Inputs are listed as name[shape]; "?" marks optional inputs.
const (
	InvalidOp Op = iota
	// Conv: X[N,C,H,W], W[O,C/group,kh,kw], B?[O]. Attrs *ConvAttrs.
	Conv
	// BatchNorm: X[N,C,...], scale[C], bias[C], mean[C], var[C]. Attrs *BatchNormAttrs.
	BatchNorm
	// Relu: max(x, 0).
	Relu
	// Relu6: min(max(x, 0), 6).
	Relu6
	// Clip: min(max(x, Min), Max). Attrs *ClipAttrs.
	Clip
	// HardSigmoid: max(0, min(1, alpha*x + beta)). Attrs *HardSigmoidAttrs.
	HardSigmoid
	// HardSwish: x * relu6(x+3)/6.
	HardSwish
	// Sigmoid: 1/(1+exp(-x)).
	Sigmoid
	// Add, Sub, Mul, Div: elementwise with NumPy broadcasting. Attrs *EltwiseAttrs or nil.
	Add
	Sub
	Mul
	Div
	// GlobalAveragePool: X[N,C,H,W] -> [N,C,1,1].
	GlobalAveragePool
	// AveragePool: Attrs *PoolAttrs.
	AveragePool
	// Flatten: Attrs *FlattenAttrs; [d0..dk-1, dk..] -> [prod(d0..dk-1), prod(dk..)].
	Flatten
	// Reshape: Attrs *ReshapeAttrs (ONNX semantics: 0 copies, -1 infers).
	Reshape
	// Gemm: A[M,K], B[K,N] (or [N,K] with TransB), C?[broadcastable to M,N]. Attrs *GemmAttrs.
	Gemm
	// MatMul: A[...,M,K] x B[K,N] (B 2-D).
	MatMul
	// Identity and Dropout pass their input through (inference).
	Identity
	Dropout
	// Softmax: Attrs *SoftmaxAttrs.
	Softmax
	// Pad: Attrs *PadAttrs.
	Pad
	// Concat: Attrs *ConcatAttrs.
	Concat
	// Transpose: Attrs *TransposeAttrs; output dim i is input dim Perm[i].
	Transpose
	// SqueezeExcite: X[N,C,H,W], W1[S,C,1,1], B1[S], W2[C,S,1,1], B2[C]; a
	// squeeze-and-excitation unit as one node. Attrs *SqueezeExciteAttrs:
	// y = x * Gate(conv1x1(W2, B2, Act(conv1x1(W1, B1, GlobalAveragePool(x))))),
	// the gate broadcast over H and W. Layout-sensitive like Conv.
	SqueezeExcite
	// Lookup: X[...] int8 -> int8 through a 256-entry table,
	// y = Table[uint8(x)] (the index is the code's two's-complement byte).
	// Attrs *LookupAttrs. Quantized graphs only.
	Lookup
	// Quantize: X f32 -> i8 with the output value's Quant (per tensor):
	// q = saturate(round_half_even(x/scale) + zero). No attributes.
	Quantize
	// Dequantize: X i8 -> f32 with the input value's Quant (per tensor):
	// x = (q - zero) * scale. No attributes.
	Dequantize
	// ResizeBilinear: X[N,C,H,W] -> [N,C,Size[0],Size[1]], bilinear
	// interpolation over H and W. Attrs *ResizeAttrs (the coordinate rule).
	// Layout-sensitive like Conv.
	ResizeBilinear
	// ArgMax: X[d0..dk..dr-1] f32 (or int8 codes of one positive scale, the
	// same indices) -> [d0..dr-1 without dk], the index along
	// axis k = Attrs *ArgMaxAttrs' Axis of the largest element, as i32 or
	// i64 (its OutputType): TFLite's ARG_MAX, ONNX's ArgMax with keepdims=0
	// and select_last_index=0 (the axis is always removed). The first index
	// wins on ties, as in TFLite and NumPy. NaN never wins: NaN elements are
	// skipped, and a slice that is all NaN gives index 0 (NumPy returns the
	// first NaN instead; TFLite keeps a NaN only at index 0). Not
	// layout-sensitive: the axis is explicit.
	ArgMax

	numOps
)

var opNames = [...]string{
	InvalidOp: "Invalid", Conv: "Conv", BatchNorm: "BatchNorm", Relu: "Relu", Relu6: "Relu6", Clip: "Clip",
	HardSigmoid: "HardSigmoid", HardSwish: "HardSwish", Sigmoid: "Sigmoid", Add: "Add", Sub: "Sub", Mul: "Mul",
	Div: "Div", GlobalAveragePool: "GlobalAveragePool", AveragePool: "AveragePool", Flatten: "Flatten",
	Reshape: "Reshape", Gemm: "Gemm", MatMul: "MatMul", Identity: "Identity", Dropout: "Dropout",
	Softmax: "Softmax", Pad: "Pad", Concat: "Concat", Transpose: "Transpose",
	SqueezeExcite: "SqueezeExcite", Lookup: "Lookup", Quantize: "Quantize", Dequantize: "Dequantize",
	ResizeBilinear: "ResizeBilinear", ArgMax: "ArgMax",
}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint16(o))
}

// OpByName returns the op with the given name (as printed by String).
func OpByName(name string) (Op, bool) {
	for i, n := range opNames {
		if n == name && Op(i) != InvalidOp {
			return Op(i), true
		}
	}
	return InvalidOp, false
}

// Attrs is implemented by the attribute struct of each op kind.
type Attrs interface {
	// String renders the attributes as key=value pairs for dumps.
	String() string
}

// ActKind names an activation function fused into a producing op.
type ActKind uint8

const (
	ActNone ActKind = iota
	ActRelu
	ActRelu6
	ActClip // min(max(x, Min), Max)
	ActHardSigmoid
	ActHardSwish
)

var actNames = [...]string{"none", "relu", "relu6", "clip", "hardsigmoid", "hardswish"}

func (k ActKind) String() string {
	if int(k) < len(actNames) {
		return actNames[k]
	}
	return fmt.Sprintf("act(%d)", uint8(k))
}

// Activation is an activation fused into the epilogue of Conv, Gemm or an
// elementwise op. Min and Max are used by ActClip, Alpha and Beta by
// ActHardSigmoid.
type Activation struct {
	Kind        ActKind
	Min, Max    float32
	Alpha, Beta float32
	// InQuant, in a quantized graph, is the quantization of the producer's
	// result before the activation (the activation's input), which a
	// table-driven activation needs; nil while float.
	InQuant *QuantParams
}

// Apply evaluates the activation on one value (float64 for the reference
// interpreter's accuracy). The hard sigmoid's product is rounded explicitly,
// so that no CPU fuses it with the add.
func (a Activation) Apply(x float64) float64 {
	switch a.Kind {
	case ActRelu:
		return math.Max(x, 0)
	case ActRelu6:
		return math.Min(math.Max(x, 0), 6)
	case ActClip:
		return math.Min(math.Max(x, float64(a.Min)), float64(a.Max))
	case ActHardSigmoid:
		return math.Max(0, math.Min(1, float64(float64(a.Alpha)*x)+float64(a.Beta)))
	case ActHardSwish:
		return x * math.Min(math.Max(x+3, 0), 6) / 6
	}
	return x
}

func (a Activation) String() string {
	switch a.Kind {
	case ActClip:
		return fmt.Sprintf("clip(%g,%g)", a.Min, a.Max)
	case ActHardSigmoid:
		return fmt.Sprintf("hardsigmoid(%g,%g)", a.Alpha, a.Beta)
	}
	return a.Kind.String()
}

// ConvAttrs configures a 2-D convolution. Pads are top, left, bottom, right.
type ConvAttrs struct {
	Stride   [2]int // H, W
	Dilation [2]int // H, W; 0 means 1
	Pads     [4]int // top, left, bottom, right
	Group    int    // 0 means 1
	Act      Activation
}

func (a *ConvAttrs) String() string {
	s := fmt.Sprintf("stride=%d,%d pads=%d,%d,%d,%d group=%d", a.Stride[0], a.Stride[1],
		a.Pads[0], a.Pads[1], a.Pads[2], a.Pads[3], a.Groups())
	if d := a.Dilations(); d != [2]int{1, 1} {
		s += fmt.Sprintf(" dilation=%d,%d", d[0], d[1])
	}
	if a.Act.Kind != ActNone {
		s += " act=" + a.Act.String()
	}
	return s
}

// Groups returns the group count, treating 0 as 1.
func (a *ConvAttrs) Groups() int { return max(a.Group, 1) }

// Dilations returns the dilations, treating 0 as 1.
func (a *ConvAttrs) Dilations() [2]int {
	return [2]int{max(a.Dilation[0], 1), max(a.Dilation[1], 1)}
}

// BatchNormAttrs configures inference batch normalization:
// y = scale*(x-mean)/sqrt(var+Epsilon) + bias.
type BatchNormAttrs struct{ Epsilon float32 }

func (a *BatchNormAttrs) String() string { return fmt.Sprintf("eps=%g", a.Epsilon) }

// ClipAttrs bounds values to [Min, Max] (±Inf when a bound is absent).
type ClipAttrs struct{ Min, Max float32 }

func (a *ClipAttrs) String() string { return fmt.Sprintf("min=%g max=%g", a.Min, a.Max) }

// HardSigmoidAttrs: y = max(0, min(1, Alpha*x + Beta)).
type HardSigmoidAttrs struct{ Alpha, Beta float32 }

func (a *HardSigmoidAttrs) String() string { return fmt.Sprintf("alpha=%g beta=%g", a.Alpha, a.Beta) }

// EltwiseAttrs carries an activation fused into Add/Sub/Mul/Div.
type EltwiseAttrs struct{ Act Activation }

func (a *EltwiseAttrs) String() string {
	if a.Act.Kind == ActNone {
		return ""
	}
	return "act=" + a.Act.String()
}

// PoolAttrs configures AveragePool. Pads are top, left, bottom, right.
type PoolAttrs struct {
	Kernel          [2]int
	Stride          [2]int
	Pads            [4]int
	CountIncludePad bool
	CeilMode        bool
}

func (a *PoolAttrs) String() string {
	return fmt.Sprintf("kernel=%d,%d stride=%d,%d pads=%d,%d,%d,%d count_include_pad=%v ceil=%v",
		a.Kernel[0], a.Kernel[1], a.Stride[0], a.Stride[1], a.Pads[0], a.Pads[1], a.Pads[2], a.Pads[3],
		a.CountIncludePad, a.CeilMode)
}

// FlattenAttrs: dims before Axis form the first output dim, the rest the second.
type FlattenAttrs struct{ Axis int }

func (a *FlattenAttrs) String() string { return fmt.Sprintf("axis=%d", a.Axis) }

// ReshapeAttrs: the target shape with ONNX semantics (0 copies the input
// dimension, -1 is inferred).
type ReshapeAttrs struct{ Shape []int }

func (a *ReshapeAttrs) String() string {
	return "shape=" + strings.Trim(strings.ReplaceAll(fmt.Sprint(a.Shape), " ", ","), "[]")
}

// GemmAttrs: Y = Alpha * A' * B' + Beta * C, with ' a transpose when set.
type GemmAttrs struct {
	Alpha, Beta    float32
	TransA, TransB bool
	Act            Activation
}

func (a *GemmAttrs) String() string {
	s := fmt.Sprintf("alpha=%g beta=%g transA=%v transB=%v", a.Alpha, a.Beta, a.TransA, a.TransB)
	if a.Act.Kind != ActNone {
		s += " act=" + a.Act.String()
	}
	return s
}

// SoftmaxAttrs: softmax along Axis (negative counts from the end).
type SoftmaxAttrs struct{ Axis int }

func (a *SoftmaxAttrs) String() string { return fmt.Sprintf("axis=%d", a.Axis) }

// PadAttrs: Pads holds the begin pads of every axis then the end pads (ONNX
// order). Mode is "constant", "reflect" or "edge".
type PadAttrs struct {
	Pads  []int
	Mode  string
	Value float32
}

func (a *PadAttrs) String() string {
	return fmt.Sprintf("pads=%v mode=%s value=%g", a.Pads, a.Mode, a.Value)
}

// ConcatAttrs: concatenation along Axis (negative counts from the end).
type ConcatAttrs struct{ Axis int }

func (a *ConcatAttrs) String() string { return fmt.Sprintf("axis=%d", a.Axis) }

// TransposeAttrs: output dimension i is input dimension Perm[i].
type TransposeAttrs struct{ Perm []int }

func (a *TransposeAttrs) String() string {
	return "perm=" + strings.Trim(strings.ReplaceAll(fmt.Sprint(a.Perm), " ", ","), "[]")
}

// SqueezeExciteAttrs configures SqueezeExcite: Act follows the squeeze
// convolution (ReLU in MobileNetV3), Gate follows the excite convolution
// (HardSigmoid with Alpha 1/6, Beta 1/2 in MobileNetV3); Gate's output is the
// per-channel scale, whose range is [0, 1] for a hard sigmoid.
type SqueezeExciteAttrs struct {
	Act  Activation
	Gate Activation
}

func (a *SqueezeExciteAttrs) String() string {
	return "act=" + a.Act.String() + " gate=" + a.Gate.String()
}

// LookupAttrs: Table[uint8(q)] is the output code for input code q. Fn names
// the function the table samples (for dumps), e.g. "hardswish".
type LookupAttrs struct {
	Fn    string
	Table [256]int8
}

func (a *LookupAttrs) String() string {
	lo, hi := a.Table[0], a.Table[0]
	for _, v := range a.Table {
		lo, hi = min(lo, v), max(hi, v)
	}
	s := fmt.Sprintf("table=[%d..%d]", lo, hi)
	if a.Fn != "" {
		s = "fn=" + a.Fn + " " + s
	}
	return s
}

// ResizeAttrs configures ResizeBilinear: the output size (H, W) and the
// rule mapping an output coordinate d (0-based, one axis, input size in,
// output size out) to the input coordinate x it samples.
//
//   - AlignCorners (TFLite align_corners, PyTorch align_corners=True):
//     x = d*(in-1)/(out-1), and x = 0 when out = 1.
//   - HalfPixelCenters (TFLite half_pixel_centers, PyTorch
//     align_corners=False, ONNX half_pixel): x = (d+0.5)*in/out - 0.5,
//     clamped below at 0.
//   - neither (TFLite's legacy default, ONNX asymmetric): x = d*in/out.
//
// Both set is invalid (TFLite refuses it too). The sample is
// (1-f)*X[x0] + f*X[x1] along each axis, with x0 = floor(x), x1 =
// min(x0+1, in-1), f = x-x0, H first then W: y = (1-fy)*((1-fx)*X[y0,x0] +
// fx*X[y0,x1]) + fy*((1-fx)*X[y1,x0] + fx*X[y1,x1]), evaluated in float64.
// The scale in/out (or (in-1)/(out-1)) is computed in float64.
type ResizeAttrs struct {
	Size             [2]int // H, W
	AlignCorners     bool
	HalfPixelCenters bool
}

func (a *ResizeAttrs) String() string {
	return fmt.Sprintf("size=%d,%d align_corners=%v half_pixel_centers=%v", a.Size[0], a.Size[1], a.AlignCorners, a.HalfPixelCenters)
}

// Source returns, for output index d of an axis resized from in to out,
// the two input indices and the weight f of the second (ResizeAttrs'
// formula): kernels.ResizeSource, the one copy the runtime's kernels use.
func (a *ResizeAttrs) Source(d, in, out int) (x0, x1 int, f float64) {
	return kernels.ResizeSource(d, in, out, a.AlignCorners, a.HalfPixelCenters)
}

// ArgMaxAttrs configures ArgMax: the axis reduced (negative counts from
// the end) and the integer type of the indices, Int32 or Int64.
//
// Resize, when set, fuses a ResizeBilinear before the ArgMax (the pass
// fuse-resize-argmax makes it; DeepLab's upsampled logits): the input is an
// NHWC [N,H,W,C] tensor, the axis its channels (3), and the result
// [N,Size[0],Size[1]] the ArgMax over C of ResizeBilinear(x) by Resize's
// rule. On float32 input that is the two ops exactly (each interpolated
// value rounded to float32 as ResizeBilinear stores it); on int8 codes the
// ArgMax compares the interpolations before any rounding (the fixed-point
// sums of kernels.ResizeSource10's weights), so it has none of the ties an
// int8 ResizeBilinear's rounding makes, and no upsampled tensor is stored.
type ArgMaxAttrs struct {
	Axis       int
	OutputType DType
	Resize     *ResizeAttrs
}

func (a *ArgMaxAttrs) String() string {
	s := fmt.Sprintf("axis=%d output_type=%v", a.Axis, a.OutputType)
	if a.Resize != nil {
		s += " resize(" + a.Resize.String() + ")"
	}
	return s
}
