package limits

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 1 << 30: "1 GiB", 1<<31 - 1: "2 GiB", 960 << 30: "960 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOpenRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"":                           "empty path",
		dir:                          "is a directory, not a regular file",
		fifo:                         "is a named pipe (FIFO), not a regular file",
		"/dev/null":                  "is a character device, not a regular file",
		filepath.Join(dir, "absent"): "no such file",
	} {
		f, _, err := Open(path)
		if err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded", path)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q): %v, want %q", path, err, want)
		}
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(path, 5, "test file"); err != nil || string(b) != "hello" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	_, err := ReadFile(path, 4, "test file")
	if err == nil || !strings.Contains(err.Error(), "the test file "+path+" is 5 B; the limit is 4 B") {
		t.Fatalf("ReadFile over the limit: %v", err)
	}
	// A sparse 8 GiB file is refused without reading it.
	big := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(8 << 30); err != nil {
		t.Skip("no sparse files here:", err)
	}
	f.Close()
	if _, err := ReadFile(big, ModelFile, "model file"); err == nil || !strings.Contains(err.Error(), "is 8 GiB; the limit is 2 GiB") {
		t.Fatalf("ReadFile of 8 GiB: %v", err)
	}
}
