package mobilenet

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mncdev/mnc/frontend/torch"
	"github.com/mncdev/mnc/ir"
)

// Known is what the user said about a checkpoint's architecture, for Infer.
// Zero fields are unknown and inferred from the checkpoint.
type Known struct {
	Arch        string  // a built-in architecture or alias ("": unknown)
	Spec        *Spec   // a custom table (overrides Arch)
	Width       float64 // 0: unknown
	Classes     int     // 0: unknown
	ReducedTail *bool   // nil: unknown
}

// Inferred is a checkpoint's architecture as Infer found it.
type Inferred struct {
	// Config builds the graph the checkpoint binds to (Resolution and
	// Dropout are the caller's). For an alpha-scaled MobileNetV2 its Spec
	// is the built-in table with LastChannelScales.
	Config Config
	// Guessed is true when Infer chose something the user did not give:
	// the architecture, width, classes, a reduced tail or the alpha-scaled
	// MobileNetV2 variant (not a plain reduced_tail=false or torchvision
	// variant, which are what users assume).
	Guessed bool
}

// Flags writes the inferred architecture as mnc's flags, with the spec's
// --arch left out when the user gave one (spec):
// "--arch mobilenet_v2 --width 0.75 --classes 1000 (alpha-scaled last conv)".
func (in Inferred) Flags(spec bool) string {
	c := in.Config
	var parts []string
	if !spec {
		parts = append(parts, "--arch "+c.Arch)
	}
	parts = append(parts, "--width "+formatWidth(c.Width), "--classes "+strconv.Itoa(c.Classes))
	if c.ReducedTail {
		parts = append(parts, "--reduced-tail")
	}
	s := strings.Join(parts, " ")
	if AlphaScaled(c) {
		s += " (alpha-scaled last conv)"
	}
	return s
}

// inferWidths are the widths Infer tries: the usual ones, then every
// multiple of 0.05 up to 3.
var inferWidths = func() []float64 {
	ws := []float64{1.0, 0.75, 0.5, 0.35, 0.25, 1.3, 1.4, 0.1, 0.15, 0.125, 0.875, 1.25, 1.5, 2.0}
	for i := 1; i <= 60; i++ {
		if w := float64(i) / 20; !slices.Contains(ws, w) {
			ws = append(ws, w)
		}
	}
	return ws
}()

// alphaV2 is the built-in MobileNetV2 table with an alpha-scaled last conv.
var alphaV2 = func() *Spec {
	s := builtin["mobilenet_v2"].Clone()
	s.V2.LastChannelScales = true
	return s
}()

// detClassesKey is the tensor a detector's class count is read from: the
// first prediction block's 1x1 conv, anchors*classes outputs.
const detClassesKey = "head.classification_head.module_list.0.1.weight"

// checkpointClasses returns the class count of sd's classifier, or of its
// detection head if spec (which may be nil) is a detector's (0 if it has
// none).
func checkpointClasses(sd *torch.StateDict, spec *Spec) int {
	if spec != nil && spec.Det != nil {
		t := sd.Tensors[detClassesKey]
		a := spec.withDefaults().Det.Anchors()
		if t == nil || len(t.Shape) != 4 || len(a) == 0 || t.Shape[0]%a[0] != 0 {
			return 0
		}
		return t.Shape[0] / a[0]
	}
	for _, k := range []string{"classifier.3.weight", "classifier.1.weight"} {
		if t := sd.Tensors[k]; t != nil && len(t.Shape) == 2 {
			return t.Shape[0]
		}
	}
	// Segmentation heads: LR-ASPP's low_classifier, DeepLabV3's last conv.
	for _, k := range []string{"classifier.low_classifier.weight", "classifier.4.weight"} {
		if t := sd.Tensors[k]; t != nil && len(t.Shape) == 4 {
			return t.Shape[0]
		}
	}
	return 0
}

// stemKey is the state_dict key of the stem conv of spec's model:
// features.0.0.weight, backbone.0.0.weight in a segmentation model,
// backbone.features.0.0.0.weight in a detector.
func stemKey(spec *Spec) string {
	switch {
	case spec.Seg != nil:
		return "backbone.0.0.weight"
	case spec.Det != nil:
		return "backbone.features.0.0.0.weight"
	}
	return "features.0.0.weight"
}

// stemKeys are the stemKey of every kind of model.
var stemKeys = []string{"features.0.0.weight", "backbone.0.0.weight", "backbone.features.0.0.0.weight"}

// candidate is a config that reproduces every shape of a checkpoint.
type candidate struct {
	c    Config // normalized
	spec *Spec
}

// search returns the configs allowed by k whose every constant has the
// checkpoint's shape, and the checkpoint has no other tensors
// (num_batches_tracked aside). Builds are shape-only and pruned by the stem
// conv's channels.
func search(sd *torch.StateDict, k Known) []candidate {
	stems := map[string]int{} // stem conv channels by stemKey
	for _, k := range stemKeys {
		if t := sd.Tensors[k]; t != nil && len(t.Shape) == 4 {
			stems[k] = t.Shape[0]
		}
	}
	if len(stems) == 0 {
		return nil
	}
	var specs []Config // Arch or Spec of each table to try
	switch {
	case k.Spec != nil:
		specs = []Config{{Spec: k.Spec}}
	default:
		arches := Arches()
		if k.Arch != "" {
			a, err := CanonicalArch(k.Arch)
			if err != nil {
				return nil
			}
			arches = []string{a}
		}
		for _, a := range arches {
			specs = append(specs, Config{Arch: a})
			if a == "mobilenet_v2" {
				specs = append(specs, Config{Spec: alphaV2})
			}
		}
	}
	widths := inferWidths
	if k.Width != 0 {
		widths = []float64{k.Width}
	}
	var out []candidate
	for _, base := range specs {
		classes := k.Classes
		if classes == 0 {
			probe := base
			probe.Classes = 1
			_, spec, err := probe.normalize()
			if err != nil {
				continue
			}
			if _, ok := stems[stemKey(spec)]; !ok {
				continue
			}
			if classes = checkpointClasses(sd, spec); classes == 0 {
				continue
			}
		}
		tails := []bool{false, true}
		if k.ReducedTail != nil {
			tails = []bool{*k.ReducedTail}
		}
		for _, rt := range tails {
			for _, w := range widths {
				cfg := base
				cfg.Width, cfg.Classes, cfg.Resolution, cfg.ReducedTail = w, classes, 1, rt
				c, spec, err := cfg.normalize()
				if err != nil {
					continue
				}
				if stem, ok := stems[stemKey(spec)]; !ok || stemChannels(c, spec) != stem {
					continue
				}
				g, err := build(c, spec)
				if err != nil || checkShapes(g, sd) != nil {
					continue
				}
				out = append(out, candidate{c, spec})
			}
		}
	}
	// An alpha-scaled V2 at a width >= 1 is torchvision's own: keep that one.
	out = slices.DeleteFunc(out, func(a candidate) bool {
		return a.c.Spec == alphaV2 && !AlphaScaled(a.c) && slices.ContainsFunc(out, func(b candidate) bool {
			return b.c.Spec == nil && b.c.Arch == "mobilenet_v2" && b.c.Width == a.c.Width
		})
	})
	return out
}

// Infer finds the architecture of a checkpoint from its tensor names and
// shapes: the built-in table (or k.Spec), the width multiplier (among the
// usual ones and the multiples of 0.05 up to 3), the class count, reduced_tail
// and, for MobileNetV2, whether the last conv is alpha-scaled. What k gives
// must agree with the checkpoint. Errors name mnc's flags (--arch, --width,
// --classes, --reduced-tail, --arch-spec): a flag that disagrees, with what
// the checkpoint says and the first tensor that shows it; two configs that
// both fit; or, when nothing fits, the first mismatch against the closest
// table. Resolution cannot be inferred from weights: the caller sets it.
func Infer(sd *torch.StateDict, k Known) (Inferred, error) {
	if sd == nil {
		return Inferred{}, errors.New("infer: nil state dict")
	}
	given := k.Spec != nil || k.Arch != ""
	if k.Arch != "" && k.Spec == nil {
		if _, err := CanonicalArch(k.Arch); err != nil {
			return Inferred{}, err
		}
	}
	found := search(sd, k)
	switch len(found) {
	case 1:
		c := found[0].c
		guessed := !given || k.Width == 0 || k.Classes == 0 ||
			k.ReducedTail == nil && c.ReducedTail || AlphaScaled(c)
		switch {
		case k.Spec != nil:
			c.Spec = k.Spec
		case c.Spec != nil:
			c.Spec = c.Spec.Clone() // alphaV2
		}
		c.Resolution, c.Dropout = 0, 0 // the caller's
		return Inferred{Config: c, Guessed: guessed}, nil
	case 0:
	default:
		return Inferred{}, ambiguous(found)
	}
	// Nothing fits what k says: does anything fit the checkpoint?
	var free []candidate
	if given || k.Width != 0 || k.Classes != 0 || k.ReducedTail != nil {
		free = search(sd, Known{})
	}
	if len(free) == 1 {
		return Inferred{}, disagreement(sd, k, free[0])
	}
	return Inferred{}, noFit(sd, k)
}

// ambiguous explains that several configs fit.
func ambiguous(found []candidate) error {
	var names []string
	for _, f := range found {
		names = append(names, f.c.describe())
	}
	a, b := found[0].c, found[1].c
	flag := "--arch"
	switch {
	case a.Arch == b.Arch && a.ReducedTail == b.ReducedTail && AlphaScaled(a) == AlphaScaled(b):
		flag = "--width"
	case a.Arch == b.Arch && a.Width == b.Width && a.ReducedTail != b.ReducedTail:
		flag = "--reduced-tail or --reduced-tail=false"
	}
	return fmt.Errorf("the checkpoint fits %s with %d classes alike: give %s",
		strings.Join(names, ", "), a.Classes, flag)
}

// disagreement names the flags of k that free (what the checkpoint is)
// contradicts, with the first tensor that shows it.
func disagreement(sd *torch.StateDict, k Known, free candidate) error {
	f := free.c
	var flags []string
	explicit := f // what the user asked for, filled in from the checkpoint
	if k.Spec != nil {
		flags = append(flags, "--arch-spec "+k.Spec.withDefaults().Name)
		explicit.Spec, explicit.Arch = k.Spec, ""
	} else if k.Arch != "" {
		a, _ := CanonicalArch(k.Arch)
		if a != f.Arch {
			flags = append(flags, "--arch "+a)
			explicit.Spec, explicit.Arch = nil, a
		}
	}
	if k.Width != 0 && k.Width != f.Width {
		flags = append(flags, "--width "+formatWidth(k.Width))
		explicit.Width = k.Width
		if explicit.Spec == alphaV2 && k.Width >= 1 {
			explicit.Spec, explicit.Arch = nil, "mobilenet_v2"
		}
	}
	if k.ReducedTail != nil && *k.ReducedTail != f.ReducedTail {
		if *k.ReducedTail {
			flags = append(flags, "--reduced-tail")
		} else {
			flags = append(flags, "--reduced-tail=false")
		}
		explicit.ReducedTail = *k.ReducedTail
	}
	if k.Classes != 0 && k.Classes != f.Classes {
		flags = append(flags, "--classes "+strconv.Itoa(k.Classes))
		explicit.Classes = k.Classes
	}
	if len(flags) == 0 { // cannot happen: free would have fit k
		return fmt.Errorf("the checkpoint is %s with %d classes", f.describe(), f.Classes)
	}
	verb := "does"
	if len(flags) > 1 {
		verb = "do"
	}
	msg := fmt.Sprintf("%s %s not match the checkpoint, which is %s with %d classes",
		strings.Join(flags, " and "), verb, f.describe(), f.Classes)
	if c, spec, err := explicit.normalize(); err == nil {
		if g, err := build(c, spec); err == nil {
			if err := checkBind(g, c.describe(), sd); err != nil {
				msg += " (" + err.Error() + ")"
			}
		} else {
			msg += " (" + err.Error() + ")"
		}
	} else {
		msg += " (" + err.Error() + ")"
	}
	return errors.New(msg)
}

// noFit explains a checkpoint that fits no table: the first mismatch against
// the table k names (or the one its keys suggest) and a guess of the family.
func noFit(sd *torch.StateDict, k Known) error {
	cfg := Config{Arch: k.Arch, Spec: k.Spec, Width: k.Width, Classes: k.Classes, Resolution: 1}
	if k.ReducedTail != nil {
		cfg.ReducedTail = *k.ReducedTail
	}
	has := func(key string) bool { return sd.Tensors[key] != nil }
	if a, err := CanonicalArch(cfg.Arch); err == nil && cfg.Spec == nil {
		cfg.Arch = a
	}
	if cfg.Arch == "" && cfg.Spec == nil {
		switch {
		case has("backbone.1.block.0.0.weight") && has("classifier.low_classifier.weight"):
			cfg.Arch = "lraspp_mobilenet_v3_large"
		case has("backbone.1.block.0.0.weight") && has("classifier.0.convs.0.0.weight"):
			cfg.Arch = "deeplabv3_mobilenet_v3_large"
		case has("backbone.features.0.1.block.0.0.weight") && has("head.classification_head.module_list.0.0.0.weight"):
			cfg.Arch = "ssdlite320_mobilenet_v3_large"
		case has("features.1.block.0.0.weight"):
			cfg.Arch = "mobilenet_v3_large"
			if has("features.1.block.1.fc1.weight") {
				cfg.Arch = "mobilenet_v3_small" // its first block has squeeze-and-excitation
			}
		case has("features.1.conv.0.0.weight"):
			cfg.Arch = "mobilenet_v2"
		case has("features.1.3.weight"):
			cfg.Arch = "mobilenet_v1"
		}
	}
	if cfg.Classes == 0 {
		var spec *Spec
		if probe := (Config{Arch: cfg.Arch, Spec: cfg.Spec, Classes: 1}); cfg.Arch != "" || cfg.Spec != nil {
			_, spec, _ = probe.normalize()
		}
		cfg.Classes = checkpointClasses(sd, spec)
	}
	what := ""
	if k.Spec != nil {
		what = "the --arch-spec table"
	} else if cfg.Arch != "" {
		what = cfg.Arch
	}
	msg := "the checkpoint fits no width of " + what
	switch {
	case what == "":
		msg = "the checkpoint matches no built-in MobileNet"
	case k.Width != 0:
		msg = fmt.Sprintf("the checkpoint does not fit %s at --width %s", what, formatWidth(k.Width))
	}
	if cfg.Arch != "" || cfg.Spec != nil {
		if cfg.Width == 0 {
			cfg.Width = closestWidth(sd, cfg)
		}
		if c, spec, err := cfg.normalize(); err == nil {
			if g, err := build(c, spec); err == nil {
				if err := checkBind(g, c.describe(), sd); err != nil {
					msg += ": " + err.Error()
				}
			}
		} else {
			msg += ": " + err.Error()
		}
	}
	if h := familyHint(sd, cfg.Arch); h != "" {
		msg += "; " + h
	}
	if k.Arch == "" && k.Spec == nil {
		msg += "; name its architecture with --arch (" + strings.Join(Arches(), ", ") + ") or --arch-spec FILE"
	}
	return errors.New(msg)
}

// closestWidth returns the width at which cfg's graph has the longest run
// of constants, in state_dict order, that the checkpoint has at their shapes
// (1 if none has any).
func closestWidth(sd *torch.StateDict, cfg Config) float64 {
	best, bestN := 1.0, 0
	for _, w := range inferWidths {
		try := cfg
		try.Width = w
		c, spec, err := try.normalize()
		if err != nil {
			continue
		}
		g, err := build(c, spec)
		if err != nil {
			continue
		}
		n := 0
		for _, k := range g.Consts {
			if t := sd.Tensors[k.Name]; t == nil || !ir.Shape(t.Shape).Equal(k.Type.Shape) {
				break
			}
			n++
		}
		if n > bestN {
			best, bestN = w, n
		}
	}
	return best
}
