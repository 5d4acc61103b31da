package mobilenet

import (
	"fmt"
	"strings"
)

// builtin holds the built-in architectures by canonical name.
var builtin = map[string]*Spec{
	"mobilenet_v1": {
		Name: "mobilenet_v1", Family: FamilyV1, BNEps: 1e-5, RoundNearest: 8,
		V1: &V1Spec{StemChannels: 32, Blocks: []V1Block{
			{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1},
			{512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1},
		}},
	},
	"mobilenet_v2": {
		Name: "mobilenet_v2", Family: FamilyV2, BNEps: 1e-5, RoundNearest: 8,
		V2: &V2Spec{InputChannel: 32, LastChannel: 1280, Setting: []V2Stage{
			// t, c, n, s
			{1, 16, 1, 1},
			{6, 24, 2, 2},
			{6, 32, 3, 2},
			{6, 64, 4, 2},
			{6, 96, 3, 1},
			{6, 160, 3, 2},
			{6, 320, 1, 1},
		}},
	},
	"mobilenet_v3_large": {
		Name: "mobilenet_v3_large", Family: FamilyV3, BNEps: 1e-3, RoundNearest: 8,
		V3: &V3Spec{LastChannel: 1280, ReducedTailFrom: 12, LastConvExpansion: 6, SEDivisor: 4, Blocks: []V3Block{
			// input_c, kernel, expanded_c, out_c, use_se, activation, stride
			{16, 3, 16, 16, false, ActRE, 1},
			{16, 3, 64, 24, false, ActRE, 2}, // C1
			{24, 3, 72, 24, false, ActRE, 1},
			{24, 5, 72, 40, true, ActRE, 2}, // C2
			{40, 5, 120, 40, true, ActRE, 1},
			{40, 5, 120, 40, true, ActRE, 1},
			{40, 3, 240, 80, false, ActHS, 2}, // C3
			{80, 3, 200, 80, false, ActHS, 1},
			{80, 3, 184, 80, false, ActHS, 1},
			{80, 3, 184, 80, false, ActHS, 1},
			{80, 3, 480, 112, true, ActHS, 1},
			{112, 3, 672, 112, true, ActHS, 1},
			{112, 5, 672, 160, true, ActHS, 2}, // C4
			{160, 5, 960, 160, true, ActHS, 1},
			{160, 5, 960, 160, true, ActHS, 1},
		}},
	},
	"mobilenet_v3_small": {
		Name: "mobilenet_v3_small", Family: FamilyV3, BNEps: 1e-3, RoundNearest: 8,
		V3: &V3Spec{LastChannel: 1024, ReducedTailFrom: 8, LastConvExpansion: 6, SEDivisor: 4, Blocks: []V3Block{
			{16, 3, 16, 16, true, ActRE, 2},  // C1
			{16, 3, 72, 24, false, ActRE, 2}, // C2
			{24, 3, 88, 24, false, ActRE, 1},
			{24, 5, 96, 40, true, ActHS, 2}, // C3
			{40, 5, 240, 40, true, ActHS, 1},
			{40, 5, 240, 40, true, ActHS, 1},
			{40, 5, 120, 48, true, ActHS, 1},
			{48, 5, 144, 48, true, ActHS, 1},
			{48, 5, 288, 96, true, ActHS, 2}, // C4
			{96, 5, 576, 96, true, ActHS, 1},
			{96, 5, 576, 96, true, ActHS, 1},
		}},
	},
}

// Torchvision's segmentation models on MobileNetV3-Large (dilated=True,
// aux_loss=False) and its SSDLite detector, with their own defaults.
func init() {
	seg := func(name string, head *SegSpec) {
		s := builtin["mobilenet_v3_large"].Clone()
		s.Name, s.Seg = name, head
		builtin[name] = s
	}
	seg("lraspp_mobilenet_v3_large", &SegSpec{Head: HeadLRASPP, InterChannels: 128})
	seg("deeplabv3_mobilenet_v3_large", &SegSpec{Head: HeadDeepLabV3, ASPPChannels: 256, AtrousRates: []int{12, 24, 36}})
	// torchvision's detector on MobileNetV3-Large: the extractor's extra
	// blocks at get_depth(512, 256, 256, 128) and
	// DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95).
	det := builtin["mobilenet_v3_large"].Clone()
	det.Name = "ssdlite320_mobilenet_v3_large"
	ar := make([][]int, 6)
	for i := range ar {
		ar[i] = []int{2, 3}
	}
	det.Det = &DetSpec{Head: HeadSSDLite, ExtraChannels: []int{512, 256, 256, 128}, AspectRatios: ar, MinRatio: 0.2, MaxRatio: 0.95}
	builtin[det.Name] = det
}

var aliases = map[string]string{
	"v1":                "mobilenet_v1",
	"mobilenetv1":       "mobilenet_v1",
	"v2":                "mobilenet_v2",
	"mobilenetv2":       "mobilenet_v2",
	"v3l":               "mobilenet_v3_large",
	"v3_large":          "mobilenet_v3_large",
	"v3large":           "mobilenet_v3_large",
	"mobilenetv3_large": "mobilenet_v3_large",
	"v3s":               "mobilenet_v3_small",
	"v3_small":          "mobilenet_v3_small",
	"v3small":           "mobilenet_v3_small",
	"mobilenetv3_small": "mobilenet_v3_small",
	"ssdlite":           "ssdlite320_mobilenet_v3_large",
	"ssdlite320":        "ssdlite320_mobilenet_v3_large",
}

// Arches lists the canonical names of the built-in architectures.
func Arches() []string {
	return []string{"mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
		"lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "ssdlite320_mobilenet_v3_large"}
}

// CanonicalArch maps an architecture name or alias (case-insensitive, '-'
// and '_' alike: "v2", "v3l", "v3-small", "mobilenet_v3_large" ...) to its
// canonical name.
func CanonicalArch(arch string) (string, error) {
	a := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(arch)), "-", "_")
	if _, ok := builtin[a]; ok {
		return a, nil
	}
	if c, ok := aliases[a]; ok {
		return c, nil
	}
	return "", fmt.Errorf("unknown architecture %q (want one of %s, or aliases v1, v2, v3l, v3s)",
		arch, strings.Join(Arches(), ", "))
}

// SpecFor returns a copy of the built-in table of arch (a name or alias),
// e.g. as a starting point for a custom spec.
func SpecFor(arch string) (*Spec, error) {
	a, err := CanonicalArch(arch)
	if err != nil {
		return nil, err
	}
	return builtin[a].Clone(), nil
}
