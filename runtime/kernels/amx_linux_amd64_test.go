//go:build linux && amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"unsafe"
)

// The AMX GEMM reads 64-byte tile columns of whole 32-row groups; runAMX
// must keep those reads inside x (reading rows in place only where they
// are, copying the others). These tests put x and the packed weights
// against an inaccessible page and check that the AMX path is the one
// taken.

// pageGuardedI8 is pageGuarded for int8: data ending where an inaccessible
// page starts.
func pageGuardedI8(t testing.TB, data []int8) []int8 {
	t.Helper()
	ps := syscall.Getpagesize()
	size := (len(data)+ps-1)/ps*ps + ps
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size-ps:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	off := size - ps - len(data)
	s := unsafe.Slice((*int8)(unsafe.Pointer(&mem[off])), len(data))
	copy(s, data)
	return s[:len(data):len(data)]
}

func TestAMXPageGuard(t *testing.T) {
	if _, err := Select("amx"); err != nil {
		t.Skipf("no AMX here: %v", err)
	}
	r := rand.New(rand.NewPCG(41, 42))
	for _, sh := range [][3]int{{16, 64, 16}, {17, 64, 40}, {33, 65, 17}, {100, 144, 24}, {31, 4096, 33}, {200, 960, 48}, {47, 72, 300}} {
		pix, k, o := sh[0], sh[1], sh[2]
		l := gemmAMX.layout(o, k)
		if !gemmAMX.amxFor(pix, l) {
			t.Fatalf("%v: the AMX path is not taken", sh)
		}
		c := newGemmCase(r, pix, k, o)
		want := make([]int8, pix*o)
		gemmRows(c.x, c.w, c.bias, want, k, o, c.zx, c.mult, c.zy, c.out, 0, pix)
		x := pageGuardedI8(t, c.x)
		w := pageGuardedI8(t, packGemm(c.w, l))
		got := make([]int8, pix*o)
		for _, sp := range [][2]int{{0, pix}, {0, pix / 2}, {pix / 2, pix}} {
			clear(got[sp[0]*o : sp[1]*o])
			gemmAMX.run(x, k, k, false, w, c.bias, got, o, c.zx, c.mult, c.zy, c.out, sp[0], sp[1])
		}
		if !slices.Equal(got, want) {
			reportDiff(t, fmt.Sprintf("AMX %v", sh), got, want, o)
		}
	}
	// The VNNI kernels take what AMX does not.
	for _, sh := range [][2]int{{15, 64}, {100, 63}, {100, 16385}} {
		if gemmAMX.amxFor(sh[0], gemmAMX.layout(32, sh[1])) {
			t.Errorf("rows %d of %d: AMX path taken, want the VNNI kernels", sh[0], sh[1])
		}
	}
}
