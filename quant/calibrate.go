package quant

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/mncdev/mnc/internal/progress"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// Options configures calibration, quantization and the report.
type Options struct {
	// Method derives activation ranges from the statistics: MinMax,
	// Percentile, Entropy, MSE or Auto ("" means DefaultMethod).
	Method string
	// Percentile is the percentile of Percentile (0 means 99.99).
	Percentile float64
	// Equalize applies cross-layer equalization to the float graph before
	// calibration (Nagel et al. 2019).
	Equalize bool
	// NoBiasCorrect turns off bias correction: by default the int32 bias
	// of every convolution and Gemm is corrected for the expected error of
	// its quantized weights, with input means measured during calibration
	// (Nagel et al. 2019).
	NoBiasCorrect bool
	// ActBiasCorrect adds empirical bias correction of the activations'
	// error after quantization: the biases of the convolutions with at
	// least 14x14 output positions are corrected, layer by layer, for the
	// mean error of their int8 outputs on the calibration images (off by
	// default; see the package documentation for its measured effect).
	ActBiasCorrect bool
	// Images caps the number of calibration images (0: all).
	Images int
	// SkipBad skips unreadable images with a warning instead of failing.
	SkipBad bool
	// Preprocess turns images into inputs; its size must be the model's
	// input size. A zero Spec means the torchvision preset at that size,
	// and a Spec with only Preset set that preset's defaults at that size.
	Preprocess preprocess.Spec
	// Workers bounds the goroutines decoding images and running each op
	// (0: runtime.GOMAXPROCS(0)).
	Workers int
	// Progress receives a progress bar when it is a terminal; otherwise,
	// or when nil, calibration is quiet.
	Progress io.Writer
	// Warn receives warnings (skipped images); nil discards them.
	Warn io.Writer
	// EvalDir, when set, makes Compile also report on these held-out
	// images.
	EvalDir string
	// ReportImages caps the calibration images the report runs through
	// both models for per-layer SQNR (0: all of them).
	ReportImages int
	// Histograms makes calibration keep every tensor's histogram even for
	// MinMax, which needs none (the other methods do), so that ranges of
	// every method can be derived from one calibration (Stats.Range).
	Histograms bool
	// KeepFloat names nodes of the prepared float graph (QuantizedOps)
	// that stay float32 in the quantized graph (mixed.go).
	KeepFloat []string
	// FloatWeights is how the weights of convolutions, Gemms and
	// squeeze-excite units computed in float32 (KeepFloat, the accuracy
	// targets) are stored: FloatWeightsInt8 (the codes the int8 layer
	// would have, dequantized at load: the file does not grow) or
	// FloatWeightsFloat32 (the float weights: the layer is the float
	// model's); "" means FloatWeightsInt8.
	FloatWeights string
	// Sensitivity runs the sensitivity analysis (Analyze, both ways) on
	// SensitivityImages calibration images (0: DefaultSensitivityImages)
	// and puts it in the report.
	Sensitivity       bool
	SensitivityImages int
	// TargetSQNR (dB, 0: none) and MaxAgreementLoss (a fraction of the
	// images, nil: none) are accuracy targets: ops are kept in float32,
	// most sensitive first, until the median logits SQNR and the top-1
	// agreement meet them (target.go).
	TargetSQNR       float64
	MaxAgreementLoss *float64
	// RangesFromModel quantizes every activation whose range the model
	// file states (ir.Value.FileRange: a QDQ ONNX pair's, a quantized
	// TFLite tensor's) by that range instead of a calibrated one, so that
	// a model made with quantization-aware training keeps what training
	// learned; the others take the calibrated range of Method. Compile
	// without calibration images needs it and a stated range for every
	// activation (model.go).
	RangesFromModel bool
	// Rounding is how weight codes are rounded: RoundNearest, RoundOutput
	// (by each layer's output error on the calibration images'
	// activations) or RoundAuto (rounding.go); "" means DefaultRounding.
	// Calibration measures the moments RoundOutput needs.
	Rounding string
}

// DefaultRounding is the weight rounding of Options.Rounding "".
const DefaultRounding = RoundAuto

// The values of Options.FloatWeights.
const (
	FloatWeightsInt8    = "int8"
	FloatWeightsFloat32 = "float32"
)

// needsHistograms reports whether calibration must keep histograms.
func (o Options) needsHistograms() bool { return o.Histograms || o.Method != MinMax }

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return goruntime.GOMAXPROCS(0)
}

// normalize fills defaults and checks the method.
func (o Options) normalize() (Options, error) {
	if o.Method == "" {
		o.Method = DefaultMethod
	}
	m, pct, err := ParseMethod(o.Method)
	if err != nil {
		return o, err
	}
	o.Method = m
	if o.Percentile == 0 {
		o.Percentile = pct
	}
	if !(o.Percentile > 50 && o.Percentile <= 100) {
		return o, fmt.Errorf("--percentile %g: want a percentile in (50, 100]", o.Percentile)
	}
	if o.Images < 0 || o.Workers < 0 || o.ReportImages < 0 {
		return o, fmt.Errorf("negative counts: --calib-images %d, --report-images %d, --threads %d", o.Images, o.ReportImages, o.Workers)
	}
	switch o.FloatWeights {
	case "":
		o.FloatWeights = FloatWeightsInt8
	case FloatWeightsInt8, FloatWeightsFloat32:
	default:
		return o, fmt.Errorf("--float-weights %q: want int8 or float32", o.FloatWeights)
	}
	if o.SensitivityImages < 0 {
		return o, fmt.Errorf("--sensitivity-images %d: want a positive count (0: %d)", o.SensitivityImages, DefaultSensitivityImages)
	}
	if o.SensitivityImages == 0 {
		o.SensitivityImages = DefaultSensitivityImages
	}
	if !(o.TargetSQNR >= 0 && o.TargetSQNR <= 200) {
		return o, fmt.Errorf("--target-sqnr %g: want dB in (0, 200]", o.TargetSQNR)
	}
	if err := CheckRounding(o.Rounding); err != nil {
		return o, err
	}
	if o.Rounding == "" {
		o.Rounding = DefaultRounding
	}
	if l := o.MaxAgreementLoss; l != nil && !(*l >= 0 && *l <= 1) {
		return o, fmt.Errorf("--max-agreement-loss %g: want a fraction of the images in [0, 1]", *l)
	}
	return o, nil
}

// imageExts are the file extensions read from a calibration directory.
var imageExts = []string{".jpg", ".jpeg", ".png", ".bmp", ".webp"}

// ListImages returns the image files under dir (recursively, by extension,
// case-insensitive), sorted by path.
func ListImages(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("image directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("image directory %s is not a directory", dir)
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
			if slices.Contains(imageExts, strings.ToLower(filepath.Ext(path))) {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list images in %s: %w", dir, err)
	}
	sort := slices.Clone(files)
	slices.Sort(sort)
	return sort, nil
}

// inputSize returns the height and width of g's single NCHW image input.
func inputSize(g *ir.Graph) (h, w int, err error) {
	if len(g.Inputs) != 1 {
		return 0, 0, fmt.Errorf("model has %d inputs, want one image input", len(g.Inputs))
	}
	s := g.Inputs[0].Type.Shape
	if len(s) != 4 || s[1] != 3 || s[2] < 1 || s[3] < 1 || g.Inputs[0].Type.DType != ir.Float32 {
		return 0, 0, fmt.Errorf("model input %s is %v, want f32[N,3,H,W]", g.Inputs[0], g.Inputs[0].Type)
	}
	return s[2], s[3], nil
}

// specFor returns opts.Preprocess checked against g's input size, or the
// torchvision default when it is zero.
func specFor(g *ir.Graph, spec preprocess.Spec) (preprocess.Spec, error) {
	h, w, err := inputSize(g)
	if err != nil {
		return spec, err
	}
	if spec.Preset == "" {
		return preprocess.Default(preprocess.Torchvision, h, w)
	}
	if spec.Height == 0 && spec.Width == 0 {
		return spec.AtSize(h, w) // a preset (and its statistics) alone: at the model's size
	}
	if spec.Height != h || spec.Width != w {
		return spec, fmt.Errorf("preprocessing produces %dx%d images but the model input is %dx%d", spec.Height, spec.Width, h, w)
	}
	return spec, nil
}

// LoadImages decodes and preprocesses files in parallel (order kept). A file
// that fails is an error naming it, or, with skipBad, a warning on warn and
// left out. progress (may be nil) is called once per file.
func LoadImages(files []string, spec preprocess.Spec, workers int, skipBad bool, warn io.Writer, progress func()) ([]*ir.Tensor, []string, []string, error) {
	type result struct {
		t   *ir.Tensor
		err error
	}
	res := make([]result, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, min(workers, len(files))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := ir.NewFloat32(ir.Shape{1, 3, spec.Height, spec.Width}, nil)
				err := protectErr(func() error { return spec.File(files[i], t.F32) })
				res[i] = result{t, err}
				if progress != nil {
					progress()
				}
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	var out []*ir.Tensor
	var used, skipped []string
	for i, r := range res {
		if r.err != nil {
			if !skipBad {
				return nil, nil, nil, fmt.Errorf("image %s: %w (use --skip-bad-images to skip it)", files[i], r.err)
			}
			skipped = append(skipped, fmt.Sprintf("%s: %v", files[i], r.err))
			if warn != nil {
				fmt.Fprintf(warn, "warning: skipping image %s: %v\n", files[i], r.err)
			}
			continue
		}
		out = append(out, r.t)
		used = append(used, files[i])
	}
	return out, used, skipped, nil
}

// protectErr turns a panic of f into an error.
func protectErr(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// newBar returns a progress bar on w if w is a terminal, else nil.
func newBar(w io.Writer, n int, what string) *progressbar.ProgressBar {
	return progress.Bar(w, n, what)
}

// Calibrate runs the float graph g (the output of the passes pipeline) over
// the images under imageDir and records the statistics of every value.
// Images are decoded and preprocessed in parallel with opts.Preprocess
// while the interpreter runs them one by one.
func Calibrate(g *ir.Graph, imageDir string, opts Options) (*Stats, error) {
	start := time.Now()
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	spec, err := specFor(g, o.Preprocess)
	if err != nil {
		return nil, err
	}
	files, err := ListImages(imageDir)
	if err != nil {
		return nil, err
	}
	if o.Images > 0 && len(files) > o.Images {
		files = files[:o.Images]
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("calibrate: no JPEG, PNG, BMP or WebP images under %s", imageDir)
	}
	bar := newBar(o.Progress, 2*len(files), "calibrating")
	tick := func() {
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	// Decode in the background while the model runs.
	type loaded struct {
		t    *ir.Tensor
		file string
		sum  string // SHA-256 of the file, hex
		err  error
	}
	ch := make([]chan loaded, len(files))
	for i := range ch {
		ch[i] = make(chan loaded, 1)
	}
	sem := make(chan struct{}, 2*o.workers()+2) // bounds the images decoded ahead
	done := make(chan struct{})
	defer close(done)
	go func() {
		var wg sync.WaitGroup
		work := make(chan int)
		for range min(o.workers(), len(files)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					t := ir.NewFloat32(ir.Shape{1, 3, spec.Height, spec.Width}, nil)
					err := protectErr(func() error { return spec.File(files[i], t.F32) })
					var sum string
					if err == nil {
						sum, err = fileSHA256(files[i])
					}
					tick()
					ch[i] <- loaded{t, files[i], sum, err}
				}
			}()
		}
	feed:
		for i := range files {
			select {
			case sem <- struct{}{}:
				work <- i
			case <-done:
				break feed
			}
		}
		close(work)
		wg.Wait()
	}()
	sums := map[string]string{}
	st, err := calibrateStream(g, len(files), func(i int) (*ir.Tensor, string, error) {
		var l loaded
		select {
		case l = <-ch[i]:
		case <-done: // calibration failed: stop waiting for images
			return nil, files[i], errors.New("calibration stopped")
		}
		<-sem
		sums[l.file] = l.sum
		return l.t, l.file, l.err
	}, o, tick)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return nil, err // the deferred close(done) stops the loader
	}
	st.ImageList, st.ImageListSHA256 = imageList(imageDir, st.Files, sums)
	st.Preprocess = spec
	st.Elapsed = time.Since(start)
	return st, nil
}

// imageList returns the paths of the used images relative to the
// calibration directory (slash-separated), and the SHA-256 of the list:
// for each image in order, "relpath\x00sha256hex\n" (the hash recorded in
// model files, see runtime.Calibration).
func imageList(dir string, files []string, sums map[string]string) ([]string, string) {
	h := sha256.New()
	list := make([]string, len(files))
	for i, f := range files {
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			rel = f
		}
		list[i] = filepath.ToSlash(rel)
		fmt.Fprintf(h, "%s\x00%s\n", list[i], sums[f])
	}
	return list, hex.EncodeToString(h.Sum(nil))
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CalibrateTensors is Calibrate over preprocessed inputs (each [n,3,H,W],
// n >= 1), e.g. the golden inputs of a test.
func CalibrateTensors(g *ir.Graph, inputs []*ir.Tensor, opts Options) (*Stats, error) {
	start := time.Now()
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if len(inputs) == 0 {
		return nil, errors.New("calibrate: no inputs")
	}
	st, err := calibrateStream(g, len(inputs), func(i int) (*ir.Tensor, string, error) {
		return inputs[i], fmt.Sprintf("input %d", i), nil
	}, o, nil)
	if err != nil {
		return nil, err
	}
	st.Preprocess = o.Preprocess
	st.Elapsed = time.Since(start)
	return st, nil
}

// maxKeptInputs bounds the memory of the calibration inputs kept for the
// report (in float32 elements).
const maxKeptInputs = 64 << 20

// calibrateStream runs the calibration view over n inputs obtained in order
// from get. Inputs run in parallel, each on one of o.workers() single-
// threaded interpreters with a collector of its own; the results are taken
// in input order (errors, skipped images, the channel sums: see collector),
// so the statistics are the same for any number of workers.
func calibrateStream(g *ir.Graph, n int, get func(i int) (*ir.Tensor, string, error), o Options, tick func()) (*Stats, error) {
	view, err := newCalibView(g)
	if err != nil {
		return nil, err
	}
	var chanAx map[string]int
	if !o.NoBiasCorrect {
		chanAx = view.chanAx
	}
	gramOf := view.gramsFor(o.Rounding)
	nw := max(1, min(o.workers(), n))
	exs, err := compileGraphs(view.g, nw)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	defer func() {
		for _, ex := range exs {
			ex.close()
		}
	}()
	type job struct {
		i      int
		t      *ir.Tensor
		name   string
		err    error // from get: a bad image
		runErr error
		sums   chanSums
		grams  map[string]*Gram
		out    *ir.Tensor // the view's output
	}
	jobs, results := make(chan *job), make(chan *job, nw)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // get runs in input order
		defer close(jobs)
		for i := range n {
			j := &job{i: i}
			j.t, j.name, j.err = get(i)
			select {
			case jobs <- j:
			case <-stop:
				return
			}
		}
	}()
	cols := make([]*collector, nw)
	for w := range nw {
		cols[w] = newCollector(chanAx, o.needsHistograms())
		go func() {
			col, ex := cols[w], exs[w]
			var sums chanSums
			var grams map[string]*Gram
			observe := func(ob *runtime.Observation) {
				if ob.F32 != nil {
					t := float32View(ob)
					col.observe(ob.Name, t, sums)
					for _, sp := range gramOf[ob.Name] {
						addGram(grams, sp, t, gramBudgetFor(n), n)
					}
				}
			}
			for j := range jobs {
				if j.err == nil {
					sums, grams = chanSums{}, nil
					if gramOf != nil {
						grams = map[string]*Gram{}
					}
					var err error
					if j.out, err = ex.run(j.t, observe); err != nil {
						j.runErr = fmt.Errorf("calibrate on %s: %w", j.name, err)
					}
					j.sums, j.grams = sums, grams
				}
				select {
				case results <- j:
				case <-stop:
					return
				}
			}
		}()
	}
	merged := newCollector(chanAx, o.needsHistograms())
	st := &Stats{Workers: nw, Histograms: o.needsHistograms(), view: exs[0].m, viewOf: g}
	pending := map[int]*job{}
	kept := 0
	for next := 0; next < n; {
		j := <-results
		pending[j.i] = j
		for pending[next] != nil {
			j := pending[next]
			delete(pending, next)
			next++
			switch {
			case j.runErr != nil:
				return nil, j.runErr
			case j.err != nil:
				if !o.SkipBad {
					return nil, fmt.Errorf("calibration image %s: %w (use --skip-bad-images to skip it)", j.name, j.err)
				}
				st.Skipped = append(st.Skipped, fmt.Sprintf("%s: %v", j.name, j.err))
				if o.Warn != nil {
					fmt.Fprintf(o.Warn, "warning: skipping calibration image %s: %v\n", j.name, j.err)
				}
			default:
				merged.addSums(j.sums)
				if gramOf != nil {
					if st.Grams == nil {
						st.Grams = map[string]*Gram{}
					}
					addGrams(st.Grams, j.grams)
				}
				st.Images += max(1, j.t.Shape[0])
				st.Files = append(st.Files, j.name)
				if kept+len(j.t.F32) <= maxKeptInputs {
					st.inputs = append(st.inputs, j.t)
					st.floatOut = append(st.floatOut, j.out)
					kept += len(j.t.F32)
				}
			}
			if tick != nil {
				tick()
			}
		}
	}
	if st.Images == 0 {
		return nil, errors.New("calibrate: no usable images")
	}
	for _, c := range cols {
		merged.merge(c)
	}
	st.Tensors = merged.tensors
	return st, nil
}
