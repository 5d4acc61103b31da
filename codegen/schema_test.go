package codegen_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/codegen"
)

// TestGeneratedSchema: runtime/mncfb is what flatc (Debian's
// flatbuffers-compiler) and gofmt make of schema/mnc.fbs today. Locally
// the test skips without flatc; under CI (CI set) a missing flatc fails.
func TestGeneratedSchema(t *testing.T) {
	flatc, err := exec.LookPath("flatc")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("flatc not found: CI must install flatbuffers-compiler to check the generated schema code")
		}
		t.Skip("flatc not found (apt-get install flatbuffers-compiler): cannot check runtime/mncfb against schema/mnc.fbs")
	}
	dir := t.TempDir()
	if out, err := exec.Command(flatc, "--go", "--gen-onefile", "--go-namespace", "mncfb", "-o", dir, "schema/mnc.fbs").CombinedOutput(); err != nil {
		t.Fatalf("flatc: %v\n%s", err, out)
	}
	gen := filepath.Join(dir, "mnc_generated.go")
	if out, err := exec.Command("gofmt", "-w", gen).CombinedOutput(); err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	want, err := os.ReadFile(gen)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("../runtime/mncfb/mnc_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatal("runtime/mncfb/mnc_generated.go is stale: run `go generate ./codegen` and commit the result")
	}
}

// TestWriteFileAtomic: a write that fails leaves neither the file nor a
// temporary; a successful one replaces the old file whole.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.mnc")
	if err := codegen.WriteFile(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := codegen.WriteFile(path, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "second" {
		t.Errorf("file holds %q", b)
	}
	// Renaming onto a directory fails: nothing may be left behind.
	bad := filepath.Join(dir, "sub")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := codegen.WriteFile(bad, []byte("data")); err == nil {
		t.Error("writing over a non-empty directory succeeded")
	}
	if err := codegen.WriteFile(filepath.Join(dir, "missing", "m.mnc"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "m.mnc" && e.Name() != "sub" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
