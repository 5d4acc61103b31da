package main

import (
	"github.com/spf13/cobra"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/inspect"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
)

func newInspectCmd() *cobra.Command {
	var (
		opts   frontend.Options
		asJSON bool
		kern   string
	)
	cmd := &cobra.Command{
		Use:   "inspect [MODEL]",
		Short: "Print a model's layers, shapes, parameter count and multiply-accumulates",
		Long: `Print a model's layers with output shapes, parameters and multiply-accumulates
(MACs of convolutions and linear layers, counted as torchvision does).

For a compiled .mnc file: its operators, tensor table, sizes (against the size
bound of int8 files), the activation arena next to its lower bound, the
preprocessing and the calibration record.

With no MODEL, --arch describes a built-in architecture without weights.`,
		Example: `  mnc inspect model.mnc
  mnc inspect model.onnx
  mnc inspect --arch mobilenet_v3_large
  mnc inspect --arch mobilenet_v2 --width 0.5 --resolution 160 --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && runtime.IsModelFile(args[0]) {
				m, err := runtime.OpenWith(args[0], runtime.Options{Kernels: kern})
				if err != nil {
					return err
				}
				defer m.Close()
				return inspect.Blob(m.Info()).Write(cmd.OutOrStdout(), asJSON)
			}
			var g *ir.Graph
			var err error
			if len(args) == 1 {
				g, err = frontend.Load(args[0], opts)
			} else {
				g, err = frontend.Describe(opts) // no weights needed
			}
			if err != nil {
				return err
			}
			return inspect.Graph(g).Write(cmd.OutOrStdout(), asJSON)
		},
	}
	addModelFlags(cmd, &opts)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().StringVar(&kern, "kernels", "", "for .mnc files: the kernel variant to check (default: $MNC_KERNELS, else the best this CPU runs)")
	return cmd
}
