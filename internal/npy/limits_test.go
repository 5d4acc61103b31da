package npy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// npyFile writes a .npy header for shape with size bytes in all (a sparse
// file when size is large) and returns its path.
func npyFile(t *testing.T, shape []int, size int64) string {
	t.Helper()
	hdr, err := header(shape)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := os.WriteFile(path, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	if size >= 0 {
		if err := os.Truncate(path, int64(len(hdr))+size); err != nil {
			t.Skip(err)
		}
	}
	return path
}

// TestReadHeader: the header is checked against the file's size and the
// limit before any data is read, for ReadHeader and ReadFile alike.
func TestReadHeader(t *testing.T) {
	path := npyFile(t, []int{2, 3, 4, 5}, 4*120)
	h, err := ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.DType != "float32" || len(h.Shape) != 4 || h.Shape[3] != 5 || h.Size != 128+480 {
		t.Errorf("header %+v", h)
	}
	for _, c := range []struct {
		shape []int
		size  int64
		want  string
	}{
		{[]int{2, 3}, 23, "npy: truncated data: shape (2, 3) float32 needs a file of 152 bytes, the file has 151"},
		{[]int{2, 3}, 25, "npy: 1 bytes of trailing data after the (2, 3) array"},
		// 3 GiB of data, all present (sparse): refused from the header.
		{[]int{1024, 3, 512, 512}, 3 << 30, "npy: the (1024, 3, 512, 512) array needs 3 GiB as float32; the limit is 1 GiB"},
	} {
		path := npyFile(t, c.shape, c.size)
		for _, read := range []func(string) error{
			func(p string) error { _, err := ReadHeader(p); return err },
			func(p string) error { _, err := ReadFile(p); return err },
		} {
			if err := read(path); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, %d bytes: %v, want %q", c.shape, c.size, err, c.want)
			}
		}
	}
	if _, err := ReadHeader(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a directory, not a regular file") {
		t.Errorf("directory: %v", err)
	}
}
