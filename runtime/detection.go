package runtime

import (
	"fmt"
	"image"
	"math"

	"github.com/mncdev/mnc/runtime/detect"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/mncfb"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// detector is a model's detection metadata (format 1.5), checked, with
// its default boxes.
type detector struct {
	cfg     detect.Config
	anchors []detect.Box
}

// readDetection reads and checks Metadata.detection: every value within
// runtime/detect's limits (checkDetection then checks it against the
// graph: the two outputs float32 [1, anchors, classes] and [1, anchors, 4]
// with anchors the default boxes' count, and the anchors' image the
// model's input size).
func (m *Model) readDetection(fd *mncfb.Detection, bud *budget) error {
	n := fd.FeatureMapsLength()
	if n == 0 || n > 64 {
		return fmt.Errorf("detection: %d feature maps; want 1 to 64", n)
	}
	if err := bud.spend(int64(n)*64, "detection"); err != nil {
		return err
	}
	cfg := detect.Config{
		Anchors: detect.AnchorConfig{MinRatio: fd.MinRatio(), MaxRatio: fd.MaxRatio(), Clip: fd.Clip(),
			AspectRatios: make([][]int, n)},
		FeatureMaps: make([][2]int, n),
		ImageHeight: int(fd.ImageHeight()), ImageWidth: int(fd.ImageWidth()),
		Classes:   int(fd.Classes()),
		ClsOutput: int(fd.ClsLogits()), BoxOutput: int(fd.BboxRegression()),
		Params: detect.Params{ScoreThresh: fd.ScoreThresh(), NMSThresh: fd.NmsThresh(),
			TopKCandidates: int(fd.TopkCandidates()), DetectionsPerImg: int(fd.DetectionsPerImg())},
	}
	if fd.ClsLogits() > math.MaxInt32 || fd.BboxRegression() > math.MaxInt32 {
		return fmt.Errorf("detection: outputs %d and %d: want two distinct outputs of the model's %d", fd.ClsLogits(), fd.BboxRegression(), len(m.outputs))
	}
	var fm mncfb.AnchorMap
	for k := range n {
		if !fd.FeatureMaps(&fm, k) {
			return fmt.Errorf("detection: feature map %d is missing", k)
		}
		cfg.FeatureMaps[k] = [2]int{int(fm.Height()), int(fm.Width())}
		r := fm.AspectRatiosLength()
		if r > 16 {
			return fmt.Errorf("detection: feature map %d has %d aspect ratios; the limit is 16", k, r)
		}
		cfg.Anchors.AspectRatios[k] = make([]int, r)
		for i := range r {
			cfg.Anchors.AspectRatios[k][i] = int(fm.AspectRatios(i))
		}
	}
	if err := cfg.Check(len(m.outputs)); err != nil {
		return err
	}
	if err := bud.spend(int64(cfg.NumAnchors())*16, "detection anchors"); err != nil {
		return err
	}
	m.det = &detector{cfg: cfg}
	return nil
}

// checkDetection checks a detector's settings against the verified graph
// (after the plan, whose checks of the outputs come first) and makes its
// anchors.
func (m *Model) checkDetection() error {
	if m.det == nil {
		return nil
	}
	cfg := m.det.cfg
	a := cfg.NumAnchors()
	if in := m.tensors[m.input].shape; len(in) != 4 || in[2] != cfg.ImageHeight || in[3] != cfg.ImageWidth {
		return fmt.Errorf("detection: anchors for a %dx%d image, but the model's input is %v", cfg.ImageHeight, cfg.ImageWidth, in)
	}
	for _, o := range []struct {
		what    string
		i, cols int
	}{{"class logits", cfg.ClsOutput, cfg.Classes}, {"box regression", cfg.BoxOutput, 4}} {
		t := &m.tensors[m.outputs[o.i]]
		if t.dtype != mncfb.DTypeFLOAT32 || len(t.shape) != 3 || t.shape[1] != a || t.shape[2] != o.cols {
			return fmt.Errorf("detection: the %s (output %d, %s) are %v %v; %d anchors of %d classes want float32 [1 %d %d]",
				o.what, o.i, esc.String(t.name), t.dtype, t.shape, a, cfg.Classes, a, o.cols)
		}
	}
	anchors, err := detect.Anchors(cfg.Anchors, cfg.FeatureMaps, cfg.ImageHeight, cfg.ImageWidth)
	if err != nil {
		return fmt.Errorf("detection: %w", err)
	}
	m.det.anchors = anchors
	c := cloneConfig(cfg)
	m.info.Detection = &c
	return nil
}

// cloneConfig is c with its own slices.
func cloneConfig(c detect.Config) detect.Config {
	c.FeatureMaps = append([][2]int(nil), c.FeatureMaps...)
	ar := make([][]int, len(c.Anchors.AspectRatios))
	for i, r := range c.Anchors.AspectRatios {
		ar[i] = append([]int{}, r...)
	}
	c.Anchors.AspectRatios = ar
	return c
}

// Detection returns the detection settings recorded in the model (format
// 1.5: a detector's file; a copy), and whether there are any.
func (m *Model) Detection() (detect.Config, bool) {
	if m.det == nil {
		return detect.Config{}, false
	}
	return cloneConfig(m.det.cfg), true
}

// Anchors returns a detector's default boxes, in the order of its outputs'
// anchor axis (nil for another model).
func (m *Model) Anchors() []detect.Box {
	if m.det == nil {
		return nil
	}
	return append([]detect.Box(nil), m.det.anchors...)
}

// Detect runs a detector (a model with Detection settings) on a batch of
// preprocessed inputs, as Run takes them, and post-processes each item as
// torchvision's SSD does (detect.Postprocess with the file's settings).
// sizes, when not nil, gives each item's original image size [height,
// width], to which its boxes are rescaled (GeneralizedRCNNTransform's
// postprocess); nil leaves them in the model input's frame. The result is
// the caller's.
func (it *Interpreter) Detect(in Tensor, sizes [][2]int) ([][]detect.Detection, error) {
	d := it.m.det
	if d == nil {
		return nil, fmt.Errorf("model %s records no detection settings (it is not a detector compiled by mnc 1.5 or later)", esc.String(it.m.info.Name))
	}
	outs, err := it.RunAll(in)
	if err != nil {
		return nil, err
	}
	cls, box := outs[d.cfg.ClsOutput], outs[d.cfg.BoxOutput]
	n := cls.Shape[0]
	if sizes != nil && len(sizes) != n {
		return nil, fmt.Errorf("detect: %d image sizes for a batch of %d", len(sizes), n)
	}
	a, c := len(d.anchors), d.cfg.Classes
	res := make([][]detect.Detection, n)
	rel := make([]detect.Box, a)
	for i := range n {
		for j := range rel {
			copy(rel[j][:], box.Data[(i*a+j)*4:])
		}
		dets, err := detect.Postprocess(cls.Data[i*a*c:(i+1)*a*c], c, rel, d.anchors, d.cfg.ImageHeight, d.cfg.ImageWidth, d.cfg.Params)
		if err != nil {
			return nil, err
		}
		if sizes != nil {
			if err := detect.Rescale(dets, d.cfg.ImageHeight, d.cfg.ImageWidth, sizes[i][0], sizes[i][1]); err != nil {
				return nil, err
			}
		}
		res[i] = dets
	}
	return res, nil
}

// DetectImage preprocesses img as the model records (see RunImage) and
// detects objects in it, boxes in img's pixels.
func (it *Interpreter) DetectImage(img image.Image) ([]detect.Detection, error) {
	spec, ok := it.m.Preprocess()
	if !ok {
		return nil, fmt.Errorf("the model records no image preprocessing; run a preprocessed tensor with Detect instead")
	}
	if img == nil || img.Bounds().Empty() {
		return nil, fmt.Errorf("detect: empty image")
	}
	return it.detectImage(spec, img)
}

// DetectImageWith is DetectImage with another preprocessing than the
// model's (spec's size must be the model's input size).
func (it *Interpreter) DetectImageWith(spec preprocess.Spec, img image.Image) ([]detect.Detection, error) {
	if img == nil || img.Bounds().Empty() {
		return nil, fmt.Errorf("detect: empty image")
	}
	if in := it.m.tensors[it.m.input].shape; spec.Height != in[2] || spec.Width != in[3] {
		return nil, fmt.Errorf("detect: preprocessing to %dx%d for a model input of %v", spec.Height, spec.Width, in)
	}
	return it.detectImage(spec, img)
}

func (it *Interpreter) detectImage(spec preprocess.Spec, img image.Image) ([]detect.Detection, error) {
	if it.image == nil {
		it.image = make([]float32, it.sample)
	}
	if err := spec.Tensor(img, it.image); err != nil {
		return nil, err
	}
	b := img.Bounds()
	d, err := it.Detect(Tensor{Shape: it.m.tensors[it.m.input].shape, Data: it.image}, [][2]int{{b.Dy(), b.Dx()}})
	if err != nil {
		return nil, err
	}
	return d[0], nil
}

// DetectFile decodes an image file (JPEG, PNG, BMP, WebP) and detects
// objects in it with DetectImage.
func (it *Interpreter) DetectFile(path string) ([]detect.Detection, error) {
	img, err := preprocess.LoadImage(path)
	if err != nil {
		return nil, err
	}
	d, err := it.DetectImage(img)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}
