package codegen_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

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

// TestWriteFileRefusesNonRegular: WriteFile and CheckOutput never replace
// what is not a regular file (a symbolic link, even to a regular file, a
// FIFO, a device node, an empty name), leave it as it was and leave no
// temporary file behind.
func TestWriteFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.mnc")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.mnc")
	if err := os.Symlink("target.mnc", link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.mnc")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{link: "symbolic link", fifo: "named pipe", "": "empty"}
	dev := filepath.Join(dir, "null.mnc")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o644, int(unix.Mkdev(1, 3))); err == nil {
		paths[dev] = "character device"
	} else {
		t.Logf("no device node test (mknod: %v)", err)
	}
	before := listing(t, dir)
	for p, want := range paths {
		for name, fn := range map[string]func() error{
			"WriteFile":   func() error { return codegen.WriteFile(p, []byte("data")) },
			"CheckOutput": func() error { return codegen.CheckOutput(p) },
		} {
			err := fn()
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s(%q) = %v, want an error saying %q", name, p, err, want)
			}
		}
	}
	if after := listing(t, dir); after != before {
		t.Errorf("directory changed:\nbefore %s\nafter  %s", before, after)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link's target holds %q", b)
	}
}

func listing(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		fi, _ := os.Lstat(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s %v %d; ", e.Name(), fi.Mode(), fi.Size())
	}
	return b.String()
}
