package demo

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// WriteDataset writes samples 0..n-1 of the dataset seed (see Sample) as
// size x size PNG files in dir (created if needed), named by index and
// class, zero-padded to at least five digits: "00012_square.png". It also
// writes labels.txt, one class name per line (line k is class k), so the
// folder is self-describing. The files are encoded in parallel; their
// content does not depend on the scheduling. On error some files may have
// been written.
func WriteDataset(dir string, n int, seed uint64, size int) error {
	if err := checkDataset(n, size); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	labels := strings.Join(Classes, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "labels.txt"), []byte(labels), 0o644); err != nil {
		return err
	}
	return writeImages(n, seed, size, func(name string, class int) string { return filepath.Join(dir, name) })
}

// WriteImageFolder writes the same images as WriteDataset in ImageFolder
// layout, one subdirectory of dir per class named after it:
// dir/square/00012_square.png. `mnc eval --images dir` reads it.
func WriteImageFolder(dir string, n int, seed uint64, size int) error {
	if err := checkDataset(n, size); err != nil {
		return err
	}
	for _, c := range Classes {
		if err := os.MkdirAll(filepath.Join(dir, c), 0o755); err != nil {
			return err
		}
	}
	return writeImages(n, seed, size, func(name string, class int) string { return filepath.Join(dir, Classes[class], name) })
}

func checkDataset(n, size int) error {
	if n < 0 {
		return fmt.Errorf("demo: negative dataset size %d", n)
	}
	if size < MinSize || size > MaxSize {
		return fmt.Errorf("demo: image size %d out of range [%d, %d]", size, MinSize, MaxSize)
	}
	return nil
}

// writeImages encodes samples 0..n-1 in parallel, writing each to
// path(name, class).
func writeImages(n int, seed uint64, size int, path func(name string, class int) string) error {
	digits := max(5, len(strconv.Itoa(n-1)))
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var buf bytes.Buffer
			for i := w; i < n; i += workers {
				img, class := Sample(i, seed, size)
				buf.Reset()
				if err := png.Encode(&buf, img); err != nil {
					errs[w] = err
					return
				}
				name := fmt.Sprintf("%0*d_%s.png", digits, i, Classes[class])
				if err := os.WriteFile(path(name, class), buf.Bytes(), 0o644); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
