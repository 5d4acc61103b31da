//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a file read-only; an empty file is read (there is nothing
// to map).
func mapFile(path string) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	size := st.Size()
	if size == 0 {
		return []byte{}, nil, nil
	}
	if size > maxFileBytes {
		return nil, nil, fmt.Errorf("%s: %d bytes is larger than the %d-byte limit", path, size, int64(maxFileBytes))
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		// Some file systems cannot map: read instead.
		return readFile(path)
	}
	return data, func() error { return unix.Munmap(data) }, nil
}
