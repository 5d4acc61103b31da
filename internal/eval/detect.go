package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"

	"strings"

	"github.com/mncdev/mnc/internal/detection"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/detect"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// DetReport is what RunDetection measured.
type DetReport struct {
	Images     string `json:"images"` // the photos' directory (or photo)
	Boxes      string `json:"boxes"`  // the box files' directory
	ImageCount int    `json:"image_count"`
	TruthBoxes int    `json:"truth_boxes"`
	// MinScore is the score from which a model's boxes are the ground
	// truth of the agreement with the models after it.
	MinScore  float64         `json:"min_score"`
	Models    []DetModelScore `json:"models"`
	Agreement []DetAgreement  `json:"agreement"`
	// WithoutBoxes are the photos left out for want of a box file.
	WithoutBoxes []string `json:"without_boxes"`
}

// DetModelScore is one model's VOC AP@0.5 over all the photos: per class
// of the ground truth (every detection the post-processing keeps counts)
// and their mean.
type DetModelScore struct {
	Name       string           `json:"name"`
	Path       string           `json:"path"`
	Kind       string           `json:"kind"`
	Preprocess string           `json:"preprocess"`
	Detections int              `json:"detections"`
	MAP        float64          `json:"map50"`
	PerClass   []detect.ClassAP `json:"per_class"`
}

// DetAgreement is B's mAP@0.5 taking A's boxes scoring >= MinScore as the
// ground truth: how far B (int8) moves from A (float). MAP is nil when A
// has no such box.
type DetAgreement struct {
	A          string   `json:"a"`
	B          string   `json:"b"`
	TruthBoxes int      `json:"truth_boxes"` // A's boxes taken as ground truth
	MAP        *float64 `json:"map50"`
}

// detModel is one detector of RunDetection with an interpreter per worker.
type detModel struct {
	name, path string
	m          *runtime.Model
	spec       preprocess.Spec
	labels     []string
	its        []*runtime.Interpreter
}

func (d *detModel) close() {
	for _, it := range d.its {
		it.Close()
	}
	d.m.Close()
}

// BoxFile is the box file of photo in dir: dir/<photo's name without its
// extension>.txt.
func BoxFile(dir, photo string) string {
	base := filepath.Base(photo)
	return filepath.Join(dir, strings.TrimSuffix(base, filepath.Ext(base))+".txt")
}

// RunDetection evaluates detectors (.mnc files with detection settings)
// on photos with box files: o.Images is a directory of photos (searched
// recursively) or one photo, o.Boxes the directory of their ground truth
// (BoxFile names them; runtime/detect's box-list format, classes as the
// models name them: their labels, else the class index). Photos without a
// box file are left out; an empty one is a photo without objects. Each
// model's detections (all that its post-processing keeps) are scored by
// VOC AP@0.5, and every pair (A, B) of models by B's mAP against A's boxes
// scoring at least o.MinScore.
func RunDetection(o Options) (*DetReport, error) {
	if len(o.Models) == 0 {
		return nil, errors.New("eval: no models")
	}
	if o.Workers < 0 {
		return nil, fmt.Errorf("eval: negative worker count %d", o.Workers)
	}
	if !(o.MinScore >= 0 && o.MinScore <= 1) {
		return nil, fmt.Errorf("eval: --min-score %v: want a score from 0 to 1", o.MinScore)
	}
	photos, err := listPhotos(o.Images)
	if err != nil {
		return nil, err
	}
	rep := &DetReport{Images: o.Images, Boxes: o.Boxes, MinScore: o.MinScore, Agreement: []DetAgreement{}, WithoutBoxes: []string{}}
	var truth [][]detect.Labeled
	var kept []string
	byFile := map[string]string{}
	for _, p := range photos {
		f := BoxFile(o.Boxes, p)
		if other, ok := byFile[f]; ok {
			return nil, fmt.Errorf("eval: %s and %s would both be scored against %s: give the photos different names", esc.String(other), esc.String(p), esc.String(f))
		}
		byFile[f] = p
		st, err := os.Stat(f)
		if errors.Is(err, os.ErrNotExist) {
			rep.WithoutBoxes = append(rep.WithoutBoxes, p)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		if st.IsDir() {
			return nil, fmt.Errorf("eval: box file %s is a directory", esc.String(f))
		}
		boxes, err := detect.ReadBoxFile(f, false)
		if err != nil {
			return nil, fmt.Errorf("eval: ground truth: %w", err)
		}
		truth = append(truth, boxes)
		kept = append(kept, p)
		rep.TruthBoxes += len(boxes)
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("eval: none of the %d photos of %s has a box file in %s (PHOTO_NAME.txt)", len(photos), esc.String(o.Images), esc.String(o.Boxes))
	}
	if rep.TruthBoxes == 0 {
		return nil, fmt.Errorf("eval: the %d box files of %s hold no box: nothing to score", len(kept), esc.String(o.Boxes))
	}
	rep.ImageCount = len(kept)
	workers := o.Workers
	if workers == 0 {
		workers = goruntime.GOMAXPROCS(0)
	}
	workers = min(workers, len(kept))
	models, err := openDetectors(o, workers)
	defer func() {
		for _, m := range models {
			m.close()
		}
	}()
	if err != nil {
		return nil, err
	}
	// dets[m][i]: model m's detections on photo i.
	dets := make([][][]detect.Labeled, len(models))
	for k := range models {
		dets[k] = make([][]detect.Labeled, len(kept))
	}
	err = forEachImage(len(kept), workers, 0, o.Progress, func(w int, _ []*ir.Tensor, i int) error {
		img, err := preprocess.LoadImage(kept[i])
		if err != nil {
			return err
		}
		for k, m := range models {
			d, err := m.its[w].DetectImageWith(m.spec, img)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", m.name, esc.String(kept[i]), err)
			}
			l := make([]detect.Labeled, len(d))
			for j, x := range d {
				l[j] = detect.Labeled{Class: detection.Name(x.Label, m.labels), Score: float64(x.Score),
					Box: [4]float64{float64(x.Box[0]), float64(x.Box[1]), float64(x.Box[2]), float64(x.Box[3])}}
			}
			dets[k][i] = l
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k, m := range models {
		imgs := make([]detect.Image, len(kept))
		n := 0
		for i := range kept {
			imgs[i] = detect.Image{Truth: truth[i], Detections: dets[k][i]}
			n += len(dets[k][i])
		}
		per, mAP, err := detect.APAt50(imgs)
		if err != nil {
			return nil, err
		}
		rep.Models = append(rep.Models, DetModelScore{Name: m.name, Path: m.path, Kind: m.m.Info().Precision,
			Preprocess: m.spec.String(), Detections: n, MAP: mAP, PerClass: per})
	}
	for a := range models {
		for b := a + 1; b < len(models); b++ {
			imgs := make([]detect.Image, len(kept))
			n := 0
			for i := range kept {
				var t []detect.Labeled
				for _, d := range dets[a][i] {
					if d.Score >= o.MinScore {
						t = append(t, detect.Labeled{Class: d.Class, Box: d.Box})
					}
				}
				n += len(t)
				imgs[i] = detect.Image{Truth: t, Detections: dets[b][i]}
			}
			ag := DetAgreement{A: models[a].name, B: models[b].name, TruthBoxes: n}
			if n > 0 {
				_, mAP, err := detect.APAt50(imgs)
				if err != nil {
					return nil, err
				}
				ag.MAP = &mAP
			}
			rep.Agreement = append(rep.Agreement, ag)
		}
	}
	return rep, nil
}

// listPhotos is the photos of images: a directory (recursively) or one
// image file.
func listPhotos(images string) ([]string, error) {
	st, err := os.Stat(images)
	if err != nil {
		return nil, fmt.Errorf("eval: --images: %w", err)
	}
	if !st.IsDir() {
		return []string{images}, nil
	}
	photos, err := quant.ListImages(images)
	if err != nil {
		return nil, fmt.Errorf("eval: --images: %w", err)
	}
	if len(photos) == 0 {
		return nil, fmt.Errorf("eval: no JPEG, PNG, BMP or WebP images under %s", esc.String(images))
	}
	return photos, nil
}

// openDetectors opens every model of o as a detector, with workers
// single-threaded interpreters each.
func openDetectors(o Options, workers int) ([]*detModel, error) {
	var models []*detModel
	names := map[string]int{}
	for _, p := range o.Models {
		names[filepath.Base(p)]++
	}
	for _, p := range o.Models {
		if !runtime.IsModelFile(p) {
			return models, fmt.Errorf("eval: %s: detectors are evaluated from their .mnc file, which holds the post-processing (mnc compile MODEL -o model.mnc)", esc.String(p))
		}
		m, err := runtime.OpenWith(p, runtime.Options{Kernels: o.Kernels, Threads: 1})
		if err != nil {
			return models, err
		}
		d := &detModel{name: filepath.Base(p), path: p, m: m, labels: o.Labels}
		if names[d.name] > 1 {
			d.name = p
		}
		models = append(models, d)
		if !detection.Is(m) {
			return models, fmt.Errorf("eval: %s is not a detector (no detection settings): --boxes scores detectors", esc.String(p))
		}
		if d.labels == nil {
			d.labels = m.Labels()
		}
		rec, ok := m.Preprocess()
		if !ok {
			return models, fmt.Errorf("eval: %s records no image preprocessing", esc.String(p))
		}
		d.spec = rec
		if o.PreprocessOver != nil {
			if d.spec, err = o.PreprocessOver(rec); err != nil {
				return models, err
			}
		}
		for range workers {
			it, err := m.NewInterpreterThreads(1)
			if err != nil {
				return models, err
			}
			d.its = append(d.its, it)
		}
	}
	return models, nil
}

// plural is "n one" or "n many".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// WriteJSON writes the report as indented JSON.
func (r *DetReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as aligned tables: each model's mAP, the
// AP of each class of the ground truth per model, and the agreements.
func (r *DetReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s with box files (%s)", plural(r.ImageCount, "photo", "photos"), plural(r.TruthBoxes, "ground-truth box", "ground-truth boxes"))
	if n := len(r.WithoutBoxes); n > 0 {
		fmt.Fprintf(w, "; %d without, left out", n)
	}
	fmt.Fprintln(w)
	nw := len("model")
	for _, m := range r.Models {
		nw = max(nw, len(esc.String(m.Name)))
	}
	fmt.Fprintf(w, "%-*s  %-8s  %8s  %10s\n", nw, "model", "kind", "mAP@0.5", "detections")
	for _, m := range r.Models {
		fmt.Fprintf(w, "%-*s  %-8s  %8.4f  %10d\n", nw, esc.String(m.Name), m.Kind, m.MAP, m.Detections)
	}
	if len(r.Models) > 0 {
		cw := len("class")
		classes := r.Models[0].PerClass
		for _, c := range classes {
			cw = max(cw, len(esc.String(c.Class)))
		}
		fmt.Fprintf(w, "\nAP@0.5 per class\n%-*s  %5s", cw, "class", "boxes")
		widths := make([]int, len(r.Models))
		for k, m := range r.Models {
			widths[k] = max(8, len(esc.String(m.Name)))
			fmt.Fprintf(w, "  %*s", widths[k], esc.String(m.Name))
		}
		fmt.Fprintln(w)
		for i, c := range classes {
			fmt.Fprintf(w, "%-*s  %5d", cw, esc.String(c.Class), c.Truth)
			for k, m := range r.Models {
				fmt.Fprintf(w, "  %*.4f", widths[k], m.PerClass[i].AP)
			}
			fmt.Fprintln(w)
		}
	}
	if len(r.Agreement) > 0 {
		fmt.Fprintf(w, "\nagreement: B's mAP@0.5 with A's boxes scoring >= %g as ground truth\n", r.MinScore)
		for _, a := range r.Agreement {
			v := "n/a (A has no such box)"
			if a.MAP != nil && !math.IsNaN(*a.MAP) {
				v = fmt.Sprintf("%.4f", *a.MAP)
			}
			fmt.Fprintf(w, "  %s -> %s: %s (%d boxes of A)\n", esc.String(a.A), esc.String(a.B), v, a.TruthBoxes)
		}
	}
	return nil
}
