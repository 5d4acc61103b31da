package mobilenet

import (
	"math"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// ceilDiv2n is the spatial size after n stride-2 convs with "same" padding.
func ceilDiv2n(r, n int) int {
	for range n {
		r = (r + 1) / 2
	}
	return r
}

// checkGraph verifies g and its interface.
func checkGraph(t *testing.T, g *ir.Graph, classes, res int) {
	t.Helper()
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "input" ||
		!g.Inputs[0].Type.Shape.Equal(ir.Shape{-1, 3, res, res}) || g.Inputs[0].Type.DType != ir.Float32 {
		t.Fatalf("inputs %v", g.Inputs)
	}
	if len(g.Outputs) == 1 && g.Outputs[0].Name == "out" {
		checkSegGraph(t, g, classes, res)
		return
	}
	if len(g.Outputs) == 2 && g.Outputs[0].Name == OutputClsLogits {
		checkDetGraph(t, g, classes, res)
		return
	}
	if len(g.Outputs) != 1 || g.Outputs[0].Name != "logits" || !g.Outputs[0].Type.Shape.Equal(ir.Shape{-1, classes}) {
		t.Fatalf("outputs %v: %v", g.Outputs, g.Outputs[0].Type)
	}
	var pool *ir.Node
	for _, n := range g.Nodes {
		if n.Name == "avgpool" {
			pool = n
		}
	}
	if pool == nil {
		t.Fatal("no avgpool")
	}
	// Five stride-2 stages: the last feature map is ceil(res/32).
	if s, want := pool.Inputs[0].Type.Shape, ceilDiv2n(res, 5); s[2] != want || s[3] != want {
		t.Errorf("last feature map %v, want %dx%d", s, want, want)
	}
}

// checkSegGraph checks a segmentation graph's output (logits at the input
// size) and its backbone's output stride 16.
func checkSegGraph(t *testing.T, g *ir.Graph, classes, res int) {
	t.Helper()
	if out := g.Outputs[0]; !out.Type.Shape.Equal(ir.Shape{-1, classes, res, res}) {
		t.Fatalf("output %v", out.Type)
	}
	var last *ir.Value // the last conv's HardSwish, backbone.16.2 in V3-Large
	for _, n := range g.Nodes {
		if strings.HasPrefix(n.Name, "backbone.") {
			last = n.Output()
		}
	}
	if last == nil {
		t.Fatal("no backbone")
	}
	if s, want := last.Type.Shape, ceilDiv2n(res, 4); s[2] != want || s[3] != want {
		t.Errorf("high feature map %v, want %dx%d", s, want, want)
	}
}

// checkDetGraph checks an SSDLite graph's outputs: 6 anchors per location
// on feature maps of stride 16 (C4's expansion), 32 (the last conv) and
// four extra blocks halving it each.
func checkDetGraph(t *testing.T, g *ir.Graph, classes, res int) {
	t.Helper()
	anchors, s := 0, ceilDiv2n(res, 4)
	for range 6 {
		anchors += 6 * s * s
		s = (s + 1) / 2
	}
	if out := g.Outputs[0]; !out.Type.Shape.Equal(ir.Shape{-1, anchors, classes}) {
		t.Fatalf("cls_logits %v, want [N,%d,%d]", out.Type, anchors, classes)
	}
	if out := g.Outputs[1]; out.Name != OutputBBoxRegression || !out.Type.Shape.Equal(ir.Shape{-1, anchors, 4}) {
		t.Fatalf("%s %v, want bbox_regression [N,%d,4]", out.Name, out.Type, anchors)
	}
}

func TestBuildVerifies(t *testing.T) {
	widths := []float64{0.1, 0.25, 0.35, 0.5, 0.75, 1.0, 1.3, 1.4}
	resolutions := []int{224, 72, 80, 97, 1, 33, 160, 255}
	classes := []int{1000, 1, 10, 7}
	for _, arch := range Arches() {
		for i, w := range widths {
			for _, rt := range []bool{false, true} {
				if rt && !strings.HasPrefix(arch, "mobilenet_v3") && arch != "ssdlite320_mobilenet_v3_large" {
					continue
				}
				cfg := Config{Arch: arch, Width: w, Resolution: resolutions[i%len(resolutions)],
					Classes: classes[i%len(classes)], ReducedTail: rt}
				g, err := Build(cfg)
				if err != nil {
					t.Fatalf("%+v: %v", cfg, err)
				}
				checkGraph(t, g, cfg.Classes, cfg.Resolution)
				if g.Name != arch {
					t.Errorf("graph name %q, want %q", g.Name, arch)
				}
			}
		}
	}
}

func TestBuildResolutions(t *testing.T) {
	for _, arch := range Arches() {
		for _, r := range []int{1, 2, 3, 7, 31, 32, 33, 63, 64, 72, 80, 97, 128, 192, 225, 320} {
			g, err := Build(Config{Arch: arch, Width: 0.25, Classes: 3, Resolution: r})
			if err != nil {
				t.Fatalf("%s at %d: %v", arch, r, err)
			}
			checkGraph(t, g, 3, r)
		}
	}
}

func TestBuildDefaults(t *testing.T) {
	g, err := Build(Config{Arch: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	checkGraph(t, g, 1000, 224)
	for _, c := range g.Consts {
		for _, v := range c.Const.F32 {
			if v != 0 {
				t.Fatalf("%s is not zero-filled", c.Name)
			}
		}
	}
	g2, err := Build(Config{Arch: "mobilenet_v2", Width: 1, Classes: 1000, Resolution: 224, Dropout: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if g.String() != g2.String() {
		t.Error("defaults differ from explicit values")
	}
}

func TestAliases(t *testing.T) {
	for alias, want := range map[string]string{
		"v1": "mobilenet_v1", "V2": "mobilenet_v2", "mobilenet_v2": "mobilenet_v2",
		"v3l": "mobilenet_v3_large", "v3_large": "mobilenet_v3_large", "v3-large": "mobilenet_v3_large",
		"v3s": "mobilenet_v3_small", "v3_small": "mobilenet_v3_small", "MobileNet_V3_Small": "mobilenet_v3_small",
	} {
		got, err := CanonicalArch(alias)
		if err != nil || got != want {
			t.Errorf("CanonicalArch(%q) = %q, %v; want %q", alias, got, err, want)
		}
	}
	if len(Arches()) != 7 {
		t.Errorf("Arches() = %v", Arches())
	}
	for _, a := range Arches() {
		if _, err := SpecFor(a); err != nil {
			t.Error(err)
		}
	}
}

// TestModulePaths spot-checks the naming convention.
func TestModulePaths(t *testing.T) {
	ops := func(arch string) map[string]ir.Op {
		g, err := Build(Config{Arch: arch, Width: 0.5, Resolution: 64})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]ir.Op{}
		for _, n := range g.Nodes {
			m[n.Name] = n.Op
		}
		return m
	}
	for arch, want := range map[string]map[string]ir.Op{
		"v1": {"features.0.0": ir.Conv, "features.0.2": ir.Relu, "features.13.3": ir.Conv, "features.13.5": ir.Relu,
			"avgpool": ir.GlobalAveragePool, "flatten": ir.Flatten, "classifier.0": ir.Dropout, "classifier.1": ir.Gemm},
		"v2": {"features.0.2": ir.Relu6, "features.1.conv.0.0": ir.Conv, "features.1.conv.2": ir.BatchNorm,
			"features.3.conv.1.0": ir.Conv, "features.3.conv.1.1": ir.BatchNorm, "features.3.conv.1.2": ir.Relu6,
			"features.3": ir.Add, "features.18.2": ir.Relu6, "classifier.1": ir.Gemm},
		"v3l": {"features.0.2": ir.HardSwish, "features.1": ir.Add, "features.4.block.2.avgpool": ir.GlobalAveragePool,
			"features.4.block.2.fc1": ir.Conv, "features.4.block.2.activation": ir.Relu, "features.4.block.2.fc2": ir.Conv,
			"features.4.block.2.scale_activation": ir.HardSigmoid, "features.4.block.2": ir.Mul,
			"features.4.block.3.1": ir.BatchNorm, "features.16.2": ir.HardSwish,
			"classifier.0": ir.Gemm, "classifier.1": ir.HardSwish, "classifier.2": ir.Dropout, "classifier.3": ir.Gemm},
		"v3s": {"features.1.block.1.fc1": ir.Conv, "features.1.block.1": ir.Mul, "features.12.0": ir.Conv},
	} {
		got := ops(arch)
		for name, op := range want {
			if got[name] != op {
				t.Errorf("%s: node %s is %v, want %v", arch, name, got[name], op)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Arch: "resnet50"}, `unknown architecture "resnet50"`},
		{Config{Arch: ""}, `unknown architecture ""`},
		{Config{Arch: "v2", Width: -1}, "width -1"},
		{Config{Arch: "v2", Width: math.NaN()}, "width NaN"},
		{Config{Arch: "v2", Width: math.Inf(1)}, "width +Inf"},
		{Config{Arch: "v2", Classes: -3}, "classes -3"},
		{Config{Arch: "v2", Resolution: -1}, "resolution -1"},
		{Config{Arch: "v2", Dropout: 1}, "dropout 1"},
		{Config{Arch: "v2", ReducedTail: true}, "reduced_tail applies to MobileNetV3 only"},
		{Config{Arch: "v1", ReducedTail: true}, "reduced_tail applies to MobileNetV3 only"},
		{Config{Spec: &Spec{Family: "mobilenet_v4"}}, `family: unknown family "mobilenet_v4"`},
	} {
		_, err := Build(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to contain %q", tc.cfg, err, tc.want)
		}
	}
}

func TestMakeDivisible(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want int
	}{ // expectations from torchvision._utils._make_divisible
		{32, 32}, {3.2, 8}, {11.2, 16}, {12, 16}, {28, 32}, {27.9, 32}, {35, 32}, {36, 40}, {20, 24}, {1280 * 1.4, 1792}, {144 * 0.75, 112}} {
		if got := makeDivisible(tc.v, 8); got != tc.want {
			t.Errorf("makeDivisible(%g) = %d, want %d", tc.v, got, tc.want)
		}
	}
}
