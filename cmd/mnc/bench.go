package main

import (
	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/internal/bench"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/kernels"
)

// addRuntimeFlags adds --kernels and --threads (for .mnc files).
func addRuntimeFlags(cmd *cobra.Command, o *runtime.Options) {
	f := cmd.Flags()
	f.StringVar(&o.Kernels, "kernels", "", "force a kernel variant for .mnc files: "+joinNames(kernels.Names())+
		" (default: $MNC_KERNELS, else the best this CPU runs)")
	f.IntVar(&o.Threads, "threads", 0, "threads of the runtime for .mnc files (0: one per core, GOMAXPROCS)")
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

func newBenchCmd() *cobra.Command {
	var (
		ro     runtime.Options
		o      bench.Options
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "bench MODEL.mnc",
		Short: "Measure a compiled model's latency (batch 1) on this machine",
		Long: `Run a compiled .mnc model on a fixed pseudo-random input, batch 1, and print the
median and 90th-percentile latency, the throughput of the timed runs and the
effective GMAC/s (the model's multiply-accumulates / median latency).

--profile adds a per-layer time table, slowest first (measured in extra runs,
so the headline figures are not perturbed).`,
		Example: `  mnc bench mobilenet_v2.mnc --threads 1
  mnc bench mobilenet_v2.mnc --kernels generic --iters 100 --json
  mnc bench mobilenet_v2.mnc --profile`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Kernels, o.Threads = ro.Kernels, ro.Threads
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
	f.BoolVar(&asJSON, "json", false, "print as JSON (median_ms, p90_ms, threads, kernels, gmacs, ...)")
	return cmd
}
