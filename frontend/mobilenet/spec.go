package mobilenet

import (
	"errors"
	"fmt"
	"math"
	"unicode"

	"github.com/mncdev/mnc/runtime/limits"
)

// Families of MobileNet. A Spec's Family selects which of its sections (V1,
// V2, V3) describes the network and how the rows of that section's table are
// turned into layers.
const (
	FamilyV1 = "mobilenet_v1"
	FamilyV2 = "mobilenet_v2"
	FamilyV3 = "mobilenet_v3"
)

// Activation names of a V3 row (torchvision's spelling).
const (
	ActRE = "RE" // nn.ReLU
	ActHS = "HS" // nn.Hardswish
)

// Segmentation heads (Spec.Seg.Head), as torchvision.models.segmentation
// builds them on a MobileNetV3.
const (
	HeadLRASPP    = "lraspp"    // LRASPPHead (lraspp_mobilenet_v3_large)
	HeadDeepLabV3 = "deeplabv3" // DeepLabHead (deeplabv3_mobilenet_v3_large)
)

// Detection heads (Spec.Det.Head), as torchvision.models.detection builds
// them on a MobileNetV3.
const (
	HeadSSDLite = "ssdlite" // SSDLiteHead (ssdlite320_mobilenet_v3_large)
)

// Spec describes a MobileNet architecture as data. Exactly one of V1, V2 and
// V3 is set, the one matching Family. Zero BNEps, RoundNearest and V3's
// LastConvExpansion and SEDivisor mean the family's defaults. With Seg set
// (V3 only) the network is a segmentation model on the dilated features of
// the V3 table instead of a classifier; with Det set (V3 only, not with Seg)
// it is an SSDLite detector on the table's features.
type Spec struct {
	Name         string  // graph name; defaults to Family
	Family       string  // FamilyV1, FamilyV2 or FamilyV3
	BNEps        float64 // BatchNorm epsilon; 0: 1e-5 (V1, V2) or 1e-3 (V3)
	RoundNearest int     // channel rounding divisor of _make_divisible; 0: 8
	V1           *V1Spec
	V2           *V2Spec
	V3           *V3Spec
	Seg          *SegSpec
	Det          *DetSpec
}

// SegSpec makes a V3 table torchvision's semantic segmentation model
// (torchvision/models/segmentation, 0.14): the backbone is the table's
// features built with dilated=True, that is the rows from
// V3.ReducedTailFrom on (torchvision's C4 stage) have depthwise dilation 2,
// padding (k-1)/2*2 and stride 1 (the row's stride still marks the stage
// and the residual rule), and no avgpool or classifier; its tensors are
// backbone.K.* and the head's classifier.*. The output "out" is the head's
// logits resized (bilinear, align_corners=False) to the input size.
//
// The head reads features[K] for K in torchvision's stage_indices: 0, the
// index of every row with stride > 1 (1 + its row index), and the last
// 1x1 conv. LR-ASPP takes "low" = stage_indices[-4] (output stride 8) and
// "high" = stage_indices[-1]; DeepLabV3 takes the last.
type SegSpec struct {
	Head string // HeadLRASPP or HeadDeepLabV3
	// InterChannels is LR-ASPP's inter_channels; 0: 128.
	InterChannels int
	// ASPPChannels is DeepLabV3's ASPP out_channels, which the head's 3x3
	// conv keeps; 0: 256.
	ASPPChannels int
	// AtrousRates are DeepLabV3's ASPP rates, one dilated 3x3 branch each;
	// empty: 12, 24, 36.
	AtrousRates []int
}

// DetSpec makes a V3 table torchvision's SSDLite detector
// (torchvision/models/detection/ssdlite.py, 0.14): the backbone is
// SSDLiteFeatureExtractorMobileNet on the table's features (not dilated, no
// avgpool or classifier), split at C4, the last row with stride 2
// (torchvision's stage_indices[-2]): backbone.features.0 runs from the stem
// to the C4 row's first layer (its expansion 1x1 conv), backbone.features.1
// from the C4 row's depthwise conv to the last 1x1 conv; then one
// _extra_block per ExtraChannels entry (backbone.extra.K: 1x1 to out/2,
// depthwise 3x3 stride 2, 1x1 to out, each with BatchNorm and ReLU6). The
// outputs of features.0, features.1 and every extra block are the feature
// maps that the head reads, one per AspectRatios entry.
//
// The head is SSDLiteHead (head.classification_head and
// head.regression_head): per feature map a depthwise 3x3 conv, BatchNorm,
// ReLU6 and a 1x1 conv with bias to anchors*classes (anchors*4) channels,
// permuted to [N, H*W*anchors, classes] and concatenated over the maps as
// SSDScoringHead does: outputs "cls_logits" f32[N,A,classes] and
// "bbox_regression" f32[N,A,4]. Every BatchNorm of the model has eps 1e-3
// (the builder's norm_layer, BatchNorm2d(eps=0.001, momentum=0.03)).
//
// AspectRatios, MinRatio and MaxRatio are DefaultBoxGenerator's: the graph
// uses only the anchor count per location, 2 + 2*len(AspectRatios[k]);
// post-processing (package runtime/detect) needs the rest, see
// AnchorConfig.
type DetSpec struct {
	Head string // HeadSSDLite
	// ExtraChannels are the extra blocks' out_channels, not scaled by the
	// width: torchvision's builder leaves the extractor's own width_mult at
	// 1.0, so get_depth gives max(16, d) = 512, 256, 256, 128 at every
	// width. Empty: those four.
	ExtraChannels []int
	// AspectRatios are the anchor generator's, one list per feature map
	// (2 + len(ExtraChannels) maps); empty: [2, 3] for each.
	AspectRatios [][]int
	// MinRatio and MaxRatio are the anchor generator's scale range; 0:
	// 0.2 and 0.95.
	MinRatio, MaxRatio float64
}

// Anchors returns the number of default boxes per location of each
// feature map (DefaultBoxGenerator.num_anchors_per_location).
func (d *DetSpec) Anchors() []int {
	n := make([]int, len(d.AspectRatios))
	for i, r := range d.AspectRatios {
		n[i] = 2 + 2*len(r)
	}
	return n
}

// V1Spec is the depthwise-separable stack of MobileNet V1.
type V1Spec struct {
	StemChannels int       // output channels of the 3x3/2 stem conv, before width scaling (32)
	Blocks       []V1Block // one depthwise-separable block per row
}

// V1Block is one row of the V1 table: JSON [out, stride].
type V1Block struct {
	Out    int // pointwise output channels, before width scaling
	Stride int // depthwise stride, 1 or 2
}

// V2Spec is torchvision's MobileNetV2 configuration.
type V2Spec struct {
	InputChannel int       // stem channels before width scaling (32)
	LastChannel  int       // last 1x1 conv channels, scaled by max(1, width) (1280)
	Setting      []V2Stage // inverted_residual_setting
	// LastChannelScales scales LastChannel by the width for every width,
	// also below 1 (the "alpha-scaled" MobileNetV2 of the Keras and TF-slim
	// code), where torchvision keeps LastChannel for widths <= 1.
	LastChannelScales bool
}

// V2Stage is one row of torchvision's inverted_residual_setting: JSON
// [t, c, n, s].
type V2Stage struct {
	Expand   int // t: expansion ratio (1 means no expand conv)
	Channels int // c: output channels, before width scaling
	Repeats  int // n: number of blocks
	Stride   int // s: stride of the first block (the others use 1)
}

// V3Spec is torchvision's _mobilenet_v3_conf table.
type V3Spec struct {
	// Blocks are the bneck rows. The stem conv has Blocks[0].In channels.
	Blocks []V3Block
	// LastChannel is the hidden width of the classifier before reduced_tail
	// division and width scaling (1280 large, 1024 small).
	LastChannel int
	// ReducedTailFrom is the index of the first tail row (torchvision's C4
	// stage): with reduced_tail, that row's Out and every later row's In,
	// Expanded and Out are halved (integer division, before width scaling),
	// and so is LastChannel. 0: the table has no reducible tail.
	ReducedTailFrom int
	// LastConvExpansion multiplies the last row's Out to give the last
	// 1x1 conv's channels; 0: 6.
	LastConvExpansion int
	// SEDivisor: squeeze channels are _make_divisible(expanded // SEDivisor, 8); 0: 4.
	SEDivisor int
}

// V3Block is one bneck row: JSON [input_c, kernel, expanded_c, out_c, use_se,
// activation, stride], channels before width scaling, dilation 1 (2 in the
// dilated tail of a segmentation backbone, see SegSpec).
type V3Block struct {
	In       int
	Kernel   int
	Expanded int
	Out      int
	SE       bool
	Act      string // ActRE or ActHS
	Stride   int    // 1 or 2
}

// Clone returns a deep copy of s.
func (s *Spec) Clone() *Spec {
	c := *s
	if s.V1 != nil {
		v := *s.V1
		v.Blocks = append([]V1Block(nil), v.Blocks...)
		c.V1 = &v
	}
	if s.V2 != nil {
		v := *s.V2
		v.Setting = append([]V2Stage(nil), v.Setting...)
		c.V2 = &v
	}
	if s.V3 != nil {
		v := *s.V3
		v.Blocks = append([]V3Block(nil), v.Blocks...)
		c.V3 = &v
	}
	if s.Seg != nil {
		v := *s.Seg
		v.AtrousRates = append([]int(nil), v.AtrousRates...)
		c.Seg = &v
	}
	if s.Det != nil {
		v := *s.Det
		v.ExtraChannels = append([]int(nil), v.ExtraChannels...)
		v.AspectRatios = nil
		for _, r := range s.Det.AspectRatios {
			v.AspectRatios = append(v.AspectRatios, append([]int{}, r...))
		}
		c.Det = &v
	}
	return &c
}

// withDefaults returns a copy of s with zero defaults filled in.
func (s *Spec) withDefaults() *Spec {
	c := s.Clone()
	if c.Name == "" {
		c.Name = c.Family
	}
	if c.BNEps == 0 {
		c.BNEps = 1e-5
		if c.Family == FamilyV3 {
			c.BNEps = 1e-3
		}
	}
	if c.RoundNearest == 0 {
		c.RoundNearest = 8
	}
	if c.V3 != nil {
		if c.V3.LastConvExpansion == 0 {
			c.V3.LastConvExpansion = 6
		}
		if c.V3.SEDivisor == 0 {
			c.V3.SEDivisor = 4
		}
	}
	if c.Seg != nil {
		switch c.Seg.Head {
		case HeadLRASPP:
			if c.Seg.InterChannels == 0 {
				c.Seg.InterChannels = 128
			}
		case HeadDeepLabV3:
			if c.Seg.ASPPChannels == 0 {
				c.Seg.ASPPChannels = 256
			}
			if len(c.Seg.AtrousRates) == 0 {
				c.Seg.AtrousRates = []int{12, 24, 36}
			}
		}
	}
	if d := c.Det; d != nil {
		if len(d.ExtraChannels) == 0 {
			d.ExtraChannels = []int{512, 256, 256, 128}
		}
		if len(d.AspectRatios) == 0 {
			for range 2 + len(d.ExtraChannels) {
				d.AspectRatios = append(d.AspectRatios, []int{2, 3})
			}
		}
		if d.MinRatio == 0 {
			d.MinRatio = 0.2
		}
		if d.MaxRatio == 0 {
			d.MaxRatio = 0.95
		}
	}
	return c
}

// Validate checks that the spec describes a buildable network. Errors name
// the offending field with its JSON path, e.g.
// "v3.inverted_residual_setting[4].activation".
func (s *Spec) Validate() error {
	if s == nil {
		return errors.New("nil spec")
	}
	switch s.Family {
	case FamilyV1, FamilyV2, FamilyV3:
	case "":
		return errors.New("family: missing (want mobilenet_v1, mobilenet_v2 or mobilenet_v3)")
	default:
		return fmt.Errorf("family: unknown family %q (want mobilenet_v1, mobilenet_v2 or mobilenet_v3)", s.Family)
	}
	sections := []struct {
		family string
		set    bool
	}{{FamilyV1, s.V1 != nil}, {FamilyV2, s.V2 != nil}, {FamilyV3, s.V3 != nil}}
	for _, sec := range sections {
		key := "v" + sec.family[len(sec.family)-1:]
		if sec.family == s.Family && !sec.set {
			return fmt.Errorf("%s: missing (family %s needs its table)", key, s.Family)
		}
		if sec.family != s.Family && sec.set {
			return fmt.Errorf("%s: given for family %s (only the %s section may be set)", key, s.Family,
				"v"+s.Family[len(s.Family)-1:])
		}
	}
	if err := checkName(s.Name); err != nil {
		return err
	}
	if s.BNEps < 0 || s.BNEps >= 1 || math.IsNaN(s.BNEps) {
		return fmt.Errorf("bn_eps: %g is not in (0, 1)", s.BNEps)
	}
	if s.RoundNearest < 0 || s.RoundNearest > 1024 {
		return fmt.Errorf("round_nearest: %d is not in [1, 1024]", s.RoundNearest)
	}
	const maxC = 1 << 16 // generous bound that keeps sizes far from overflow
	chk := func(field string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("%s: %d is not in [%d, %d]", field, v, lo, hi)
		}
		return nil
	}
	var errs []error
	switch s.Family {
	case FamilyV1:
		v := s.V1
		errs = append(errs, chk("v1.stem_channels", v.StemChannels, 1, maxC))
		if len(v.Blocks) == 0 {
			return errors.New("v1.blocks: empty table")
		}
		if len(v.Blocks) > limits.ArchBlocks {
			return fmt.Errorf("v1.blocks: %d blocks; the limit is %d", len(v.Blocks), limits.ArchBlocks)
		}
		for i, b := range v.Blocks {
			p := fmt.Sprintf("v1.blocks[%d]", i)
			errs = append(errs, chk(p+".out", b.Out, 1, maxC), chk(p+".stride", b.Stride, 1, 2))
		}
	case FamilyV2:
		v := s.V2
		errs = append(errs, chk("v2.input_channel", v.InputChannel, 1, maxC), chk("v2.last_channel", v.LastChannel, 1, maxC))
		if len(v.Setting) == 0 {
			return errors.New("v2.inverted_residual_setting: empty table")
		}
		blocks := 0
		for _, r := range v.Setting {
			if r.Repeats >= 1 && r.Repeats <= 64 { // others are refused below
				blocks += r.Repeats
			}
		}
		if blocks > limits.ArchBlocks {
			return fmt.Errorf("v2.inverted_residual_setting: %d blocks (the rows' repeats n added up); the limit is %d", blocks, limits.ArchBlocks)
		}
		for i, r := range v.Setting {
			p := fmt.Sprintf("v2.inverted_residual_setting[%d]", i)
			errs = append(errs, chk(p+".t", r.Expand, 1, 64), chk(p+".c", r.Channels, 1, maxC),
				chk(p+".n", r.Repeats, 1, 64), chk(p+".s", r.Stride, 1, 2))
		}
	case FamilyV3:
		v := s.V3
		errs = append(errs, chk("v3.last_channel", v.LastChannel, 1, maxC),
			chk("v3.lastconv_expansion", v.LastConvExpansion, 0, 64), chk("v3.se_divisor", v.SEDivisor, 0, 1024))
		if len(v.Blocks) == 0 {
			return errors.New("v3.inverted_residual_setting: empty table")
		}
		if len(v.Blocks) > limits.ArchBlocks {
			return fmt.Errorf("v3.inverted_residual_setting: %d blocks; the limit is %d", len(v.Blocks), limits.ArchBlocks)
		}
		if v.ReducedTailFrom < 0 || v.ReducedTailFrom >= len(v.Blocks) {
			errs = append(errs, fmt.Errorf("v3.reduced_tail_from: %d is not a row index in [0, %d) (0: no reducible tail)",
				v.ReducedTailFrom, len(v.Blocks)))
		}
		for i, b := range v.Blocks {
			p := fmt.Sprintf("v3.inverted_residual_setting[%d]", i)
			errs = append(errs, chk(p+".input_c", b.In, 1, maxC), chk(p+".kernel", b.Kernel, 1, 15),
				chk(p+".expanded_c", b.Expanded, 1, maxC), chk(p+".out_c", b.Out, 1, maxC), chk(p+".stride", b.Stride, 1, 2))
			if b.Act != ActRE && b.Act != ActHS {
				errs = append(errs, fmt.Errorf("%s.activation: unknown activation %q (want %q for ReLU or %q for Hardswish)",
					p, b.Act, ActRE, ActHS))
			}
			if i > 0 && b.In != v.Blocks[i-1].Out {
				errs = append(errs, fmt.Errorf("%s.input_c: %d does not match the previous row's out_c %d",
					p, b.In, v.Blocks[i-1].Out))
			}
		}
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	if s.Seg != nil && s.Det != nil {
		return errors.New("detection: given with segmentation (a model has one head)")
	}
	if err := s.validateSeg(); err != nil {
		return err
	}
	return s.validateDet()
}

// maxAtrousRates bounds DeepLabV3's ASPP branches.
const maxAtrousRates = 16

// validateSeg checks the segmentation section of a spec whose table is
// valid.
func (s *Spec) validateSeg() error {
	g := s.Seg
	if g == nil {
		return nil
	}
	if s.Family != FamilyV3 {
		return fmt.Errorf("segmentation: needs family mobilenet_v3 (torchvision's segmentation backbone), not %s", s.Family)
	}
	if s.V3.ReducedTailFrom == 0 {
		return errors.New("segmentation: v3.reduced_tail_from is 0, and it marks the first row of the dilated tail (torchvision's C4)")
	}
	if n := len(segStages(s.V3.Blocks)); n < 4 {
		return fmt.Errorf("segmentation: the table has %d rows with stride 2; the head's stage_indices[-4] needs at least 2", n-2)
	}
	const maxC = 1 << 16
	switch g.Head {
	case HeadLRASPP:
		if g.ASPPChannels != 0 || len(g.AtrousRates) != 0 {
			return errors.New("segmentation: aspp_channels and atrous_rates are for head deeplabv3, not lraspp")
		}
		if g.InterChannels < 0 || g.InterChannels > maxC {
			return fmt.Errorf("segmentation.inter_channels: %d is not in [1, %d] (0: 128)", g.InterChannels, maxC)
		}
	case HeadDeepLabV3:
		if g.InterChannels != 0 {
			return errors.New("segmentation: inter_channels is for head lraspp, not deeplabv3")
		}
		if g.ASPPChannels < 0 || g.ASPPChannels > maxC {
			return fmt.Errorf("segmentation.aspp_channels: %d is not in [1, %d] (0: 256)", g.ASPPChannels, maxC)
		}
		if len(g.AtrousRates) > maxAtrousRates {
			return fmt.Errorf("segmentation.atrous_rates: %d rates; the limit is %d", len(g.AtrousRates), maxAtrousRates)
		}
		for i, r := range g.AtrousRates {
			if r < 1 || r > 1024 {
				return fmt.Errorf("segmentation.atrous_rates[%d]: %d is not in [1, 1024]", i, r)
			}
		}
	case "":
		return fmt.Errorf("segmentation.head: missing (want %q or %q)", HeadLRASPP, HeadDeepLabV3)
	default:
		return fmt.Errorf("segmentation.head: unknown head %q (want %q or %q)", g.Head, HeadLRASPP, HeadDeepLabV3)
	}
	return nil
}

// Bounds of a detection section.
const (
	maxExtraBlocks  = 16
	maxAspectRatios = 16 // per feature map, as runtime/detect accepts
)

// validateDet checks the detection section of a spec whose table is valid.
func (s *Spec) validateDet() error {
	d := s.Det
	if d == nil {
		return nil
	}
	if s.Family != FamilyV3 {
		return fmt.Errorf("detection: needs family mobilenet_v3 (torchvision's SSDLite backbone), not %s", s.Family)
	}
	switch d.Head {
	case HeadSSDLite:
	case "":
		return fmt.Errorf("detection.head: missing (want %q)", HeadSSDLite)
	default:
		return fmt.Errorf("detection.head: unknown head %q (want %q)", d.Head, HeadSSDLite)
	}
	if len(segStages(s.V3.Blocks)) < 3 {
		return errors.New("detection: the table has no row with stride 2; the backbone splits at the last one (torchvision's C4, stage_indices[-2])")
	}
	if len(d.ExtraChannels) > maxExtraBlocks {
		return fmt.Errorf("detection.extra_channels: %d blocks; the limit is %d", len(d.ExtraChannels), maxExtraBlocks)
	}
	const maxC = 1 << 16
	for i, c := range d.ExtraChannels {
		if c < 2 || c > maxC {
			return fmt.Errorf("detection.extra_channels[%d]: %d is not in [2, %d] (the block's middle conv has out/2 channels)", i, c, maxC)
		}
	}
	extras := len(d.ExtraChannels)
	if extras == 0 {
		extras = 4
	}
	if n := len(d.AspectRatios); n != 0 && n != 2+extras {
		return fmt.Errorf("detection.aspect_ratios: %d lists for %d feature maps (features.0, features.1 and %d extra blocks)", n, 2+extras, extras)
	}
	for i, r := range d.AspectRatios {
		if len(r) > maxAspectRatios {
			return fmt.Errorf("detection.aspect_ratios[%d]: %d ratios; the limit is %d", i, len(r), maxAspectRatios)
		}
		for j, a := range r {
			if a < 1 || a > 1024 {
				return fmt.Errorf("detection.aspect_ratios[%d][%d]: %d is not in [1, 1024]", i, j, a)
			}
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"min_ratio", d.MinRatio}, {"max_ratio", d.MaxRatio}} {
		if !(f.v >= 0 && f.v <= 16) {
			return fmt.Errorf("detection.%s: %g is not in [0, 16] (0: the default)", f.name, f.v)
		}
	}
	return nil
}

// segStages is torchvision's stage_indices for a V3 table: the features
// index of the stem (0), of every row with stride > 1 (InvertedResidual's
// _is_cn) and of the last 1x1 conv.
func segStages(rows []V3Block) []int {
	idx := []int{0}
	for i, r := range rows {
		if r.Stride > 1 {
			idx = append(idx, i+1)
		}
	}
	return append(idx, len(rows)+1)
}

// maxNameLen bounds a spec's name, which names the graph and appears in
// messages.
const maxNameLen = 256

// checkName refuses a name that would put control characters (or a flood
// of text) into messages and model files.
func checkName(name string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("name: %d bytes; the limit is %d", len(name), maxNameLen)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("name: %q holds a control or non-printable character", name)
		}
	}
	return nil
}
