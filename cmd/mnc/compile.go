package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/passes"
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
	)
	cmd := &cobra.Command{
		Use:   "compile [MODEL]",
		Short: "Run the compiler's pass pipeline on a model and show its work",
		Long: `Run the target-independent pass pipeline (canonicalize, fold BatchNorm, fuse
activations, squeeze-excite units, NHWC layout, ...) on a float model.

Without --dump-after or --report the final graph is printed. --dump-after PASS
(repeatable, or "all") prints the graph after that pass; --report prints each
pass's time and rewrites and a summary (fused activations, squeeze-excite
units, BatchNorms left unfolded), as JSON with --json. --check verifies the
graph after every pass. With no MODEL, --arch compiles a built-in
architecture with zero weights.`,
		Example: `  mnc compile model.onnx --report
  mnc compile model.pth --arch mobilenet_v3_large --dump-after fuse-activations
  mnc compile --arch mobilenet_v2 --dump-after all --check
  mnc compile --list-passes`,
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
			rep, err := passes.Run(g, passes.Options{Check: check, DumpAfter: dumpAfter, Dump: out, Disable: disable})
			if err != nil {
				return err
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
	return cmd
}
