package onnx

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// resizeModel is x[dims] -> Resize(x, roi, scales, sizes) -> y, with the
// given initializers and extra nodes before it.
func resizeModel(opset int64, dims []int64, ins []string, pre [][]byte, attrs ...[]byte) []byte {
	parts := [][]byte{x4(dims...)}
	parts = append(parts, pre...)
	parts = append(parts, node("Resize", append([]string{"x"}, ins...), []string{"y"}, attrs...), output("y"))
	return model(opset, parts...)
}

func TestResize(t *testing.T) {
	sizes := func(v ...int64) []byte { return initializer(tensorI64("sizes", []int64{int64(len(v))}, v...)) }
	scales := func(v ...float32) []byte { return initializer(tensorF("scales", []int64{int64(len(v))}, v...)) }
	empty := initializer(tensorF("empty", []int64{0}))
	linear := aStr("mode", "linear")
	for _, tc := range []struct {
		name string
		data []byte
		want ir.ResizeAttrs
	}{
		{"opset 13 sizes, half_pixel by default", resizeModel(13, []int64{1, 2, 3, 4}, []string{"", "", "sizes"},
			[][]byte{sizes(1, 2, 7, 9)}, linear), ir.ResizeAttrs{Size: [2]int{7, 9}, HalfPixelCenters: true}},
		{"opset 11 empty scales and sizes", resizeModel(11, []int64{1, 2, 3, 4}, []string{"empty", "empty", "sizes"},
			[][]byte{empty, sizes(1, 2, 6, 8)}, linear, aStr("coordinate_transformation_mode", "half_pixel")),
			ir.ResizeAttrs{Size: [2]int{6, 8}, HalfPixelCenters: true}},
		{"integer scales", resizeModel(13, []int64{1, 2, 3, 4}, []string{"", "scales"}, [][]byte{scales(1, 1, 2, 1.5)}, linear),
			ir.ResizeAttrs{Size: [2]int{6, 6}, HalfPixelCenters: true}},
		{"align_corners, any scale", resizeModel(13, []int64{1, 2, 3, 4}, []string{"", "scales"}, [][]byte{scales(1, 1, 2.5, 1.1)},
			linear, aStr("coordinate_transformation_mode", "align_corners")), ir.ResizeAttrs{Size: [2]int{7, 4}, AlignCorners: true}},
		{"asymmetric", resizeModel(17, []int64{1, 2, 3, 4}, []string{"", "", "sizes"}, [][]byte{sizes(1, 2, 5, 5)},
			linear, aStr("coordinate_transformation_mode", "asymmetric")), ir.ResizeAttrs{Size: [2]int{5, 5}}},
		{"pytorch_half_pixel", resizeModel(13, []int64{1, 2, 3, 4}, []string{"", "", "sizes"}, [][]byte{sizes(1, 2, 5, 1)},
			linear, aStr("coordinate_transformation_mode", "pytorch_half_pixel")), ir.ResizeAttrs{}}, // refused below
		{"pytorch_half_pixel to 1x1", resizeModel(13, []int64{1, 2, 3, 4}, []string{"", "", "sizes"}, [][]byte{sizes(1, 2, 1, 1)},
			linear, aStr("coordinate_transformation_mode", "pytorch_half_pixel")), ir.ResizeAttrs{Size: [2]int{1, 1}, AlignCorners: true}},
		{"pytorch_half_pixel from 1x1", resizeModel(13, []int64{1, 2, 1, 1}, []string{"", "", "sizes"}, [][]byte{sizes(1, 2, 5, 1)},
			linear, aStr("coordinate_transformation_mode", "pytorch_half_pixel")), ir.ResizeAttrs{Size: [2]int{5, 1}, HalfPixelCenters: true}},
		{"opset 10: scales, asymmetric", resizeModel(10, []int64{1, 2, 3, 4}, []string{"scales"}, [][]byte{scales(1, 1, 2, 2)}, linear),
			ir.ResizeAttrs{Size: [2]int{6, 8}}},
		{"opset 18 axes", resizeModel(18, []int64{1, 2, 3, 4}, []string{"", "", "sizes"}, [][]byte{sizes(4, 4)}, linear, aInts("axes", 2, 3)),
			ir.ResizeAttrs{Size: [2]int{4, 4}, HalfPixelCenters: true}},
		// PyTorch's export of F.interpolate(x, size=low.shape[-2:]) with a dynamic batch:
		// Concat(Slice(Shape(x), 0, 2), Cast(Concat(Unsqueeze(Gather(Shape(low), 2)), ...))).
		{"folded sizes, dynamic batch", model(13, x4(-1, 2, 3, 4), input("low", tFloat, -1, 5, 7, 9),
			initializer(tensorI64("z", []int64{1}, 0)), initializer(tensorI64("two", []int64{1}, 2)),
			initializer(tensorI64("big", []int64{1}, math.MaxInt64)), initializer(tensorI64("i2", nil, 2)),
			initializer(tensorI64("i3", nil, 3)),
			node("Shape", []string{"x"}, []string{"sx"}),
			node("Slice", []string{"sx", "z", "two", "z"}, []string{"nc"}),
			node("Shape", []string{"low"}, []string{"sl"}),
			node("Gather", []string{"sl", "i2"}, []string{"h"}, aInt("axis", 0)),
			node("Gather", []string{"sl", "i3"}, []string{"w"}, aInt("axis", 0)),
			node("Unsqueeze", []string{"h", "z"}, []string{"h1"}), node("Unsqueeze", []string{"w", "z"}, []string{"w1"}),
			node("Concat", []string{"h1", "w1"}, []string{"hw"}, aInt("axis", 0)),
			node("Cast", []string{"hw"}, []string{"hw64"}, aInt("to", tInt64)),
			node("Concat", []string{"nc", "hw64"}, []string{"sizes"}, aInt("axis", 0)),
			node("Resize", []string{"x", "", "", "sizes"}, []string{"y"}, linear),
			output("y")), ir.ResizeAttrs{Size: [2]int{7, 9}, HalfPixelCenters: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want.Size == [2]int{} {
				wantErr(t, tc.data, "one axis has one output pixel")
				return
			}
			g := mustDecode(t, tc.data)
			n := only(t, g, ir.ResizeBilinear)
			if got := *n.Attrs.(*ir.ResizeAttrs); got != tc.want {
				t.Errorf("attrs %v, want %v", &got, &tc.want)
			}
			if len(g.Nodes) != 1 {
				t.Errorf("%d nodes, want the Resize alone:\n%v", len(g.Nodes), g)
			}
		})
	}
}

func TestResizeErrors(t *testing.T) {
	sizes := func(v ...int64) []byte { return initializer(tensorI64("sizes", []int64{int64(len(v))}, v...)) }
	scales := func(v ...float32) []byte { return initializer(tensorF("scales", []int64{int64(len(v))}, v...)) }
	linear := aStr("mode", "linear")
	std := []int64{1, 2, 3, 4}
	withSizes := func(attrs ...[]byte) []byte {
		return resizeModel(13, std, []string{"", "", "sizes"}, [][]byte{sizes(1, 2, 6, 8)}, attrs...)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"nearest by default", withSizes(), `mode "nearest" is not supported (mnc resizes bilinearly only`},
		{"cubic", withSizes(aStr("mode", "cubic")), `mode "cubic" is not supported`},
		{"crop and resize", withSizes(linear, aStr("coordinate_transformation_mode", "tf_crop_and_resize")),
			`coordinate_transformation_mode "tf_crop_and_resize" is not supported`},
		{"half_pixel_symmetric", withSizes(linear, aStr("coordinate_transformation_mode", "half_pixel_symmetric")),
			`coordinate_transformation_mode "half_pixel_symmetric" is not supported`},
		{"antialias", withSizes(linear, aInt("antialias", 1)), "antialias=1 is not supported"},
		{"exclude_outside", withSizes(linear, aInt("exclude_outside", 1)), "exclude_outside=1 is not supported"},
		{"aspect policy", withSizes(linear, aStr("keep_aspect_ratio_policy", "not_larger")), `keep_aspect_ratio_policy "not_larger"`},
		{"unknown attribute", withSizes(linear, aInt("colour", 1)), `unexpected attribute "colour"`},
		{"non-integer scale", resizeModel(13, std, []string{"", "scales"}, [][]byte{scales(1, 1, 1.5, 2)}, linear),
			"scale 1.5 of axis 2 gives 4.5 output pixels from 3: ONNX then samples at 1/scale"},
		{"scales on C", resizeModel(13, std, []string{"", "scales"}, [][]byte{scales(1, 2, 2, 2)}, linear),
			"scales[1] is 2; mnc resizes H and W only"},
		{"sizes on C", resizeModel(13, std, []string{"", "", "sizes"}, [][]byte{sizes(1, 3, 6, 8)}, linear),
			"sizes[1] changes dimension 1 of"},
		{"constant N of a dynamic batch", resizeModel(13, []int64{-1, 2, 3, 4}, []string{"", "", "sizes"}, [][]byte{sizes(1, 2, 6, 8)}, linear),
			"sizes[0] changes dimension 0 of"},
		{"zero size", resizeModel(13, std, []string{"", "", "sizes"}, [][]byte{sizes(1, 2, 0, 8)}, linear), "sizes[2] is 0"},
		{"short sizes", resizeModel(13, std, []string{"", "", "sizes"}, [][]byte{sizes(6, 8)}, linear),
			"must be a constant vector of 4 sizes"},
		{"both", resizeModel(13, std, []string{"", "scales", "sizes"}, [][]byte{scales(1, 1, 2, 2), sizes(1, 2, 6, 8)}, linear),
			"both scales and sizes are given"},
		{"neither", resizeModel(13, std, nil, nil, linear), "neither scales nor sizes is given"},
		{"3-D", resizeModel(13, []int64{1, 2, 3}, []string{"", "", "sizes"}, [][]byte{sizes(1, 2, 6)}, linear), "has rank 3"},
		{"axes", resizeModel(18, std, []string{"", "", "sizes"}, [][]byte{sizes(2, 6)}, linear, aInts("axes", 1, 2)),
			"attribute axes [1 2] is not supported"},
		{"run-time sizes", model(13, x4(1, 2, 3, 4), input("s", tInt64, 4),
			node("Resize", []string{"x", "", "", "s"}, []string{"y"}, linear), output("y")), "(sizes, \"s\") must be a constant"},
		{"run-time H", model(13, x4(1, 2, 3, 4), input("low", tFloat, 1, 2, -1, 5),
			node("Shape", []string{"low"}, []string{"sizes"}),
			node("Resize", []string{"x", "", "", "sizes"}, []string{"y"}, linear), output("y")), "sizes[2] is dimension 2 of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.data, tc.want)
			_, err := Decode(tc.data)
			if !strings.Contains(err.Error(), "Resize") {
				t.Errorf("error %q does not name the op", err)
			}
		})
	}
}

func TestSliceFolding(t *testing.T) {
	target := func(opset int64, pre ...[]byte) []int {
		t.Helper()
		parts := append([][]byte{x4(-1, 2, 3, 4), node("Shape", []string{"x"}, []string{"sh"})}, pre...)
		parts = append(parts, node("Reshape", []string{"x", "t"}, []string{"y"}), output("y"))
		g := mustDecode(t, model(opset, parts...))
		return only(t, g, ir.Reshape).Attrs.(*ir.ReshapeAttrs).Shape
	}
	i64 := func(name string, v ...int64) []byte {
		return initializer(tensorI64(name, []int64{int64(len(v))}, v...))
	}
	// Reshape(x, Concat(Slice(Shape(x), 0, -2), [-1])): [N, 2, 12] keeps N and 2.
	got := target(13, i64("s", 0), i64("e", -2), i64("m1", -1),
		node("Slice", []string{"sh", "s", "e"}, []string{"p"}), node("Concat", []string{"p", "m1"}, []string{"t"}, aInt("axis", 0)))
	if want := []int{0, 2, -1}; !equalInts(got, want) {
		t.Errorf("slice 0:-2: target %v, want %v", got, want)
	}
	// Reverse with a negative step and INT64 sentinels, then back: [4 3 2 N] -> kept as values only where known.
	got = target(13, i64("s", -1), i64("e", math.MinInt64), i64("ax", 0), i64("st", -2),
		node("Slice", []string{"sh", "s", "e", "ax", "st"}, []string{"p"}), // [4, 2]
		i64("m1", -1), node("Concat", []string{"m1", "p"}, []string{"t"}, aInt("axis", 0)))
	if want := []int{-1, 4, 2}; !equalInts(got, want) {
		t.Errorf("slice -1::-2: target %v, want %v", got, want)
	}
	// Opset 9: attributes.
	got = target(9, node("Slice", []string{"sh"}, []string{"p"}, aInts("starts", 1), aInts("ends", math.MaxInt64)),
		i64("m1", -1), node("Concat", []string{"m1", "p"}, []string{"t"}, aInt("axis", 0)))
	if want := []int{-1, 2, 3, 4}; !equalInts(got, want) {
		t.Errorf("opset 9 slice 1:: target %v, want %v", got, want)
	}
	wantErr(t, model(13, x4(1, 2, 3, 4), i64("s", 0), i64("e", 2),
		node("Slice", []string{"x", "s", "e"}, []string{"y"}), output("y")),
		`unsupported op "Slice"`, "only inside constant shape computations")
	wantErr(t, model(13, x4(1, 2, 3, 4), i64("s", 0), i64("e", 2), i64("st", 0),
		node("Shape", []string{"x"}, []string{"sh"}), node("Slice", []string{"sh", "s", "e", "s", "st"}, []string{"y"}), output("y")),
		"step 0")
}

func equalInts(a, b []int) bool {
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

// TestSegGoldenONNX: the ONNX exports of testdata/seg (LR-ASPP at opset 13,
// DeepLabV3 at opset 17, by testdata/gen/make_seg_golden.py) import with
// their Resize nodes and reproduce PyTorch's "out": max |diff| / max |out|
// <= 1e-4.
func TestSegGoldenONNX(t *testing.T) {
	dir := filepath.Join(golden.RepoRoot(t), "testdata", "seg")
	for _, name := range []string{"lraspp", "deeplabv3"} {
		t.Run(name, func(t *testing.T) {
			g, err := Load(filepath.Join(dir, name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			st := ir.ComputeStats(g)
			if st.OpCounts[ir.ResizeBilinear] != 2 {
				t.Errorf("%d ResizeBilinear nodes, want 2", st.OpCounts[ir.ResizeBilinear])
			}
			for _, n := range g.Nodes {
				if a, ok := n.Attrs.(*ir.ResizeAttrs); ok && (!a.HalfPixelCenters || a.AlignCorners) {
					t.Errorf("%s: %v, want half-pixel centers (align_corners=False)", n.Name, a)
				}
			}
			x, err := npy.ReadFile(filepath.Join(dir, name+".input.npy"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := npy.ReadFile(filepath.Join(dir, name+".out.npy"))
			if err != nil {
				t.Fatal(err)
			}
			outs, err := interp.Run(g, []*ir.Tensor{ir.NewFloat32(x.Shape, x.Data)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := outs[0]
			if !got.Shape.Equal(ir.Shape(want.Shape)) {
				t.Fatalf("out %v, PyTorch %v", got.Shape, want.Shape)
			}
			var d, m float64
			for i, w := range want.Data {
				d = max(d, math.Abs(float64(got.F32[i])-float64(w)))
				m = max(m, math.Abs(float64(w)))
			}
			t.Logf("%s.onnx: %d nodes, max |out| %.3f, max |diff| / max |out| %.2e", name, len(g.Nodes), m, d/m)
			if d > 1e-4*m {
				t.Errorf("out differs from PyTorch by %.3g of its max", d/m)
			}
		})
	}
}
