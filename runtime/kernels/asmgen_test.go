package kernels

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedAssembly checks that the checked-in generated assembly is
// what asmgen.go writes (go generate ./runtime/kernels after editing it).
func TestGeneratedAssembly(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	cmd := exec.Command(gobin, "run", "asmgen.go", "-dir", dir)
	// The generator runs on the host: under go test -exec (a cross-built test
	// binary in qemu) the environment names the target's GOOS/GOARCH.
	cmd.Env = append(os.Environ(), "GOOS=", "GOARCH=", "GOARM=", "GO386=", "GOAMD64=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run asmgen.go: %v\n%s", err, out)
	}
	for _, name := range []string{"gemm_amd64.s", "depthwise_amd64.s"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what asmgen.go writes: run go generate ./runtime/kernels", name)
		}
	}
}
