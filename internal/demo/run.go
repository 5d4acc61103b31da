package demo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/internal/eval"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/passes"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
)

// Seeds of the demo's image sets; the training script used others, so the
// test images are new to the model.
const (
	CalibSeed uint64 = 7001
	TestSeed  uint64 = 9001
)

// RunOptions configures Run.
type RunOptions struct {
	CalibImages int    // calibration images to generate (0: 64)
	TestImages  int    // test images to generate (0: 500)
	Dir         string // where to write images and models ("": a temporary directory, removed after)
	Producer    string // recorded in the model files
	Out         io.Writer
	Progress    io.Writer // calibration progress (a bar on a terminal), or nil
}

// ModelResult is how one compiled model did on the test images.
type ModelResult struct {
	Name      string
	Path      string
	Bytes     int
	Correct   int
	LatencyMS float64 // median of batch-1 runs over the first test images (up to latencyImages), one thread
	Kernels   string  // the runtime's kernel variant
}

// Result is what Run measured.
type Result struct {
	Images       int
	Float, Int8  ModelResult
	Agree        int // test images where int8 and float predict the same class
	CalibImages  int
	CalibElapsed time.Duration
	// Eval is the report of `mnc eval` on the two model files and the
	// test images, where the accuracies and the agreement come from.
	Eval *eval.Report
}

// latencyImages bounds the test images timed for the latency column.
const latencyImages = 200

// Run is `mnc demo`: it generates calibration and test images, compiles the
// embedded float model to a float32 and an int8 .mnc file (the int8 one
// calibrated on the generated images), runs both with the runtime on the
// test images, and prints accuracy, agreement, sizes and latency.
func Run(o RunOptions) (*Result, error) {
	if o.CalibImages == 0 {
		o.CalibImages = 64
	}
	if o.TestImages == 0 {
		o.TestImages = 500
	}
	if o.CalibImages < 0 || o.TestImages < 0 {
		return nil, errors.New("demo: image counts must be positive")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	dir := o.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "mnc-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg := ModelConfig
	spec, err := cfg.Preprocess()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "mnc demo: %s width %g at %dx%d, %d classes of generated shapes and textures\n",
		cfg.Net.Arch, cfg.Net.Width, cfg.Net.Resolution, cfg.Net.Resolution, len(Classes))

	calibDir := filepath.Join(dir, "calib")
	if err := WriteDataset(calibDir, o.CalibImages, CalibSeed, cfg.ImageSize); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "  wrote %d calibration images to %s\n", o.CalibImages, calibDir)

	// Float32 model: the pass pipeline's float graph.
	f, err := Graph()
	if err != nil {
		return nil, err
	}
	res := &Result{Images: o.TestImages}
	res.Float.Name, res.Float.Path = "float32", filepath.Join(dir, "demo_float32.mnc")
	base := compile.Options{Preprocess: spec, Producer: o.Producer, Labels: Classes}
	fo := base
	fo.Graph, fo.Quant, fo.Output = f, "float32", res.Float.Path
	if err := compileTo(fo, &res.Float); err != nil {
		return nil, err
	}

	// Int8 model: calibrated on the generated images.
	g, err := Graph()
	if err != nil {
		return nil, err
	}
	res.Int8.Name, res.Int8.Path = "int8", filepath.Join(dir, "demo_int8.mnc")
	qo := base
	qo.Graph, qo.Quant, qo.Calib, qo.Output = g, "int8", calibDir, res.Int8.Path
	qo.Passes = passes.Options{Check: true}
	qo.QuantOptions = quant.Options{Progress: o.Progress, ReportImages: 8}
	qo.AfterQuant = func(rep *quant.Report) error {
		res.CalibImages, res.CalibElapsed = rep.CalibImages, rep.CalibTime
		_, err := fmt.Fprintf(o.Out, "  calibrated on %d images in %v (%s)\n", rep.CalibImages, rep.CalibTime.Round(time.Millisecond), rep.Method)
		return err
	}
	if err := compileTo(qo, &res.Int8); err != nil {
		return nil, err
	}

	// Test images, new to the model, in ImageFolder layout: the accuracy
	// is what `mnc eval` reports on them.
	testDir := filepath.Join(dir, "test")
	if err := WriteImageFolder(testDir, o.TestImages, TestSeed, cfg.ImageSize); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "  wrote %d test images to %s\n", o.TestImages, testDir)
	rep, err := eval.Run(eval.Options{Models: []string{res.Float.Path, res.Int8.Path}, Images: testDir, Progress: o.Progress})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	res.Eval = rep
	res.Float.Correct, res.Int8.Correct = rep.Models[0].Top1Correct, rep.Models[1].Top1Correct
	res.Agree = rep.Agreement[0].Top1Agree

	x, _, err := Batch(0, min(o.TestImages, latencyImages), TestSeed)
	if err != nil {
		return nil, err
	}
	for _, m := range []*ModelResult{&res.Float, &res.Int8} {
		if err := timeModel(m, x); err != nil {
			return nil, err
		}
	}
	res.print(o.Out)
	if o.Dir != "" {
		fmt.Fprintf(o.Out, "  per class and confusions: mnc eval %s %s --images %s\n", res.Float.Path, res.Int8.Path, testDir)
	}
	return res, nil
}

// compileTo compiles as opts say (the .mnc file at opts.Output) and
// records the file's size.
func compileTo(opts compile.Options, m *ModelResult) error {
	r, err := compile.Run(opts)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	m.Bytes = int(r.Model.FileBytes)
	return nil
}

// timeModel runs the model file at m.Path on every input of x (batch 1,
// one thread), recording the median latency and the kernel variant.
func timeModel(m *ModelResult, x *ir.Tensor) error {
	model, err := runtime.Open(m.Path)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer model.Close()
	m.Kernels = model.Info().Kernels
	it, err := model.NewInterpreterThreads(1) // the latency column is one thread's
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	n := x.Shape[0]
	per := x.Shape.NumElements() / max(n, 1)
	shape := []int{1, x.Shape[1], x.Shape[2], x.Shape[3]}
	times := make([]time.Duration, n)
	for i := range n {
		t0 := time.Now()
		_, err := it.Run(runtime.Tensor{Shape: shape, Data: x.F32[i*per : (i+1)*per]})
		times[i] = time.Since(t0)
		if err != nil {
			return fmt.Errorf("demo: run %s: %w", m.Name, err)
		}
	}
	if n > 0 {
		slices.Sort(times)
		m.LatencyMS = float64(times[n/2].Microseconds()) / 1000
	}
	return nil
}

func (r *Result) print(w io.Writer) {
	pct := func(k int) float64 { return 100 * float64(k) / float64(max(r.Images, 1)) }
	fmt.Fprintf(w, "\n  %d test images (seed %d, never seen in training or calibration):\n", r.Images, TestSeed)
	fmt.Fprintf(w, "  %-8s %9s %12s %13s\n", "model", "accuracy", "file size", "latency")
	for _, m := range []ModelResult{r.Float, r.Int8} {
		fmt.Fprintf(w, "  %-8s %8.1f%% %9.1f KiB %10.3f ms\n", m.Name, pct(m.Correct), float64(m.Bytes)/1024, m.LatencyMS)
	}
	fmt.Fprintf(w, "  int8 agrees with float32 on %d/%d images (%.1f%%); int8 file %.2fx smaller\n",
		r.Agree, r.Images, pct(r.Agree), float64(r.Float.Bytes)/float64(max(r.Int8.Bytes, 1)))
	fmt.Fprintf(w, "  (latency: median of batch-1 runs, one thread, on the %s kernels)\n", r.Int8.Kernels)
}
