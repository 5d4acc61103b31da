package codegen_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/codegen"
)

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
