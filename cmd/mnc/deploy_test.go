package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
)

// TestTargetsCmd: mnc targets lists every target and alias, honestly.
func TestTargetsCmd(t *testing.T) {
	out := mustRun(t, "targets")
	for _, s := range []string{"generic", "amd64-avx2", "amd64-vnni", "arm64 (rpi3, rpi4)", "arm64-dotprod (rpi5)", "armv7", "linux/arm/v7", "neon", "dotprod"} {
		if !strings.Contains(out, s) {
			t.Errorf("mnc targets lacks %q:\n%s", s, out)
		}
	}
	if out := mustRun(t, "targets", "--json"); !strings.Contains(out, `"goarm": "7"`) {
		t.Errorf("mnc targets --json:\n%s", out)
	}
}

// TestDeploy: mnc compile --target rpi4 records the target; mnc deploy
// writes the folder (runner for linux/arm64, model, run.sh) atomically,
// and the runner runs under qemu-aarch64-static when it is installed.
func TestDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the runner; skipped with -short")
	}
	root := golden.RepoRoot(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "v3s.mnc")
	mustRun(t, "compile", filepath.Join(root, "testdata/golden/v3s.opset17.onnx"), "-o", model, "--target", "rpi4")
	if out := mustRun(t, "inspect", model); !strings.Contains(out, "target arm64") {
		t.Errorf("compile --target rpi4 did not record arm64:\n%s", strings.SplitN(out, "\n", 2)[0])
	}
	if _, stderr, code := mnc(t, "compile", filepath.Join(root, "testdata/golden/v3s.opset17.onnx"), "-o", model+"2", "--target", "rpi9"); code == 0 || !strings.Contains(stderr, "unknown target") {
		t.Errorf("--target rpi9: exit %d, %s", code, stderr)
	}

	out := filepath.Join(dir, "pi")
	stdout := mustRun(t, "deploy", model, "--target", "rpi4", "-o", out)
	t.Log(stdout)
	for _, f := range []string{"mncrun", "v3s.mnc", "run.sh"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(out + ".tmp"); err == nil {
		t.Error("deploy left DIR.tmp behind")
	}
	if b, err := exec.Command("file", filepath.Join(out, "mncrun")).Output(); err == nil && !strings.Contains(string(b), "aarch64") {
		t.Errorf("runner is not an arm64 binary: %s", b)
	}
	if _, stderr, code := mnc(t, "deploy", model, "--target", "rpi4", "-o", out); code == 0 || !strings.Contains(stderr, "--force") {
		t.Errorf("deploy over an existing folder: exit %d, %s", code, stderr)
	}
	if _, stderr, code := mnc(t, "deploy", model, "--target", "nosuch", "-o", filepath.Join(dir, "x")); code == 0 || !strings.Contains(stderr, "unknown target") {
		t.Errorf("deploy --target nosuch: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("failed deploy wrote its folder")
	}
	// Outside a checkout, mnc builds the runner from the source embedded
	// in it; run.sh passes flags through (-model names the model).
	elsewhere := filepath.Join(dir, "pi2")
	cmd := exec.Command(mncBin, "deploy", model, "--target", "rpi4", "-o", elsewhere)
	cmd.Dir = t.TempDir()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deploy outside the source tree: %v\n%s", err, b)
	}
	if sh, err := os.ReadFile(filepath.Join(elsewhere, "run.sh")); err != nil || !strings.Contains(string(sh), `-model "$d/v3s.mnc" "$@"`) {
		t.Errorf("run.sh does not pass its flags through: %v\n%s", err, sh)
	}
	if q, err := exec.LookPath("qemu-aarch64-static"); err == nil {
		b, err := exec.Command(q, filepath.Join(out, "mncrun"), "-bench", "-runs", "2", filepath.Join(out, "v3s.mnc")).CombinedOutput()
		if err != nil || !strings.Contains(string(b), "median") {
			t.Errorf("deployed runner under qemu: %v\n%s", err, b)
		}
		b, err = exec.Command(q, filepath.Join(elsewhere, "mncrun"), "-model", filepath.Join(elsewhere, "v3s.mnc"), "-bench", "-runs", "2", "-threads", "2").CombinedOutput()
		if err != nil || !strings.Contains(string(b), "median") {
			t.Errorf("runner built from the embedded source, under qemu: %v\n%s", err, b)
		}
	} else {
		t.Log("qemu-aarch64-static not found: the deployed runner is not run")
	}
}
