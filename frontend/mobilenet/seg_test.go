package mobilenet

import (
	"strings"
	"testing"

	"github.com/mncdev/mnc/frontend/torch"
	"github.com/mncdev/mnc/ir"
)

// TestSegModulePaths spot-checks the segmentation graphs: the dilated tail
// of the backbone (torchvision's dilated=True), the head's nodes and where
// LR-ASPP takes its low feature (stage_indices[-4], features 4 for
// V3-Large).
func TestSegModulePaths(t *testing.T) {
	nodes := func(arch string, res int) map[string]*ir.Node {
		g, err := Build(Config{Arch: arch, Width: 0.5, Classes: 7, Resolution: res})
		if err != nil {
			t.Fatal(err)
		}
		if g.Name != arch || g.Outputs[0].Name != "out" {
			t.Fatalf("graph %s, output %s", g.Name, g.Outputs[0].Name)
		}
		m := map[string]*ir.Node{}
		for _, n := range g.Nodes {
			m[n.Name] = n
		}
		return m
	}
	conv := func(m map[string]*ir.Node, name string) ir.ConvAttrs {
		t.Helper()
		n := m[name]
		if n == nil || n.Op != ir.Conv {
			t.Fatalf("%s is %v, want a Conv", name, n)
		}
		return *n.Attrs.(*ir.ConvAttrs)
	}
	for _, arch := range []string{"lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"} {
		m := nodes(arch, 100)
		// Row 11 (features 12) is before the tail: stride 1, dilation 1.
		if a := conv(m, "backbone.12.block.1.0"); a.Dilation != [2]int{1, 1} || a.Pads != [4]int{1, 1, 1, 1} {
			t.Errorf("%s: backbone.12 depthwise %v", arch, &a)
		}
		// Row 12 (C4, stride 2 in the table) and the rows after it: stride 1, dilation 2, 5x5 padding 4.
		for _, k := range []string{"13", "14", "15"} {
			a := conv(m, "backbone."+k+".block.1.0")
			if a.Stride != [2]int{1, 1} || a.Dilation != [2]int{2, 2} || a.Pads != [4]int{4, 4, 4, 4} {
				t.Errorf("%s: backbone.%s depthwise %v", arch, k, &a)
			}
		}
		if m["backbone.13"] != nil || m["backbone.14"] == nil || m["backbone.14"].Op != ir.Add {
			t.Errorf("%s: residuals: backbone.13 %v, backbone.14 %v (want none, then Add)", arch, m["backbone.13"], m["backbone.14"])
		}
		if s := m["backbone.16.2"].Output().Type.Shape; s[2] != 7 || s[3] != 7 {
			t.Errorf("%s: high feature %v, want stride 16 (7x7 at 100)", arch, s)
		}
		out := m["out"]
		if ra := out.Attrs.(*ir.ResizeAttrs); out.Op != ir.ResizeBilinear ||
			*ra != (ir.ResizeAttrs{Size: [2]int{100, 100}, HalfPixelCenters: true}) {
			t.Errorf("%s: out is %v %v", arch, out.Op, out.Attrs)
		}
	}
	m := nodes("lraspp_mobilenet_v3_large", 100)
	low := m["classifier.low_classifier"]
	if low == nil || low.Inputs[0] != m["backbone.4.block.3.1"].Output() {
		t.Errorf("low_classifier reads %v, want backbone.4's output", low.Inputs[0])
	}
	if ra := m["classifier.interpolate"].Attrs.(*ir.ResizeAttrs); ra.Size != [2]int{13, 13} {
		t.Errorf("classifier.interpolate to %v, want the low feature's 13x13", ra.Size)
	}
	for name, op := range map[string]ir.Op{"classifier.cbr.2": ir.Relu, "classifier.scale.0": ir.GlobalAveragePool,
		"classifier.scale.2": ir.Sigmoid, "classifier.mul": ir.Mul, "classifier": ir.Add} {
		if m[name] == nil || m[name].Op != op {
			t.Errorf("lraspp: %s is %v, want %v", name, m[name], op)
		}
	}
	m = nodes("deeplabv3_mobilenet_v3_large", 100)
	for i, rate := range []int{12, 24, 36} {
		a := conv(m, "classifier.0.convs."+string(rune('1'+i))+".0")
		if a.Dilation != [2]int{rate, rate} || a.Pads != [4]int{rate, rate, rate, rate} {
			t.Errorf("ASPP branch %d: %v, want dilation and padding %d", i+1, &a, rate)
		}
	}
	if n := m["classifier.0.cat"]; n.Op != ir.Concat || len(n.Inputs) != 5 || !n.Output().Type.Shape.Equal(ir.Shape{-1, 1280, 7, 7}) {
		t.Errorf("classifier.0.cat: %v with %d inputs, %v", n.Op, len(n.Inputs), n.Output().Type)
	}
	if ra := m["classifier.0.convs.4"].Attrs.(*ir.ResizeAttrs); ra.Size != [2]int{7, 7} || !ra.HalfPixelCenters {
		t.Errorf("ASPP pooling resized to %v", ra)
	}
	for name, op := range map[string]ir.Op{"classifier.0.project.3": ir.Dropout, "classifier.3": ir.Relu, "classifier.4": ir.Conv} {
		if m[name] == nil || m[name].Op != op {
			t.Errorf("deeplabv3: %s is %v, want %v", name, m[name], op)
		}
	}
	if eps := m["classifier.2"].Attrs.(*ir.BatchNormAttrs).Epsilon; eps != 1e-5 {
		t.Errorf("head BatchNorm eps %g, want PyTorch's default 1e-5", eps)
	}
	if eps := m["backbone.16.1"].Attrs.(*ir.BatchNormAttrs).Epsilon; eps != 1e-3 {
		t.Errorf("backbone BatchNorm eps %g, want MobileNetV3's 1e-3", eps)
	}
}

// TestSegDefaults: 21 classes (torchvision's default), and the built-in
// tables through JSON with the head's fields left out give the same graph.
func TestSegDefaults(t *testing.T) {
	for _, arch := range []string{"lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"} {
		g, err := Shapes(Config{Arch: arch, Resolution: 64})
		if err != nil {
			t.Fatal(err)
		}
		if s := g.Outputs[0].Type.Shape; !s.Equal(ir.Shape{-1, 21, 64, 64}) {
			t.Errorf("%s: output %v, want 21 classes at 64x64", arch, s)
		}
		spec, _ := SpecFor(arch)
		spec.Seg = &SegSpec{Head: spec.Seg.Head}
		g2, err := Shapes(Config{Spec: spec, Resolution: 64})
		if err != nil {
			t.Fatal(err)
		}
		if shapes(g) != shapes(g2) {
			t.Errorf("%s: head defaults differ from the built-in", arch)
		}
	}
	// A custom table: V3-Small's rows with a DeepLabV3 head of 64 channels and two rates.
	spec, _ := SpecFor("v3s")
	spec.Name, spec.Seg = "deeplab_small", &SegSpec{Head: HeadDeepLabV3, ASPPChannels: 64, AtrousRates: []int{2, 3}}
	g, err := Build(Config{Spec: spec, Classes: 4, Resolution: 48})
	if err != nil {
		t.Fatal(err)
	}
	checkGraph(t, g, 4, 48)
	for _, n := range g.Nodes {
		if n.Name == "classifier.0.cat" && !n.Output().Type.Shape.Equal(ir.Shape{-1, 4 * 64, 3, 3}) {
			t.Errorf("cat %v", n.Output().Type)
		}
	}
	if _, err := Build(Config{Spec: spec, ReducedTail: true, Classes: 4, Resolution: 48}); err != nil {
		t.Error(err)
	}
}

func TestSegSpecErrors(t *testing.T) {
	v3 := func(seg string) string {
		return `{"family": "mobilenet_v3", "v3": {"last_channel": 1024, "reduced_tail_from": 2, "inverted_residual_setting": [` +
			`[16, 3, 16, 16, false, "RE", 2], [16, 3, 64, 24, true, "HS", 2], [24, 3, 64, 24, true, "HS", 1]]}, "segmentation": ` + seg + `}`
	}
	if _, err := ParseSpec([]byte(v3(`{"head": "lraspp"}`))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ js, want string }{
		{v3(`{}`), "segmentation.head: missing"},
		{v3(`{"head": "fcn"}`), `segmentation.head: unknown head "fcn" (want "lraspp" or "deeplabv3")`},
		{v3(`{"head": "lraspp", "colour": 1}`), `segmentation: unknown field "colour" (known: head, inter_channels,`},
		{v3(`{"head": "lraspp", "atrous_rates": [1]}`), "aspp_channels and atrous_rates are for head deeplabv3"},
		{v3(`{"head": "deeplabv3", "inter_channels": 8}`), "inter_channels is for head lraspp"},
		{v3(`{"head": "lraspp", "inter_channels": -1}`), "segmentation.inter_channels: -1 is not in"},
		{v3(`{"head": "deeplabv3", "atrous_rates": [12, 0]}`), "segmentation.atrous_rates[1]: 0 is not in [1, 1024]"},
		{v3(`{"head": "deeplabv3", "atrous_rates": [` + strings.Repeat("1, ", 16) + `1]}`), "segmentation.atrous_rates: 17 rates; the limit is 16"},
		{v3(`{"head": "deeplabv3", "atrous_rates": "12"}`), "segmentation.atrous_rates: want an array"},
		{strings.Replace(v3(`{"head": "lraspp"}`), `"reduced_tail_from": 2, `, "", 1), "segmentation: v3.reduced_tail_from is 0"},
		{strings.Replace(v3(`{"head": "lraspp"}`), `"RE", 2]`, `"RE", 1]`, 1),
			"segmentation: the table has 1 rows with stride 2; the head's stage_indices[-4] needs at least 2"},
		{`{"family": "mobilenet_v1", "v1": {"stem_channels": 32, "blocks": [[64, 2], [64, 2]]}, "segmentation": {"head": "lraspp"}}`,
			"segmentation: needs family mobilenet_v3"},
	} {
		_, err := ParseSpec([]byte(tc.js))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n  error %v\n  want it to contain %q", tc.js, err, tc.want)
		}
	}
}

// TestSegBindErrors: the messages for a checkpoint with the auxiliary head,
// and for a classifier's checkpoint given to a segmentation architecture
// and the reverse.
func TestSegBindErrors(t *testing.T) {
	cfg := Config{Arch: "lraspp_mobilenet_v3_large", Width: 0.35, Classes: 3, Resolution: 32}
	sd := stateDict(t, cfg)
	sd.Keys = append(sd.Keys, "aux_classifier.0.weight")
	sd.Tensors["aux_classifier.0.weight"] = &torch.Tensor{Shape: []int{10, 16, 3, 3}, Data: make([]float32, 1440)}
	g, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := Bind(g, cfg, sd); err == nil || !strings.Contains(err.Error(),
		`unexpected key "aux_classifier.0.weight": the auxiliary head of aux_loss=True is not built`) {
		t.Errorf("aux_classifier: %v", err)
	}
	if _, err := Infer(sd, Known{}); err == nil || !strings.Contains(err.Error(), "aux_classifier.* keys") {
		t.Errorf("Infer with aux_classifier: %v", err)
	}

	v3 := stateDict(t, Config{Arch: "v3l", Width: 0.35, Classes: 3, Resolution: 32})
	_, err = Infer(v3, Known{Arch: "lraspp_mobilenet_v3_large"})
	if err == nil || !strings.Contains(err.Error(), "--arch lraspp_mobilenet_v3_large does not match the checkpoint, which is mobilenet_v3_large width 0.35") {
		t.Errorf("V3 checkpoint as LR-ASPP: %v", err)
	}
	seg := stateDict(t, Config{Arch: "deeplabv3_mobilenet_v3_large", Width: 0.35, Classes: 3, Resolution: 32})
	_, err = Infer(seg, Known{Arch: "mobilenet_v3_large"})
	if err == nil || !strings.Contains(err.Error(), "--arch mobilenet_v3_large does not match the checkpoint, which is deeplabv3_mobilenet_v3_large width 0.35 with 3 classes") {
		t.Errorf("DeepLabV3 checkpoint as V3: %v", err)
	}
	g, err = Build(Config{Arch: "v3l", Width: 0.35, Classes: 3, Resolution: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := Bind(g, Config{Arch: "v3l", Width: 0.35, Classes: 3}, seg); err == nil ||
		!strings.Contains(err.Error(), "the checkpoint looks like deeplabv3_mobilenet_v3_large width 0.35 with 3 classes") {
		t.Errorf("Bind of DeepLabV3 to V3: %v", err)
	}
}
