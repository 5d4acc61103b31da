//go:build !purego

package kernels

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

func TestDwF32ArgsARMLayout(t *testing.T) {
	var a dwF32ArgsARM
	var k actF32ARM
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{ // the offsets of asmgen_f32_arm64.go
		{"rows", unsafe.Offsetof(a.rows), 0},
		{"rowmask", unsafe.Offsetof(a.rowmask), 40},
		{"colmask", unsafe.Offsetof(a.colmask), 48},
		{"col0", unsafe.Offsetof(a.col0), 56},
		{"pstep", unsafe.Offsetof(a.pstep), 64},
		{"tstep", unsafe.Offsetof(a.tstep), 72},
		{"cstep", unsafe.Offsetof(a.cstep), 80},
		{"tiled", unsafe.Offsetof(a.tiled), 88},
		{"npix", unsafe.Offsetof(a.npix), 96},
		{"nblk", unsafe.Offsetof(a.nblk), 104},
		{"w", unsafe.Offsetof(a.w), 112},
		{"bias", unsafe.Offsetof(a.bias), 120},
		{"bstep", unsafe.Offsetof(a.bstep), 128},
		{"y", unsafe.Offsetof(a.y), 136},
		{"act", unsafe.Offsetof(a.act), 144},
		{"actF32ARM.lo", unsafe.Offsetof(k.lo), 0},
		{"actF32ARM.hi", unsafe.Offsetof(k.hi), 16},
		{"actF32ARM.a", unsafe.Offsetof(k.a), 32},
		{"actF32ARM.b", unsafe.Offsetof(k.b), 48},
		{"actF32ARM.mode", unsafe.Offsetof(k.mode), 64},
	} {
		if f.got != f.want {
			t.Errorf("%s at %d, asmgen_f32_arm64.go says %d", f.name, f.got, f.want)
		}
	}
}

// armF32Case is one call of each float32 kernel of the ARM64 Sets, on
// MobileNet-like shapes that take every fast path (GEMM tiles and partial
// blocks, depthwise tiles, borders and remainder channels, im2col).
type armF32Case struct {
	name string
	run  func()
}

func armF32Cases(s *Set) []armF32Case {
	r := rand.New(rand.NewPCG(81, 82))
	pwP := &ConvF32Params{N: 1, H: 7, W: 7, C: 96, OH: 7, OW: 7, O: 28, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Act: Activation{Kind: ActReLU6}}
	pwX, pwW, pwB := randF32(r, 49*96, 1), randF32(r, 28*96, 0.1), randF32(r, 28, 1)
	pwY := make([]float32, 49*28)
	pwPk := s.PackPointwiseF32(pwW, 28, 96)
	dwP := &ConvF32Params{N: 1, H: 14, W: 14, C: 38, OH: 7, OW: 7, O: 38, KH: 5, KW: 5, StrideH: 2, StrideW: 2, PadTop: 2, PadLeft: 2,
		Groups: 38, Act: Activation{Kind: ActHardSwish}}
	dwX, dwW, dwB := randF32(r, 14*14*38, 1), randF32(r, 25*38, 0.2), randF32(r, 38, 1)
	dwY := make([]float32, 49*38)
	dwPk := s.PackDepthwiseF32(dwP, dwW)
	cvP := &ConvF32Params{N: 1, H: 15, W: 15, C: 3, OH: 8, OW: 8, O: 16, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1,
		Act: Activation{Kind: ActReLU}}
	cvX, cvW := randF32(r, 15*15*3, 1), randF32(r, 16*27, 0.2)
	cvY := make([]float32, 64*16)
	cvPk := s.PackConvF32(cvP, cvW)
	gp := &GemmF32Params{M: 1, K: 64, N: 21, Act: Activation{Kind: ActHardSigmoid, Alpha: 0.2, Beta: 0.5}}
	gX, gW := randF32(r, 64, 1), randF32(r, 21*64, 0.1)
	gY := make([]float32, 21)
	gPk := s.PackGemmF32(gW, 21, 64)
	ea, eb, ey := randF32(r, 1003, 1), randF32(r, 1003, 1), make([]float32, 1003)
	cm := &ChannelMulF32Params{N: 1, HW: 9, C: 37, Act: Activation{Kind: ActClip, Lo: -1, Hi: 1}}
	cx, cg, cy := randF32(r, 9*37, 1), randF32(r, 37, 1), make([]float32, 9*37)
	act := Activation{Kind: ActReLU6}
	return []armF32Case{
		{"PointwiseF32", func() { s.PointwiseF32(pwP, pwX, pwPk, pwB, pwY, 3, 49) }},
		{"DepthwiseF32", func() { s.DepthwiseF32(dwP, dwX, dwPk, dwB, dwY, 0, 7) }},
		{"ConvF32", func() { s.ConvF32(cvP, cvX, cvPk, nil, cvY, 1, 8) }},
		{"GemmF32", func() { s.GemmF32(gp, gX, gPk, nil, gY, 0, 1) }},
		{"AddF32", func() { s.AddF32(act, ea, eb, ey) }},
		{"MulF32", func() { s.MulF32(act, ea, eb, ey) }},
		{"ActivateF32", func() { s.ActivateF32(act, ea, ey) }},
		{"ChannelMulF32", func() { s.ChannelMulF32(cm, cx, cg, cy, 2, 9) }},
		{"GlobalAveragePoolF32", func() { s.GlobalAveragePoolF32(1, 9, 37, cx, cy[:37]) }},
	}
}

// TestARMF32NoAllocs checks that the float32 kernels of the ARM64 Sets do
// not allocate.
func TestARMF32NoAllocs(t *testing.T) {
	for _, s := range accelSets(t) {
		for _, c := range armF32Cases(s) {
			if n := testing.AllocsPerRun(5, c.run); n != 0 {
				t.Errorf("%s %s: %v allocations per call", s.Name, c.name, n)
			}
		}
	}
}

// TestARMF32ShortSlices checks that the drivers panic, rather than let the
// assembly touch memory outside them, when a slice is shorter than the
// parameters say.
func TestARMF32ShortSlices(t *testing.T) {
	for _, s := range accelSets(t) {
		x, w, y := make([]float32, 8*16), make([]float32, 16*16), make([]float32, 8*16)
		pw := s.PackPointwiseF32(w, 16, 16)
		p := &ConvF32Params{N: 1, H: 1, W: 8, C: 16, OH: 1, OW: 8, O: 16, KH: 1, KW: 1, StrideH: 1, StrideW: 1}
		dp := &ConvF32Params{N: 1, H: 4, W: 4, C: 8, OH: 4, OW: 4, O: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, Groups: 8}
		dw := s.PackDepthwiseF32(dp, make([]float32, 72))
		cm := &ChannelMulF32Params{N: 1, HW: 8, C: 16}
		for _, c := range []struct {
			what string
			fn   func()
		}{
			{"pointwise y", func() { s.PointwiseF32(p, x, pw, nil, y[:8*16-1], 0, 8) }},
			{"pointwise x", func() { s.PointwiseF32(p, x[:8*16-1], pw, nil, y, 0, 8) }},
			{"pointwise w", func() { s.PointwiseF32(p, x, pw[:len(pw)-1], nil, y, 0, 8) }},
			{"pointwise bias", func() { s.PointwiseF32(p, x, pw, make([]float32, 15), y, 0, 8) }},
			{"depthwise y", func() { s.DepthwiseF32(dp, x, dw, nil, y[:127], 0, 4) }},
			{"depthwise x", func() { s.DepthwiseF32(dp, x[:127], dw, nil, y, 0, 4) }},
			{"depthwise rows", func() { s.DepthwiseF32(dp, x, dw, nil, y, 0, 5) }},
			{"channel-mul y", func() { s.ChannelMulF32(cm, x, x[:16], y[:127], 0, 8) }},
			{"pool y", func() { s.GlobalAveragePoolF32(1, 8, 16, x, y[:15]) }},
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s %s: no panic", s.Name, c.what)
					}
				}()
				c.fn()
			}()
		}
	}
}
