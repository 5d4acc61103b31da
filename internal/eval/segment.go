package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/mncdev/mnc/internal/classify"
	"github.com/mncdev/mnc/internal/segment"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// SegReport is what RunSegmentation measured.
type SegReport struct {
	Images     string `json:"images"` // the photos' directory (or photo)
	Masks      string `json:"masks"`  // the masks' directory
	ImageCount int    `json:"image_count"`
	// Classes is the number of classes scored: the labels', else the
	// models', else segment.MaxClasses.
	Classes int             `json:"classes"`
	Models  []SegModelScore `json:"models"`
	// Agreement scores every pair of models, B's class maps against A's
	// as if A's were the masks (pixels the masks ignore included).
	Agreement []SegAgreement `json:"agreement"`
	PerImage  []SegImage     `json:"per_image"`
	// Unmasked are the photos left out for want of a mask.
	Unmasked []string `json:"without_mask"`

	Labels []string `json:"-"` // class names (may be nil)
}

// SegModelScore is one model's score over all the masks' pixels: pixel
// accuracy, and the IoU of each class present in a mask or predicted,
// with their mean (mIoU), from the confusion matrix summed over images.
type SegModelScore struct {
	Name          string     `json:"name"`
	Path          string     `json:"path"`
	Kind          string     `json:"kind"`
	Preprocess    string     `json:"preprocess"`
	Pixels        uint64     `json:"pixels"` // the masks' pixels counted (not ignored)
	PixelAccuracy float64    `json:"pixel_accuracy"`
	MIoU          float64    `json:"miou"`
	PerClass      []ClassIoU `json:"per_class"`
}

// ClassIoU is a class's IoU and its pixels in the masks and predicted.
type ClassIoU struct {
	Index      int     `json:"index"`
	Label      string  `json:"label"`
	IoU        float64 `json:"iou"`
	MaskPixels uint64  `json:"mask_pixels"`
	Predicted  uint64  `json:"predicted_pixels"`
}

// SegAgreement is how alike two models' class maps are.
type SegAgreement struct {
	A             string  `json:"a"`
	B             string  `json:"b"`
	Pixels        uint64  `json:"pixels"`
	PixelAccuracy float64 `json:"pixel_accuracy"` // the fraction of pixels of the same class
	MIoU          float64 `json:"miou"`
}

// SegImage is one photo's scores, per model in the order of Models.
type SegImage struct {
	Image  string          `json:"image"`
	Mask   string          `json:"mask"`
	Width  int             `json:"width"` // the mask's size, at which it is scored
	Height int             `json:"height"`
	Models []SegImageScore `json:"models"`
}

// SegImageScore is a model's score on one photo.
type SegImageScore struct {
	PixelAccuracy float64 `json:"pixel_accuracy"`
	MIoU          float64 `json:"miou"`
}

// RunSegmentation evaluates segmentation models on photos with masks:
// o.Images is a directory of photos (or one photo) and o.Masks the
// directory of their masks (segment.Pairs names them), read through
// o.MaskMap. Each model's class map is mapped onto the mask's grid (see
// package segment) and scored; the classification options (Confusions)
// do not apply.
func RunSegmentation(o Options) (*SegReport, error) {
	if len(o.Models) == 0 {
		return nil, errors.New("eval: no models")
	}
	if o.Workers < 0 {
		return nil, fmt.Errorf("eval: negative worker count %d", o.Workers)
	}
	pairs, unmasked, err := segment.Pairs(o.Images, o.Masks)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	workers := o.Workers
	if workers == 0 {
		workers = goruntime.GOMAXPROCS(0)
	}
	workers = min(workers, len(pairs))
	models, err := openModels(o, workers)
	defer func() {
		for _, m := range models {
			m.close()
		}
	}()
	if err != nil {
		return nil, err
	}
	stated, from := 0, ""
	for _, m := range models {
		seg, k := segment.Is(m.main)
		if !seg {
			return nil, fmt.Errorf("eval: %s is a classifier (output %v): --masks scores segmentation models; evaluate classifiers on labelled images without --masks", m.path, classify.Output(m.main).Type.Shape)
		}
		if k > 0 && stated > 0 && k != stated {
			return nil, fmt.Errorf("eval: model %s has %d classes but %s has %d", m.path, k, from, stated)
		}
		if k > 0 {
			stated, from = k, m.path
		}
	}
	labels, err := pickLabels(o.Labels, models)
	if err != nil {
		return nil, err
	}
	labels = classify.FitLabels(labels, stated)
	classes := stated
	switch {
	case labels != nil && stated > 0 && len(labels) != stated:
		return nil, fmt.Errorf("eval: model %s has %d classes but there are %d labels", from, stated, len(labels))
	case labels != nil:
		classes = len(labels)
	case classes == 0:
		classes = segment.MaxClasses
	}
	if classes > segment.MaxClasses {
		return nil, fmt.Errorf("eval: %d classes; segmentation scores take at most %d", classes, segment.MaxClasses)
	}
	s, err := scorePairs(models, pairs, classes, o.MaskMap, workers, o.Progress)
	if err != nil {
		return nil, err
	}
	r, err := s.report(o, models, labels, classes)
	if err != nil {
		return nil, err
	}
	r.Unmasked = unmasked
	if r.Unmasked == nil {
		r.Unmasked = []string{}
	}
	return r, nil
}

// segScores are the scores summed over the photos.
type segScores struct {
	mu       sync.Mutex
	models   []*segment.Score
	agree    [][]*segment.Score // [a][b], b > a
	perImage []SegImage
}

// scorePairs runs every model on every photo, workers photos at a time,
// and scores the class maps against the masks and each other.
func scorePairs(models []*model, pairs []segment.Pair, classes int, remap *segment.Remap, workers int, prog io.Writer) (*segScores, error) {
	s := &segScores{perImage: make([]SegImage, len(pairs))}
	for range models {
		sc, err := segment.NewScore(classes)
		if err != nil {
			return nil, err
		}
		s.models = append(s.models, sc)
	}
	s.agree = make([][]*segment.Score, len(models))
	var err error
	for a := range models {
		s.agree[a] = make([]*segment.Score, len(models))
		for b := a + 1; b < len(models); b++ {
			// Agreement counts every class a model gives, whatever the labels.
			if s.agree[a][b], err = segment.NewScore(segment.MaxClasses); err != nil {
				return nil, err
			}
		}
	}
	err = forEachImage(len(pairs), workers, len(models), prog, func(w int, bufs []*ir.Tensor, i int) error {
		return s.scoreOne(models, w, bufs, pairs[i], classes, remap, i)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// scoreOne scores photo i on worker w's replicas.
func (s *segScores) scoreOne(models []*model, w int, bufs []*ir.Tensor, p segment.Pair, classes int, remap *segment.Remap, i int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("eval: %s: panic: %v", p.Image, r)
		}
	}()
	img, err := preprocess.LoadImage(p.Image)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	mask, err := segment.ReadMask(p.Mask, remap)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	b := img.Bounds()
	iw, ih := b.Dx(), b.Dy()
	preds := make([]segment.Map, len(models))
	done := make([]bool, len(models))
	im := SegImage{Image: p.Image, Mask: p.Mask, Width: mask.W, Height: mask.H}
	for mi, m := range models {
		k := m.specIdx
		if !done[k] {
			if bufs[k] == nil {
				bufs[k] = ir.NewFloat32(ir.Shape{1, 3, m.spec.Height, m.spec.Width}, nil)
			}
			if err := m.spec.Tensor(img, bufs[k].F32); err != nil {
				return fmt.Errorf("eval: preprocess %s: %w", p.Image, err)
			}
			done[k] = true
		}
		out, err := m.replicas[w].Run(bufs[k])
		if err != nil {
			return fmt.Errorf("eval: run %s on %s: %w", m.path, p.Image, err)
		}
		maps, err := segment.Maps(out)
		if err != nil {
			return fmt.Errorf("eval: %s on %s: %w", m.path, p.Image, err)
		}
		x0, y0, x1, y1, err := m.spec.Region(iw, ih)
		if err != nil {
			return fmt.Errorf("eval: %s: %w", p.Image, err)
		}
		preds[mi] = maps[0].Project(segment.Region{X0: x0, Y0: y0, X1: x1, Y1: y1}, iw, ih, mask.W, mask.H)
		one, err := segment.NewScore(classes)
		if err != nil {
			return err
		}
		if err := one.Add(preds[mi], mask); err != nil {
			return fmt.Errorf("eval: mask %s: %w (--mask-map changes a mask's values)", p.Mask, err)
		}
		_, miou := one.IoU()
		im.Models = append(im.Models, SegImageScore{PixelAccuracy: zeroNaN(one.PixelAccuracy()), MIoU: zeroNaN(miou)})
	}
	s.perImage[i] = im
	s.mu.Lock()
	defer s.mu.Unlock()
	for mi := range models {
		if err := s.models[mi].Add(preds[mi], mask); err != nil {
			return fmt.Errorf("eval: mask %s: %w", p.Mask, err)
		}
		for b := mi + 1; b < len(models); b++ {
			if err := s.agree[mi][b].Add(preds[b], preds[mi]); err != nil {
				return fmt.Errorf("eval: %s: %w", p.Image, err)
			}
		}
	}
	return nil
}

// zeroNaN is v, or 0 for NaN (a photo whose mask ignores every pixel),
// which JSON cannot hold.
func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func (s *segScores) report(o Options, models []*model, labels []string, classes int) (*SegReport, error) {
	r := &SegReport{Images: o.Images, Masks: o.Masks, ImageCount: len(s.perImage), Classes: classes, PerImage: s.perImage, Labels: labels}
	for mi, m := range models {
		sc := s.models[mi]
		if sc.Pixels() == 0 {
			return nil, fmt.Errorf("eval: the masks in %s ignore every pixel (value 255): nothing to score", o.Masks)
		}
		iou, miou := sc.IoU()
		ms := SegModelScore{Name: m.name, Path: m.path, Kind: m.kind, Preprocess: fmt.Sprintf("%s %dx%d", m.spec.Preset, m.spec.Height, m.spec.Width),
			Pixels: sc.Pixels(), PixelAccuracy: sc.PixelAccuracy(), MIoU: miou, PerClass: []ClassIoU{}}
		for c, v := range iou {
			if math.IsNaN(v) {
				continue
			}
			tr, pr := sc.Counts(c)
			ms.PerClass = append(ms.PerClass, ClassIoU{Index: c, Label: segLabel(labels, c), IoU: v, MaskPixels: tr, Predicted: pr})
		}
		r.Models = append(r.Models, ms)
	}
	r.Agreement = []SegAgreement{}
	for a := range models {
		for b := a + 1; b < len(models); b++ {
			sc := s.agree[a][b]
			_, miou := sc.IoU()
			r.Agreement = append(r.Agreement, SegAgreement{A: models[a].name, B: models[b].name, Pixels: sc.Pixels(),
				PixelAccuracy: zeroNaN(sc.PixelAccuracy()), MIoU: zeroNaN(miou)})
		}
	}
	return r, nil
}

// segLabel is class c's label, "" if the labels do not name it.
func segLabel(labels []string, c int) string {
	if c < len(labels) {
		return labels[c]
	}
	return ""
}

// WriteJSON writes the report as indented JSON.
func (r *SegReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as aligned tables: per model pixel accuracy
// and mIoU, the agreement of each pair, and the IoU of every class present
// in a mask or predicted by a model.
func (r *SegReport) WriteText(w io.Writer) error {
	var b strings.Builder
	photos := func(n int) string {
		if n == 1 {
			return "1 photo"
		}
		return strconv.Itoa(n) + " photos"
	}
	their := "their masks"
	if r.ImageCount == 1 {
		their = "its mask"
	}
	fmt.Fprintf(&b, "%s and %s (%s, masks %s)\n", photos(r.ImageCount), their, show(r.Images), show(r.Masks))
	if n := len(r.Unmasked); n > 0 {
		fmt.Fprintf(&b, "%s without a mask left out (the first: %s)\n", photos(n), show(r.Unmasked[0]))
	}
	b.WriteString("\n")
	pct := func(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) }
	num := func(v float64) string { return fmt.Sprintf("%.4f", v) }
	t := [][]string{{"model", "kind", "preprocess", "pixel acc", "mIoU"}}
	for _, m := range r.Models {
		t = append(t, []string{show(m.Name), m.Kind, m.Preprocess, pct(m.PixelAccuracy), num(m.MIoU)})
	}
	table(&b, t, "lllrr")
	if len(r.Agreement) > 0 {
		b.WriteString("\nagreement (the second model's class maps scored against the first's)\n")
		t = [][]string{}
		for _, a := range r.Agreement {
			t = append(t, []string{show(a.A), show(a.B), "pixels " + pct(a.PixelAccuracy), "mIoU " + num(a.MIoU)})
		}
		table(&b, t, "llrr")
	}
	b.WriteString("\nper-class IoU (classes in the masks or predicted)\n")
	head := []string{"class", "", "mask pixels"}
	align := "rlr"
	for _, m := range r.Models {
		head = append(head, show(m.Name))
		align += "r"
	}
	t = [][]string{head}
	var present [256]bool
	var maskPixels [256]uint64
	for _, m := range r.Models {
		for _, c := range m.PerClass {
			present[c.Index], maskPixels[c.Index] = true, c.MaskPixels
		}
	}
	for c := range present {
		if !present[c] {
			continue
		}
		l := segLabel(r.Labels, c)
		if l == "" {
			l = "-"
		}
		row := []string{strconv.Itoa(c), short(l), strconv.FormatUint(maskPixels[c], 10)}
		for _, m := range r.Models {
			v := "-"
			for _, x := range m.PerClass {
				if x.Index == c {
					v = num(x.IoU)
				}
			}
			row = append(row, v)
		}
		t = append(t, row)
	}
	table(&b, t, align)
	_, err := io.WriteString(w, b.String())
	return err
}
