// Command mnc compiles float MobileNets into int8 model files and runs them.
//
// The commands only parse flags and call the packages that do the work; see
// `mnc help` for the list.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is the producer version recorded in compiled models.
var version = "0.1.0-dev"

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "mnc: %v\n", err)
		os.Exit(1)
	}
}

// newRootCmd assembles the command tree.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "mnc",
		Short: "mnc compiles float MobileNets into fast int8 models for x86-64 and ARM boards",
		Long: `mnc compiles float MobileNets (V1, V2, V3-Large, V3-Small) from ONNX files or
PyTorch checkpoints into int8 models, and runs them.

Float models are .onnx files, or .pth/.pt/.safetensors checkpoints of the
torchvision definitions. A checkpoint's --arch, --width, --classes and
--reduced-tail are inferred from its tensor shapes when left out (one line on
stderr says what), and must agree with them when given; --resolution (default
224) cannot be inferred.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newDemoCmd(), newRunCmd(), newInspectCmd())
	root.AddCommand(newCompileCmd())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newTargetsCmd())
	root.AddCommand(newDeployCmd())
	return root
}
