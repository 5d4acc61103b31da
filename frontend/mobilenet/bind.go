package mobilenet

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mncdev/mnc/frontend/torch"
	"github.com/mncdev/mnc/ir"
)

// Bind fills g's constants (as made by Build) from a state dict, by name.
//
// Every parameter and buffer of the model must be present with its exact
// shape; "num_batches_tracked" buffers of the model's BatchNorm layers are
// accepted and ignored; any other key is an error. The first problem is
// reported, checking the model's keys in state_dict order (missing or
// mis-shaped keys) and then the checkpoint's keys in its order (unexpected
// keys). When the checkpoint looks like another built-in architecture or
// width, the error says which. cfg is the Config g was built from; g is
// unchanged on error.
func Bind(g *ir.Graph, cfg Config, sd *torch.StateDict) error {
	if g == nil {
		return errors.New("bind: nil graph")
	}
	if sd == nil {
		return errors.New("bind: nil state dict")
	}
	self, _, err := cfg.normalize()
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if err := checkBind(g, self.describe(), sd); err != nil {
		msg := err.Error()
		if h := hint(sd, self); h != "" {
			msg += "; " + h
		}
		return errors.New("bind: " + msg)
	}
	for _, c := range g.Consts {
		data := sd.Tensors[c.Name].Data
		if len(c.Const.F32) == len(data) {
			copy(c.Const.F32, data)
		} else {
			c.Const.F32 = append([]float32(nil), data...)
		}
	}
	return nil
}

// checkBind finds the first mismatch between g's constants and sd.
func checkBind(g *ir.Graph, desc string, sd *torch.StateDict) error {
	want := make(map[string]bool, len(g.Consts))
	for _, c := range g.Consts {
		want[c.Name] = true
		if c.Const == nil || c.Const.DType != ir.Float32 {
			return fmt.Errorf("constant %s of %s is not float32; bind right after Build", c.Name, desc)
		}
		t := sd.Tensors[c.Name]
		if t == nil {
			return fmt.Errorf("missing key %s (%s wants %v)", c.Name, desc, c.Type.Shape)
		}
		if !ir.Shape(t.Shape).Equal(c.Type.Shape) {
			return fmt.Errorf("%s: checkpoint has %v, %s wants %v", c.Name, ir.Shape(t.Shape), desc, c.Type.Shape)
		}
		if n := c.Type.Shape.NumElements(); len(t.Data) != n {
			return fmt.Errorf("%s: checkpoint tensor of shape %v holds %d values, want %d", c.Name, ir.Shape(t.Shape), len(t.Data), n)
		}
	}
	for _, k := range sd.Keys {
		if want[k] {
			continue
		}
		if bnPrefix, ok := strings.CutSuffix(k, ".num_batches_tracked"); ok && want[bnPrefix+".running_var"] {
			continue
		}
		if strings.HasPrefix(k, "aux_classifier.") {
			return fmt.Errorf("unexpected key %q: the auxiliary head of aux_loss=True is not built (the graph computes \"out\" only); "+
				"save the state_dict without its aux_classifier.* keys", k)
		}
		return fmt.Errorf("unexpected key %q (not a parameter or buffer of %s)", k, desc)
	}
	return nil
}

// hint guesses which built-in config sd belongs to (cheap: shape-only
// builds, see search) and explains it if that differs from how g was built,
// or returns "".
func hint(sd *torch.StateDict, self Config) string {
	desc := self.describe()
	if found := search(sd, Known{}); len(found) > 0 {
		for _, f := range found {
			if f.c.describe() == desc && f.c.Classes == self.Classes {
				return ""
			}
		}
		c := found[0].c
		return fmt.Sprintf("the checkpoint looks like %s with %d classes", c.describe(), c.Classes)
	}
	return familyHint(sd, self.Arch)
}

// familyHint guesses sd's family from its keys when that is not arch's, or
// returns "".
func familyHint(sd *torch.StateDict, arch string) string {
	has := func(k string) bool { return sd.Tensors[k] != nil }
	family := func(prefix, msg string) string {
		if arch != "" && strings.HasPrefix(arch, prefix) {
			return ""
		}
		return "the checkpoint looks like " + msg
	}
	switch {
	case has("backbone.1.block.0.0.weight") && has("classifier.low_classifier.weight"):
		return family("lraspp_", "torchvision's LR-ASPP on MobileNetV3 (backbone.K.block.* and classifier.low_classifier.* keys)")
	case has("backbone.1.block.0.0.weight") && has("classifier.0.convs.0.0.weight"):
		return family("deeplabv3_", "torchvision's DeepLabV3 on MobileNetV3 (backbone.K.block.* and classifier.0.convs.* keys)")
	case has("backbone.features.0.1.block.0.0.weight") && has("head.classification_head.module_list.0.0.0.weight"):
		return family("ssdlite", "torchvision's SSDLite on MobileNetV3 (backbone.features.*, backbone.extra.* and head.* keys)")
	case has("backbone.1.block.0.0.weight"):
		return "the checkpoint looks like a torchvision segmentation model on MobileNetV3 (backbone.K.block.* keys) with neither an LR-ASPP nor a DeepLabV3 head"
	case has("features.1.block.0.0.weight"):
		return family("mobilenet_v3", "a torchvision MobileNetV3 (features.K.block.* keys)")
	case has("features.1.conv.0.0.weight"):
		return family("mobilenet_v2", "a torchvision MobileNetV2 (features.K.conv.* keys)")
	case has("features.1.3.weight"):
		return family("mobilenet_v1", "a MobileNetV1 (features.K.3.* keys)")
	case len(sd.Keys) > 0 && !has("features.0.0.weight") && !has("backbone.0.0.weight") && !has("backbone.features.0.0.0.weight"):
		return fmt.Sprintf("the checkpoint has no features.0.0.weight (first key %q); is it a MobileNet state_dict?", sd.Keys[0])
	}
	return ""
}

// stemChannels returns the output channels of features.0.0.
func stemChannels(c Config, s *Spec) int {
	var n int
	switch s.Family {
	case FamilyV1:
		n = s.V1.StemChannels
	case FamilyV2:
		n = s.V2.InputChannel
	case FamilyV3:
		n = s.V3.Blocks[0].In
	}
	return makeDivisible(float64(float64(n)*c.Width), s.RoundNearest)
}

// checkShapes is checkBind without data checks, for shape-only graphs.
func checkShapes(g *ir.Graph, sd *torch.StateDict) error {
	n := 0
	for _, c := range g.Consts {
		t := sd.Tensors[c.Name]
		if t == nil || !ir.Shape(t.Shape).Equal(c.Type.Shape) {
			return errors.New("mismatch")
		}
	}
	for _, k := range sd.Keys {
		if !strings.HasSuffix(k, ".num_batches_tracked") {
			n++
		}
	}
	if n != len(g.Consts) {
		return errors.New("mismatch")
	}
	return nil
}
