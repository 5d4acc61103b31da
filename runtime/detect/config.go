package detect

import "fmt"

// Config is what a detector's post-processing needs besides its two
// outputs, as a model file's Detection metadata (format 1.5) records it:
// the anchor generator and its feature maps, the image size the anchors
// are for (the model's input), which graph output is which, the class
// count (background included) and Postprocess's Params.
type Config struct {
	Anchors     AnchorConfig `json:"anchors"`
	FeatureMaps [][2]int     `json:"feature_maps"` // [height, width] per map
	ImageHeight int          `json:"image_height"`
	ImageWidth  int          `json:"image_width"`
	Classes     int          `json:"classes"`
	ClsOutput   int          `json:"cls_output"` // index of the graph output [N, anchors, classes]
	BoxOutput   int          `json:"box_output"` // index of the graph output [N, anchors, 4]
	Params      Params       `json:"params"`
}

// MaxAspectRatio bounds an anchor aspect ratio (SSDLite's are 2 and 3).
const MaxAspectRatio = 1 << 10

// MaxAnchorRatio bounds the anchor generator's MinRatio and MaxRatio (fractions
// of the image: SSDLite's are 0.2 and 0.95).
const MaxAnchorRatio = 16

// Check returns an error describing the first value of c that this
// package's functions would refuse or that makes no detector: counts
// against the package's limits, finite ratios and thresholds, two distinct
// outputs below outputs (the model's count). It allocates nothing in
// proportion to the values.
func (c Config) Check(outputs int) error {
	n := len(c.Anchors.AspectRatios)
	if n == 0 || n > 64 || len(c.FeatureMaps) != n {
		return fmt.Errorf("detection: %d feature maps with %d aspect-ratio lists; want 1 to 64 of each, as many of both", len(c.FeatureMaps), n)
	}
	a := c.Anchors
	if !(a.MinRatio >= 0 && a.MinRatio <= MaxAnchorRatio && a.MaxRatio >= 0 && a.MaxRatio <= MaxAnchorRatio) {
		return fmt.Errorf("detection: anchor scales %v to %v: want finite, 0 to %d", a.MinRatio, a.MaxRatio, MaxAnchorRatio)
	}
	if c.ImageHeight <= 0 || c.ImageWidth <= 0 || c.ImageHeight > MaxFeatureMap || c.ImageWidth > MaxFeatureMap {
		return fmt.Errorf("detection: anchors for a %dx%d image: want 1 to %d pixels a side", c.ImageHeight, c.ImageWidth, MaxFeatureMap)
	}
	total := 0
	for k, f := range c.FeatureMaps {
		if f[0] <= 0 || f[1] <= 0 || f[0] > MaxFeatureMap || f[1] > MaxFeatureMap {
			return fmt.Errorf("detection: feature map %d is %dx%d: want 1 to %d a side", k, f[0], f[1], MaxFeatureMap)
		}
		r := a.AspectRatios[k]
		if len(r) > 16 {
			return fmt.Errorf("detection: feature map %d has %d aspect ratios; the limit is 16", k, len(r))
		}
		for _, v := range r {
			if v <= 0 || v > MaxAspectRatio {
				return fmt.Errorf("detection: feature map %d: aspect ratio %d; want 1 to %d", k, v, MaxAspectRatio)
			}
		}
		total += f[0] * f[1] * (2 + 2*len(r))
		if total > MaxAnchors {
			return fmt.Errorf("detection: more than %d anchors (MaxAnchors)", MaxAnchors)
		}
	}
	if c.Classes < 2 || c.Classes > MaxClasses {
		return fmt.Errorf("detection: %d classes (background included): want 2 to %d", c.Classes, MaxClasses)
	}
	if c.ClsOutput < 0 || c.BoxOutput < 0 || c.ClsOutput >= outputs || c.BoxOutput >= outputs || c.ClsOutput == c.BoxOutput {
		return fmt.Errorf("detection: class logits output %d and box regression output %d: want two distinct outputs of the model's %d", c.ClsOutput, c.BoxOutput, outputs)
	}
	return c.Params.Check(c.Classes)
}

// Check returns an error describing the first unusable value of p for a
// detector of classes classes: thresholds finite (the score threshold 0 to
// 1, the IoU threshold 0 to 1), counts 1 to MaxTopK, and at most
// MaxCandidates boxes entering NMS.
func (p Params) Check(classes int) error {
	if !(p.ScoreThresh >= 0 && p.ScoreThresh <= 1) || !(p.NMSThresh >= 0 && p.NMSThresh <= 1) {
		return fmt.Errorf("detection: score threshold %v, NMS threshold %v: want 0 to 1", p.ScoreThresh, p.NMSThresh)
	}
	if p.TopKCandidates <= 0 || p.TopKCandidates > MaxTopK || p.DetectionsPerImg <= 0 || p.DetectionsPerImg > MaxTopK {
		return fmt.Errorf("detection: %d candidates per class, %d detections per image: want 1 to %d", p.TopKCandidates, p.DetectionsPerImg, MaxTopK)
	}
	if c := int64(classes-1) * int64(p.TopKCandidates); c > MaxCandidates {
		return fmt.Errorf("detection: up to %d NMS candidates (%d classes x %d); the limit is %d (MaxCandidates)", c, classes-1, p.TopKCandidates, MaxCandidates)
	}
	return nil
}

// NumAnchors is the number of default boxes of c's feature maps (c must
// pass Check).
func (c Config) NumAnchors() int {
	total := 0
	for k, f := range c.FeatureMaps {
		total += f[0] * f[1] * (2 + 2*len(c.Anchors.AspectRatios[k]))
	}
	return total
}

// Boxes returns c's default boxes (Anchors of its generator, feature maps
// and image size), after Check.
func (c Config) Boxes(outputs int) ([]Box, error) {
	if err := c.Check(outputs); err != nil {
		return nil, err
	}
	return Anchors(c.Anchors, c.FeatureMaps, c.ImageHeight, c.ImageWidth)
}
