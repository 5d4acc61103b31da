package interp

import (
	"slices"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// TestResizeBilinearRules checks the three coordinate rules of
// ir.ResizeAttrs on values worked by hand (PyTorch's
// F.interpolate(align_corners=True/False) and TFLite's legacy rule give
// the same numbers for these inputs).
func TestResizeBilinearRules(t *testing.T) {
	row := tensor([]int{1, 1, 1, 2}, 0, 1)
	tests := []struct {
		name  string
		attrs *ir.ResizeAttrs
		want  []float32
	}{
		{"align corners 2->3", &ir.ResizeAttrs{Size: [2]int{1, 3}, AlignCorners: true}, []float32{0, 0.5, 1}},
		{"half pixel 2->4", &ir.ResizeAttrs{Size: [2]int{1, 4}, HalfPixelCenters: true}, []float32{0, 0.25, 0.75, 1}},
		{"asymmetric 2->4", &ir.ResizeAttrs{Size: [2]int{1, 4}}, []float32{0, 0.5, 1, 1}},
	}
	for _, tc := range tests {
		got := runOp(t, ir.ResizeBilinear, tc.attrs, row)
		if !slices.Equal(got.F32, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got.F32, tc.want)
		}
	}
	// 2-D, align corners, 2x2 -> 3x3: the centre is the mean of the four.
	got := runOp(t, ir.ResizeBilinear, &ir.ResizeAttrs{Size: [2]int{3, 3}, AlignCorners: true},
		tensor([]int{1, 1, 2, 2}, 0, 2, 4, 6))
	if want := []float32{0, 1, 2, 2, 3, 4, 4, 5, 6}; !slices.Equal(got.F32, want) {
		t.Errorf("2x2 -> 3x3: got %v, want %v", got.F32, want)
	}
	// 1x1 -> 3x3 with align corners broadcasts (DeepLab's image pooling).
	got = runOp(t, ir.ResizeBilinear, &ir.ResizeAttrs{Size: [2]int{3, 3}, AlignCorners: true}, tensor([]int{1, 1, 1, 1}, 7))
	if want := []float32{7, 7, 7, 7, 7, 7, 7, 7, 7}; !slices.Equal(got.F32, want) {
		t.Errorf("1x1 -> 3x3: got %v, want %v", got.F32, want)
	}
}

func TestResizeBilinearRefusesBothRules(t *testing.T) {
	g := ir.NewGraph("r")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{1, 1, 2, 2}})
	if _, err := g.Add(ir.ResizeBilinear, "y", &ir.ResizeAttrs{Size: [2]int{3, 3}, AlignCorners: true, HalfPixelCenters: true}, x); err == nil {
		t.Fatal("align_corners with half_pixel_centers accepted")
	}
}
