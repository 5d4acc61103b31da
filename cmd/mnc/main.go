// Command mnc compiles float MobileNets into int8 model files and runs them.
//
// The commands only parse flags and call the packages that do the work; see
// `mnc help` for the list.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mncdev/mnc/compile"
)

// version is the producer version recorded in compiled models.
var version = "0.1.0-dev"

// Exit codes (documented in the root command's help).
const (
	exitError       = 1
	exitUsage       = 2
	exitGate        = 3
	exitInterrupted = 130
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		// Outputs are written to a temporary file renamed into place
		// (codegen.WriteFile): stopping here leaves no partial file.
		fmt.Fprintln(os.Stderr, "mnc: interrupted")
		os.Exit(exitInterrupted)
	}()
	err := newRootCmd().Execute()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mnc: %v\n", err)
	}
	os.Exit(exitCode(err))
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode maps an error to the process's exit status.
func exitCode(err error) int {
	var gate *compile.GateError
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &gate):
		return exitGate
	case errors.As(err, &usage), strings.HasPrefix(err.Error(), "unknown command"):
		return exitUsage
	}
	return exitError
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
224) cannot be inferred.

Exit status: 0 success, 1 error, 2 usage error (a bad flag or argument),
3 a quality gate missed (compile --min-sqnr/--min-agreement), 130 interrupted.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemoCmd(), newRunCmd(), newInspectCmd())
	root.AddCommand(newCompileCmd())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newTargetsCmd())
	root.AddCommand(newDeployCmd())
	root.AddCommand(newVersionCmd())
	root.SetFlagErrorFunc(flagError)
	markUsageErrors(root)
	return root
}

// markUsageErrors makes the argument checks of every command report usage
// errors (exit status 2).
func markUsageErrors(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usageError{fmt.Errorf("%s: %w (see %s --help)", cmd.CommandPath(), err, cmd.CommandPath())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsageErrors(sub)
	}
}

// flagError is a usage error, with the closest flag name when the flag is
// unknown.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		best, dist := "", 3 // suggest only close names
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if d := editDistance(name, f.Name); d < dist {
				best, dist = f.Name, d
			}
		})
		if best != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", best)
		}
	}
	return usageError{fmt.Errorf("%s: %s (see %s --help)", c.CommandPath(), msg, c.CommandPath())}
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
