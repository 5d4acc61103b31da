package ir

import (
	"fmt"
	"math"
	"reflect"

	"github.com/mncdev/mnc/runtime/kernels"
)

// arity gives the minimum and maximum input count of each op (-1: unbounded).
var arity = [numOps][2]int{
	Conv: {2, 3}, BatchNorm: {5, 5}, Relu: {1, 1}, Relu6: {1, 1}, Clip: {1, 1}, HardSigmoid: {1, 1},
	HardSwish: {1, 1}, Sigmoid: {1, 1}, Add: {2, 2}, Sub: {2, 2}, Mul: {2, 2}, Div: {2, 2},
	GlobalAveragePool: {1, 1}, AveragePool: {1, 1}, Flatten: {1, 1}, Reshape: {1, 1}, Gemm: {2, 3},
	MatMul: {2, 2}, Identity: {1, 1}, Dropout: {1, 1}, Softmax: {1, 1}, Pad: {1, 1}, Concat: {1, -1},
	Transpose: {1, 1}, SqueezeExcite: {5, 6}, Lookup: {1, 1},
	Quantize: {1, 1}, Dequantize: {1, 1}, ResizeBilinear: {1, 1}, ArgMax: {1, 1},
}

// InferNode computes the output types of n from the given input types,
// checking arity, attributes, dtypes and shapes. It does not read n.Outputs, so
// builders, Verify and interpreters (with concrete run-time shapes) share it.
func InferNode(n *Node, in []TensorType) ([]TensorType, error) {
	t, err := inferNode(n, in)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", n.Op, n.Name, err)
	}
	return []TensorType{t}, nil
}

func inferNode(n *Node, in []TensorType) (TensorType, error) {
	if n.Op == InvalidOp || n.Op >= numOps {
		return TensorType{}, fmt.Errorf("invalid op")
	}
	lo, hi := arity[n.Op][0], arity[n.Op][1]
	if len(in) < lo || (hi >= 0 && len(in) > hi) {
		if lo == hi {
			return TensorType{}, fmt.Errorf("has %d inputs, want %d", len(in), lo)
		}
		return TensorType{}, fmt.Errorf("has %d inputs, want %d to %d", len(in), lo, hi)
	}
	for i, t := range in {
		if t.DType.Size() == 0 {
			return TensorType{}, fmt.Errorf("input %d has invalid dtype", i)
		}
	}
	x := in[0]
	// Every input shares the first input's dtype, except the int32 biases of
	// a quantized Conv, Gemm or SqueezeExcite.
	for i, t := range in[1:] {
		if t.DType != x.DType && !(isBias(n.Op, i+1) && t.DType == Int32) {
			return TensorType{}, fmt.Errorf("input %d is %v, input 0 is %v", i+1, t.DType, x.DType)
		}
	}
	same := TensorType{DType: x.DType, Shape: x.Shape.Clone()}
	switch n.Op {
	case Relu, Relu6, Sigmoid, HardSwish, Identity, Dropout:
		return same, noAttrs(n)
	case Clip:
		a, err := attrsOf[*ClipAttrs](n)
		if err != nil {
			return same, err
		}
		if a.Min > a.Max {
			return same, fmt.Errorf("min %g > max %g", a.Min, a.Max)
		}
		return same, nil
	case HardSigmoid:
		_, err := attrsOf[*HardSigmoidAttrs](n)
		return same, err
	case Add, Sub, Mul, Div:
		if n.Attrs != nil {
			if _, err := attrsOf[*EltwiseAttrs](n); err != nil {
				return same, err
			}
		}
		s, err := Broadcast(x.Shape, in[1].Shape)
		return TensorType{DType: x.DType, Shape: s}, err
	case Softmax:
		a, err := attrsOf[*SoftmaxAttrs](n)
		if err != nil {
			return same, err
		}
		_, err = normAxis(a.Axis, len(x.Shape), false)
		return same, err
	case Conv:
		return inferConv(n, in)
	case BatchNorm:
		return inferBatchNorm(n, in)
	case GlobalAveragePool:
		return inferGlobalPool(n, in)
	case AveragePool:
		return inferPool(n, x)
	case Flatten:
		a, err := attrsOf[*FlattenAttrs](n)
		if err != nil {
			return same, err
		}
		ax, err := normAxis(a.Axis, len(x.Shape), true)
		if err != nil {
			return same, err
		}
		return TensorType{DType: x.DType, Shape: Shape{x.Shape[:ax].NumElements(), x.Shape[ax:].NumElements()}}, nil
	case Reshape:
		a, err := attrsOf[*ReshapeAttrs](n)
		if err != nil {
			return same, err
		}
		s, err := reshape(x.Shape, a.Shape)
		return TensorType{DType: x.DType, Shape: s}, err
	case Gemm:
		return inferGemm(n, in)
	case MatMul:
		return inferMatMul(n, in)
	case Pad:
		return inferPad(n, in)
	case Transpose:
		return inferTranspose(n, in)
	case SqueezeExcite:
		return same, inferSqueezeExcite(n, in)
	case Quantize, Dequantize:
		if err := noAttrs(n); err != nil {
			return same, err
		}
		from, to := Float32, Int8
		if n.Op == Dequantize {
			from, to = Int8, Float32
		}
		if x.DType != from {
			return same, fmt.Errorf("input is %v, want %v", x.DType, from)
		}
		return TensorType{DType: to, Shape: x.Shape.Clone()}, nil
	case Lookup:
		if _, err := attrsOf[*LookupAttrs](n); err != nil {
			return same, err
		}
		if x.DType != Int8 {
			return same, fmt.Errorf("input is %v, want i8", x.DType)
		}
		return same, nil
	case Concat:
		return inferConcat(n, in)
	case ResizeBilinear:
		return inferResize(n, x)
	case ArgMax:
		return inferArgMax(n, x)
	}
	return same, fmt.Errorf("no shape rule")
}

func inferBatchNorm(n *Node, in []TensorType) (TensorType, error) {
	x := in[0]
	same := TensorType{DType: x.DType, Shape: x.Shape.Clone()}
	a, err := attrsOf[*BatchNormAttrs](n)
	if err != nil {
		return same, err
	}
	if a.Epsilon < 0 {
		return same, fmt.Errorf("negative epsilon %g", a.Epsilon)
	}
	if len(x.Shape) < 2 || (n.Layout == NHWC && len(x.Shape) != 4) {
		return same, fmt.Errorf("input rank %d, want >= 2 (4 for NHWC)", len(x.Shape))
	}
	ch := x.Shape[1]
	if n.Layout == NHWC {
		ch = x.Shape[3]
	}
	for i, p := range in[1:] {
		if len(p.Shape) != 1 || !dimEq(p.Shape[0], ch) {
			return same, fmt.Errorf("parameter %d has shape %v, want [%d]", i+1, p.Shape, ch)
		}
	}
	return same, nil
}

func inferGlobalPool(n *Node, in []TensorType) (TensorType, error) {
	x := in[0]
	same := TensorType{DType: x.DType, Shape: x.Shape.Clone()}
	if err := noAttrs(n); err != nil {
		return same, err
	}
	if len(x.Shape) < 3 || (n.Layout == NHWC && len(x.Shape) != 4) {
		return same, fmt.Errorf("input rank %d, want >= 3 (4 for NHWC)", len(x.Shape))
	}
	s := x.Shape.Clone()
	for i := 2; i < len(s); i++ {
		s[i] = 1
	}
	if n.Layout == NHWC {
		s[1], s[3] = 1, x.Shape[3]
	}
	return TensorType{DType: x.DType, Shape: s}, nil
}

func inferMatMul(n *Node, in []TensorType) (TensorType, error) {
	x := in[0]
	same := TensorType{DType: x.DType, Shape: x.Shape.Clone()}
	if err := noAttrs(n); err != nil {
		return same, err
	}
	a, b := x.Shape, in[1].Shape
	if len(a) < 2 || len(b) != 2 {
		return same, fmt.Errorf("shapes %v x %v: want A of rank >= 2 and B of rank 2", a, b)
	}
	if !dimEq(a[len(a)-1], b[0]) {
		return same, fmt.Errorf("inner dimensions differ: %v x %v", a, b)
	}
	s := append(a[:len(a)-1].Clone(), b[1])
	return TensorType{DType: x.DType, Shape: s}, nil
}

func inferPad(n *Node, in []TensorType) (TensorType, error) {
	x := in[0]
	same := TensorType{DType: x.DType, Shape: x.Shape.Clone()}
	a, err := attrsOf[*PadAttrs](n)
	if err != nil {
		return same, err
	}
	r := len(x.Shape)
	if len(a.Pads) != 2*r {
		return same, fmt.Errorf("%d pads for rank %d, want %d", len(a.Pads), r, 2*r)
	}
	switch a.Mode {
	case "constant", "reflect", "edge":
	default:
		return same, fmt.Errorf("unknown mode %q (want constant, reflect or edge)", a.Mode)
	}
	s := x.Shape.Clone()
	for i := range s {
		if s[i] >= 0 {
			s[i] += a.Pads[i] + a.Pads[r+i]
			if s[i] < 1 {
				return same, fmt.Errorf("pads %v leave dimension %d empty", a.Pads, i)
			}
		}
	}
	return TensorType{DType: x.DType, Shape: s}, nil
}

func inferTranspose(n *Node, in []TensorType) (TensorType, error) {
	x := in[0]
	same := TensorType{DType: x.DType, Shape: x.Shape.Clone()}
	a, err := attrsOf[*TransposeAttrs](n)
	if err != nil {
		return same, err
	}
	r := len(x.Shape)
	if len(a.Perm) != r {
		return same, fmt.Errorf("perm %v for rank %d", a.Perm, r)
	}
	seen := make([]bool, r)
	s := make(Shape, r)
	for i, p := range a.Perm {
		if p < 0 || p >= r || seen[p] {
			return same, fmt.Errorf("perm %v is not a permutation of 0..%d", a.Perm, r-1)
		}
		seen[p] = true
		s[i] = x.Shape[p]
	}
	return TensorType{DType: x.DType, Shape: s}, nil
}

func inferConcat(n *Node, in []TensorType) (TensorType, error) {
	x := in[0]
	same := TensorType{DType: x.DType, Shape: x.Shape.Clone()}
	a, err := attrsOf[*ConcatAttrs](n)
	if err != nil {
		return same, err
	}
	ax, err := normAxis(a.Axis, len(x.Shape), false)
	if err != nil {
		return same, err
	}
	s := x.Shape.Clone()
	for i, t := range in[1:] {
		if len(t.Shape) != len(s) {
			return same, fmt.Errorf("input %d has rank %d, want %d", i+1, len(t.Shape), len(s))
		}
		for d := range s {
			switch {
			case d == ax:
				if s[d] >= 0 && t.Shape[d] >= 0 {
					s[d] += t.Shape[d]
				} else {
					s[d] = -1
				}
			case !dimEq(s[d], t.Shape[d]):
				return same, fmt.Errorf("input %d has shape %v, want %v outside axis %d", i+1, t.Shape, x.Shape, ax)
			}
		}
	}
	return TensorType{DType: x.DType, Shape: s}, nil
}

func inferConv(n *Node, in []TensorType) (TensorType, error) {
	a, err := attrsOf[*ConvAttrs](n)
	if err != nil {
		return TensorType{}, err
	}
	x, w := in[0].Shape, in[1].Shape
	if len(x) != 4 || len(w) != 4 {
		return TensorType{}, fmt.Errorf("input %v and weight %v must both have rank 4", x, w)
	}
	x = toNCHW(x, n.Layout)
	g := a.Groups()
	if a.Group < 0 || w[0]%g != 0 || !dimEq(x[1], w[1]*g) {
		return TensorType{}, fmt.Errorf("weight %v with group %d does not fit input %v", w, g, x)
	}
	if len(in) == 3 && (len(in[2].Shape) != 1 || in[2].Shape[0] != w[0]) {
		return TensorType{}, fmt.Errorf("bias has shape %v, want [%d]", in[2].Shape, w[0])
	}
	if a.Stride[0] < 1 || a.Stride[1] < 1 || a.Dilation[0] < 0 || a.Dilation[1] < 0 {
		return TensorType{}, fmt.Errorf("bad stride %v or dilation %v", a.Stride, a.Dilation)
	}
	for _, p := range a.Pads {
		if p < 0 {
			return TensorType{}, fmt.Errorf("negative pads %v", a.Pads)
		}
	}
	d := a.Dilations()
	oh, err := outDim(x[2], w[2], a.Stride[0], d[0], a.Pads[0], a.Pads[2], false)
	if err != nil {
		return TensorType{}, err
	}
	ow, err := outDim(x[3], w[3], a.Stride[1], d[1], a.Pads[1], a.Pads[3], false)
	if err != nil {
		return TensorType{}, err
	}
	return TensorType{DType: in[0].DType, Shape: fromNCHW(Shape{x[0], w[0], oh, ow}, n.Layout)}, nil
}

// isBias reports whether input i of op is a bias (int32 when quantized).
func isBias(op Op, i int) bool {
	switch op {
	case Conv, Gemm:
		return i == 2
	case SqueezeExcite:
		return i == 2 || i == 4
	}
	return false
}

func inferSqueezeExcite(n *Node, in []TensorType) error {
	if _, err := attrsOf[*SqueezeExciteAttrs](n); err != nil {
		return err
	}
	x := in[0].Shape
	if len(x) != 4 {
		return fmt.Errorf("input %v must have rank 4", x)
	}
	c := toNCHW(x, n.Layout)[1]
	w1, b1, w2, b2 := in[1].Shape, in[2].Shape, in[3].Shape, in[4].Shape
	if len(w1) != 4 || w1[2] != 1 || w1[3] != 1 || !dimEq(w1[1], c) {
		return fmt.Errorf("squeeze weight %v, want [S,%d,1,1]", w1, c)
	}
	s := w1[0]
	if len(b1) != 1 || b1[0] != s {
		return fmt.Errorf("squeeze bias %v, want [%d]", b1, s)
	}
	if len(w2) != 4 || w2[1] != s || w2[2] != 1 || w2[3] != 1 || !dimEq(w2[0], c) {
		return fmt.Errorf("excite weight %v, want [%d,%d,1,1]", w2, c, s)
	}
	if len(b2) != 1 || !dimEq(b2[0], w2[0]) {
		return fmt.Errorf("excite bias %v, want [%d]", b2, w2[0])
	}
	// An int8 unit may carry its gate table (the hard sigmoid from the
	// excite result's quantization to the gate's) as a sixth input.
	if len(in) == 6 {
		if t := in[5]; in[0].DType != Int8 || t.DType != Int8 || len(t.Shape) != 1 || t.Shape[0] != 256 {
			return fmt.Errorf("gate table %v of a %v unit, want i8[256] of an int8 unit", t, in[0].DType)
		}
	}
	return nil
}

func inferPool(n *Node, x TensorType) (TensorType, error) {
	a, err := attrsOf[*PoolAttrs](n)
	if err != nil {
		return TensorType{}, err
	}
	if len(x.Shape) != 4 {
		return TensorType{}, fmt.Errorf("input %v must have rank 4", x.Shape)
	}
	xs := toNCHW(x.Shape, n.Layout)
	if a.Kernel[0] < 1 || a.Kernel[1] < 1 || a.Stride[0] < 1 || a.Stride[1] < 1 {
		return TensorType{}, fmt.Errorf("bad kernel %v or stride %v", a.Kernel, a.Stride)
	}
	for i, p := range a.Pads {
		if p < 0 || p >= a.Kernel[i%2] {
			return TensorType{}, fmt.Errorf("pads %v must be >= 0 and smaller than the kernel %v", a.Pads, a.Kernel)
		}
	}
	oh, err := outDim(xs[2], a.Kernel[0], a.Stride[0], 1, a.Pads[0], a.Pads[2], a.CeilMode)
	if err != nil {
		return TensorType{}, err
	}
	ow, err := outDim(xs[3], a.Kernel[1], a.Stride[1], 1, a.Pads[1], a.Pads[3], a.CeilMode)
	if err != nil {
		return TensorType{}, err
	}
	return TensorType{DType: x.DType, Shape: fromNCHW(Shape{xs[0], xs[1], oh, ow}, n.Layout)}, nil
}

// outDim is the output size of a sliding window (kernels.OutSize, the rule
// the runtime's verifier applies too); an unknown input size gives an
// unknown output size.
func outDim(in, k, stride, dil, padBegin, padEnd int, ceil bool) (int, error) {
	if in < 0 {
		return -1, nil
	}
	return kernels.OutSize(in, k, stride, dil, padBegin, padEnd, ceil)
}

func inferGemm(n *Node, in []TensorType) (TensorType, error) {
	a, err := attrsOf[*GemmAttrs](n)
	if err != nil {
		return TensorType{}, err
	}
	A, B := in[0].Shape, in[1].Shape
	if len(A) != 2 || len(B) != 2 {
		return TensorType{}, fmt.Errorf("operands A %v and B %v must both have rank 2", A, B)
	}
	m, ka := A[0], A[1]
	if a.TransA {
		m, ka = ka, m
	}
	kb, nn := B[0], B[1]
	if a.TransB {
		kb, nn = nn, kb
	}
	if !dimEq(ka, kb) {
		return TensorType{}, fmt.Errorf("inner dimensions differ: A %v, B %v (transA=%v transB=%v)", A, B, a.TransA, a.TransB)
	}
	out := Shape{m, nn}
	if len(in) == 3 {
		s, err := Broadcast(out, in[2].Shape)
		if err != nil || !s.Equal(out) {
			return TensorType{}, fmt.Errorf("operand C %v does not broadcast to %v", in[2].Shape, out)
		}
	}
	return TensorType{DType: in[0].DType, Shape: out}, nil
}

// Broadcast applies NumPy's multidirectional broadcasting rule.
func Broadcast(a, b Shape) (Shape, error) {
	r := max(len(a), len(b))
	out := make(Shape, r)
	for i := range r {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		case da < 0:
			out[i] = db
		case db < 0:
			out[i] = da
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// reshape resolves an ONNX target shape against the input shape.
func reshape(in Shape, target []int) (Shape, error) {
	out := make(Shape, len(target))
	infer := -1
	for i, d := range target {
		switch {
		case d == 0:
			if i >= len(in) {
				return nil, fmt.Errorf("target %v copies dimension %d of a rank-%d input", target, i, len(in))
			}
			out[i] = in[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("target %v has more than one -1", target)
			}
			infer = i
		case d < -1:
			return nil, fmt.Errorf("target %v has a negative dimension", target)
		default:
			out[i] = d
		}
	}
	// Unknown input dims must reappear, copied, in the output.
	knownIn, unknownIn := 1, 0
	for _, d := range in {
		if d < 0 {
			unknownIn++
		} else {
			knownIn *= d
		}
	}
	knownOut, unknownOut := 1, 0
	for i, d := range out {
		if i == infer {
			continue
		}
		if d < 0 {
			unknownOut++
		} else {
			knownOut *= d
		}
	}
	if infer >= 0 {
		switch {
		case unknownIn != unknownOut:
			out[infer] = -1
		case knownOut == 0 || knownIn%knownOut != 0:
			return nil, fmt.Errorf("cannot reshape %v to %v", in, target)
		default:
			out[infer] = knownIn / knownOut
		}
		return out, nil
	}
	if unknownIn == 0 && unknownOut == 0 && knownIn != knownOut {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", in, knownIn, target)
	}
	return out, nil
}

// normAxis maps a possibly negative axis into [0, rank) (or [0, rank] when
// end is allowed).
func normAxis(axis, rank int, end bool) (int, error) {
	lim := rank
	if end {
		lim++
	}
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= lim {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank) // as given, not shifted
	}
	return a, nil
}

// NormAxis maps a possibly negative axis into [0, rank).
func NormAxis(axis, rank int) (int, error) { return normAxis(axis, rank, false) }

func dimEq(a, b int) bool { return a == b || a < 0 || b < 0 }

func attrsOf[T Attrs](n *Node) (T, error) {
	a, ok := n.Attrs.(T)
	if !ok || any(a) == nil || isNilPtr(a) {
		var zero T
		return zero, fmt.Errorf("attributes are %T, want %T", n.Attrs, zero)
	}
	return a, nil
}

// isNilPtr reports whether a is a typed nil pointer.
func isNilPtr(a Attrs) bool {
	v := reflect.ValueOf(a)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

func noAttrs(n *Node) error {
	if n.Attrs != nil {
		return fmt.Errorf("takes no attributes, has %T", n.Attrs)
	}
	return nil
}

// layoutSensitive reports whether Node.Layout matters for op.
func layoutSensitive(op Op) bool {
	switch op {
	case Conv, BatchNorm, AveragePool, GlobalAveragePool, SqueezeExcite, ResizeBilinear:
		return true
	}
	return false
}

// LayoutSensitive reports whether Node.Layout matters for op.
func LayoutSensitive(op Op) bool { return layoutSensitive(op) }

// toNCHW reorders a 4-D shape in layout l into NCHW order.
func toNCHW(s Shape, l Layout) Shape {
	if l == NHWC {
		return Shape{s[0], s[3], s[1], s[2]}
	}
	return s
}

// fromNCHW reorders an NCHW shape into layout l.
func fromNCHW(s Shape, l Layout) Shape {
	if l == NHWC {
		return Shape{s[0], s[2], s[3], s[1]}
	}
	return s
}

func inferResize(n *Node, x TensorType) (TensorType, error) {
	a, err := attrsOf[*ResizeAttrs](n)
	if err != nil {
		return TensorType{}, err
	}
	if len(x.Shape) != 4 {
		return TensorType{}, fmt.Errorf("input %v must have rank 4", x.Shape)
	}
	if a.Size[0] < 1 || a.Size[1] < 1 || a.Size[0] > 1<<16 || a.Size[1] > 1<<16 {
		return TensorType{}, fmt.Errorf("output size %v must be positive and at most 65536", a.Size)
	}
	if a.AlignCorners && a.HalfPixelCenters {
		return TensorType{}, fmt.Errorf("align_corners and half_pixel_centers are both set")
	}
	xs := toNCHW(x.Shape, n.Layout)
	return TensorType{DType: x.DType, Shape: fromNCHW(Shape{xs[0], xs[1], a.Size[0], a.Size[1]}, n.Layout)}, nil
}

func inferArgMax(n *Node, x TensorType) (TensorType, error) {
	a, err := attrsOf[*ArgMaxAttrs](n)
	if err != nil {
		return TensorType{}, err
	}
	if x.DType != Float32 && x.DType != Int8 {
		return TensorType{}, fmt.Errorf("input is %v, want f32 or i8", x.DType)
	}
	if a.OutputType != Int32 && a.OutputType != Int64 {
		return TensorType{}, fmt.Errorf("output type %v, want i32 or i64", a.OutputType)
	}
	ax, err := normAxis(a.Axis, len(x.Shape), false)
	if err != nil {
		return TensorType{}, err
	}
	if r := a.Resize; r != nil {
		switch {
		case len(x.Shape) != 4 || ax != 3:
			return TensorType{}, fmt.Errorf("a fused resize needs an NHWC [N,H,W,C] input and axis 3, have %v and axis %d", x.Shape, a.Axis)
		case r.Size[0] < 1 || r.Size[1] < 1 || r.Size[0] > 1<<16 || r.Size[1] > 1<<16:
			return TensorType{}, fmt.Errorf("fused resize: output size %v must be positive and at most 65536", r.Size)
		case r.AlignCorners && r.HalfPixelCenters:
			return TensorType{}, fmt.Errorf("fused resize: align_corners and half_pixel_centers are both set")
		case x.Shape[3] == 0:
			return TensorType{}, fmt.Errorf("axis 3 of input %v is empty: it has no largest element", x.Shape)
		}
		return TensorType{DType: a.OutputType, Shape: Shape{x.Shape[0], r.Size[0], r.Size[1]}}, nil
	}
	switch d := x.Shape[ax]; {
	case d == 0:
		return TensorType{}, fmt.Errorf("axis %d of input %v is empty: it has no largest element", a.Axis, x.Shape)
	case a.OutputType == Int32 && d > math.MaxInt32:
		return TensorType{}, fmt.Errorf("axis %d of input %v is too long for i32 indices", a.Axis, x.Shape)
	}
	s := append(append(make(Shape, 0, len(x.Shape)-1), x.Shape[:ax]...), x.Shape[ax+1:]...)
	return TensorType{DType: a.OutputType, Shape: s}, nil
}
