package mobilenet

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/detect"
)

// Names of a detector's outputs, torchvision's keys of SSDLiteHead's
// result.
const (
	OutputClsLogits      = "cls_logits"
	OutputBBoxRegression = "bbox_regression"
)

// detC4 is the row index of torchvision's C4 in a detection backbone, the
// last row with stride 2 (stage_indices[-2] is its features index, one
// more); validateDet makes sure there is one.
func detC4(rows []V3Block) int {
	st := segStages(rows)
	return st[len(st)-2] - 1
}

// ssdlite builds torchvision's SSDLite on the V3 table (see DetSpec):
// SSDLiteFeatureExtractorMobileNet's feature maps, then SSDLiteHead's
// classification and regression heads, in state_dict order. It returns the
// outputs cls_logits and bbox_regression.
func (b *builder) ssdlite(x *ir.Value, spec *Spec, c Config, ch func(float64) int) []*ir.Value {
	rows, _, err := v3Rows(spec, c, ch)
	if err != nil {
		b.err = err
		return nil
	}
	d := spec.Det
	c4 := detC4(spec.V3.Blocks)
	// backbone.features.0: features[0 .. c4] as they are (features.0.K for
	// K <= c4), then the C4 row's first layer as features.0.{c4+1};
	// backbone.features.1.0: the rest of that row (its keys keep their
	// block indices, as slicing a Sequential does), then features.1.K for
	// the later rows and the last conv.
	feats := make([]*ir.Value, 0, 2+len(d.ExtraChannels))
	x = b.convBNAct(x, "backbone.features.0.0", rows[0].in, 3, 2, 1, ir.HardSwish)
	for i, r := range rows {
		var k string
		var layer func(int) string
		switch {
		case i < c4:
			k = "backbone.features.0." + strconv.Itoa(i+1)
			layer = func(j int) string { return k + ".block." + strconv.Itoa(j) }
		case i == c4:
			k = "backbone.features.1.0"
			layer = func(j int) string {
				if j == 0 {
					return "backbone.features.0." + strconv.Itoa(c4+1)
				}
				return "backbone.features.1.0." + strconv.Itoa(j)
			}
		default:
			k = "backbone.features.1." + strconv.Itoa(i-c4)
			layer = func(j int) string { return k + ".block." + strconv.Itoa(j) }
		}
		var first *ir.Value
		x, first = b.bneck(x, spec, r, i, k, layer, false)
		if i == c4 {
			feats = append(feats, first)
		}
	}
	x = b.convBNAct(x, "backbone.features.1."+strconv.Itoa(len(rows)-c4), spec.V3.LastConvExpansion*rows[len(rows)-1].out, 1, 1, 1, ir.HardSwish)
	feats = append(feats, x)
	for k, out := range d.ExtraChannels {
		p := "backbone.extra." + strconv.Itoa(k)
		mid := out / 2
		x = b.convBNAct(x, p+".0", mid, 1, 1, 1, ir.Relu6)
		x = b.convBNAct(x, p+".1", mid, 3, 2, mid, ir.Relu6)
		x = b.convBNAct(x, p+".2", out, 1, 1, 1, ir.Relu6)
		feats = append(feats, x)
	}
	if b.err != nil {
		return nil
	}
	anchors := d.Anchors()
	if len(anchors) != len(feats) {
		b.err = fmt.Errorf("detection: %d anchor lists for %d feature maps", len(anchors), len(feats))
		return nil
	}
	cls := b.scoringHead(feats, anchors, "head.classification_head", OutputClsLogits, c.Classes)
	reg := b.scoringHead(feats, anchors, "head.regression_head", OutputBBoxRegression, 4)
	if b.err != nil {
		return nil
	}
	return []*ir.Value{cls, reg}
}

// scoringHead is SSDScoringHead over SSDLite's prediction blocks at prefix
// (module_list.K: a depthwise 3x3 Conv2dNormActivation with ReLU6, then a
// 1x1 conv with bias to anchors[K]*columns channels), each block's output
// [N, A*columns, H, W] viewed as [N, A, columns, H, W], permuted to
// [N, H, W, A, columns] and reshaped to [N, H*W*A, columns] (a Transpose to
// NHWC and a Reshape: the same order), concatenated along axis 1 as the
// output named out. The nodes that are no module are prefix.permute.K,
// prefix.reshape.K and out.
func (b *builder) scoringHead(feats []*ir.Value, anchors []int, prefix, out string, columns int) *ir.Value {
	parts := make([]*ir.Value, 0, len(feats))
	for k, f := range feats {
		if b.err != nil {
			return nil
		}
		p := prefix + ".module_list." + strconv.Itoa(k)
		ch := channels(f)
		y := b.convBNAct(f, p+".0", ch, 3, 1, ch, ir.Relu6)
		y = b.conv(y, p+".1", anchors[k]*columns, 1, 1, 1, true)
		y = b.node(ir.Transpose, prefix+".permute."+strconv.Itoa(k), &ir.TransposeAttrs{Perm: []int{0, 2, 3, 1}}, y)
		if b.err != nil {
			return nil
		}
		s := y.Type.Shape // [N, H, W, A*columns]
		y = b.node(ir.Reshape, prefix+".reshape."+strconv.Itoa(k), &ir.ReshapeAttrs{Shape: []int{0, s[1] * s[2] * anchors[k], columns}}, y)
		parts = append(parts, y)
	}
	return b.node(ir.Concat, out, &ir.ConcatAttrs{Axis: 1}, parts...)
}

// AnchorConfig is the detection section's DefaultBoxGenerator for
// runtime/detect (clip=True, steps=None, as SSDLite's), defaults filled in.
func (d *DetSpec) AnchorConfig() detect.AnchorConfig {
	s := (&Spec{Det: d}).withDefaults().Det
	ar := make([][]int, len(s.AspectRatios))
	for i, r := range s.AspectRatios {
		ar[i] = append([]int(nil), r...)
	}
	return detect.AnchorConfig{AspectRatios: ar, MinRatio: s.MinRatio, MaxRatio: s.MaxRatio, Clip: true}
}

// DetectionAnchors returns what post-processing a detector of cfg needs
// beyond its two outputs: the anchor generator, the [height, width] of its
// feature maps at cfg's resolution, and the resolution (the image size of
// detect.Anchors and detect.Postprocess). detect.Anchors(ac, maps, r, r)
// gives the default boxes in the order of the outputs' anchor axis.
func DetectionAnchors(cfg Config) (ac detect.AnchorConfig, maps [][2]int, resolution int, err error) {
	c, spec, err := cfg.normalize()
	if err != nil {
		return ac, nil, 0, err
	}
	if spec.Det == nil {
		return ac, nil, 0, fmt.Errorf("%s is not a detector", c.Arch)
	}
	g, err := build(c, spec)
	if err != nil {
		return ac, nil, 0, err
	}
	d, err := detectionConfig(g, spec, c)
	if err != nil {
		return ac, nil, 0, err
	}
	return d.Anchors, d.FeatureMaps, c.Resolution, nil
}

// detectionConfig is the post-processing of the detector g built from
// spec and c: its anchor generator, the feature maps' sizes (read off the
// prediction blocks), the input size, outputs 0 (cls_logits) and 1
// (bbox_regression), the classes and torchvision's SSDLite320 Params.
func detectionConfig(g *ir.Graph, spec *Spec, c Config) (detect.Config, error) {
	byName := make(map[string]*ir.Node, len(g.Nodes))
	for _, n := range g.Nodes {
		byName[n.Name] = n
	}
	d := detect.Config{Anchors: spec.Det.AnchorConfig(), ImageHeight: c.Resolution, ImageWidth: c.Resolution,
		Classes: c.Classes, ClsOutput: 0, BoxOutput: 1, Params: detect.SSDLite320Params()}
	for k := range spec.Det.AspectRatios {
		n := byName["head.classification_head.permute."+strconv.Itoa(k)]
		if n == nil {
			return d, errors.New("detection: no prediction block for feature map " + strconv.Itoa(k))
		}
		s := n.Output().Type.Shape
		d.FeatureMaps = append(d.FeatureMaps, [2]int{s[1], s[2]})
	}
	return d, d.Check(len(g.Outputs))
}

// detectionMeta records detectionConfig in g.Meta[ir.MetaDetection]
// (not for a detector of the background class alone, which has nothing to
// detect: its graph builds, but no post-processing applies).
func detectionMeta(g *ir.Graph, spec *Spec, c Config) error {
	if c.Classes < 2 {
		return nil
	}
	d, err := detectionConfig(g, spec, c)
	if err != nil {
		return err
	}
	js, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if g.Meta == nil {
		g.Meta = map[string]string{}
	}
	g.Meta[ir.MetaDetection] = string(js)
	return nil
}

// RecognizeSSDLite records the post-processing of torchvision's
// ssdlite320_mobilenet_v3_large in g.Meta[ir.MetaDetection] when g (an
// ONNX export, which holds no anchors) looks like it: one input
// [N,3,R,R], two outputs named cls_logits [N,A,C] and bbox_regression
// [N,A,4], A being the SSDLite anchor count at R (the feature maps of
// torchvision's builder at that resolution). It reports whether it did;
// another graph is left as it is.
func RecognizeSSDLite(g *ir.Graph) (bool, error) {
	if len(g.Inputs) != 1 || len(g.Outputs) != 2 || g.Outputs[0].Name != OutputClsLogits || g.Outputs[1].Name != OutputBBoxRegression {
		return false, nil
	}
	in, cls, box := g.Inputs[0].Type.Shape, g.Outputs[0].Type.Shape, g.Outputs[1].Type.Shape
	if len(in) != 4 || in[1] != 3 || in[2] != in[3] || in[2] < 32 || in[2] > detect.MaxFeatureMap ||
		len(cls) != 3 || len(box) != 3 || cls[1] != box[1] || box[2] != 4 || cls[2] < 2 || cls[2] > detect.MaxClasses {
		return false, nil
	}
	c, spec, err := Config{Arch: "ssdlite320_mobilenet_v3_large", Classes: cls[2], Resolution: in[2]}.normalize()
	if err != nil {
		return false, nil
	}
	ref, err := build(c, spec)
	if err != nil {
		return false, nil
	}
	d, err := detectionConfig(ref, spec, c)
	if err != nil || d.NumAnchors() != cls[1] {
		return false, nil
	}
	js, err := json.Marshal(d)
	if err != nil {
		return false, err
	}
	if g.Meta == nil {
		g.Meta = map[string]string{}
	}
	g.Meta[ir.MetaDetection] = string(js)
	return true, nil
}
