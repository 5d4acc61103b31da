package codegen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mncdev/mnc/runtime/limits"
)

// WriteFile writes data to path atomically: into a temporary file in the
// same directory, synced, then renamed over path. path must name nothing
// or a regular file, not a symbolic link (see the package doc), checked
// before the temporary file is made and again just before the rename. On
// any error the temporary file is removed and path is left as it was.
func WriteFile(path string, data []byte) (err error) {
	if err := checkTarget(path); err != nil {
		return err
	}
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
	if err = checkTarget(path); err != nil { // it may have changed meanwhile
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// checkTarget returns an error unless path is a name WriteFile may
// replace: nothing, or a regular file (not followed through a link).
func checkTarget(path string) error {
	if path == "" {
		return errors.New("the output file name is empty")
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("output %q: %w", path, err)
	case fi.Mode().IsRegular():
		return nil
	case fi.IsDir():
		return fmt.Errorf("output %q is a directory; give a file name", path)
	case fi.Mode()&os.ModeSymlink != 0:
		to, _ := os.Readlink(path)
		return fmt.Errorf("output %q is a symbolic link (to %q); mnc does not write through links: give the file itself", path, to)
	}
	return fmt.Errorf("output %q is %s, not a regular file; refusing to replace it", path, limits.Kind(fi.Mode()))
}

// CheckOutput reports whether WriteFile can write path, before any work is
// done: path is not empty, names nothing or a regular file (not a
// directory, device, FIFO, socket or symbolic link, which WriteFile
// refuses), and its directory exists and is writable.
func CheckOutput(path string) error {
	if err := checkTarget(path); err != nil {
		return err
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
