package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/internal/bench"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/limits"
)

// addRuntimeFlags adds --kernels and --threads (for .mnc files).
func addRuntimeFlags(cmd *cobra.Command, o *runtime.Options) {
	f := cmd.Flags()
	f.StringVar(&o.Kernels, "kernels", "", "force a kernel variant for .mnc files: "+joinNames(kernels.Names())+
		" (default: $MNC_KERNELS, else the best this CPU runs)")
	f.IntVar(&o.Threads, "threads", 0, "threads of the runtime for .mnc files (0: one per core, GOMAXPROCS)")
	limitFlag(cmd, "threads", 0, limits.Threads)
}

func joinNames(s []string) string {
	out := ""
	for i, n := range s {
		if i > 0 {
			out += "|"
		}
		out += n
	}
	return out
}

// benchSource refuses a model mnc compiles but bench cannot time (a
// .tflite, .onnx or checkpoint file: bench times the runtime, which runs
// .mnc files only) with the compile command to run first.
func benchSource(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".tflite", ".onnx", ".pth", ".pt", ".safetensors":
	default:
		return nil
	}
	if runtime.IsModelFile(path) {
		return nil
	}
	quant := "--quant int8 --calib IMAGES_DIR --preprocess tf|torchvision"
	if ext == ".tflite" {
		quant = "--quant int8" // a quantized .tflite states its ranges
	}
	return fmt.Errorf("%s is a source model: mnc bench times compiled .mnc files; compile it first, e.g. mnc compile %s %s -o %s.mnc (or --quant float32)",
		esc.String(path), esc.String(path), quant, esc.String(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))))
}

func newBenchCmd() *cobra.Command {
	var (
		ro      runtime.Options
		o       bench.Options
		asJSON  bool
		compare []int
		rounds  int
	)
	cmd := &cobra.Command{
		Use:   "bench MODEL.mnc",
		Short: "Measure a compiled model's latency (batch 1) on this machine",
		Long: `Run a compiled .mnc model on a fixed pseudo-random input, batch 1, and print the
median and 90th-percentile latency, the throughput of the timed runs and the
effective GMAC/s (the model's multiply-accumulates / median latency).

--profile adds a per-layer time table, slowest first (measured in extra runs,
so the headline figures are not perturbed).

--compare-threads 1,2 measures the thread counts back to back instead: one
interpreter per count, taking turns for --rounds rounds of --iters/--rounds
runs each, so that a change in the machine's load hits every count alike;
it prints each count's median and its speed-up over the first count.`,
		Example: `  mnc bench mobilenet_v2.mnc --threads 1
  mnc bench mobilenet_v2.mnc --kernels generic --iters 100 --json
  mnc bench mobilenet_v2.mnc --profile
  mnc bench mobilenet_v2.mnc --compare-threads 1,2 --iters 600`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Kernels, o.Threads = ro.Kernels, ro.Threads
			if err := benchSource(args[0]); err != nil {
				return err
			}
			if len(compare) > 0 {
				if cmd.Flags().Changed("threads") || o.Profile {
					return errors.New("--compare-threads replaces --threads and cannot be combined with --profile")
				}
				c, err := bench.CompareFile(args[0], compare, o, rounds)
				if err != nil {
					return err
				}
				return c.Write(cmd.OutOrStdout(), asJSON)
			}
			r, err := bench.File(args[0], o)
			if err != nil {
				return err
			}
			return r.Write(cmd.OutOrStdout(), asJSON)
		},
	}
	addRuntimeFlags(cmd, &ro)
	f := cmd.Flags()
	f.IntVar(&o.Iters, "iters", 50, "timed runs")
	f.IntVar(&o.Warmup, "warmup", 5, "untimed runs before timing")
	f.BoolVar(&o.Profile, "profile", false, "add a per-layer time table, slowest first")
	f.IntSliceVar(&compare, "compare-threads", nil, "compare these thread counts back to back (e.g. 1,2)")
	f.IntVar(&rounds, "rounds", 20, "turns per thread count with --compare-threads")
	f.BoolVar(&asJSON, "json", false, "print as JSON (median_ms, p90_ms, threads, kernels, gmacs, ...)")
	limitFlag(cmd, "iters", 1, limits.BenchIters)
	limitFlag(cmd, "warmup", 0, limits.BenchIters)
	limitFlag(cmd, "rounds", 1, limits.BenchRounds)
	limitFlag(cmd, "compare-threads", 1, limits.Threads)
	return cmd
}
