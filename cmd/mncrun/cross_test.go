package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// crossTargets are the platforms mnc and mncrun must build for without cgo.
var crossTargets = []struct{ goos, goarch, goarm string }{
	{"linux", "amd64", ""},
	{"linux", "arm64", ""},
	{"linux", "arm", "7"},
}

func crossEnv(goos, goarch, goarm string) []string {
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if goarm != "" {
		env = append(env, "GOARM="+goarm)
	}
	return env
}

// crossBuild builds pkg for a platform into dir with -ldflags="-s -w" and
// returns the binary's path.
func crossBuild(t *testing.T, dir, pkg, goos, goarch, goarm string) string {
	t.Helper()
	out := filepath.Join(dir, fmt.Sprintf("%s-%s-%s%s", filepath.Base(pkg), goos, goarch, goarm))
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = crossEnv(goos, goarch, goarm)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=%s GOARCH=%s GOARM=%s go build %s: %v\n%s", goos, goarch, goarm, pkg, err, b)
	}
	return out
}

// TestCrossBuild: mnc and mncrun build with CGO_ENABLED=0 for linux/amd64,
// linux/arm64 and linux/arm (GOARM=7); it logs the runner's stripped size.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds skipped with -short")
	}
	dir := t.TempDir()
	for _, p := range crossTargets {
		for _, pkg := range []string{"github.com/mncdev/mnc/cmd/mncrun", "github.com/mncdev/mnc/cmd/mnc"} {
			bin := crossBuild(t, dir, pkg, p.goos, p.goarch, p.goarm)
			st, err := os.Stat(bin)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s/%s%s: %d bytes stripped", filepath.Base(pkg), p.goos, p.goarch, p.goarm, st.Size())
		}
	}
}

// TestQEMU cross-builds the runner for arm64 and armv7, runs it under
// qemu-user on the fixture model, and compares its logits byte for byte
// with this machine's.
func TestQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("qemu runs skipped with -short")
	}
	fx := getFixture(t)
	var want bytes.Buffer
	native := filepath.Join(t.TempDir(), "native.bin")
	if err := run(append([]string{"-top", "3", "-save", native, fx.model}, fx.images...), &want); err != nil {
		t.Fatal(err)
	}
	wantBytes, err := os.ReadFile(native)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range qemuCases {
		name := c.goarch + c.goarm + "-" + c.cpu
		t.Run(name, func(t *testing.T) {
			save := filepath.Join(t.TempDir(), "out.bin")
			out, stderr, err := c.run(t, append([]string{"-top", "3", "-save", save, fx.model}, fx.images...)...)
			if err != nil {
				t.Fatalf("%v\n%s%s", err, out, stderr)
			}
			if !bytes.Equal(out, want.Bytes()) {
				t.Errorf("printed output differs from this machine's:\n%s\nwant:\n%s", out, want.Bytes())
			}
			got, err := os.ReadFile(save)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, wantBytes) {
				t.Fatalf("logits differ from this machine's (%d vs %d bytes)", len(got), len(wantBytes))
			}
			t.Logf("%s QEMU_CPU=%s: %d logits bit-exact with %s", c.qemu, c.cpu, len(got)/4, "linux/amd64")
		})
	}
}

// qemuCase is one emulated ARM machine.
type qemuCase struct{ qemu, goarch, goarm, cpu string }

var qemuCases = []qemuCase{
	{"qemu-aarch64-static", "arm64", "", "cortex-a72"}, // Raspberry Pi 4: no dot product
	{"qemu-aarch64-static", "arm64", "", "max"},        // every extension, SDOT included
	{"qemu-arm-static", "arm", "7", ""},
}

var (
	qemuBinMu sync.Mutex
	qemuBins  = map[string]string{} // GOARCH+GOARM -> cross-built mncrun, shared by the tests
	qemuDir   string
)

// run runs the cross-built runner under qemu-user with args, returning its
// stdout and stderr; it skips the test when the emulator is not installed.
func (c qemuCase) run(t *testing.T, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	q, err := exec.LookPath(c.qemu)
	if err != nil {
		t.Skipf("%s not found (apt-get install qemu-user-static): the ARM run is not tested", c.qemu)
	}
	qemuBinMu.Lock()
	bin, ok := qemuBins[c.goarch+c.goarm]
	if !ok {
		if qemuDir == "" {
			qemuDir = filepath.Join(fixDir, "qemu")
			os.MkdirAll(qemuDir, 0o755)
		}
		bin = crossBuild(t, qemuDir, "github.com/mncdev/mnc/cmd/mncrun", "linux", c.goarch, c.goarm)
		qemuBins[c.goarch+c.goarm] = bin
	}
	qemuBinMu.Unlock()
	cmd := exec.Command(q, append([]string{bin}, args...)...)
	cmd.Env = os.Environ()
	if c.cpu != "" {
		cmd.Env = append(cmd.Env, "QEMU_CPU="+c.cpu)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s QEMU_CPU=%s %s: %w", c.qemu, c.cpu, strings.Join(args, " "), err)
	}
	return o.Bytes(), e.Bytes(), err
}

// TestQEMUDotprodFallback: a model compiled for the Raspberry Pi 5
// (arm64-dotprod) on a CPU without the dot product (QEMU_CPU=cortex-a72, a
// Pi 4) runs on the NEON kernels, says so on stderr, and prints the same
// logits as this machine, bit for bit; forcing the dot product kernels there
// is a clear error, never an illegal instruction. With QEMU_CPU=max it runs
// the dot product kernels, without a note.
func TestQEMUDotprodFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("qemu runs skipped with -short")
	}
	fx := getFixture(t)
	native := filepath.Join(t.TempDir(), "native.bin")
	var want bytes.Buffer
	if err := run([]string{"-top", "3", "-save", native, fx.rpi5, fx.images[0]}, &want); err != nil {
		t.Fatal(err)
	}
	wantBytes, err := os.ReadFile(native)
	if err != nil {
		t.Fatal(err)
	}
	a72, maxCPU := qemuCases[0], qemuCases[1]

	save := filepath.Join(t.TempDir(), "a72.bin")
	out, stderr, err := a72.run(t, "-top", "3", "-save", save, fx.rpi5, fx.images[0])
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, stderr)
	}
	for _, s := range []string{"arm64-dotprod", "lacks ASIMDDP", "running the neon kernels"} {
		if !strings.Contains(string(stderr), s) {
			t.Errorf("cortex-a72: stderr %q does not mention %q", stderr, s)
		}
	}
	got, err := os.ReadFile(save)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want.Bytes()) || !bytes.Equal(got, wantBytes) {
		t.Errorf("cortex-a72: output or logits differ from this machine's:\n%s\nwant:\n%s", out, want.Bytes())
	}
	t.Logf("cortex-a72: %s", bytes.TrimSpace(stderr))

	out, stderr, err = a72.run(t, "-kernels", "dotprod", fx.rpi5, fx.images[0])
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(stderr), "lacks: ASIMDDP") {
		t.Errorf("cortex-a72 -kernels dotprod: want exit status 1 naming ASIMDDP, got %v\n%s%s", err, out, stderr)
	}
	t.Logf("cortex-a72 -kernels dotprod: %s", bytes.TrimSpace(stderr))

	out, stderr, err = maxCPU.run(t, "-bench", "-runs", "1", fx.rpi5)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, stderr)
	}
	if len(stderr) != 0 || !strings.Contains(string(out), "kernels dotprod") {
		t.Errorf("max: want the dotprod kernels and no note, got\n%s%s", out, stderr)
	}
}
