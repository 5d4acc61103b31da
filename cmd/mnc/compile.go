package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/classify"
	"github.com/mncdev/mnc/internal/inspect"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/passes"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/preprocess"
)

func newCompileCmd() *cobra.Command {
	var (
		opts       frontend.Options
		dumpAfter  []string
		disable    []string
		report     bool
		check      bool
		asJSON     bool
		listPasses bool
		quantize   string
		calib      string
		preset     string
		reportJSON string
		output     string
		labels     string
		target     string
		qo         quant.Options
	)
	cmd := &cobra.Command{
		Use:   "compile [MODEL] [-o OUT.mnc]",
		Short: "Compile a float model into a .mnc file: pass pipeline, calibration, int8 quantization",
		Long: `Compile a float model: run the target-independent pass pipeline (canonicalize,
fold BatchNorm, fuse activations, squeeze-excite units, NHWC layout, ...) and,
with --quant int8, calibrate on the images of --calib DIR and quantize to int8
(weights per channel, activations per tensor), then report the quality of the
int8 model against the float one (logits SQNR, top-1 agreement, per-layer SQNR,
worst first).

Calibration methods (--calib-method): minmax (default: the range seen),
percentile (--percentile, default 99.99), entropy (KL, TensorRT style), mse,
auto (per tensor, the method whose range minimises the error of the layer
reading it). Bias
correction is on unless --no-bias-correct; --equalize adds cross-layer
equalization. Images are preprocessed by --preprocess, which is recorded in
the model so that inference prepares images the same way.

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
  mnc compile mobilenet_v2.onnx -o mobilenet_v2_f32.mnc --quant float32 --preprocess tf`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if listPasses {
				return passes.WriteTable(out, passes.Pipeline)
			}
			var g *ir.Graph
			var err error
			switch {
			case len(args) == 1:
				g, err = frontend.Load(args[0], opts)
			case opts.Arch != "" || opts.ArchSpec != "":
				g, err = frontend.Definition(opts)
			default:
				err = errors.New("give a MODEL file, or --arch for a built-in architecture")
			}
			if err != nil {
				return err
			}
			var names []string
			if labels != "" {
				if output == "" {
					return errors.New("--labels is stored in the model file: give -o OUT.mnc")
				}
				if names, err = classify.ReadLabels(labels); err != nil {
					return err
				}
			}
			if output != "" && quantize == "" {
				quantize = "float32"
			}
			copts := codegen.Options{Target: target, Producer: "mnc " + version, Labels: names}
			switch quantize {
			case "", "float32":
				if calib != "" {
					return errors.New("--calib is for --quant int8")
				}
			case "int8":
				if calib == "" {
					return errors.New("--quant int8 needs calibration images: --calib DIR")
				}
				if asJSON {
					return errors.New("--json is for the pass report; the quality report goes to --report-json FILE")
				}
			default:
				return fmt.Errorf("--quant %q: want int8 or float32", quantize)
			}
			rep, err := passes.Run(g, passes.Options{Check: check, DumpAfter: dumpAfter, Dump: out, Disable: disable})
			if err != nil {
				return err
			}
			if quantize == "int8" {
				if report {
					if err := rep.WriteText(out); err != nil {
						return err
					}
				}
				qo.Preprocess = preprocess.Spec{Preset: preprocess.Preset(preset)}
				qo.Progress, qo.Warn = cmd.ErrOrStderr(), cmd.ErrOrStderr()
				q, qrep, err := quant.CompilePrepared(g, calib, qo)
				if err != nil {
					return err
				}
				if reportJSON != "" {
					if err := writeJSONFile(reportJSON, qrep.JSON); err != nil {
						return err
					}
				}
				if err := qrep.WriteText(out, 20); err != nil {
					return err
				}
				if output == "" {
					return nil
				}
				copts.Calibration = codegen.CalibrationRecord(qrep)
				return writeModel(out, output, q, copts)
			}
			if output != "" {
				if report {
					if err := rep.WriteText(out); err != nil {
						return err
					}
				}
				if s := g.Inputs[0].Type.Shape; len(g.Inputs) == 1 && len(s) == 4 && s[1] == 3 {
					spec, err := preprocess.Default(preprocess.Preset(preset), s[2], s[3])
					if err != nil {
						return err
					}
					copts.Preprocess = &spec
				}
				return writeModel(out, output, g, copts)
			}
			switch {
			case report && asJSON:
				return rep.WriteJSON(out)
			case report:
				return rep.WriteText(out)
			case len(dumpAfter) == 0:
				_, err := out.Write([]byte(g.String()))
				return err
			}
			return nil
		},
	}
	addModelFlags(cmd, &opts)
	f := cmd.Flags()
	f.StringSliceVar(&dumpAfter, "dump-after", nil, "print the graph after this `PASS` (repeatable; \"all\" for every pass)")
	f.StringSliceVar(&disable, "disable", nil, "skip this optional `PASS` (repeatable)")
	f.BoolVar(&report, "report", false, "print per-pass time, rewrites and a summary")
	f.BoolVar(&check, "check", false, "verify the graph after every pass")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&listPasses, "list-passes", false, "list the passes and their ordering constraints")
	f.StringVar(&quantize, "quant", "", "quantize: int8 (needs --calib), or float32 to keep float")
	f.StringVar(&calib, "calib", "", "calibration images: a `DIR` of JPEG/PNG/BMP files, searched recursively")
	f.StringVar(&qo.Method, "calib-method", quant.DefaultMethod, "range method: auto, minmax, percentile, entropy or mse")
	f.Float64Var(&qo.Percentile, "percentile", 99.99, "the percentile of --calib-method percentile")
	f.IntVar(&qo.Images, "calib-images", 0, "use at most `N` calibration images (0: all)")
	f.BoolVar(&qo.SkipBad, "skip-bad-images", false, "skip unreadable calibration images with a warning instead of failing")
	f.StringVar(&preset, "preprocess", "torchvision", "image preprocessing: torchvision or tf (recorded in the model)")
	f.BoolVar(&qo.Equalize, "equalize", false, "cross-layer equalization before calibration")
	f.BoolVar(&qo.NoBiasCorrect, "no-bias-correct", false, "turn off bias correction")
	f.StringVar(&qo.EvalDir, "eval", "", "also report on the held-out images of this `DIR`")
	f.IntVar(&qo.ReportImages, "report-images", 0, "run at most `N` calibration images through both models for the report (0: all)")
	f.IntVar(&qo.Workers, "threads", 0, "worker goroutines (0: one per core)")
	f.StringVar(&reportJSON, "report-json", "", "also write the quality report as JSON to `FILE`")
	f.StringVarP(&output, "output", "o", "", "write the compiled model to this .mnc `FILE`")
	f.StringVar(&labels, "labels", "", "class names to store in the model file, one per line (line i = class i)")
	f.StringVar(&target, "target", "generic", "the machine the model is for (see mnc targets): generic, amd64-avx2, amd64-vnni, arm64, arm64-dotprod, armv7, rpi3, rpi4, rpi5")
	return cmd
}

// writeModel builds the model file of g and writes it atomically to path,
// then prints a one-line summary.
func writeModel(out io.Writer, path string, g *ir.Graph, opts codegen.Options) error {
	blob, err := codegen.Build(g, opts)
	if err != nil {
		return err
	}
	if err := codegen.WriteFile(path, blob); err != nil {
		return err
	}
	m, err := runtime.Load(blob)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, inspect.WrittenLine(path, m.Info()))
	return err
}

// writeJSONFile writes the JSON that encode returns to path.
func writeJSONFile(path string, encode func() ([]byte, error)) error {
	data, err := encode()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
