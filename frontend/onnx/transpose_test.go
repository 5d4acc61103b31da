package onnx

import (
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

func TestTranspose(t *testing.T) {
	g := mustDecode(t, unaryModel(13, "Transpose", []int64{-1, 2, 3, 4}, aInts("perm", 0, 2, 3, 1)))
	n := only(t, g, ir.Transpose)
	if p := n.Attrs.(*ir.TransposeAttrs).Perm; !reflect.DeepEqual(p, []int{0, 2, 3, 1}) {
		t.Errorf("perm %v", p)
	}
	if s := n.Output().Type.Shape; !s.Equal(ir.Shape{-1, 3, 4, 2}) {
		t.Errorf("output %v", s)
	}
	// Without perm: the dimensions reversed.
	g = mustDecode(t, unaryModel(7, "Transpose", []int64{2, 3, 5}))
	if p := only(t, g, ir.Transpose).Attrs.(*ir.TransposeAttrs).Perm; !reflect.DeepEqual(p, []int{2, 1, 0}) {
		t.Errorf("default perm %v", p)
	}
	for _, perm := range [][]int64{{0, 1}, {0, 1, 1}, {0, 1, 3}, {-1, 0, 1}, {0, 1, 2, 3}} {
		wantErr(t, model(13, x4(2, 3, 5), node("Transpose", []string{"x"}, []string{"y"}, nodeName("tr"), aInts("perm", perm...)), output("y")),
			`node "tr" (Transpose, opset 13)`, "is not a permutation of the input's 3 dimensions")
	}
	wantErr(t, unaryModel(13, "Transpose", []int64{2, 3}, aInt("axis", 1)), `attribute "axis"`)
}

// TestReshapeThroughTranspose: torchvision's SSD heads reshape with the
// batch size of the tensor before a view and a permute,
//
//	N = x.shape[0]; x.view(N, A, K, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, K)
//
// which folds to a copied dimension 0 because the permute keeps it there.
// A dimension that a Transpose moves, or one of an unrelated value, is
// refused.
func TestReshapeThroughTranspose(t *testing.T) {
	head := func(perm []int64, nFrom string) []byte {
		return model(13, x4(-1, 6, 2, 2), input("z", tFloat, -1, 3),
			initializer(tensorI64("zero", nil, 0)), initializer(tensorI64("ax", []int64{1}, 0)),
			initializer(tensorI64("rest", []int64{4}, 2, 3, 2, 2)), initializer(tensorI64("tail", []int64{2}, -1, 3)),
			node("Shape", []string{nFrom}, []string{"sh"}),
			node("Gather", []string{"sh", "zero"}, []string{"n"}, aInt("axis", 0)),
			node("Unsqueeze", []string{"n", "ax"}, []string{"n1"}),
			node("Concat", []string{"n1", "rest"}, []string{"s5"}, aInt("axis", 0)),
			node("Reshape", []string{"x", "s5"}, []string{"v"}),
			node("Transpose", []string{"v"}, []string{"p"}, aInts("perm", perm...)),
			node("Concat", []string{"n1", "tail"}, []string{"s3"}, aInt("axis", 0)),
			node("Reshape", []string{"p", "s3"}, []string{"y"}, nodeName("last")),
			output("y"), output("z"))
	}
	g := mustDecode(t, head([]int64{0, 3, 4, 1, 2}, "x"))
	var targets [][]int
	for _, n := range g.Nodes {
		if a, ok := n.Attrs.(*ir.ReshapeAttrs); ok {
			targets = append(targets, a.Shape)
		}
	}
	if !reflect.DeepEqual(targets, [][]int{{0, 2, 3, 2, 2}, {0, -1, 3}}) {
		t.Errorf("reshape targets %v", targets)
	}
	if s := g.Outputs[0].Type.Shape; !s.Equal(ir.Shape{-1, 8, 3}) {
		t.Errorf("output %v", s)
	}
	wantErr(t, head([]int64{3, 0, 4, 1, 2}, "x"), `node "last" (Reshape, opset 13)`, "target shape element 0 is dimension 0 of")
	wantErr(t, head([]int64{0, 3, 4, 1, 2}, "z"), "target shape element 0 is dimension 0 of", "unknown until run time")
}

// TestDetGoldenONNX loads testdata/det's SSDLite export (opset 13:
// backbone + head returning cls_logits and bbox_regression, made by
// testdata/gen/make_ssd_model_golden.py) and compares the reference
// interpreter's outputs with PyTorch's.
func TestDetGoldenONNX(t *testing.T) {
	dir := filepath.Join(golden.RepoRoot(t), "testdata", "det")
	g, err := Load(filepath.Join(dir, "ssdlite.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	st := ir.ComputeStats(g)
	if st.OpCounts[ir.Transpose] != 12 || st.OpCounts[ir.Reshape] != 24 {
		t.Errorf("%d Transpose and %d Reshape nodes, want the heads' 12 and 24", st.OpCounts[ir.Transpose], st.OpCounts[ir.Reshape])
	}
	x, err := npy.ReadFile(filepath.Join(dir, "ssdlite.input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	outs, err := interp.Run(g, []*ir.Tensor{ir.NewFloat32(x.Shape, x.Data)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"cls_logits", "bbox_regression"} {
		if g.Outputs[i].Name != name {
			t.Fatalf("output %d is %s, want %s", i, g.Outputs[i].Name, name)
		}
		want, err := npy.ReadFile(filepath.Join(dir, "ssdlite."+name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		got := outs[i]
		if !got.Shape.Equal(ir.Shape(want.Shape)) {
			t.Fatalf("%s %v, PyTorch %v", name, got.Shape, want.Shape)
		}
		var d, m float64
		for j, w := range want.Data {
			d = max(d, math.Abs(float64(got.F32[j])-float64(w)))
			m = max(m, math.Abs(float64(w)))
		}
		t.Logf("%s: %d nodes, max |%s| %.3f, max |diff| / max %.2e", name, len(g.Nodes), name, m, d/m)
		if d > 1e-4*m {
			t.Errorf("%s differs from PyTorch by %.3g of its max", name, d/m)
		}
	}
}
