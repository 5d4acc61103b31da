//go:build !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

func TestDwArgsARMLayout(t *testing.T) {
	var a dwArgsARM
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"base", unsafe.Offsetof(a.base), 0},
		{"step", unsafe.Offsetof(a.step), 200},
		{"w0", unsafe.Offsetof(a.w0), 400},
		{"w1", unsafe.Offsetof(a.w1), 408},
		{"y", unsafe.Offsetof(a.y), 416},
		{"epi", unsafe.Offsetof(a.epi), 424},
		{"acc", unsafe.Offsetof(a.acc), 432},
		{"c", unsafe.Offsetof(a.c), 440},
		{"npix", unsafe.Offsetof(a.npix), 448},
		{"nblk", unsafe.Offsetof(a.nblk), 456},
		{"tail", unsafe.Offsetof(a.tail), 464},
		{"zy", unsafe.Offsetof(a.zy), 472},
		{"lo", unsafe.Offsetof(a.lo), 480},
		{"hi", unsafe.Offsetof(a.hi), 488},
	} {
		if f.got != f.want {
			t.Errorf("dwArgsARM.%s at %d, asmgen_arm64.go says %d", f.name, f.got, f.want)
		}
	}
}

// TestDepthwiseNEON runs the NEON depthwise kernels over strides,
// dilations, pads, channel counts around the 16- and 8-wide blocks and the
// 512-channel chunk, against the generic twin: with symmetric weights in
// [-127, 127] (the paired kernels; TestSetDepthwise's random weights mostly
// hold a -128) and with weights of -128 (the "w" kernels), at the extremes
// of the int16 pair sums too.
func TestDepthwiseNEON(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	n := 0
	for _, k := range []int{3, 5} {
		for _, c := range []int{8, 16, 24, 40, 72, 120, 504, 520, 1032} {
			for rep := range 6 {
				s := 1 + rep%2
				d := 1
				if rep == 5 {
					d = 2
				}
				h, w := 1+r.IntN(12), 1+r.IntN(12)
				if c > 500 {
					h, w = 1+r.IntN(5), 1+r.IntN(6)
				}
				pads := [4]int{r.IntN(k), r.IntN(k), r.IntN(k), r.IntN(k)}
				if rep < 2 {
					pads = [4]int{k / 2, k / 2, k / 2, k / 2}
				}
				if h+pads[0]+pads[2] < d*(k-1)+1 || w+pads[1]+pads[3] < d*(k-1)+1 {
					continue
				}
				p, x, _, bias := newConvCase(r, 1+r.IntN(2), h, w, c, c, k, k, s, s, d, d, pads[0], pads[1], pads[2], pads[3], c)
				minW := int8(-127)
				if rep%3 == 2 {
					minW = -128
				}
				wd := randI8(r, k*k*c, int(minW), 127)
				if rep >= 3 {
					wd = slices.Repeat([]int8{[]int8{127, minW}[r.IntN(2)]}, k*k*c)
					x = slices.Repeat([]int8{-128}, len(x))
				}
				if minW == -128 {
					wd[r.IntN(len(wd))] = -128
				}
				want := make([]int8, p.N*p.OH*p.OW*p.O)
				if err := p.ValidateDepthwise(x, wd, bias, want); err != nil {
					t.Fatal(err)
				}
				Depthwise(p, x, wd, bias, want, 0, p.Rows())
				pw := packDwARM(p, wd)
				if len(pw) != dwPackedLenARM(p) || pw[len(pw)-1] != map[bool]int8{true: 1, false: 0}[minW == -128] {
					t.Fatalf("%dx%d C=%d: packed to %d bytes, flag %d", k, k, c, len(pw), pw[len(pw)-1])
				}
				name := fmt.Sprintf("w>=%d %dx%d/%d d%d C=%d %dx%d pads %v zx=%d zy=%d out=%v", minW, k, k, s, d, c, h, w, pads, p.XZero, p.YZero, p.Out)
				gx, gw := newGuarded(r, x), newGuarded(r, pw)
				gy := newGuarded(r, make([]int8, len(want)))
				for _, sp := range splits(r, p.Rows()) {
					dwRunARM(p, gx.s(), gw.s(), bias, gy.s(), sp[0], sp[1])
				}
				gx.check(t, name+" x")
				gw.check(t, name+" w")
				gy.check(t, name+" y")
				if !slices.Equal(gy.s(), want) {
					reportDiff(t, name, gy.s(), want, c)
				}
				n++
			}
		}
	}
	t.Logf("%d cases", n)
}
