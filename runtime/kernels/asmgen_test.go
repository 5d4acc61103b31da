package kernels

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedAssembly checks that the checked-in generated assembly is
// what its generator writes (go generate ./runtime/kernels after editing
// asmgen.go or asmgen_f32.go; GOARCH=arm64 go generate ./runtime/kernels
// after editing asmgen_arm64.go or asmgen_f32_arm64.go; GOARCH=arm go
// generate ./runtime/kernels after editing asmgen_arm.go). It runs on any
// host.
func TestGeneratedAssembly(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	for _, g := range []struct {
		gen   string
		files []string
	}{
		{"asmgen.go", []string{"gemm_amd64.s", "depthwise_amd64.s"}},
		{"asmgen_f32.go", []string{"gemm_f32_amd64.s", "depthwise_f32_amd64.s", "elementwise_f32_amd64.s"}},
		{"asmgen_arm64.go", []string{"gemm_arm64.s", "depthwise_arm64.s", "elementwise_arm64.s"}},
		{"asmgen_f32_arm64.go", []string{"gemm_f32_arm64.s", "depthwise_f32_arm64.s", "elementwise_f32_arm64.s"}},
		{"asmgen_arm.go", []string{"gemm_arm.s", "depthwise_arm.s", "elementwise_arm.s"}},
	} {
		dir := t.TempDir()
		cmd := exec.Command(gobin, "run", g.gen, "-dir", dir)
		// The generator runs on the host: under go test -exec (a cross-built
		// test binary in qemu) the environment names the target's GOOS/GOARCH.
		cmd.Env = append(os.Environ(), "GOOS=", "GOARCH=", "GOARM=", "GO386=", "GOAMD64=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go run %s: %v\n%s", g.gen, err, out)
		}
		for _, name := range g.files {
			want, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is not what %s writes: run go generate (see the test's comment)", name, g.gen)
			}
		}
	}
}
