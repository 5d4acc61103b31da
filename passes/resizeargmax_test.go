package passes

import (
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// TestFuseResizeArgMax: a segmentation head's Conv -> ResizeBilinear ->
// ArgMax over the channels runs, after layout-nhwc, as Conv -> ArgMax with
// the resize fused and the same class map; a resize with another reader,
// or an ArgMax over another axis, stays.
func TestFuseResizeArgMax(t *testing.T) {
	build := func(extraReader bool, axis int) *ir.Graph {
		b := newGB(t)
		x := b.input(1, 3, 5, 5)
		y := b.conv("conv", x, 4, 1, true)
		up := b.add(ir.ResizeBilinear, "up", &ir.ResizeAttrs{Size: [2]int{9, 9}, AlignCorners: true}, y)
		am := b.add(ir.ArgMax, "am", &ir.ArgMaxAttrs{Axis: axis, OutputType: ir.Int32}, up)
		if extraReader {
			return b.output(am, b.add(ir.Relu, "relu", nil, up))
		}
		return b.output(am)
	}
	g := build(false, 1)
	in := randInput(g, 1)
	before := runAll(t, g, in)
	rep, err := RunPasses(g, []Pass{mustPass(t, "layout-nhwc"), mustPass(t, "fuse-resize-argmax")}, Options{Check: true})
	if err != nil {
		t.Fatal(err)
	}
	after := runAll(t, g, in)
	am := node(g, ir.ArgMax)
	if node(g, ir.ResizeBilinear) != nil || am == nil || am.Attrs.(*ir.ArgMaxAttrs).Resize == nil || rep.Passes[1].Rewrites["ResizeBilinear into ArgMax"] != 1 {
		t.Fatalf("not fused (%v):\n%s", rep.Passes[1].Rewrites, g)
	}
	if !slices.Equal(before[0].I32, after[0].I32) || len(after[0].I32) != 81 {
		t.Errorf("class map changed: %v, before %v", after[0].I32, before[0].I32)
	}
	for _, c := range []struct {
		name  string
		extra bool
		axis  int
	}{{"resize read twice", true, 1}, {"argmax over W", false, 3}} {
		g := build(c.extra, c.axis)
		if _, err := RunPasses(g, []Pass{mustPass(t, "layout-nhwc"), mustPass(t, "fuse-resize-argmax")}, Options{Check: true}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ops(g), "ResizeBilinear") {
			t.Errorf("%s: fused anyway:\n%s", c.name, g)
		}
	}
}

func mustPass(t *testing.T, name string) Pass {
	t.Helper()
	p, ok := FindPass(Pipeline, name)
	if !ok {
		t.Fatalf("no pass %q", name)
	}
	return p
}
