package eval

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	goruntime "runtime"
	"slices"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/classify"
	"github.com/mncdev/mnc/internal/segment"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// Options configures Run.
type Options struct {
	// Models are the model files to evaluate side by side: .mnc files
	// (int8 or float32, on the runtime) and float models (.onnx, .pth,
	// ...; on the reference interpreter, described by Frontend).
	Models   []string
	Frontend frontend.Options
	// Kernels forces the runtime's kernel variant for .mnc files ("":
	// the best this CPU runs).
	Kernels string
	// Images is the labelled image set: an ImageFolder directory or a
	// .csv/.tsv list (see LoadDataset).
	Images string
	// Labels are the class names; nil means those the .mnc models record
	// (which must then agree).
	Labels []string
	// Preprocess, when its Preset is set, preprocesses the images of every
	// model with it at the model's input size (preprocess.Spec.AtSize:
	// its Mean and Std when set); no Preset means what a .mnc file records,
	// tf for TFLite files and the torchvision preset for other float models
	// (as `mnc run` does).
	Preprocess preprocess.Spec
	// PreprocessOver, when set, gives the preprocessing of a .mnc file
	// from the one it records (the command line's flags applied over it);
	// it takes precedence over Preprocess for such files.
	PreprocessOver func(recorded preprocess.Spec) (preprocess.Spec, error)
	// Workers is the number of images decoded and run at once, each on
	// single-threaded replicas of the models (0: GOMAXPROCS). The results
	// do not depend on it.
	Workers int
	// Progress gets a progress bar when it is a terminal; else, or when
	// nil, Run is quiet.
	Progress io.Writer
	// Confusions caps the most confused pairs reported per model (0: 10,
	// negative: none).
	Confusions int
	// Masks, for RunSegmentation, is the directory of the photos' masks
	// (see segment.Pairs); MaskMap changes their values as they are read
	// (nil: as they are).
	Masks   string
	MaskMap *segment.Remap
	// Boxes, for RunDetection, is the directory of the photos' box files
	// (see BoxFile); MinScore is the score from which a model's boxes are
	// the ground truth of its agreement with the next models.
	Boxes    string
	MinScore float64
}

// model is one opened model and how to feed it.
type model struct {
	name, path string
	kind       string
	spec       preprocess.Spec
	specIdx    int // index of the first model with the same spec
	labels     []string
	main       classify.Model
	replicas   []classify.Model
}

func (m *model) close() {
	for _, r := range m.replicas {
		if c, ok := r.(io.Closer); ok {
			c.Close()
		}
	}
	if c, ok := m.main.(io.Closer); ok {
		c.Close()
	}
}

// Run evaluates every model on the labelled images and reports their
// accuracies, agreement, per-class accuracy and confusions.
func Run(o Options) (*Report, error) {
	if len(o.Models) == 0 {
		return nil, errors.New("eval: no models")
	}
	if o.Workers < 0 {
		return nil, fmt.Errorf("eval: negative worker count %d", o.Workers)
	}
	workers := o.Workers
	if workers == 0 {
		workers = goruntime.GOMAXPROCS(0)
	}
	switch {
	case o.Confusions == 0:
		o.Confusions = 10
	case o.Confusions < 0:
		o.Confusions = 0
	}
	models, err := openModels(o, workers)
	defer func() {
		for _, m := range models {
			m.close()
		}
	}()
	if err != nil {
		return nil, err
	}
	for _, m := range models {
		if seg, _ := segment.Is(m.main); seg {
			return nil, fmt.Errorf("eval: %s is a segmentation model (output %v): give the masks of the photos with --masks DIR", m.path, classify.Output(m.main).Type.Shape)
		}
	}
	labels, err := pickLabels(o.Labels, models)
	if err != nil {
		return nil, err
	}
	known := 0 // the models' class count, if known before running them
	for _, m := range models {
		k := m.main.Classes()
		if k <= 0 {
			continue
		}
		if labels != nil && k != len(labels) {
			return nil, fmt.Errorf("eval: model %s has %d classes but there are %d labels", m.path, k, len(labels))
		}
		if known != 0 && k != known {
			return nil, fmt.Errorf("eval: model %s has %d classes but %s has %d", m.path, k, models[0].path, known)
		}
		known = k
	}
	ds, err := LoadDataset(o.Images, labels, known)
	if err != nil {
		return nil, err
	}
	workers = min(workers, len(ds.Samples))
	preds, classes, err := predict(models, ds.Samples, workers, o.Progress)
	if err != nil {
		return nil, err
	}
	for mi, m := range models {
		if len(labels) > 0 && classes[mi] != len(labels) {
			return nil, fmt.Errorf("eval: model %s has %d classes but there are %d labels", m.path, classes[mi], len(labels))
		}
		if classes[mi] != classes[0] {
			return nil, fmt.Errorf("eval: model %s has %d classes but %s has %d", m.path, classes[mi], models[0].path, classes[0])
		}
	}
	for _, s := range ds.Samples {
		if s.Label >= classes[0] {
			return nil, fmt.Errorf("eval: %s: class index %d out of range: the models have %d classes", s.Path, s.Label, classes[0])
		}
	}
	return newReport(ds, labels, models, preds, o.Confusions), nil
}

// openModels opens the models, each with its replicas and preprocessing.
// On error the models opened so far are returned too, to be closed.
func openModels(o Options, workers int) ([]*model, error) {
	var models []*model
	names := map[string]int{}
	for _, p := range o.Models {
		names[filepath.Base(p)]++
	}
	for _, p := range o.Models {
		m, rec, err := classify.OpenWith(p, o.Frontend, runtime.Options{Kernels: o.Kernels, Threads: 1})
		if err != nil {
			return models, err
		}
		mm := &model{name: filepath.Base(p), path: p, kind: rec.Kind, labels: rec.Labels, main: m}
		if names[mm.name] > 1 {
			mm.name = p
		}
		models = append(models, mm)
		h, w, err := classify.InputSize(m)
		if err != nil {
			return models, fmt.Errorf("eval: %s: %w", p, err)
		}
		switch {
		case o.PreprocessOver != nil && rec.Spec != nil:
			mm.spec, err = o.PreprocessOver(*rec.Spec)
		case o.Preprocess.Preset != "":
			mm.spec, err = o.Preprocess.AtSize(h, w)
		case rec.Spec != nil:
			mm.spec = *rec.Spec
		case rec.Default != nil:
			mm.spec = *rec.Default
		default:
			mm.spec, err = preprocess.Default(preprocess.Torchvision, h, w)
		}
		if err != nil {
			return models, err
		}
		mm.specIdx = len(models) - 1
		for i, prev := range models[:len(models)-1] {
			if prev.spec == mm.spec {
				mm.specIdx = i
				break
			}
		}
		if mm.replicas, err = classify.Replicas(m, workers); err != nil {
			return models, fmt.Errorf("eval: %s: %w", p, err)
		}
	}
	return models, nil
}

// pickLabels returns the given labels, else those the models record,
// which must agree.
func pickLabels(given []string, models []*model) ([]string, error) {
	if given != nil {
		return given, nil
	}
	var labels []string
	var from string
	for _, m := range models {
		if m.labels == nil {
			continue
		}
		if labels == nil {
			labels, from = m.labels, m.path
		} else if !slices.Equal(labels, m.labels) {
			return nil, fmt.Errorf("eval: %s and %s record different class names; give --labels FILE", from, m.path)
		}
	}
	return labels, nil
}

// predict runs every model on every sample, workers images at a time, and
// returns each image's top-5 classes per model ([image][model]) and each
// model's class count.
func predict(models []*model, samples []Sample, workers int, prog io.Writer) ([][][]int, []int, error) {
	n := len(samples)
	preds := make([][][]int, n)
	counts := make([][]int, n) // [image][model] classes
	err := forEachImage(n, workers, len(models), prog, func(w int, bufs []*ir.Tensor, i int) (err error) {
		preds[i], counts[i], err = runOne(models, w, bufs, samples[i].Path)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	classes := make([]int, len(models))
	for mi := range models {
		classes[mi] = counts[0][mi]
		for i := range n {
			if counts[i][mi] != classes[mi] {
				return nil, nil, fmt.Errorf("eval: model %s gave %d classes for %s but %d for %s", models[mi].path, counts[i][mi], samples[i].Path, classes[mi], samples[0].Path)
			}
		}
	}
	return preds, classes, nil
}

// runOne decodes one image and runs every model on it with worker w's
// replicas; bufs holds the worker's input tensors (one per distinct
// preprocessing).
func runOne(models []*model, w int, bufs []*ir.Tensor, path string) (top [][]int, classes []int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("eval: %s: panic: %v", path, r)
		}
	}()
	img, err := preprocess.LoadImage(path)
	if err != nil {
		return nil, nil, fmt.Errorf("eval: %w", err)
	}
	top, classes = make([][]int, len(models)), make([]int, len(models))
	done := make([]bool, len(models))
	for mi, m := range models {
		k := m.specIdx
		if !done[k] {
			if bufs[k] == nil {
				bufs[k] = ir.NewFloat32(ir.Shape{1, 3, m.spec.Height, m.spec.Width}, nil)
			}
			if err := m.spec.Tensor(img, bufs[k].F32); err != nil {
				return nil, nil, fmt.Errorf("eval: preprocess %s: %w", path, err)
			}
			done[k] = true
		}
		out, err := m.replicas[w].Run(bufs[k])
		if err != nil {
			return nil, nil, fmt.Errorf("eval: run %s on %s: %w", m.path, path, err)
		}
		classes[mi] = len(out.F32)
		for _, c := range runtime.TopK(out.F32, 5, nil) {
			top[mi] = append(top[mi], c.Index)
		}
	}
	return top, classes, nil
}
