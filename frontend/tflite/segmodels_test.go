package tflite

import (
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// segModel builds the tiny segmenters of cmd/mnc's segmentation tests
// (testdata/seg_logits.tflite, testdata/seg_argmax.tflite): a 1x1
// convolution of a 16x16 RGB input to the logits of 4 classes, class 0 a
// constant 0.9 (background: dark pixels), class 1 to 3 the red, green and
// blue values, then, with argmax, TFLite's ARG_MAX over the channels to an
// INT64 class map [1,16,16], as DeepLab ends.
func segModel(argmax bool) *tModel {
	m := &tModel{}
	x := m.act("image", 1, 16, 16, 3)
	w := m.f32("w", []int32{4, 1, 1, 3}, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1)
	b := m.f32("b", []int32{4}, 0.9, 0, 0, 0)
	logits := m.act("logits", 1, 16, 16, 4)
	m.op(bConv2D, []int32{x, w, b}, logits, optConv2D, options(convPadding, int8(padValid), convStrideW, 1, convStrideH, 1))
	m.inputs, m.outputs = []int32{x}, []int32{logits}
	if argmax {
		y := m.add(tTensor{name: "classes", typ: ttInt64, shape: []int32{1, 16, 16}})
		m.op(bArgMax, []int32{logits, m.i32("axis", []int32{1}, 3)}, y, optArgMax, options(argMaxOutputType, int8(ttInt64)))
		m.outputs = []int32{y}
	}
	return m
}

// The segmenters classify black, red, green, blue and white pixels (tf
// preprocessing: -1 or 1 per channel) as 0, 1, 2, 3 and 1 (a tie: the
// first class).
func TestSegmentationModels(t *testing.T) {
	colours := [][3]float32{{-1, -1, -1}, {1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}, {1, 1, 1}}
	want := []int64{0, 1, 2, 3, 1}
	in := ir.NewFloat32(ir.Shape{1, 3, 16, 16}, nil)
	for p := range 256 {
		for c := range 3 {
			in.F32[c*256+p] = colours[p%5][c]
		}
	}
	for _, argmax := range []bool{false, true} {
		name := "seg_logits"
		if argmax {
			name = "seg_argmax"
		}
		g, err := Decode(save(t, name, segModel(argmax)))
		if err != nil {
			t.Fatal(err)
		}
		out, err := interp.Run(g, []*ir.Tensor{in}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int64, 256)
		switch o := out[0]; {
		case argmax && o.DType == ir.Int64 && o.Shape.Equal(ir.Shape{1, 16, 16}):
			got = o.I64
		case !argmax && o.DType == ir.Float32 && o.Shape.Equal(ir.Shape{1, 4, 16, 16}):
			for p := range 256 {
				for c := 1; c < 4; c++ {
					if o.F32[c*256+p] > o.F32[int(got[p])*256+p] {
						got[p] = int64(c)
					}
				}
			}
		default:
			t.Fatalf("%s: output %v%v", name, o.DType, o.Shape)
		}
		for p := range 256 {
			if got[p] != want[p%5] {
				t.Fatalf("%s: pixel %d class %d, want %d", name, p, got[p], want[p%5])
			}
		}
	}
}
