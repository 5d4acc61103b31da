package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/internal/inspect"
	"github.com/mncdev/mnc/passes"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime/limits"
	"github.com/mncdev/mnc/runtime/preprocess"
)

func newCompileCmd() *cobra.Command {
	var (
		flags      compile.Options
		report     bool
		asJSON     bool
		listPasses bool
		pre        preprocessFlags
		maxLoss    float64
	)
	cmd := &cobra.Command{
		Use:   "compile [MODEL] [-o OUT.mnc]",
		Short: "Compile a float model into a .mnc file: pass pipeline, calibration, int8 quantization",
		Long: `Compile a float model: run the target-independent pass pipeline (canonicalize,
fold BatchNorm, fuse activations, squeeze-excite units, NHWC layout, ...) and,
with --quant int8, calibrate on the images of --calib DIR and quantize to int8
(weights per channel, activations per tensor), then report the quality of the
int8 model against the float one (logits SQNR, top-1 agreement, per-layer SQNR,
worst first). --report-json FILE also writes the report as JSON, --report-html
FILE as one self-contained HTML page (per-layer SQNR bars, float-against-int8
logit scatters, the per-image table, every calibrated range over its histogram;
no scripts, nothing fetched, printable), written once the compile succeeds.

Calibration methods (--calib-method): minmax (default: the range seen),
percentile (--percentile, default 99.99), entropy (KL, TensorRT style), mse,
auto (per tensor, the method whose range minimises the error of the layer
reading it). Bias correction is on unless --no-bias-correct. Float-trained
weights are rounded up or down by each layer's output error on the calibration
images, kept when the int8 logits come out closer to float's than with the
nearest codes (--weight-rounding auto, the default; nearest or output force
one). --act-bias-correct adds empirical correction of the activations' mean
error; --equalize adds cross-layer equalization. Images are preprocessed by --preprocess, which is
recorded in the model so that inference prepares images the same way. Models
trained with other conventions change a preset's steps with --mean, --std,
--scale (x = (pixel/scale - mean)/std), --resize, --crop and --channels;
these are recorded too (a Caffe model: --scale 1 --mean 103.94,116.78,123.68
--std 1,1,1 --channels bgr; TF-slim evaluation: --preprocess tf --crop 0.875).

Pre-quantized models: a QDQ ONNX file (QuantizeLinear/DequantizeLinear pairs,
as ONNX Runtime's quantizer and PyTorch's QAT export write them) states its
activation ranges; without --calib they are used as they are and no image is
needed (no bias correction, no report unless --eval). With --calib,
--calib-from-model still takes every range the file states and calibrates
only the others (and corrects the biases on the images).

The report's headline is per image: the median and worst logits SQNR (and the
pooled one), top-1 agreement, cosine. Quality gates make a compile fail
without writing a model: --min-sqnr DB (median per-image logits SQNR) and
--min-agreement FRACTION (top-1 agreement), checked on the calibration images
the report runs and on the --eval images; a missed gate exits with status 3.

Mixed precision: --sensitivity ranks every quantized op by the model's quality
with only that op int8 (and with only it float), on --sensitivity-images
calibration images; --keep-float NAME,... keeps those ops in float32 inside the
int8 model (dequantized in, quantized out; the same bytes on every CPU; their
weights are the int8 model's codes, dequantized at load, so the file does not
grow: --float-weights float32 keeps the float weights instead);
--target-sqnr DB and --max-agreement-loss FRACTION keep ops float, in the
sensitivity ranking's order, until the median logits SQNR and the top-1 agreement
reach the target on the report's calibration images and the --eval images. The
report lists the kept ops and what they cost in latency and size. For a
segmenter whose output is a class map, SQNR and top-1 read as pixels: DB is
10 log10(pixels / differing pixels) (30 dB: 99.9% of the pixels agree) and
top-1 agreement counts identical maps; the report prints them as such.

-o OUT.mnc writes the model file that mnc run and the runtime execute: int8
with --quant int8, float32 otherwise (to compare on the board). It records the
preprocessing, the class names of --labels FILE, the calibration record and the
producer; weights are packed for --target (see mnc targets) and activation memory is
planned into one arena. The file is written atomically: a failed compile leaves
no file behind.

Without --quant, -o, --dump-after or --report the final graph is printed. --dump-after PASS
(repeatable, or "all") prints the graph after that pass; --report prints each
pass's time and rewrites and a summary (fused activations, squeeze-excite
units, BatchNorms left unfolded), as JSON with --json. --check verifies the
graph after every pass. With no MODEL, --arch compiles a built-in
architecture with zero weights.`,
		Example: `  mnc compile model.onnx --report
  mnc compile model.pth --arch mobilenet_v3_large --dump-after fuse-activations
  mnc compile --arch mobilenet_v2 --dump-after all --check
  mnc compile --list-passes
  mnc compile mobilenet_v2.onnx -o mobilenet_v2.mnc --quant int8 --calib images/ --preprocess tf --labels labels.txt
  mnc compile mobilenet_v2.onnx -o mobilenet_v2.mnc --quant int8 --calib images/ --preprocess tf --min-sqnr 20 --min-agreement 0.9
  mnc compile mobilenet_v2.onnx -o mobilenet_v2.mnc --quant int8 --calib images/ --preprocess tf --sensitivity
  mnc compile mobilenet_v2.onnx -o mobilenet_v2.mnc --quant int8 --calib images/ --preprocess tf --target-sqnr 30
  mnc compile mobilenet_v2.onnx -o mobilenet_v2_f32.mnc --quant float32 --preprocess tf`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if listPasses {
				return passes.WriteTable(out, passes.Pipeline)
			}
			o := flags // a copy: the parsed flags stay as they are
			if cmd.Flags().Changed("max-agreement-loss") {
				o.QuantOptions.MaxAgreementLoss = &maxLoss
			}
			if len(args) == 1 {
				o.Model = args[0]
			}
			if o.Quant == "int8" && o.Calib == "" {
				// Without images the model's own ranges are used: the
				// options of calibration would be silently ignored.
				for _, name := range []string{"calib-method", "percentile", "calib-images", "skip-bad-images", "no-bias-correct", "weight-rounding", "report-images"} {
					if cmd.Flags().Changed(name) {
						return usageError(fmt.Errorf("--%s works on calibration images: give --calib DIR (without it the model file's own ranges are used)", name))
					}
				}
			}
			if asJSON && len(o.Passes.DumpAfter) > 0 {
				return usageError(errors.New("--dump-after prints the graph as text; --json is for --report and the quality report"))
			}
			// --json: the pass report with --report, else an int8
			// compile's quality report; stdout holds only the JSON.
			jsonQuality := asJSON && !report && o.Quant == "int8"
			o.Passes.Dump, o.PassReportJSON, o.Producer = out, asJSON && !jsonQuality, "mnc "+version
			var err error
			if o.Preprocess, err = pre.specFor(cmd, o.Model); err != nil {
				return err
			}
			// An ONNX file says nothing of its preprocessing: say, once the
			// options are checked and the model loaded, which one is assumed.
			warnPreset := !pre.changed(cmd) && strings.EqualFold(filepath.Ext(o.Model), ".onnx")
			o.DetectorPreprocess = func(preprocess.Spec) { warnPreset = false } // a detector's is torchvision's
			o.QuantOptions.Progress, o.QuantOptions.Warn = cmd.ErrOrStderr(), cmd.ErrOrStderr()
			o.AfterPasses = func(rep *passes.Report) error {
				if warnPreset {
					fmt.Fprintf(cmd.ErrOrStderr(), "mnc: warning: no --preprocess given: assuming %s (%s); models converted from TensorFlow want --preprocess tf\n",
						pre.preset, preprocess.Describe(preprocess.Preset(pre.preset)))
				}
				if report {
					return rep.WriteText(out)
				}
				return nil
			}
			o.AfterQuant = func(rep *quant.Report) error {
				if jsonQuality {
					js, err := rep.JSON()
					if err == nil {
						_, err = fmt.Fprintf(out, "%s\n", js)
					}
					return err
				}
				return rep.WriteText(out, 20)
			}
			res, err := compile.Run(o)
			switch {
			case err != nil:
				return err
			case res.Model != nil && jsonQuality:
				_, err := fmt.Fprintln(cmd.ErrOrStderr(), inspect.WrittenLine(o.Output, res.Model))
				return err
			case res.Model != nil:
				_, err := fmt.Fprintln(out, inspect.WrittenLine(o.Output, res.Model))
				return err
			case res.Quant != nil:
				return nil
			case report && asJSON:
				return res.Passes.WriteJSON(out)
			case report:
				return res.Passes.WriteText(out)
			case len(o.Passes.DumpAfter) == 0:
				_, err := out.Write([]byte(res.Graph.String()))
				return err
			}
			return nil
		},
	}
	addModelFlags(cmd, &flags.Frontend)
	f := cmd.Flags()
	f.StringSliceVar(&flags.Passes.DumpAfter, "dump-after", nil, "print the graph after this `PASS` (repeatable; \"all\" for every pass)")
	f.StringSliceVar(&flags.Passes.Disable, "disable", nil, "skip this optional `PASS` (repeatable)")
	f.BoolVar(&report, "report", false, "print per-pass time, rewrites and a summary")
	f.BoolVar(&flags.Passes.Check, "check", false, "verify the graph after every pass")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON: the pass report with --report, else an int8 compile's quality report")
	f.BoolVar(&listPasses, "list-passes", false, "list the passes and their ordering constraints")
	f.StringVar(&flags.Quant, "quant", "", "quantize: int8 (needs --calib, unless the model states its ranges), or float32 to keep float")
	f.StringVar(&flags.Calib, "calib", "", "calibration images: a `DIR` of JPEG/PNG/BMP files, searched recursively")
	f.BoolVar(&flags.QuantOptions.RangesFromModel, "calib-from-model", false, "quantize activations by the ranges the model file states (QDQ ONNX), calibrating only the others; the default without --calib")
	f.StringVar(&flags.QuantOptions.Method, "calib-method", quant.DefaultMethod, "range method: auto, minmax, percentile, entropy or mse")
	f.Float64Var(&flags.QuantOptions.Percentile, "percentile", 99.99, "the percentile of --calib-method percentile")
	f.IntVar(&flags.QuantOptions.Images, "calib-images", 0, "use at most `N` calibration images (0: all)")
	f.BoolVar(&flags.QuantOptions.SkipBad, "skip-bad-images", false, "skip unreadable calibration images with a warning instead of failing")
	addPreprocessFlags(cmd, &pre, "image preprocessing: torchvision or tf (recorded in the model; a .tflite model defaults to tf)")
	f.BoolVar(&flags.QuantOptions.Equalize, "equalize", false, "cross-layer equalization before calibration")
	f.BoolVar(&flags.QuantOptions.NoBiasCorrect, "no-bias-correct", false, "turn off bias correction")
	f.StringVar(&flags.QuantOptions.Rounding, "weight-rounding", quant.DefaultRounding, "how weight codes are rounded: output (up or down, whichever gives each layer the smaller output error on the calibration images' activations), nearest, or auto (output, except for weights already on an 8-bit grid: nearest)")
	f.BoolVar(&flags.QuantOptions.ActBiasCorrect, "act-bias-correct", false, "also correct the convolutions' biases for the mean error of their int8 outputs on the calibration images (slower; see quant's documentation)")
	f.StringVar(&flags.QuantOptions.EvalDir, "eval", "", "also report on the held-out images of this `DIR`")
	f.IntVar(&flags.QuantOptions.ReportImages, "report-images", 100, "run at most `N` calibration images (the first) through both models for the report (0: all); --eval images all run")
	f.IntVar(&flags.QuantOptions.Workers, "threads", 0, "worker goroutines (0: one per core)")
	f.StringVar(&flags.ReportJSON, "report-json", "", "also write the quality report as JSON to `FILE` (- for stdout; like -o, never over a symbolic link or a non-regular file)")
	f.StringVar(&flags.ReportHTML, "report-html", "", "also write the quality report as one self-contained HTML page to `FILE` (charts, histograms; no scripts, works offline; like -o, never over a symbolic link or a non-regular file)")
	f.Float64Var(&flags.MinSQNR, "min-sqnr", 0, "quality gate: the median per-image logits SQNR must reach `DB`, or no model is written and mnc exits 3")
	f.Float64Var(&flags.MinAgreement, "min-agreement", 0, "quality gate: the int8 top-1 must agree with float's on this `FRACTION` of images (0-1), or no model is written and mnc exits 3")
	f.StringSliceVar(&flags.QuantOptions.KeepFloat, "keep-float", nil, "keep the ops `NAME,...` (as --sensitivity lists them) in float32 inside the int8 model")
	f.StringVar(&flags.QuantOptions.FloatWeights, "float-weights", quant.FloatWeightsInt8, "how the weights of convolutions, Gemms and squeeze-excite units kept in float32 are stored: int8 (the int8 model's codes, dequantized at load: the file does not grow) or float32 (the float model's weights: 4 bytes each)")
	f.BoolVar(&flags.QuantOptions.Sensitivity, "sensitivity", false, "rank every quantized op by what it costs: the model's quality with only that op float, and with only it int8 (in the text, JSON and HTML reports)")
	f.IntVar(&flags.QuantOptions.SensitivityImages, "sensitivity-images", quant.DefaultSensitivityImages, "calibration images the sensitivity analysis runs (`N`)")
	f.Float64Var(&flags.QuantOptions.TargetSQNR, "target-sqnr", 0, "accuracy target: keep ops in float32, most sensitive first, until the median logits SQNR reaches `DB` on the report's calibration images and the --eval images")
	f.Float64Var(&maxLoss, "max-agreement-loss", 0, "accuracy target: keep ops in float32 as --target-sqnr does until at most this `FRACTION` of the images changes its top-1 (0: none may)")
	f.StringVarP(&flags.Output, "output", "o", "", "write the compiled model to this .mnc `FILE` (atomically; an existing FILE must be a regular file, not a symbolic link, device or FIFO, which are refused)")
	f.StringVar(&flags.LabelsFile, "labels", "", "class names to store in the model file, one per line (line i = class i)")
	limitFlag(cmd, "calib-images", 0, limits.Images)
	limitFlag(cmd, "report-images", 0, limits.Images)
	limitFlag(cmd, "threads", 0, limits.Threads)
	f.StringVar(&flags.Target, "target", "generic", "the machine the model is for (see mnc targets): generic, amd64-avx2, amd64-vnni, arm64, arm64-dotprod, armv7, rpi3, rpi4, rpi5")
	return cmd
}
