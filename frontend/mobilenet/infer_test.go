package mobilenet

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mncdev/mnc/frontend/torch"
)

// TestInferTorchvision: every config of the torchvision fixture is inferred
// back from its state_dict's names and shapes alone.
func TestInferTorchvision(t *testing.T) {
	f := loadFixture(t)
	for _, m := range f.Models {
		c := m.Config
		sd := &torch.StateDict{Tensors: map[string]*torch.Tensor{}}
		for _, raw := range m.StateDict {
			var kv [2]json.RawMessage
			var k string
			var s []int
			if json.Unmarshal(raw, &kv) != nil || json.Unmarshal(kv[0], &k) != nil || json.Unmarshal(kv[1], &s) != nil {
				t.Fatalf("bad state_dict entry %s", raw)
			}
			sd.Keys = append(sd.Keys, k)
			sd.Tensors[k] = &torch.Tensor{Shape: s}
		}
		name := fmt.Sprintf("%s width %g classes %d reduced_tail %v", c.Arch, c.Width, c.Classes, c.ReducedTail)
		in, err := Infer(sd, Known{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := in.Config
		if got.Arch != c.Arch || got.Width != c.Width || got.Classes != c.Classes || got.ReducedTail != c.ReducedTail ||
			AlphaScaled(got) || !in.Guessed {
			t.Errorf("%s: inferred %s", name, in.Flags(false))
		}
		rt := c.ReducedTail
		if in, err := Infer(sd, Known{Arch: c.Arch, Width: c.Width, Classes: c.Classes, ReducedTail: &rt}); err != nil || in.Guessed {
			t.Errorf("%s with every flag: %v (guessed %v)", name, err, in.Guessed)
		}
	}
}

// TestInferAlphaScaled: MobileNetV2 with the last conv scaled by the width
// below 1 is told apart from torchvision's, and at widths >= 1, where both
// are the same network, it is torchvision's.
func TestInferAlphaScaled(t *testing.T) {
	for _, w := range []float64{0.35, 0.5, 0.75, 1.0, 1.4} {
		for _, alpha := range []bool{false, true} {
			cfg := Config{Arch: "v2", Width: w, Classes: 10, Resolution: 32}
			if alpha {
				cfg.Spec = alphaV2
			}
			sd := stateDict(t, cfg)
			in, err := Infer(sd, Known{})
			if err != nil {
				t.Fatalf("width %g alpha %v: %v", w, alpha, err)
			}
			want := fmt.Sprintf("--arch mobilenet_v2 --width %s --classes 10", formatWidth(w))
			if alpha && w < 1 {
				want += " (alpha-scaled last conv)"
			}
			if got := in.Flags(false); got != want {
				t.Errorf("width %g alpha %v: inferred %q, want %q", w, alpha, got, want)
			}
			// --arch mobilenet_v2 --width W accepts both variants.
			in, err = Infer(sd, Known{Arch: "mobilenet_v2", Width: w, Classes: 10})
			if err != nil || in.Guessed != (alpha && w < 1) {
				t.Errorf("width %g alpha %v with flags: %v (guessed %v)", w, alpha, err, in.Guessed)
			}
			g, err := Build(in.Config)
			if err != nil {
				t.Fatal(err)
			}
			if err := Bind(g, in.Config, sd); err != nil {
				t.Errorf("width %g alpha %v: %v", w, alpha, err)
			}
		}
	}
	// The brief's example: torchvision's table alone refuses the checkpoint,
	// and the hint names the variant.
	sd := stateDict(t, Config{Spec: alphaV2, Width: 0.75})
	g, err := Build(Config{Arch: "v2", Width: 0.75})
	if err != nil {
		t.Fatal(err)
	}
	err = Bind(g, Config{Arch: "v2", Width: 0.75}, sd)
	want := "bind: features.18.0.weight: checkpoint has [960,240,1,1], mobilenet_v2 width 0.75 wants [1280,240,1,1]; " +
		"the checkpoint looks like mobilenet_v2 width 0.75 (alpha-scaled last conv) with 1000 classes"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
}

// TestInferErrors: ambiguous widths, unknown checkpoints and disagreeing
// flags.
func TestInferErrors(t *testing.T) {
	// Every channel count of this table rounds to 8 at many widths.
	tiny := &Spec{Family: FamilyV1, V1: &V1Spec{StemChannels: 8, Blocks: []V1Block{{8, 1}}}}
	sd := stateDict(t, Config{Spec: tiny, Classes: 3})
	_, err := Infer(sd, Known{Spec: tiny})
	if err == nil || !strings.Contains(err.Error(), "alike: give --width") ||
		!strings.HasPrefix(err.Error(), "the checkpoint fits mobilenet_v1 width 1.0, mobilenet_v1 width 0.75, ") {
		t.Errorf("ambiguous width: %v", err)
	}
	if in, err := Infer(sd, Known{Spec: tiny, Width: 0.5}); err != nil || in.Config.Width != 0.5 || in.Config.Classes != 3 {
		t.Errorf("--width 0.5: %+v %v", in.Config, err)
	}

	v2 := stateDict(t, Config{Arch: "v2", Width: 0.35, Classes: 10})
	cases := []struct {
		name string
		sd   *torch.StateDict
		k    Known
		want string
	}{
		{"not a mobilenet", &torch.StateDict{Keys: []string{"conv1.weight"},
			Tensors: map[string]*torch.Tensor{"conv1.weight": {Shape: []int{64, 3, 7, 7}}}}, Known{},
			`the checkpoint matches no built-in MobileNet; the checkpoint has no features.0.0.weight (first key "conv1.weight"); is it a MobileNet state_dict?; ` +
				"name its architecture with --arch (mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small, lraspp_mobilenet_v3_large, deeplabv3_mobilenet_v3_large, ssdlite320_mobilenet_v3_large) or --arch-spec FILE"},
		{"a V2 missing a tensor", without(v2, "features.5.conv.1.1.running_mean"), Known{},
			"the checkpoint fits no width of mobilenet_v2: missing key features.5.conv.1.1.running_mean (mobilenet_v2 width 0.35 wants [96]); " +
				"name its architecture with --arch (mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small, lraspp_mobilenet_v3_large, deeplabv3_mobilenet_v3_large, ssdlite320_mobilenet_v3_large) or --arch-spec FILE"},
		{"a V2 missing a tensor, width given", without(v2, "features.5.conv.1.1.running_mean"), Known{Arch: "v2", Width: 0.35},
			"the checkpoint does not fit mobilenet_v2 at --width 0.35: missing key features.5.conv.1.1.running_mean (mobilenet_v2 width 0.35 wants [96])"},
		{"wrong spec", v2, Known{Spec: tiny},
			"--arch-spec mobilenet_v1 does not match the checkpoint, which is mobilenet_v2 width 0.35 with 10 classes " +
				"(features.0.0.weight: checkpoint has [16,3,3,3], mobilenet_v1 width 0.35 wants [8,3,3,3])"},
		{"reduced tail of a V2", v2, Known{ReducedTail: new(true)},
			"--reduced-tail does not match the checkpoint, which is mobilenet_v2 width 0.35 with 10 classes " +
				"(reduced_tail applies to MobileNetV3 only, not mobilenet_v2)"},
		{"unknown arch", v2, Known{Arch: "resnet50"},
			`unknown architecture "resnet50" (want one of mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small, lraspp_mobilenet_v3_large, deeplabv3_mobilenet_v3_large, ssdlite320_mobilenet_v3_large, or aliases v1, v2, v3l, v3s)`},
	}
	for _, c := range cases {
		_, err := Infer(c.sd, c.k)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n  error %v\n  want  %s", c.name, err, c.want)
		}
	}
}

// TestSpecLastChannelScales: the alpha-scaled V2 option round-trips through
// JSON and builds its last conv at the scaled width.
func TestSpecLastChannelScales(t *testing.T) {
	s, err := ParseSpec(alphaV2.IndentedJSON())
	if err != nil {
		t.Fatal(err)
	}
	if !s.V2.LastChannelScales || !strings.Contains(string(alphaV2.IndentedJSON()), `"last_channel_scales": true`) {
		t.Fatalf("last_channel_scales lost: %s", alphaV2.IndentedJSON())
	}
	if strings.Contains(string(builtin["mobilenet_v2"].IndentedJSON()), "last_channel_scales") {
		t.Error("torchvision's table writes last_channel_scales")
	}
	for _, c := range []struct {
		w    float64
		last int
	}{{0.35, 448}, {0.5, 640}, {0.75, 960}, {1.0, 1280}, {1.4, 1792}} {
		g, err := Build(Config{Spec: s, Width: c.w, Classes: 10, Resolution: 32})
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Const("classifier.1.weight").Type.Shape[1]; got != c.last {
			t.Errorf("width %g: last channel %d, want %d", c.w, got, c.last)
		}
	}
}
