// Command mnc compiles float MobileNets into int8 model files and runs them.
//
// The commands only parse flags and call the packages that do the work; see
// `mnc help` for the list.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is the producer version recorded in compiled models.
var version = "0.1.0-dev"

// Exit codes, as the root --help documents them.
const (
	exitError   = 1 // the command failed
	exitUsage   = 2 // bad flags or arguments
	exitQuality = 3 // a quality gate (mnc eval --min-top1) was missed
)

// codeError is an error that ends mnc with a given exit code.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// usageError marks err as a usage error (exit code 2).
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &codeError{exitUsage, err}
}

func main() {
	os.Exit(execute(os.Args[1:]))
}

// execute runs mnc with args, prints any error as one line on stderr and
// returns the exit code.
func execute(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "mnc: %v\n", err)
	var ce *codeError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case cmd == root:
		return exitUsage // the root does no work: its errors are unknown commands
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
torchvision definitions together with --arch (and --width, --classes, ...).

Exit codes: 0 success, 1 error, 2 usage (bad flags or arguments), 3 a quality
gate missed (mnc eval --min-top1; the report is still printed).`,
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
	root.AddCommand(newEvalCmd())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	markUsage(root)
	return root
}

// markUsage makes the argument-count errors of cmd and its subcommands
// usage errors.
func markUsage(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error { return usageError(args(c, a)) }
	}
	for _, c := range cmd.Commands() {
		markUsage(c)
	}
}
