package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	mncsrc "github.com/mncdev/mnc"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/limits"
	"github.com/mncdev/mnc/targets"
)

// modulePath is the module whose cmd/mncrun deploy builds.
const modulePath = "github.com/mncdev/mnc"

func newDeployCmd() *cobra.Command {
	var (
		target, out, src string
		force            bool
	)
	cmd := &cobra.Command{
		Use:   "deploy MODEL.mnc --target rpi4 -o DIR",
		Short: "Write a ready-to-copy folder: the board runner cross-compiled for the target, the model, run.sh",
		Long: `Write DIR with what a board needs to run MODEL.mnc: mncrun (the tiny runner,
which links only the runtime) cross-compiled for --target without cgo, the
model file, and run.sh. Copy DIR to the board (scp -r DIR pi@raspberrypi:) and
run ./run.sh IMAGE... there, or ./run.sh -bench.

The runner is built with the Go toolchain (go on PATH; its module cache or
proxy provides the runner's three dependencies) from mnc's source: --src,
else the module containing the current directory, else the runner's source
embedded in this mnc binary, so that an installed mnc deploys the runtime of
its own version. run.sh passes its flags through (./run.sh -top 1 -threads 4
IMAGE...). DIR is written as a temporary folder next to it (.DIR.tmp*) and
renamed, so a failed deploy leaves no half-written folder; an existing DIR is
replaced only with --force, and only if it is a folder (a symbolic link, a
file or a device there is refused). See mnc targets for the targets.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError(errors.New("deploy: -o DIR is required"))
			}
			return deploy(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], target, out, src, force)
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "rpi4", "the board (see mnc targets): rpi3, rpi4, rpi5, arm64, arm64-dotprod, armv7, amd64-avx2, ...")
	f.StringVarP(&out, "output", "o", "", "the folder to write (an existing one only with --force; never a symbolic link)")
	f.StringVar(&out, "out", "", "the folder to write (old name of --output)")
	_ = f.MarkHidden("out")
	f.StringVar(&src, "src", "", "mnc's source tree (default: the module containing the current directory)")
	f.BoolVar(&force, "force", false, "replace DIR if it exists")
	return cmd
}

// deploy writes the folder dir; w gets the report, errw the toolchain's
// output when the build fails.
func deploy(w, errw io.Writer, model, tname, dir, src string, force bool) error {
	t, err := targets.Lookup(tname)
	if err != nil {
		return fmt.Errorf("deploy: --target: %w", err)
	}
	m, err := runtime.Open(model) // verify the file before shipping it
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	info := *m.Info()
	m.Close()
	dir = filepath.Clean(dir)
	if err := checkDeployDir(dir, force); err != nil {
		return err
	}
	modelName := filepath.Base(model)
	buildCmd := fmt.Sprintf("CGO_ENABLED=0 GOOS=%s GOARCH=%s", t.GOOS, t.GOARCH)
	if t.GOARM != "" {
		buildCmd += " GOARM=" + t.GOARM
	}
	buildCmd += fmt.Sprintf(" go build -trimpath -ldflags='-s -w' -o %s %s/cmd/mncrun", filepath.Join(dir, "mncrun"), modulePath)
	manual := fmt.Sprintf("build the runner yourself in a checkout of mnc (%s), then copy %s into %s", buildCmd, model, dir)
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("deploy: no Go toolchain (go) on PATH to cross-compile the runner; %s", manual)
	}
	if src == "" {
		if src, err = findModule(); err != nil {
			// Not in a checkout: the runner's source embedded in mnc.
			if src, err = os.MkdirTemp("", "mnc-runner-src"); err != nil {
				return fmt.Errorf("deploy: %w", err)
			}
			defer os.RemoveAll(src)
			defer onInterrupt(func() { os.RemoveAll(src) })()
			if err := os.CopyFS(src, mncsrc.RunnerSource); err != nil {
				return fmt.Errorf("deploy: unpack the runner's source: %w", err)
			}
		}
	}

	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp*")
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	ok := false
	defer onInterrupt(func() { os.RemoveAll(tmp) })()
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	runner, _ := filepath.Abs(filepath.Join(tmp, "mncrun"))
	b := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", runner, "./cmd/mncrun")
	b.Dir = src
	b.Env = append(os.Environ(), append(t.Env(), "GOFLAGS=-buildvcs=false -mod=readonly")...)
	var stderr bytes.Buffer
	b.Stdout, b.Stderr = &stderr, &stderr
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	if err := b.Run(); err != nil {
		for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			fmt.Fprintf(errw, "mnc: go build: %s\n", l)
		}
		return fmt.Errorf("deploy: go build of the runner for %s failed (%v; its output is above); %s", t.Platform(), err, manual)
	}
	if err := copyFile(model, filepath.Join(tmp, modelName)); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	script := fmt.Sprintf(`#!/bin/sh
# Runs %[1]s (%[2]s, target %[3]s) with the mnc board runner.
#   ./run.sh IMAGE...                 top-5 classes of each image
#   ./run.sh -top 1 -threads 4 IMAGE  mncrun's flags pass through (./mncrun -h)
#   ./run.sh -bench [-runs N]         median latency of one run
d=$(dirname "$0")
exec "$d/mncrun" -model "$d/%[1]s" "$@"
`, modelName, info.Precision, info.Target)
	if err := os.WriteFile(filepath.Join(tmp, "run.sh"), []byte(script), 0o755); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	if force {
		if err := checkDeployDir(dir, force); err != nil { // again: it may have changed during the build
			return err
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("deploy: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	ok = true
	st, _ := os.Stat(filepath.Join(dir, "mncrun"))
	fmt.Fprintf(w, "wrote %s for %s (%s): mncrun (%d bytes; kernels %s), %s, run.sh\n", dir, t.Name, t.Platform(), st.Size(), t.Kernels, modelName)
	if info.Target != t.Name && info.Target != "generic" {
		fmt.Fprintf(w, "note: %s was compiled for target %s (it runs anywhere; recompile with --target %s to record this board)\n", modelName, info.Target, tname)
	}
	fmt.Fprintf(w, "next: scp -r %s pi@raspberrypi.local: && ssh pi@raspberrypi.local ./%s/run.sh IMAGE...\n", dir, filepath.Base(dir))
	return nil
}

// checkDeployDir refuses a dir that exists, unless force is set and it is
// a directory (not a symbolic link to one: RemoveAll would remove the link
// and the rename put a folder in its place, not where it points).
func checkDeployDir(dir string, force bool) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("deploy: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("deploy: %q is %s, not a folder; refusing to replace it", dir, limits.Kind(fi.Mode()))
	case !force:
		return fmt.Errorf("deploy: %s exists (--force replaces it)", dir)
	}
	return nil
}

// findModule returns the root of mnc's module containing the current
// directory.
func findModule() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if strings.HasPrefix(string(b), "module "+modulePath+"\n") || strings.Contains(string(b), "\nmodule "+modulePath+"\n") {
				return dir, nil
			}
			return "", fmt.Errorf("%s is not mnc's module (%s)", dir, modulePath)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the current directory is not inside mnc's source tree")
		}
		dir = parent
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
