//go:build !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// TestDwArgsNeon32Layout checks the offsets asmgen_arm.go assumes.
func TestDwArgsNeon32Layout(t *testing.T) {
	var a dwArgsNeon32
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"row", unsafe.Offsetof(a.row), 0},
		{"tapStep", unsafe.Offsetof(a.tapStep), 12},
		{"pixFix", unsafe.Offsetof(a.pixFix), 16},
		{"w", unsafe.Offsetof(a.w), 20},
		{"epi", unsafe.Offsetof(a.epi), 24},
		{"y", unsafe.Offsetof(a.y), 28},
		{"c", unsafe.Offsetof(a.c), 32},
		{"npix", unsafe.Offsetof(a.npix), 36},
		{"cw", unsafe.Offsetof(a.cw), 40},
		{"boff", unsafe.Offsetof(a.boff), 44},
		{"zy", unsafe.Offsetof(a.zy), 48},
		{"lo", unsafe.Offsetof(a.lo), 64},
		{"hi", unsafe.Offsetof(a.hi), 72},
	} {
		if f.got != f.want {
			t.Errorf("dwArgsNeon32.%s at %d, asmgen_arm.go says %d", f.name, f.got, f.want)
		}
	}
}

// TestNeon32Depthwise sweeps the neon32 3x3 depthwise kernels against
// Depthwise: strides 1 and 2, dilations 1 and 2, every padding, channel
// counts around the 8-channel block and the 256-channel chunk, rows wide
// enough that padding rows are read in several segments of the zx buffer,
// weights with and without -128 (the two kernels), and multipliers with S
// below and above 32 (the two epilogues).
func TestNeon32Depthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(75, 76))
	n := 0
	for _, c := range []int{8, 16, 24, 32, 96, 144, 256, 264, 520} {
		for rep := range 6 {
			s, d := 1+r.IntN(2), 1+r.IntN(3)/2
			h, w := 1+r.IntN(9), 1+r.IntN(12)
			if rep == 0 {
				w = 8192/c + 3 + r.IntN(20) // a row longer than zx
			}
			pads := [4]int{r.IntN(3), r.IntN(3), r.IntN(3), r.IntN(3)}
			if h+pads[0]+pads[2] < 2*d+1 || w+pads[1]+pads[3] < 2*d+1 {
				continue
			}
			p, x, wt, bias := newConvCase(r, 1+r.IntN(2), h, w, c, c, 3, 3, s, s, d, d, pads[0], pads[1], pads[2], pads[3], c)
			if rep%2 == 1 {
				for i := range wt {
					wt[i] = max(wt[i], -127)
				}
			}
			wd := make([]int8, len(wt))
			for o := range c {
				for t := range 9 {
					wd[t*c+o] = wt[o*9+t]
				}
			}
			want := make([]int8, p.N*p.OH*p.OW*p.O)
			if err := p.ValidateDepthwise(x, wd, bias, want); err != nil {
				t.Fatal(err)
			}
			Depthwise(p, x, wd, bias, want, 0, p.Rows())
			packed := packDwNeon32(p, wd)
			if len(packed) != dwPackedLenNeon32(p) {
				t.Fatalf("C=%d: not packed", c)
			}
			got := make([]int8, len(want)+5)
			for i := range got {
				got[i] = 99
			}
			lo := r.IntN(p.Rows())
			Depthwise(p, x, wd, bias, got, 0, lo)
			dwRunNeon32(p, x, packed, bias, got[:len(want)], lo, p.Rows())
			name := fmt.Sprintf("3x3/%d d%d C=%d N=%d %dx%d pads %v zx=%d zy=%d lo=%d", s, d, c, p.N, h, w, pads, p.XZero, p.YZero, lo)
			if !slices.Equal(got[:len(want)], want) {
				reportDiff(t, name, got[:len(want)], want, c)
			}
			for _, v := range got[len(want):] {
				if v != 99 {
					t.Fatalf("%s: wrote past the output", name)
				}
			}
			n++
		}
	}
	t.Logf("%d cases", n)
}
