//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package runtime

import (
	"golang.org/x/sys/unix"
)

// mapFile maps a file read-only; an empty file is read (there is nothing
// to map). The mapping is shared: if the file is truncated while mapped,
// touching the lost pages faults (SIGBUS), which Run and OpenWith turn
// into an error (see faults.go).
func mapFile(path string) ([]byte, func() error, error) {
	f, size, err := openModelFile(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if size == 0 {
		return []byte{}, nil, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		// Some file systems cannot map: read instead.
		return readFile(path)
	}
	return data, func() error { return unix.Munmap(data) }, nil
}
