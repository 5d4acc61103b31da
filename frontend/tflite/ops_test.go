package tflite

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// The operators against naive NHWC references written from TFLite's
// semantics: each model is built with the test writer, loaded, run on the
// float interpreter in NCHW and compared back in NHWC.

func seqf(n int, start, step float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = start + step*float32(i)
	}
	return v
}

// wave is a deterministic non-monotonic sequence.
func wave(n int, seed float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.Sin(seed + 0.7*float64(i)))
	}
	return v
}

// nchw and nhwc convert data of a 4-D tensor between the two layouts; s is
// the NHWC shape.
func toNCHW(x []float32, s []int) []float32 { return permute(x, s, [4]int{0, 3, 1, 2}) }
func toNHWC(x []float32, s []int) []float32 {
	return permute(x, []int{s[0], s[3], s[1], s[2]}, [4]int{0, 2, 3, 1})
}

func ints(s []int32) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}

// runNHWC loads the model, runs it on x (NHWC data of input 0) and returns
// output 0 in TFLite layout.
func runNHWC(t *testing.T, name string, m *tModel, x []float32) ([]float32, *ir.Graph) {
	t.Helper()
	g, err := Decode(save(t, name, m))
	if err != nil {
		t.Fatal(err)
	}
	in := ints(m.tensors[m.inputs[0]].shape)
	data := x
	if len(in) == 4 {
		data = toNCHW(x, in)
	}
	out, err := interp.Run(g, []*ir.Tensor{ir.NewFloat32(irShape(in), data)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	os := m.tensors[m.outputs[0]].shape
	if len(os) == 4 {
		return toNHWC(out[0].F32, ints(os)), g
	}
	return out[0].F32, g
}

func near(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: [%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// convRef is a convolution in NHWC: w(o, kh, kw, i) is the weight of output
// channel o from input channel i of its group.
func convRef(x []float32, xs [4]int, w func(o, kh, kw, i int) float32, b []float32, oc, k, stride, dil int, same bool, group int, act func(float32) float32) ([]float32, [4]int) {
	n, h, wd, c := xs[0], xs[1], xs[2], xs[3]
	var oh, ow, pt, pl int
	if same {
		oh, ow = (h+stride-1)/stride, (wd+stride-1)/stride
		pt = max(0, (oh-1)*stride+(k-1)*dil+1-h) / 2
		pl = max(0, (ow-1)*stride+(k-1)*dil+1-wd) / 2
	} else {
		oh, ow = (h-(k-1)*dil-1)/stride+1, (wd-(k-1)*dil-1)/stride+1
	}
	cg, og := c/group, oc/group
	out := make([]float32, n*oh*ow*oc)
	for bn := range n {
		for y := range oh {
			for xx := range ow {
				for o := range oc {
					s := float64(0)
					if b != nil {
						s = float64(b[o])
					}
					g := o / og
					for i := range k {
						for j := range k {
							iy, ix := y*stride+i*dil-pt, xx*stride+j*dil-pl
							if iy < 0 || iy >= h || ix < 0 || ix >= wd {
								continue
							}
							for ci := range cg {
								s += float64(x[((bn*h+iy)*wd+ix)*c+g*cg+ci]) * float64(w(o, i, j, ci))
							}
						}
					}
					out[((bn*oh+y)*ow+xx)*oc+o] = act(float32(s))
				}
			}
		}
	}
	return out, [4]int{n, oh, ow, oc}
}

func relu6(v float32) float32 { return min(max(v, 0), 6) }
func relu(v float32) float32  { return max(v, 0) }
func ident(v float32) float32 { return v }

func TestConvDepthwiseSame(t *testing.T) {
	for _, c := range []struct {
		h, w, stride, dil int
		same              bool
	}{{6, 6, 2, 1, true}, {5, 7, 2, 1, true}, {6, 5, 1, 2, true}, {7, 7, 2, 1, false}, {4, 4, 1, 1, true}} {
		m := &tModel{}
		xs := [4]int{1, c.h, c.w, 4}
		x := m.act("x", 1, int32(c.h), int32(c.w), 4)
		wv, bv := wave(6*3*3*4, 1), seqf(6, -0.5, 0.2)
		w := m.f32("w", []int32{6, 3, 3, 4}, wv...)
		b := m.f32("b", []int32{6}, bv...)
		wr := func(o, i, j, ci int) float32 { return wv[((o*3+i)*3+j)*4+ci] }
		want1, s1 := convRef(wave(c.h*c.w*4, 2), xs, wr, bv, 6, 3, c.stride, c.dil, c.same, 1, relu6)
		dv, dbv := wave(3*3*12, 3), seqf(12, 0.1, 0.05)
		dr := func(o, i, j, _ int) float32 { return dv[(i*3+j)*12+o] }
		want, s2 := convRef(want1, s1, dr, dbv, 12, 3, 1, 1, true, 6, relu)
		pad := int8(padSame)
		if !c.same {
			pad = padValid
		}
		y1 := m.act("y1", 1, int32(s1[1]), int32(s1[2]), 6)
		m.op(bConv2D, []int32{x, w, b}, y1, optConv2D, options(convPadding, pad, convStrideW, c.stride, convStrideH, c.stride,
			convAct, int8(actRelu6), convDilW, c.dil, convDilH, c.dil))
		dw := m.f32("dw", []int32{1, 3, 3, 12}, dv...)
		db := m.f32("db", []int32{12}, dbv...)
		y := m.act("y", 1, int32(s2[1]), int32(s2[2]), 12)
		m.op(bDepthwiseConv2D, []int32{y1, dw, db}, y, optDepthwiseConv, options(dwPadding, int8(padSame), dwStrideW, 1, dwStrideH, 1,
			dwMultiplier, 2, dwAct, int8(actRelu)))
		m.inputs, m.outputs = []int32{x}, []int32{y}
		got, _ := runNHWC(t, fmt.Sprintf("conv_%dx%d_s%d_d%d", c.h, c.w, c.stride, c.dil), m, wave(c.h*c.w*4, 2))
		near(t, "conv+depthwise", got, want)
	}
}

func TestPoolMeanFullyConnected(t *testing.T) {
	m := &tModel{}
	x := m.act("x", 1, 5, 4, 3)
	xv := wave(60, 0.3)
	p := m.act("p", 1, 3, 2, 3)
	m.op(bAveragePool2D, []int32{x}, p, optPool2D, options(poolPadding, int8(padSame), poolStrideW, 2, poolStrideH, 2,
		poolFilterW, 3, poolFilterH, 3, poolAct, int8(actRelu)))
	mean := m.act("mean", 1, 3)
	axes := m.i32("axes", []int32{2}, 1, -2)
	m.op(bMean, []int32{p, axes}, mean, optReducer, options(reducerKeepDims, false))
	fcw := m.f32("fcw", []int32{2, 3}, 1, -2, 0.5, 0.25, 1, -1)
	fc := m.act("fc", 1, 2)
	m.op(bFullyConnected, []int32{mean, fcw, -1}, fc, optFullyConnected, options(fcAct, int8(actNone)))
	// FULLY_CONNECTED straight from a 4-D input flattens it in NHWC order.
	fc2w := wave(2*18, 5)
	fc2 := m.act("fc2", 1, 2)
	m.op(bFullyConnected, []int32{p, m.f32("fc2w", []int32{2, 18}, fc2w...), m.f32("fc2b", []int32{2}, 1, 2)}, fc2, optFullyConnected, nil)
	y := m.act("y", 1, 4)
	m.op(bConcatenation, []int32{fc, fc2}, y, optConcatenation, options(concatAxis, -1))
	m.inputs, m.outputs = []int32{x}, []int32{y}

	pool := make([]float32, 18) // 3x3 windows, stride 2, SAME: pads 1,1 (H 5) and 0,1 (W 4)
	for oy := range 3 {
		for ox := range 2 {
			for c := range 3 {
				s, n := float32(0), 0
				for i := range 3 {
					for j := range 3 {
						iy, ix := oy*2+i-1, ox*2+j
						if iy >= 0 && iy < 5 && ix < 4 {
							s += xv[(iy*4+ix)*3+c]
							n++
						}
					}
				}
				pool[(oy*2+ox)*3+c] = relu(s / float32(n))
			}
		}
	}
	var mv [3]float32
	for i, v := range pool {
		mv[i%3] += v / 6
	}
	want := []float32{mv[0] - 2*mv[1] + 0.5*mv[2], 0.25*mv[0] + mv[1] - mv[2], 1, 2}
	for o := range 2 {
		for i, v := range pool {
			want[2+o] += fc2w[o*18+i] * v
		}
	}
	got, _ := runNHWC(t, "pool_mean_fc", m, xv)
	near(t, "pool+mean+fc", got, want)
}

func TestLayoutOps(t *testing.T) {
	m := &tModel{}
	x := m.act("x", 1, 2, 3, 2)
	xv := seqf(12, 1, 1)
	pd := m.act("pd", 1, 3, 5, 3)
	m.op(bPad, []int32{x, m.i32("pads", []int32{4, 2}, 0, 0, 1, 0, 0, 2, 0, 1)}, pd, optPad, nil)
	mul := m.act("mul", 1, 3, 5, 3)
	m.op(bMul, []int32{pd, m.f32("k", []int32{3}, 2, 3, 4)}, mul, optMul, nil)
	add := m.act("add", 1, 3, 5, 3)
	m.op(bAdd, []int32{mul, m.f32("k2", []int32{5, 1}, 0, 10, 20, 30, 40)}, add, optAdd, options(eltwiseAct, int8(actRelu)))
	cat := m.act("cat", 1, 3, 5, 6)
	m.op(bConcatenation, []int32{add, pd}, cat, optConcatenation, options(concatAxis, 3))
	rs := m.act("rs", 1, 9, 10)
	m.op(bReshape, []int32{cat, m.i32("shape", []int32{3}, 1, -1, 10)}, rs, optReshape, nil)
	r4 := m.act("r4", 1, 5, 3, 6)
	m.op(bReshape, []int32{rs}, r4, optReshape, options(reshapeNewShape, []int32{1, 5, 3, 6}))
	hs := m.act("hs", 1, 5, 3, 6)
	m.op(bHardSwish, []int32{r4}, hs, optHardSwish, nil)
	sg := m.act("sg", 1, 5, 3, 6)
	m.op(bLogistic, []int32{hs}, sg, optNone, nil)
	sm := m.act("sm", 1, 5, 3, 6)
	m.op(bSoftmax, []int32{sg}, sm, optSoftmax, options(softmaxBeta, float32(2)))
	m.inputs, m.outputs = []int32{x}, []int32{sm}

	// NHWC reference.
	padded := make([]float32, 45)
	for h := range 2 {
		for w := range 3 {
			for c := range 2 {
				padded[((h+1)*5+w)*3+c] = xv[(h*3+w)*2+c]
			}
		}
	}
	catv := make([]float32, 0, 90)
	for i := range 15 {
		for c := range 3 {
			catv = append(catv, relu(padded[i*3+c]*float32(2+c)+float32(10*(i%5))))
		}
		catv = append(catv, padded[i*3:i*3+3]...)
	}
	want := make([]float32, 90) // the reshapes keep the NHWC order
	for i := 0; i < 90; i += 6 {
		var e [6]float64
		sum := 0.0
		for j := range 6 {
			v := float64(catv[i+j])
			v = v * math.Min(math.Max(v+3, 0), 6) / 6
			v = 1 / (1 + math.Exp(-v))
			e[j] = math.Exp(2 * v)
			sum += e[j]
		}
		for j := range 6 {
			want[i+j] = float32(e[j] / sum)
		}
	}
	got, g := runNHWC(t, "layout", m, xv)
	near(t, "layout ops", got, want)
	if n := g.Nodes[len(g.Nodes)-1]; n.Op != ir.Softmax {
		t.Errorf("the last node is %s; a 4-D softmax stays", n)
	}
}

func TestSqueezeAndFinalSoftmax(t *testing.T) {
	m := &tModel{}
	x := m.act("x", 1, 1, 1, 5)
	sq := m.act("sq", 1, 5)
	m.op(bSqueeze, []int32{x}, sq, optSqueeze, options(squeezeDims, []int32{1, 2}))
	y := m.act("y", 1, 5)
	m.op(bSoftmax, []int32{sq}, y, optSoftmax, options(softmaxBeta, float32(1)))
	m.inputs, m.outputs = []int32{x}, []int32{y}
	got, g := runNHWC(t, "squeeze_softmax", m, seqf(5, 0, 1))
	near(t, "squeeze", got, seqf(5, 0, 1))
	for _, n := range g.Nodes {
		if n.Op == ir.Softmax {
			t.Errorf("the final softmax over classes stays: %s", n)
		}
	}
}

func TestRefusedOperators(t *testing.T) {
	for _, c := range []struct {
		code int32
		want string
	}{
		{17, "operator 0 (MAX_POOL_2D): this operator is not supported"},
		{bResizeBilinear, "operator 0 (RESIZE_BILINEAR): 1 inputs, want 2"},
		{200, "operator 0 (builtin operator 200)"},
	} {
		m := &tModel{}
		x := m.act("x", 1, 2, 2, 1)
		y := m.act("y", 1, 2, 2, 1)
		m.op(c.code, []int32{x}, y, 0, nil)
		m.inputs, m.outputs = []int32{x}, []int32{y}
		_, err := Decode(m.bytes())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("code %d: %v, want %q", c.code, err, c.want)
		}
	}
}

// Forms the ir cannot express are refused, naming the operator.
func TestRefusedForms(t *testing.T) {
	m := &tModel{}
	x := m.act("x", 1, 2, 2, 3)
	y := m.act("y", 1, 2, 2)
	m.op(bMean, []int32{x, m.i32("axes", []int32{1}, 3)}, y, optReducer, options(reducerKeepDims, false))
	m.inputs, m.outputs = []int32{x}, []int32{y}
	if _, err := Decode(m.bytes()); err == nil || !strings.Contains(err.Error(), "operator 0 (MEAN): mean over axes [3]: mnc maps the mean over height and width") {
		t.Errorf("MEAN over channels: %v", err)
	}
	m = &tModel{}
	x = m.act("x", 1, 2, 2, 3)
	y = m.act("y", 1, 2, 2, 3)
	m.op(bConv2D, []int32{x, m.f32("w", []int32{3, 1, 1, 3}, seqf(9, 0, 1)...)}, y, optConv2D, options(convStrideW, 1, convStrideH, 1, convAct, int8(actTanh)))
	m.inputs, m.outputs = []int32{x}, []int32{y}
	if _, err := Decode(m.bytes()); err == nil || !strings.Contains(err.Error(), "operator 0 (CONV_2D): fused activation TANH is not supported") {
		t.Errorf("fused TANH: %v", err)
	}
	m = &tModel{}
	x = m.act("x", 1, 2, 2, 3)
	y = m.act("y", 1, 12)
	m.op(bReshape, []int32{x, m.i32("shape", []int32{2}, 1, 6)}, y, optReshape, nil)
	m.inputs, m.outputs = []int32{x}, []int32{y}
	if _, err := Decode(m.bytes()); err == nil || !strings.Contains(err.Error(), "operator 0 (RESHAPE): new shape [1 6] does not match the output shape [1 12]") {
		t.Errorf("RESHAPE target: %v", err)
	}
}

func TestSubDivPadV2(t *testing.T) {
	m := &tModel{}
	x := m.act("x", 1, 2, 2, 2)
	xv := seqf(8, -2, 0.75)
	p := m.act("p", 1, 2, 3, 3)
	m.op(bPadV2, []int32{x, m.i32("pads", []int32{4, 2}, 0, 0, 0, 0, 1, 0, 0, 1), m.f32("cv", []int32{}, 0.5)}, p, optPadV2, nil)
	s := m.act("s", 1, 2, 3, 3)
	m.op(bSub, []int32{p, m.f32("k", []int32{3}, 1, 2, 3)}, s, optSub, options(eltwiseAct, int8(actReluN1To1)))
	y := m.act("y", 1, 2, 3, 3)
	m.op(bDiv, []int32{s, m.f32("d", []int32{1}, 4)}, y, optDiv, nil)
	m.inputs, m.outputs = []int32{x}, []int32{y}
	want := make([]float32, 18)
	for h := range 2 {
		for w := range 3 {
			for c := range 3 {
				v := float32(0.5)
				if w >= 1 && c < 2 {
					v = xv[(h*2+w-1)*2+c]
				}
				want[(h*3+w)*3+c] = min(max(v-float32(c+1), -1), 1) / 4
			}
		}
	}
	got, _ := runNHWC(t, "sub_div_padv2", m, xv)
	near(t, "sub/div/padv2", got, want)
}

// RESIZE_BILINEAR with align_corners, as DeepLab's: a 1x2 row to 1x3.
func TestResizeBilinear(t *testing.T) {
	m := &tModel{}
	x := m.act("x", 1, 1, 2, 1)
	y := m.act("y", 1, 1, 3, 1)
	m.op(bResizeBilinear, []int32{x, m.i32("size", []int32{2}, 1, 3)}, y, optResizeBilinear, options(resizeAlignCorners, true))
	m.inputs, m.outputs = []int32{x}, []int32{y}
	// Decoded in memory: the generated-file check of runNHWC needs
	// TensorFlow, which this test does not (the shape [1,1,W,1] is the
	// same in NHWC and NCHW order).
	g, err := Decode(m.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n := g.Nodes[len(g.Nodes)-1]; n.Op != ir.ResizeBilinear || !n.Attrs.(*ir.ResizeAttrs).AlignCorners {
		t.Fatalf("last node %s, want ResizeBilinear with align_corners", n)
	}
	out, err := interp.Run(g, []*ir.Tensor{ir.NewFloat32(ir.Shape{1, 1, 1, 2}, []float32{0, 1})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "resize", out[0].F32, []float32{0, 0.5, 1})
}

// argMaxRef is ARG_MAX over axis a of the NHWC (TFLite order) data x of
// shape s: the first largest element's index.
func argMaxRef(x []float32, s []int, a int) []int64 {
	outer, inner := 1, 1
	for _, d := range s[:a] {
		outer *= d
	}
	for _, d := range s[a+1:] {
		inner *= d
	}
	out := make([]int64, outer*inner)
	for o := range outer {
		for i := range inner {
			best := 0
			for d := range s[a] {
				if x[(o*s[a]+d)*inner+i] > x[(o*s[a]+best)*inner+i] {
					best = d
				}
			}
			out[o*inner+i] = int64(best)
		}
	}
	return out
}

// ARG_MAX over each axis of a 4-D input (the channels as DeepLab's, H
// through a transpose, W by a negative axis), INT32 and INT64 indices and
// axes, against the NHWC reference; values repeat, so ties occur.
func TestArgMax(t *testing.T) {
	m := &tModel{}
	xs := []int{1, 2, 3, 4}
	x := m.act("x", 1, 2, 3, 4)
	xv := make([]float32, 24)
	for i := range xv {
		xv[i] = float32((i * 7) % 5) // 0 2 4 1 3 0 2 ...: ties along every axis
	}
	type arg struct {
		axis, tfAxis int
		typ          int8
		shape        []int32
	}
	args := []arg{{3, 3, ttInt64, []int32{1, 2, 3}}, {1, 1, ttInt32, []int32{1, 3, 4}}, {-2, 2, ttInt64, []int32{1, 2, 4}}, {0, 0, ttInt32, []int32{2, 3, 4}}}
	for k, a := range args {
		y := m.add(tTensor{name: fmt.Sprintf("y%d", k), typ: a.typ, shape: a.shape})
		ax := m.i32(fmt.Sprintf("axis%d", k), []int32{1}, int32(a.axis))
		if k == 1 {
			ax = m.i64("axis1", []int32{}, int64(a.axis)) // a scalar INT64 axis
		}
		m.op(bArgMax, []int32{x, ax}, y, optArgMax, options(argMaxOutputType, a.typ))
		m.outputs = append(m.outputs, y)
	}
	m.inputs = []int32{x}
	// Decoded in memory, as TestResizeBilinear.
	g, err := Decode(m.bytes())
	if err != nil {
		t.Fatal(err)
	}
	out, err := interp.Run(g, []*ir.Tensor{ir.NewFloat32(irShape(xs), toNCHW(xv, xs))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, a := range args {
		got := out[k]
		want := argMaxRef(xv, xs, a.tfAxis)
		idx := got.I64
		if a.typ == ttInt32 {
			if got.DType != ir.Int32 {
				t.Fatalf("axis %d: %v indices, want i32", a.axis, got.DType)
			}
			idx = make([]int64, len(got.I32))
			for i, v := range got.I32 {
				idx[i] = int64(v)
			}
		} else if got.DType != ir.Int64 {
			t.Fatalf("axis %d: %v indices, want i64", a.axis, got.DType)
		}
		if !got.Shape.Equal(ir.Shape(ints(a.shape))) || !slices.Equal(idx, want) {
			t.Errorf("axis %d: %v %v, want %v %v", a.axis, got.Shape, idx, a.shape, want)
		}
	}
	// The channel axis needs no transpose: the first node reads the input.
	if n := g.Nodes[0]; n.Op != ir.ArgMax || n.Attrs.(*ir.ArgMaxAttrs).Axis != 1 || n.Inputs[0] != g.Inputs[0] {
		t.Errorf("first node %s, want ArgMax over the NCHW channels of the input", n.Format())
	}
}

// ARG_MAX's forms mnc does not map are refused with an error naming the
// operator and its index.
func TestArgMaxRefused(t *testing.T) {
	type build func(m *tModel, x int32) (ins []int32, out int32, opts func(*flatbuffers.Builder) flatbuffers.UOffsetT)
	i64out := func(m *tModel, shape ...int32) int32 { return m.add(tTensor{name: "y", typ: ttInt64, shape: shape}) }
	withType := func(typ int8) func(*flatbuffers.Builder) flatbuffers.UOffsetT { return options(argMaxOutputType, typ) }
	for _, c := range []struct {
		name  string
		build build
		want  string
	}{
		{"no options", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.i32("a", []int32{1}, 3)}, i64out(m, 1, 2, 3), nil
		}, "operator 0 (ARG_MAX): output_type FLOAT32, want INT32 or INT64"},
		{"output type differs", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.i32("a", []int32{1}, 3)}, i64out(m, 1, 2, 3), withType(ttInt32)
		}, `operator 0 (ARG_MAX): output_type INT32, but output tensor "y" is INT64`},
		{"float output", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.i32("a", []int32{1}, 3)}, m.act("y", 1, 2, 3), withType(ttInt64)
		}, `operator 0 (ARG_MAX): output_type INT64, but output tensor "y" is FLOAT32`},
		{"no axis", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x}, i64out(m, 1, 2, 3), withType(ttInt64)
		}, "operator 0 (ARG_MAX): 1 inputs, want 2 (the tensor and the axis)"},
		{"axis not constant", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.add(tTensor{name: "a", typ: ttInt32, shape: []int32{1}})}, i64out(m, 1, 2, 3), withType(ttInt64)
		}, `operator 0 (ARG_MAX): axis (input 1) "a" must be a constant`},
		{"two axes", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.i32("a", []int32{2}, 1, 2)}, i64out(m, 1, 2), withType(ttInt64)
		}, "operator 0 (ARG_MAX): axis (input 1) holds 2 values, want 1"},
		{"float axis", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.f32("a", []int32{1}, 3)}, i64out(m, 1, 2, 3), withType(ttInt64)
		}, `operator 0 (ARG_MAX): axis (input 1): constant "a" is FLOAT32, want INT32 or INT64`},
		{"axis out of range", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.i32("a", []int32{1}, 4)}, i64out(m, 1, 2, 3), withType(ttInt64)
		}, "operator 0 (ARG_MAX): axis 4 is out of range for rank 4"},
		{"negative axis out of range", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.i64("a", []int32{1}, -5)}, i64out(m, 1, 2, 3), withType(ttInt64)
		}, "operator 0 (ARG_MAX): axis -5 is out of range for rank 4"},
		{"huge axis", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.i64("a", []int32{1}, 1<<40)}, i64out(m, 1, 2, 3), withType(ttInt64)
		}, `operator 0 (ARG_MAX): axis (input 1) "a" holds 1099511627776`},
		{"wrong output shape", func(m *tModel, x int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{x, m.i32("a", []int32{1}, 3)}, i64out(m, 1, 3, 2), withType(ttInt64)
		}, `operator 0 (ARG_MAX): computes [1,2,3] where output tensor "y" declares [1 3 2]`},
		{"rank 5", func(m *tModel, _ int32) ([]int32, int32, func(*flatbuffers.Builder) flatbuffers.UOffsetT) {
			return []int32{m.f32("c", []int32{1, 1, 1, 1, 2}, 1, 2), m.i32("a", []int32{1}, 4)}, i64out(m, 1, 1, 1, 1), withType(ttInt64)
		}, "operator 0 (ARG_MAX): input of rank 5; mnc maps ARG_MAX over inputs of rank 1 to 4"},
	} {
		m := &tModel{}
		x := m.act("x", 1, 2, 3, 4)
		ins, y, opts := c.build(m, x)
		m.op(bArgMax, ins, y, optArgMax, opts)
		m.inputs, m.outputs = []int32{x}, []int32{y}
		if _, err := Decode(m.bytes()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// The indices feed no other operator, even where a file declares the
	// reader's output float.
	m := &tModel{}
	x := m.act("x", 1, 2, 3, 4)
	y := m.add(tTensor{name: "y", typ: ttInt64, shape: []int32{1, 2, 3}})
	m.op(bArgMax, []int32{x, m.i32("a", []int32{1}, 3)}, y, optArgMax, options(argMaxOutputType, int8(ttInt64)))
	r := m.act("r", 1, 2, 3)
	m.op(bRelu, []int32{y}, r, optNone, nil)
	m.inputs, m.outputs = []int32{x}, []int32{r}
	if _, err := Decode(m.bytes()); err == nil || !strings.Contains(err.Error(), "operator 1 (RELU): reads i64 indices (an ARG_MAX's output)") {
		t.Errorf("RELU of the indices: %v", err)
	}
}
