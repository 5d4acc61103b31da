package mobilenet

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/detect"
)

// TestDetModulePaths spot-checks the SSDLite graph: the backbone split at
// C4's expansion conv (torchvision's SSDLiteFeatureExtractorMobileNet), the
// feature maps each prediction block reads, the extra blocks and the
// scoring heads' permute, reshape and concatenation.
func TestDetModulePaths(t *testing.T) {
	const arch = "ssdlite320_mobilenet_v3_large"
	g, err := Build(Config{Arch: arch, Width: 1, Classes: 91, ReducedTail: true})
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != arch || len(g.Outputs) != 2 || g.Outputs[0].Name != "cls_logits" || g.Outputs[1].Name != "bbox_regression" {
		t.Fatalf("graph %s, outputs %v", g.Name, g.Outputs)
	}
	checkGraph(t, g, 91, 320)
	m := map[string]*ir.Node{}
	for _, n := range g.Nodes {
		m[n.Name] = n
	}
	node := func(name string, op ir.Op) *ir.Node {
		t.Helper()
		n := m[name]
		if n == nil || n.Op != op {
			t.Fatalf("%s is %v, want a %v", name, n, op)
		}
		return n
	}
	shape := func(name string) ir.Shape { return m[name].Output().Type.Shape }
	// features.0 ends with C4's expansion (1x1, 112 -> 672, Hardswish) at stride 16.
	if w := node("backbone.features.0.13.0", ir.Conv).Inputs[1].Type.Shape; !w.Equal(ir.Shape{672, 112, 1, 1}) {
		t.Errorf("C4 expansion weight %v", w)
	}
	node("backbone.features.0.13.2", ir.HardSwish)
	if s := shape("backbone.features.0.13.2"); !s.Equal(ir.Shape{-1, 672, 20, 20}) {
		t.Errorf("feature map 0 %v", s)
	}
	// features.1.0 is the rest of C4 under its block indices: depthwise 5x5/2, SE, projection to 160/2.
	if a := node("backbone.features.1.0.1.0", ir.Conv).Attrs.(*ir.ConvAttrs); a.Stride != [2]int{2, 2} || a.Group != 672 || a.Dilation != [2]int{1, 1} {
		t.Errorf("C4 depthwise %v", a)
	}
	node("backbone.features.1.0.2", ir.Mul)
	if s := shape("backbone.features.1.0.3.1"); !s.Equal(ir.Shape{-1, 80, 10, 10}) {
		t.Errorf("C4 output %v, want the reduced tail's 80 channels", s)
	}
	if m["backbone.features.1.0"] != nil || m["backbone.features.1.1"] == nil || m["backbone.features.1.1"].Op != ir.Add {
		t.Error("residuals: want none on C4 and an Add on features.1.1")
	}
	if s := shape("backbone.features.1.3.2"); !s.Equal(ir.Shape{-1, 480, 10, 10}) {
		t.Errorf("feature map 1 (last conv) %v", s)
	}
	// Extra blocks: 1x1 to out/2, depthwise 3x3/2, 1x1 to out, ReLU6 each.
	for k, want := range []ir.Shape{{-1, 512, 5, 5}, {-1, 256, 3, 3}, {-1, 256, 2, 2}, {-1, 128, 1, 1}} {
		p := "backbone.extra." + string(rune('0'+k))
		node(p+".0.2", ir.Relu6)
		if a := node(p+".1.0", ir.Conv).Attrs.(*ir.ConvAttrs); a.Stride != [2]int{2, 2} || a.Group != want[1]/2 || a.Pads != [4]int{1, 1, 1, 1} {
			t.Errorf("%s depthwise %v", p, a)
		}
		if s := shape(p + ".2.2"); !s.Equal(want) {
			t.Errorf("%s output %v, want %v", p, s, want)
		}
	}
	// Each prediction block reads its feature map.
	maps := []string{"backbone.features.0.13.2", "backbone.features.1.3.2", "backbone.extra.0.2.2",
		"backbone.extra.1.2.2", "backbone.extra.2.2.2", "backbone.extra.3.2.2"}
	for _, h := range []string{"head.classification_head", "head.regression_head"} {
		for k, f := range maps {
			p := h + ".module_list." + string(rune('0'+k))
			if in := node(p+".0.0", ir.Conv).Inputs[0]; in != m[f].Output() {
				t.Errorf("%s reads %s, want %s", p, in.Name, f)
			}
			node(p+".0.2", ir.Relu6)
			if c := node(p+".1", ir.Conv); len(c.Inputs) != 3 {
				t.Errorf("%s.1 has no bias", p)
			}
			if a := node(h+".permute."+string(rune('0'+k)), ir.Transpose).Attrs.(*ir.TransposeAttrs); !reflect.DeepEqual(a.Perm, []int{0, 2, 3, 1}) {
				t.Errorf("%s permute %v", h, a.Perm)
			}
		}
	}
	if s := shape("head.classification_head.reshape.0"); !s.Equal(ir.Shape{-1, 2400, 91}) {
		t.Errorf("classification reshape 0: %v, want [N, 20*20*6, 91]", s)
	}
	if n := node("cls_logits", ir.Concat); len(n.Inputs) != 6 || n.Attrs.(*ir.ConcatAttrs).Axis != 1 {
		t.Errorf("cls_logits: %d inputs, %v", len(n.Inputs), n.Attrs)
	}
	for _, n := range g.Nodes {
		if n.Op == ir.BatchNorm && n.Attrs.(*ir.BatchNormAttrs).Epsilon != float32(1e-3) {
			t.Errorf("%s: eps %g, want the builder's norm_layer 0.001", n.Name, n.Attrs.(*ir.BatchNormAttrs).Epsilon)
		}
	}
}

// TestDetDefaults: 91 classes at 320x320 (torchvision's defaults), a
// detection section with only its head gives the built-in graph, and
// DetectionAnchors gives runtime/detect's SSDLite320 anchors.
func TestDetDefaults(t *testing.T) {
	const arch = "ssdlite320_mobilenet_v3_large"
	g, err := Shapes(Config{Arch: arch})
	if err != nil {
		t.Fatal(err)
	}
	if s := g.Outputs[0].Type.Shape; !s.Equal(ir.Shape{-1, 3234, 91}) {
		t.Errorf("cls_logits %v, want 3234 anchors of 91 classes", s)
	}
	if s := g.Inputs[0].Type.Shape; !s.Equal(ir.Shape{-1, 3, 320, 320}) {
		t.Errorf("input %v, want 320x320", s)
	}
	spec, _ := SpecFor(arch)
	spec.Det = &DetSpec{Head: HeadSSDLite}
	g2, err := Shapes(Config{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	if shapes(g) != shapes(g2) {
		t.Error("detection defaults differ from the built-in")
	}
	ac, maps, res, err := DetectionAnchors(Config{Arch: arch, Width: 0.5, Classes: 21})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ac, detect.SSDLite320()) || res != 320 ||
		!reflect.DeepEqual(maps, [][2]int{{20, 20}, {10, 10}, {5, 5}, {3, 3}, {2, 2}, {1, 1}}) {
		t.Errorf("anchors %+v, maps %v, resolution %d", ac, maps, res)
	}
	boxes, err := detect.Anchors(ac, maps, res, res)
	if err != nil || len(boxes) != 3234 {
		t.Errorf("%d anchors (%v), want 3234", len(boxes), err)
	}
	if _, _, _, err := DetectionAnchors(Config{Arch: "v3l"}); err == nil || !strings.Contains(err.Error(), "not a detector") {
		t.Errorf("DetectionAnchors of a classifier: %v", err)
	}
	// A custom head: two extra blocks, one ratio fewer on the last map.
	spec.Det = &DetSpec{Head: HeadSSDLite, ExtraChannels: []int{64, 32}, AspectRatios: [][]int{{2}, {2, 3}, {2, 3}, {}}}
	g3, err := Build(Config{Spec: spec, Width: 0.25, Classes: 3, Resolution: 64})
	if err != nil {
		t.Fatal(err)
	}
	// Maps 4x4, 2x2, 1x1, 1x1 with 4, 6, 6 and 2 anchors per location.
	if s := g3.Outputs[1].Type.Shape; !s.Equal(ir.Shape{-1, 4*16 + 6*4 + 6 + 2, 4}) {
		t.Errorf("custom bbox_regression %v", s)
	}
}

func TestDetSpecErrors(t *testing.T) {
	v3 := func(det string) string {
		return `{"family": "mobilenet_v3", "v3": {"last_channel": 1024, "inverted_residual_setting": [` +
			`[16, 3, 16, 16, false, "RE", 2], [16, 3, 64, 24, true, "HS", 2], [24, 3, 64, 24, true, "HS", 1]]}, "detection": ` + det + `}`
	}
	if _, err := ParseSpec([]byte(v3(`{"head": "ssdlite"}`))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ js, want string }{
		{v3(`{}`), "detection.head: missing"},
		{v3(`{"head": "ssd"}`), `detection.head: unknown head "ssd" (want "ssdlite")`},
		{v3(`{"head": "ssdlite", "anchors": 6}`), `detection: unknown field "anchors" (known: head, extra_channels,`},
		{v3(`{"head": "ssdlite", "extra_channels": [512, 1]}`), "detection.extra_channels[1]: 1 is not in [2, 65536]"},
		{v3(`{"head": "ssdlite", "extra_channels": "512"}`), "detection.extra_channels: want an array of integers"},
		{v3(`{"head": "ssdlite", "aspect_ratios": [[2, 3], [2, 3]]}`), "detection.aspect_ratios: 2 lists for 6 feature maps"},
		{v3(`{"head": "ssdlite", "extra_channels": [8], "aspect_ratios": [[2], [0], [3]]}`), "detection.aspect_ratios[1][0]: 0 is not in [1, 1024]"},
		{v3(`{"head": "ssdlite", "extra_channels": [8], "aspect_ratios": [[2], [2.5], [3]]}`), "detection.aspect_ratios[1]: want an array of integers"},
		{v3(`{"head": "ssdlite", "max_ratio": 20}`), "detection.max_ratio: 20 is not in [0, 16]"},
		{strings.ReplaceAll(v3(`{"head": "ssdlite"}`), `, 2]`, `, 1]`), "detection: the table has no row with stride 2"},
		{strings.Replace(v3(`{"head": "ssdlite"}`), `"detection"`, `"segmentation": {"head": "lraspp"}, "detection"`, 1),
			"detection: given with segmentation"},
		{`{"family": "mobilenet_v2", "v2": {"input_channel": 32, "last_channel": 1280, "inverted_residual_setting": [[1, 16, 1, 2]]}, "detection": {"head": "ssdlite"}}`,
			"detection: needs family mobilenet_v3"},
	} {
		_, err := ParseSpec([]byte(tc.js))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n  error %v\n  want it to contain %q", tc.js, err, tc.want)
		}
	}
}

// TestDetInferErrors: what Infer and Bind say about a detector's
// checkpoint given as something else, and the reverse.
func TestDetInferErrors(t *testing.T) {
	cfg := Config{Arch: "ssdlite320_mobilenet_v3_large", Width: 0.35, Classes: 5, Resolution: 64, ReducedTail: true}
	det := stateDict(t, cfg)
	in, err := Infer(det, Known{})
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Flags(false); got != "--arch ssdlite320_mobilenet_v3_large --width 0.35 --classes 5 --reduced-tail" {
		t.Errorf("inferred %s", got)
	}
	_, err = Infer(det, Known{Classes: 7})
	if err == nil || !strings.Contains(err.Error(), "--classes 7 does not match the checkpoint, which is ssdlite320_mobilenet_v3_large width 0.35 reduced_tail with 5 classes") {
		t.Errorf("--classes 7: %v", err)
	}
	_, err = Infer(det, Known{Arch: "v3l"})
	if err == nil || !strings.Contains(err.Error(), "--arch mobilenet_v3_large does not match the checkpoint, which is ssdlite320_mobilenet_v3_large") {
		t.Errorf("--arch v3l: %v", err)
	}
	v3 := stateDict(t, Config{Arch: "v3l", Width: 0.35, Classes: 3, Resolution: 32})
	_, err = Infer(v3, Known{Arch: "ssdlite320_mobilenet_v3_large"})
	if err == nil || !strings.Contains(err.Error(), "--arch ssdlite320_mobilenet_v3_large does not match the checkpoint, which is mobilenet_v3_large width 0.35") {
		t.Errorf("V3 checkpoint as SSDLite: %v", err)
	}
	g, err := Build(Config{Arch: "v3l", Width: 0.35, Classes: 3, Resolution: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := Bind(g, Config{Arch: "v3l", Width: 0.35, Classes: 3}, det); err == nil ||
		!strings.Contains(err.Error(), "the checkpoint looks like ssdlite320_mobilenet_v3_large width 0.35 reduced_tail with 5 classes") {
		t.Errorf("Bind of SSDLite to V3: %v", err)
	}
	// A head whose class conv is no multiple of the anchors: no class count fits.
	bad := without(det, "head.classification_head.module_list.0.1.weight")
	bad.Keys = append(bad.Keys, "head.classification_head.module_list.0.1.weight")
	bad.Tensors["head.classification_head.module_list.0.1.weight"] = det.Tensors["head.classification_head.module_list.0.1.bias"]
	if _, err := Infer(bad, Known{}); err == nil || !strings.Contains(err.Error(), "ssdlite320_mobilenet_v3_large") {
		t.Errorf("bad class conv: %v", err)
	}
}
