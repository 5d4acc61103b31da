//go:build !purego

package kernels

import (
	"testing"
	"unsafe"
)

// TestDwArgsLayout checks the dwArgs offsets asmgen.go assumes (its dw*
// constants).
func TestDwArgsLayout(t *testing.T) {
	var a dwArgs
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"rows", unsafe.Offsetof(a.rows), 0},
		{"rowMask", unsafe.Offsetof(a.rowMask), 40},
		{"kwoff", unsafe.Offsetof(a.kwoff), 80},
		{"zx", unsafe.Offsetof(a.zx), 120},
		{"w", unsafe.Offsetof(a.w), 128},
		{"y", unsafe.Offsetof(a.y), 136},
		{"e", unsafe.Offsetof(a.e), 144},
		{"s", unsafe.Offsetof(a.s), 152},
		{"win", unsafe.Offsetof(a.win), 160},
		{"c", unsafe.Offsetof(a.c), 168},
		{"ow", unsafe.Offsetof(a.ow), 176},
		{"oxA", unsafe.Offsetof(a.oxA), 184},
		{"oxB", unsafe.Offsetof(a.oxB), 192},
		{"nblk", unsafe.Offsetof(a.nblk), 200},
		{"tail", unsafe.Offsetof(a.tail), 208},
		{"flags", unsafe.Offsetof(a.flags), 216},
		{"ox0", unsafe.Offsetof(a.ox0), 224},
		{"y2", unsafe.Offsetof(a.y2), 232},
		{"tp", unsafe.Offsetof(a.tp), 240},
	} {
		if c.got != c.want {
			t.Errorf("dwArgs.%s at %d, asmgen.go assumes %d", c.name, c.got, c.want)
		}
	}
}
