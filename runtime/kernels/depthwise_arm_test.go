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
		{"tapStep", unsafe.Offsetof(a.tapStep), 20},
		{"pixFix", unsafe.Offsetof(a.pixFix), 24},
		{"w", unsafe.Offsetof(a.w), 28},
		{"epi", unsafe.Offsetof(a.epi), 32},
		{"y", unsafe.Offsetof(a.y), 36},
		{"c", unsafe.Offsetof(a.c), 40},
		{"npix", unsafe.Offsetof(a.npix), 44},
		{"cw", unsafe.Offsetof(a.cw), 48},
		{"boff", unsafe.Offsetof(a.boff), 52},
		{"acc", unsafe.Offsetof(a.acc), 56},
		{"zy", unsafe.Offsetof(a.zy), 60},
		{"lo", unsafe.Offsetof(a.lo), 76},
		{"hi", unsafe.Offsetof(a.hi), 84},
	} {
		if f.got != f.want {
			t.Errorf("dwArgsNeon32.%s at %d, asmgen_arm.go says %d", f.name, f.got, f.want)
		}
	}
}

// TestNeon32Depthwise sweeps the neon32 3x3 and 5x5 depthwise kernels
// against Depthwise: strides 1 and 2, dilations 1 and 2, every padding,
// channel counts around the 8-channel block and the 256-channel chunk, rows
// wide enough that padding rows are read in several segments of the zx
// buffer (and, for 5x5, longer than the acc scratch), weights with and
// without -128 (the two kernels), and multipliers with S below and above
// 32 (the two epilogues).
func TestNeon32Depthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(75, 76))
	n := 0
	for _, k := range []int{3, 5} {
		for _, c := range []int{8, 16, 24, 32, 96, 144, 256, 264, 520} {
			for rep := range 6 {
				s, d := 1+r.IntN(2), 1+r.IntN(3)/2
				h, w := 1+r.IntN(9), 1+r.IntN(12)
				switch rep {
				case 0:
					w = 8192/c + 3 + r.IntN(20) // a row longer than zx
				case 1:
					w = s*dwPixNeon32 + 10 + r.IntN(20) // more pixels than acc
				}
				if c > 96 && h*w > 400 {
					h = 2
				}
				pads := [4]int{r.IntN(k), r.IntN(k), r.IntN(k), r.IntN(k)}
				if h+pads[0]+pads[2] < (k-1)*d+1 || w+pads[1]+pads[3] < (k-1)*d+1 {
					continue
				}
				p, x, wt, bias := newConvCase(r, 1+r.IntN(2), h, w, c, c, k, k, s, s, d, d, pads[0], pads[1], pads[2], pads[3], c)
				if rep%2 == 1 {
					for i := range wt {
						wt[i] = max(wt[i], -127)
					}
				}
				wd := make([]int8, len(wt))
				for o := range c {
					for t := range k * k {
						wd[t*c+o] = wt[o*k*k+t]
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
				name := fmt.Sprintf("%dx%d/%d d%d C=%d N=%d %dx%d pads %v zx=%d zy=%d lo=%d", k, k, s, d, c, p.N, h, w, pads, p.XZero, p.YZero, lo)
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
	}
	t.Logf("%d cases", n)
}
