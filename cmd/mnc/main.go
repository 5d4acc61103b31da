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
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/internal/editdist"
	"github.com/mncdev/mnc/runtime/esc"
)

// version is the producer version recorded in compiled models.
var version = "0.1.0-dev"

// Exit codes, as the root --help documents them.
const (
	exitError       = 1   // the command failed
	exitUsage       = 2   // bad flags or arguments
	exitQuality     = 3   // a quality gate was missed (compile --min-sqnr/--min-agreement, eval --min-top1)
	exitInterrupted = 130 // SIGINT or SIGTERM
)

// cleanups are run when mnc is interrupted: they remove what a command is
// in the middle of writing.
var cleanups struct {
	sync.Mutex
	fs map[int]func()
	n  int
}

// onInterrupt registers f to run if mnc is interrupted; the returned
// function unregisters it.
func onInterrupt(f func()) (cancel func()) {
	cleanups.Lock()
	defer cleanups.Unlock()
	if cleanups.fs == nil {
		cleanups.fs = map[int]func(){}
	}
	id := cleanups.n
	cleanups.n++
	cleanups.fs[id] = f
	return func() {
		cleanups.Lock()
		defer cleanups.Unlock()
		delete(cleanups.fs, id)
	}
}

func runCleanups() {
	cleanups.Lock()
	defer cleanups.Unlock()
	for _, f := range cleanups.fs {
		f()
	}
}

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
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		// Outputs are written to a temporary file renamed into place
		// (codegen.WriteFile) and deploy's folder as a temporary .DIR.tmp*, which the
		// cleanups remove: stopping here leaves no partial output.
		fmt.Fprintln(os.Stderr, "mnc: interrupted")
		runCleanups()
		os.Exit(exitInterrupted)
	}()
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
	// One line, whatever the error holds: strings from files are escaped
	// where errors are made (%q); esc.Line is the backstop.
	fmt.Fprintf(os.Stderr, "mnc: %s\n", esc.Line(err.Error()))
	var ce *codeError
	var gate *compile.GateError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &gate):
		return exitQuality
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
		Long: `mnc compiles float MobileNets (V1, V2, V3-Large, V3-Small) from ONNX files,
TensorFlow Lite files or PyTorch checkpoints into int8 models, and runs them.

Float models are .onnx files, .tflite files (float, or uint8/int8-quantized
ones, which load dequantized as float; --preprocess defaults to tf for them),
or .pth/.pt/.safetensors checkpoints of the torchvision definitions. A checkpoint's --arch, --width, --classes and
--reduced-tail are inferred from its tensor shapes when left out (one line on
stderr says what), and must agree with them when given; --resolution (default
224) cannot be inferred.

Exit codes: 0 success, 1 error, 2 usage (bad flags or arguments), 3 a quality
gate missed (compile --min-sqnr/--min-agreement, eval --min-top1; the report
is still printed, no model is written), 130 interrupted.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemoCmd(), newRunCmd(), newInspectCmd())
	root.AddCommand(newCompileCmd())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newTargetsCmd())
	root.AddCommand(newDeployCmd())
	root.AddCommand(newEvalCmd())
	root.AddCommand(newVersionCmd())
	root.PersistentPreRunE = checkFlagValues
	root.SetFlagErrorFunc(flagError)
	markUsage(root)
	return root
}

// markUsage makes the argument-count errors of cmd and its subcommands
// usage errors.
func markUsage(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return usageError(fmt.Errorf("%s: %w (see %s --help)", c.CommandPath(), err, c.CommandPath()))
			}
			return nil
		}
	}
	for _, c := range cmd.Commands() {
		markUsage(c)
	}
}

// flagError is a usage error, with the closest flag name when the flag is
// unknown.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		// Suggest only close names: within 2 edits, 1 for names of up to
		// 5 letters (--top is not a misspelt --crop).
		best, dist := "", min(3, 1+len(name)/3)
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if d := editdist.Levenshtein(name, f.Name); d < dist {
				best, dist = f.Name, d
			}
		})
		if best != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", best)
		}
	}
	return usageError(fmt.Errorf("%s: %s (see %s --help)", c.CommandPath(), msg, c.CommandPath()))
}
