//go:build linux && amd64 && !purego

package kernels

import (
	"syscall"
	"testing"
	"unsafe"
)

// pageGuarded returns a copy of data placed against an inaccessible page:
// ending exactly where one starts (tail) or starting exactly where one ends
// (head), so that a kernel reading past the slice's end, or before its
// start, faults. The guard tests of set_f32_test.go only see writes.
func pageGuarded(t testing.TB, data []float32, tail bool) []float32 {
	t.Helper()
	ps := syscall.Getpagesize()
	n := 4 * len(data)
	size := (n+ps-1)/ps*ps + 2*ps
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	// Pages: [guard][data...][guard].
	if err := syscall.Mprotect(mem[:ps], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[size-ps:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	off := ps
	if tail {
		off = size - ps - n
	}
	s := unsafe.Slice((*float32)(unsafe.Pointer(&mem[off])), len(data))
	copy(s, data)
	return s
}
