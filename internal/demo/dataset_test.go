package demo

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteDataset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "set")
	const n, seed, size = 23, 11, 48
	if err := WriteDataset(dir, n, seed, size); err != nil {
		t.Fatal(err)
	}
	labels, err := os.ReadFile(filepath.Join(dir, "labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(Classes, "\n") + "\n"; string(labels) != want {
		t.Errorf("labels.txt = %q, want %q", labels, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n+1 {
		t.Errorf("%d files, want %d images + labels.txt", len(entries), n)
	}
	for i := range n {
		want, class := Sample(i, seed, size)
		name := fmt.Sprintf("%05d_%s.png", i, Classes[class])
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := image.NewRGBA(m.Bounds())
		draw.Draw(got, got.Rect, m, m.Bounds().Min, draw.Src)
		if !bytes.Equal(got.Pix, want.Pix) || got.Rect != want.Rect {
			t.Errorf("%s: pixels differ from Sample(%d)", name, i)
		}
	}
}

func TestWriteDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	if err := WriteDataset(dir, -1, 0, 64); err == nil {
		t.Error("n = -1: no error")
	}
	if err := WriteDataset(dir, 1, 0, 8); err == nil {
		t.Error("size 8: no error")
	}
	// A file where the directory should be.
	f := filepath.Join(dir, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDataset(f, 1, 0, 64); err == nil {
		t.Error("dir is a file: no error")
	}
	// Zero images: just labels.txt.
	empty := filepath.Join(dir, "empty")
	if err := WriteDataset(empty, 0, 0, 64); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 1 {
		t.Errorf("n = 0: %d files, want labels.txt only", len(entries))
	}
}

// TestWriteImageFolder: the same images as WriteDataset, one folder per
// class.
func TestWriteImageFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "test")
	const n, seed, size = 23, 11, 48
	if err := WriteImageFolder(dir, n, seed, size); err != nil {
		t.Fatal(err)
	}
	flat := filepath.Join(t.TempDir(), "flat")
	if err := WriteDataset(flat, n, seed, size); err != nil {
		t.Fatal(err)
	}
	count := 0
	for k, c := range Classes {
		entries, err := os.ReadDir(filepath.Join(dir, c))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			count++
			got, err := os.ReadFile(filepath.Join(dir, c, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(flat, e.Name()))
			if err != nil || !bytes.Equal(got, want) || !strings.HasSuffix(e.Name(), "_"+Classes[k]+".png") {
				t.Errorf("%s/%s differs from the flat set's file (%v)", c, e.Name(), err)
			}
		}
	}
	if count != n {
		t.Errorf("%d images, want %d", count, n)
	}
}
