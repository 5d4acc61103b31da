package codegen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile writes data to path atomically: into a temporary file in the
// same directory, synced, then renamed over path. On any error the
// temporary file is removed and path is left as it was.
func WriteFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CheckOutput reports whether WriteFile can write path, before any work is
// done: its directory exists and is writable, and path is not a directory
// or another non-regular file (a device, a FIFO) that a rename would
// replace.
func CheckOutput(path string) error {
	if path == "" {
		return errors.New("the output file name is empty")
	}
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.IsDir():
			return fmt.Errorf("output %q is a directory; give a file name", path)
		case !fi.Mode().IsRegular():
			return fmt.Errorf("output %q exists and is not a regular file (%s); refusing to replace it", path, fi.Mode().Type())
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("output %q: %w", path, err)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("output %q: directory %q does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("output %q: %w", path, err)
	case !fi.IsDir():
		return fmt.Errorf("output %q: %q is not a directory", path, dir)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".check*")
	if err != nil {
		return fmt.Errorf("output %q: directory %q is not writable: %w", path, dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
