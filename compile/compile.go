package compile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/classify"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/passes"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/detect"
	"github.com/mncdev/mnc/runtime/preprocess"
	"github.com/mncdev/mnc/targets"
)

// Options configures Run.
type Options struct {
	// Model is the float model file (see frontend.Load, with Frontend).
	// Without it Run compiles Graph, or else the built-in architecture of
	// Frontend.Arch or Frontend.ArchSpec with zero weights.
	Model    string
	Frontend frontend.Options
	Graph    *ir.Graph // modified in place

	// Passes configures the passes pipeline (checks, dumps, disabled
	// passes).
	Passes passes.Options

	// Quant is "int8" (calibrate on the images of Calib and quantize) or
	// "float32"; "" means float32 with Output set. Without Output and int8
	// the compile stops after the passes pipeline.
	Quant string
	Calib string
	// QuantOptions configures calibration, quantization and the quality
	// report; its Preprocess is replaced by Preprocess.
	QuantOptions quant.Options
	// Preprocess is the image preprocessing: for int8 the one calibration
	// uses (see quant.Options.Preprocess), recorded in the file; for a
	// float32 file of an image model the one recorded, a Spec with only a
	// Preset meaning that preset's defaults at the model's input size.
	Preprocess preprocess.Spec
	// ReportJSON, when set, is a file to write the quality report to as
	// JSON (int8).
	ReportJSON string
	// ReportHTML, when set, is a file to write the quality report to as
	// one self-contained HTML page (int8): written atomically once the
	// report is made (after the model file; also when a quality gate is
	// missed, to look at why). It makes calibration
	// keep its histograms (quant.Options.Histograms), which changes no
	// range and no byte of the model file.
	ReportHTML string
	// PassReportJSON says that the caller prints the pass report as JSON,
	// which an int8 compile refuses (its report is the quality report).
	PassReportJSON bool

	// Output is the .mnc file to write ("": none).
	Output string
	// LabelsFile names a file of class names, one per line (line i =
	// class i), to store in the model file (it needs Output); Labels gives
	// them directly.
	LabelsFile string
	Labels     []string
	// DetectorPreprocess, when set, is called when the model is a detector
	// and Preprocess, the torchvision preset unchanged, is replaced by
	// torchvision's detection transform (preprocess.Detection).
	DetectorPreprocess func(preprocess.Spec)
	// Target and Producer are those of codegen.Options.
	Target   string
	Producer string

	// MinSQNR and MinAgreement are quality gates of an int8 compile: the
	// median per-image logits SQNR (dB) and the top-1 agreement (a
	// fraction) the int8 model must reach on the report's images (and on
	// the Eval images when given); 0 means no gate. A model that misses
	// one is not written, and Run returns a *GateError (after AfterQuant
	// has seen the report).
	MinSQNR      float64
	MinAgreement float64

	// AfterPasses, when set, is called with the pass report once the
	// passes pipeline has run, if the compile goes on (to quantization or
	// a file); AfterQuant with the quality report once the model is
	// quantized, before the file is written. An error stops the compile.
	AfterPasses func(*passes.Report) error
	AfterQuant  func(*quant.Report) error
}

// Result is what Run made.
type Result struct {
	Graph  *ir.Graph      // the float graph after the passes pipeline
	Passes *passes.Report // the pass report
	Int8   *ir.Graph      // the quantized graph (int8)
	Quant  *quant.Report  // the quality report (int8)
	// Model describes the file written to Output (nil without Output).
	Model *runtime.Info
}

// Run compiles: load, the passes pipeline, with int8 calibration and
// quantization, and with Output the model file, written atomically.
func Run(o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	g, err := load(o)
	if err != nil {
		return nil, err
	}
	det, err := detection(g)
	if err != nil {
		return nil, err
	}
	if det != nil {
		// A detector's preprocessing is torchvision's detection transform
		// unless the options change the preset's; COCO's 91 classes are
		// named as torchvision names them.
		if o.Preprocess == (preprocess.Spec{}) || o.Preprocess == (preprocess.Spec{Preset: preprocess.Torchvision}) {
			o.Preprocess = preprocess.Detection()
			if o.DetectorPreprocess != nil {
				o.DetectorPreprocess(o.Preprocess)
			}
		}
		if o.Labels == nil && det.Classes == len(detect.COCOCategories()) {
			o.Labels = detect.COCOCategories()
		}
	}
	if o.Labels != nil {
		if err := classify.CheckLabels(o.Labels, classify.OutputClasses(g), o.LabelsFile); err != nil {
			return nil, err
		}
	}
	if o.Quant == "int8" {
		if err := o.rangesFromModel(g); err != nil {
			return nil, err
		}
	}
	res := &Result{Graph: g}
	if res.Passes, err = passes.Run(g, o.Passes); err != nil {
		return nil, err
	}
	if o.Quant != "int8" && o.Output == "" {
		return res, nil
	}
	if o.AfterPasses != nil {
		if err := o.AfterPasses(res.Passes); err != nil {
			return nil, err
		}
	}
	copts := codegen.Options{Target: o.Target, Producer: o.Producer, Labels: o.Labels, Detection: det}
	if o.Quant == "int8" {
		// Before calibration: a misspelt name fails at once.
		if err := quant.CheckKeepFloat(g, o.QuantOptions.KeepFloat); err != nil {
			return nil, fmt.Errorf("--keep-float: %w", err)
		}
		if err := quantize(res, o); err != nil {
			return nil, err
		}
		var page []byte // rendered before the model file is written, written after
		if o.ReportHTML != "" {
			if page, err = res.Quant.HTML(o.Labels); err != nil {
				return nil, err
			}
		}
		gate := o.gates(res.Quant) // a missed gate: the report, not the model
		if o.Output != "" && gate == nil {
			copts.Calibration = res.Quant.Record()
			if res.Model, err = write(o.Output, res.Int8, copts); err != nil {
				return nil, err
			}
		}
		if o.ReportHTML != "" {
			if err := codegen.WriteFile(o.ReportHTML, page); err != nil {
				return nil, fmt.Errorf("write HTML report: %w", err)
			}
		}
		return res, gate
	}
	if s := g.Inputs[0].Type.Shape; len(g.Inputs) == 1 && len(s) == 4 && s[1] == 3 {
		spec := o.Preprocess
		if spec.Height == 0 && spec.Width == 0 {
			if spec, err = spec.AtSize(s[2], s[3]); err != nil {
				return nil, err
			}
		}
		copts.Preprocess = &spec
	}
	res.Model, err = write(o.Output, g, copts)
	return res, err
}

// detection returns the post-processing settings a detector's frontend
// recorded in g.Meta (ir.MetaDetection), nil for another model.
func detection(g *ir.Graph) (*detect.Config, error) {
	js, ok := g.Meta[ir.MetaDetection]
	if !ok {
		return nil, nil
	}
	var d detect.Config
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		return nil, fmt.Errorf("model metadata %q: %w", ir.MetaDetection, err)
	}
	if err := d.Check(len(g.Outputs)); err != nil {
		return nil, err
	}
	return &d, nil
}

// rangesFromModel settles where an int8 compile takes its activation
// ranges: without --calib from the model file (a QDQ ONNX or quantized
// TFLite file states them), which must then state them.
func (o *Options) rangesFromModel(g *ir.Graph) error {
	states := quant.StatesRanges(g)
	switch {
	case o.QuantOptions.RangesFromModel && !states:
		return errors.New("--calib-from-model: the model file states no activation ranges (it is not a QDQ ONNX or quantized TFLite file); calibrate with --calib DIR")
	case o.Calib == "" && !states:
		return errors.New("--quant int8 needs calibration images: --calib DIR (the model file states no activation ranges to use instead)")
	case o.Calib == "":
		o.QuantOptions.RangesFromModel = true
	}
	return nil
}

// load returns the float graph of o.
func load(o Options) (*ir.Graph, error) {
	switch {
	case o.Model != "":
		return frontend.Load(o.Model, o.Frontend)
	case o.Graph != nil:
		return o.Graph, nil
	case o.Frontend.Arch != "" || o.Frontend.ArchSpec != "":
		return frontend.Definition(o.Frontend)
	}
	return nil, errors.New("give a MODEL file, or --arch for a built-in architecture")
}

// check validates the options before any work: their combination, the
// target, the output files (their directories exist and are writable), the
// image folders; it reads the labels and makes Quant explicit ("" stays ""
// only without Output).
func (o *Options) check() error {
	if o.Output != "" || o.Quant != "" {
		if _, err := targets.Lookup(o.Target); err != nil {
			return fmt.Errorf("--target: %w", err)
		}
	}
	if o.Output != "" {
		if err := codegen.CheckOutput(o.Output); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
	}
	if o.ReportHTML != "" {
		if err := codegen.CheckOutput(o.ReportHTML); err != nil {
			return fmt.Errorf("--report-html: %w", err)
		}
	}
	if o.ReportJSON != "" && o.ReportJSON != "-" {
		if err := codegen.CheckOutput(o.ReportJSON); err != nil {
			return fmt.Errorf("--report-json: %w", err)
		}
	}
	if o.MinSQNR < 0 || o.MinAgreement < 0 || o.MinAgreement > 1 {
		return fmt.Errorf("quality gates: --min-sqnr %g must be >= 0 and --min-agreement %g in [0, 1]", o.MinSQNR, o.MinAgreement)
	}
	if q := o.QuantOptions; (len(q.KeepFloat) > 0 || q.Sensitivity || q.TargetSQNR != 0 || q.MaxAgreementLoss != nil) && o.Quant != "int8" {
		return errors.New("--keep-float, --sensitivity, --target-sqnr and --max-agreement-loss are for an int8 compile: add --quant int8")
	}
	switch o.QuantOptions.FloatWeights {
	case "", quant.FloatWeightsInt8, quant.FloatWeightsFloat32:
	default:
		return fmt.Errorf("--float-weights %q: want int8 or float32", o.QuantOptions.FloatWeights)
	}
	if (o.MinSQNR > 0 || o.MinAgreement > 0) && o.Quant != "int8" {
		return errors.New("--min-sqnr and --min-agreement gate an int8 compile: add --quant int8")
	}
	if o.LabelsFile != "" {
		if o.Output == "" {
			return errors.New("--labels is stored in the model file: give -o OUT.mnc")
		}
		names, err := classify.ReadLabels(o.LabelsFile)
		if err != nil {
			return err
		}
		o.Labels = names
	}
	if o.Output != "" && o.Quant == "" {
		o.Quant = "float32"
	}
	switch o.Quant {
	case "", "float32":
		if o.Calib != "" {
			return errors.New("--calib is for --quant int8")
		}
		if o.ReportHTML != "" {
			return errors.New("--report-html is the quality report of --quant int8")
		}
	case "int8":
		if o.Calib == "" && (o.MinSQNR > 0 || o.MinAgreement > 0) && o.QuantOptions.EvalDir == "" {
			return errors.New("--min-sqnr and --min-agreement need images to measure: --calib DIR or --eval DIR")
		}
		if o.PassReportJSON {
			return errors.New("--json is for the pass report; the quality report goes to --report-json FILE")
		}
		if o.QuantOptions.Method != "" {
			if _, _, err := quant.ParseMethod(o.QuantOptions.Method); err != nil {
				return fmt.Errorf("--calib-method: %w", err)
			}
		}
		if err := quant.CheckRounding(o.QuantOptions.Rounding); err != nil {
			return err
		}
		for _, d := range []struct{ flag, dir string }{{"--calib", o.Calib}, {"--eval", o.QuantOptions.EvalDir}} {
			if d.dir == "" {
				continue
			}
			if files, err := quant.ListImages(d.dir); err != nil {
				return fmt.Errorf("%s: %w", d.flag, err)
			} else if len(files) == 0 {
				return fmt.Errorf("%s: no JPEG, PNG, BMP or WebP images under %q", d.flag, d.dir)
			}
		}
	default:
		return fmt.Errorf("--quant %q: want int8 or float32", o.Quant)
	}
	return nil
}

// quantize calibrates and quantizes res.Graph, writes the report's JSON
// when asked, and calls AfterQuant.
func quantize(res *Result, o Options) error {
	qo := o.QuantOptions
	qo.Preprocess = o.Preprocess
	if o.ReportHTML != "" {
		qo.Histograms = true // the page draws them; the ranges stay those of the method
	}
	q, qrep, err := quant.CompilePrepared(res.Graph, o.Calib, qo)
	if err != nil {
		return err
	}
	res.Int8, res.Quant = q, qrep
	if o.ReportJSON != "" {
		data, err := qrep.JSON()
		if err != nil {
			return err
		}
		data = append(data, '\n')
		if o.ReportJSON == "-" {
			_, err = os.Stdout.Write(data)
		} else {
			err = codegen.WriteFile(o.ReportJSON, data)
		}
		if err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	if o.AfterQuant != nil {
		return o.AfterQuant(qrep)
	}
	return nil
}

// GateError is a quality gate the int8 model missed (see
// Options.MinSQNR); the model was not written.
type GateError struct {
	Missed []string // one line per missed gate, with the figures
}

func (e *GateError) Error() string {
	return "quality gate missed, no model written: " + strings.Join(e.Missed, "; ")
}

// gates checks the quality gates on the report's figures.
func (o Options) gates(r *quant.Report) error {
	var missed []string
	check := func(set string, m *quant.Metrics) {
		if m == nil {
			return
		}
		if med := m.MedianSQNR; o.MinSQNR > 0 && med < o.MinSQNR {
			missed = append(missed, fmt.Sprintf("%s: median logits SQNR %.2f dB < --min-sqnr %g", set, med, o.MinSQNR))
		}
		if a := float64(m.Top1Agree) / float64(max(m.Images, 1)); o.MinAgreement > 0 && a < o.MinAgreement {
			missed = append(missed, fmt.Sprintf("%s: top-1 agreement %d/%d = %.3f < --min-agreement %g", set, m.Top1Agree, m.Images, a, o.MinAgreement))
		}
	}
	check("calibration images", r.Calib)
	check("eval images", r.Eval)
	if missed != nil {
		return &GateError{Missed: missed}
	}
	return nil
}

// write builds the model file of g and writes it atomically to path.
func write(path string, g *ir.Graph, opts codegen.Options) (*runtime.Info, error) {
	blob, err := codegen.Build(g, opts)
	if err != nil {
		return nil, err
	}
	if err := codegen.WriteFile(path, blob); err != nil {
		return nil, err
	}
	m, err := runtime.Load(blob)
	if err != nil {
		return nil, err
	}
	return m.Info(), nil
}
