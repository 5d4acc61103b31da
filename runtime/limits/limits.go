package limits

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The budget. Sizes are in bytes unless named otherwise.
const (
	// ModelFile bounds every model file read or mapped whole: ONNX
	// (protobuf's own 2 GiB limit), .pth, .safetensors and .mnc.
	ModelFile = 1<<31 - 1
)

// Runtime: .mnc model files, images and the runner. The model limits are
// checked by the runtime's verifier and, with the same constants, by the
// compiler before it writes a file.
const (
	// ModelArena bounds the activation memory (the arena) of a .mnc model,
	// and so every activation tensor.
	ModelArena = 512 << 20
	// ModelTensorElements bounds the elements of any tensor of a .mnc
	// model.
	ModelTensorElements = 1 << 30
	// ModelTensors, ModelOps and ModelBuffers bound the tensors, operators
	// and constant buffers of a .mnc model.
	ModelTensors = 1 << 16
	ModelOps     = 1 << 16
	ModelBuffers = 1 << 16

	// ImageFile bounds the size of an image file (JPEGs are read whole).
	ImageFile = 512 << 20
	// ImagePixels bounds an image's width x height, read from its header
	// before decoding, and the resized image of the preprocessing.
	ImagePixels = 1 << 27
	// ImageMemory bounds the memory decoding and preprocessing one image
	// takes, computed from its header before anything is allocated: the
	// decoder's buffers and result (from 1 byte a pixel for gray to 8 for
	// 16-bit PNGs, plus the coefficients of progressive JPEGs and the
	// alpha planes of WebPs), mnc's RGBA copy (4 bytes a pixel) and the
	// first resize pass (at most as large when downscaling). 1 GiB admits
	// a 50-megapixel (8160x6120) photo as a JPEG (baseline or progressive
	// YCbCr), an 8- or 16-bit PNG, a BMP or a lossy or lossless WebP.
	ImageMemory = 1 << 30

	// BenchRuns bounds mncrun's -runs (its timings are preallocated).
	BenchRuns = 1_000_000
)

// ErrEmptyPath is returned for an empty path.
var ErrEmptyPath = errors.New("empty path")

// Bytes formats n bytes for people: "512 B", "3.5 KiB", "2 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	s := fmt.Sprintf("%.1f", v)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s + " " + "KMGTPE"[i:i+1] + "iB"
}

// CheckRegular returns an error unless path names a regular file (after
// following symbolic links). The error says what the path is instead.
func CheckRegular(path string) (fs.FileInfo, error) {
	if path == "" {
		return nil, ErrEmptyPath
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, printablePath(err)
	}
	if err := regular(path, st); err != nil {
		return nil, err
	}
	return st, nil
}

func regular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a device"
	}
	return fmt.Errorf("%s is %s, not a regular file", Printable(path), what)
}

// printablePath escapes the path of a *fs.PathError (Printable).
func printablePath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = Printable(pe.Path)
	}
	return err
}

// Open opens path for reading after checking that it names a regular
// file, and checks again on the open file (the path may have been replaced
// in between; the open itself never blocks on a FIFO, see openFlags).
func Open(path string) (*os.File, fs.FileInfo, error) {
	if _, err := CheckRegular(path); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, nil, printablePath(err)
	}
	st, err := f.Stat()
	if err == nil {
		err = regular(path, st)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// ReadFile reads the regular file at path whole, refusing it before
// allocating anything when it is larger than max bytes; what names the
// file's kind in that error ("the ONNX file ... is 8 GiB; the limit is
// 2 GiB").
func ReadFile(path string, max int64, what string) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := st.Size()
	if size > max {
		return nil, fmt.Errorf("the %s %s is %s; the limit is %s", what, Printable(path), Bytes(size), Bytes(max))
	}
	// Read at most max+1 bytes: the file may grow after the Stat.
	data := make([]byte, 0, size)
	data, err = readAll(io.LimitReader(f, max+1), data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", Printable(path), err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("the %s %s is larger than the limit of %s", what, Printable(path), Bytes(max))
	}
	return data, nil
}

func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
