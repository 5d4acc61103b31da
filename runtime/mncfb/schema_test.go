package mncfb_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedSchema: mnc_generated.go is what flatc (Debian's
// flatbuffers-compiler) and gofmt make of mnc.fbs today. Locally
// the test skips without flatc; under CI (CI set) a missing flatc fails.
func TestGeneratedSchema(t *testing.T) {
	flatc, err := exec.LookPath("flatc")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("flatc not found: CI must install flatbuffers-compiler to check the generated schema code")
		}
		t.Skip("flatc not found (apt-get install flatbuffers-compiler): cannot check runtime/mncfb against mnc.fbs")
	}
	dir := t.TempDir()
	if out, err := exec.Command(flatc, "--go", "--gen-onefile", "--go-namespace", "mncfb", "-o", dir, "mnc.fbs").CombinedOutput(); err != nil {
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
	have, err := os.ReadFile("mnc_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatal("runtime/mncfb/mnc_generated.go is stale: run `go generate ./runtime/mncfb` and commit the result")
	}
}
