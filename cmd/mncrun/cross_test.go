package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	dir := t.TempDir()
	cases := []struct {
		qemu, goarch, goarm, cpu string
	}{
		{"qemu-aarch64-static", "arm64", "", "cortex-a72"},
		{"qemu-aarch64-static", "arm64", "", "max"},
		{"qemu-arm-static", "arm", "7", ""},
	}
	for _, c := range cases {
		name := c.goarch + c.goarm + "-" + c.cpu
		t.Run(name, func(t *testing.T) {
			q, err := exec.LookPath(c.qemu)
			if err != nil {
				t.Skipf("%s not found (apt-get install qemu-user-static): the ARM run is not tested", c.qemu)
			}
			bin := filepath.Join(dir, "mncrun-"+c.goarch+c.goarm)
			if _, err := os.Stat(bin); err != nil {
				bin = crossBuild(t, dir, "github.com/mncdev/mnc/cmd/mncrun", "linux", c.goarch, c.goarm)
				os.Rename(bin, filepath.Join(dir, "mncrun-"+c.goarch+c.goarm))
				bin = filepath.Join(dir, "mncrun-"+c.goarch+c.goarm)
			}
			save := filepath.Join(t.TempDir(), "out.bin")
			cmd := exec.Command(q, append([]string{bin, "-top", "3", "-save", save, fx.model}, fx.images...)...)
			cmd.Env = os.Environ()
			if c.cpu != "" {
				cmd.Env = append(cmd.Env, "QEMU_CPU="+c.cpu)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, out)
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
