package limits

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/mncdev/mnc/runtime/esc"
)

// ErrEmptyPath is returned for an empty path.
var ErrEmptyPath = errors.New("empty path")

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
	return fmt.Errorf("%s is %s, not a regular file", esc.String(path), Kind(m))
}

// Kind says what a file of mode m is, for errors: "a directory", "a named
// pipe (FIFO)", "a symbolic link", "a regular file".
func Kind(m fs.FileMode) string {
	what := "not a regular file"
	switch {
	case m.IsRegular():
		what = "a regular file"
	case m&fs.ModeSymlink != 0:
		what = "a symbolic link"
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
	return what
}

// printablePath escapes the path of a *fs.PathError (esc.String).
func printablePath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = esc.String(pe.Path)
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

// Head returns the first n bytes of the regular file at path (opened by
// Open), or false when it cannot be read or is shorter: what the readers
// that recognise a format by its identifier look at.
func Head(path string, n int) ([]byte, bool) {
	f, _, err := Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	head := make([]byte, n)
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, false
	}
	return head, true
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
		return nil, fmt.Errorf("the %s %s is %s; the limit is %s", what, esc.String(path), Bytes(size), Bytes(max))
	}
	// Read at most max+1 bytes: the file may grow after the Stat.
	data := make([]byte, 0, size)
	data, err = readAll(io.LimitReader(f, max+1), data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", esc.String(path), err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("the %s %s is larger than the limit of %s", what, esc.String(path), Bytes(max))
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
