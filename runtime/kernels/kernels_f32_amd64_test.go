//go:build !purego

package kernels

import (
	"testing"
	"unsafe"
)

// TestF32ArgsLayout checks the offsets asmgen_f32.go assumes.
func TestF32ArgsLayout(t *testing.T) {
	var g gemmF32Args
	var d dwF32Args
	var v actF32
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"gemm.seg", unsafe.Offsetof(g.seg), 0},
		{"gemm.nseg", unsafe.Offsetof(g.nseg), 64},
		{"gemm.seglen", unsafe.Offsetof(g.seglen), 72},
		{"gemm.xstride", unsafe.Offsetof(g.xstride), 80},
		{"gemm.w", unsafe.Offsetof(g.w), 88},
		{"gemm.npix", unsafe.Offsetof(g.npix), 96},
		{"gemm.y", unsafe.Offsetof(g.y), 104},
		{"gemm.ystride", unsafe.Offsetof(g.ystride), 112},
		{"gemm.bias", unsafe.Offsetof(g.bias), 120},
		{"gemm.mask", unsafe.Offsetof(g.mask), 128},
		{"gemm.act", unsafe.Offsetof(g.act), 136},
		{"gemm.mvec", unsafe.Offsetof(g.mvec), 144},
		{"gemm.pstride", unsafe.Offsetof(g.pstride), 176},
		{"gemm.pf", unsafe.Offsetof(g.pf), 184},
		{"dw.taps", unsafe.Offsetof(d.taps), 0},
		{"dw.valid", unsafe.Offsetof(d.valid), 200},
		{"dw.w", unsafe.Offsetof(d.w), 208},
		{"dw.bias", unsafe.Offsetof(d.bias), 216},
		{"dw.y", unsafe.Offsetof(d.y), 224},
		{"dw.xstep", unsafe.Offsetof(d.xstep), 232},
		{"dw.ystep", unsafe.Offsetof(d.ystep), 240},
		{"dw.npix", unsafe.Offsetof(d.npix), 248},
		{"dw.nvec", unsafe.Offsetof(d.nvec), 256},
		{"dw.mask", unsafe.Offsetof(d.mask), 264},
		{"dw.act", unsafe.Offsetof(d.act), 272},
		{"dw.nrows", unsafe.Offsetof(d.nrows), 280},
		{"dw.xrow", unsafe.Offsetof(d.xrow), 288},
		{"dw.yrow", unsafe.Offsetof(d.yrow), 296},
		{"dw scratch", unsafe.Sizeof(d), 328},
		{"act.lo", unsafe.Offsetof(v.lo), 0},
		{"act.hi", unsafe.Offsetof(v.hi), 64},
		{"act.a", unsafe.Offsetof(v.a), 128},
		{"act.b", unsafe.Offsetof(v.b), 192},
		{"act.c", unsafe.Offsetof(v.c), 256},
		{"act.kind", unsafe.Offsetof(v.kind), 320},
	} {
		if c.got != c.want {
			t.Errorf("%s at offset %d, asmgen_f32.go assumes %d", c.name, c.got, c.want)
		}
	}
}
