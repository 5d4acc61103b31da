//go:build !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAddConstsARM checks the choice of addNEON's path and the int16
// halves of the multipliers at the edges of the 32-bit path.
func TestAddConstsARM(t *testing.T) {
	for _, tc := range []struct {
		ma, mb, s int32
		fast      bool
	}{
		{1 << 30, 1 << 30, 31, true},
		{addFastMaxM - 1, 0, 17, true},
		{addFastMaxM, 1 << 30, 40, false},
		{1 << 30, addFastMaxM, 40, false},
		{1<<31 - 1, 1 << 30, 40, false},
		{1 << 30, 1 << 30, 16, false},
		{1 << 30, 1 << 30, 1, false},
		{0, 0, 62, true},
		{1<<15 - 1, 1 << 15, 62, true},
	} {
		p := AddParams{MA: tc.ma, MB: tc.mb, S: tc.s, Out: Full}
		c := addConstsFor(&p)
		if (c.fast == 1) != tc.fast {
			t.Errorf("%+v: fast = %d, want %v", tc, c.fast, tc.fast)
			continue
		}
		if !tc.fast {
			continue
		}
		for _, h := range [][3]int{{c.mah, c.mal, int(tc.ma)}, {c.mbh, c.mbl, int(tc.mb)}} {
			if h[0]<<16+h[1] != h[2] || h[0] < 0 || h[0] >= 1<<15 || h[1] < -1<<15 || h[1] >= 1<<15 {
				t.Errorf("%+v: halves %d, %d of %d", tc, h[0], h[1], h[2])
			}
		}
		if want := -min(int(tc.s)-16, 31); c.nsh16 != want {
			t.Errorf("%+v: nsh16 %d, want %d", tc, c.nsh16, want)
		}
	}
}

// TestAddNEONAllPairs runs addARM on every pair of input codes (65536
// elements, a multiple of 16) for parameters at the edges of both paths:
// shifts around 16, 31/32 and 47 (where the 32-bit path's shift reaches its
// cap), multipliers with many trailing zeros (ties of the rounding) and at
// the ends of their range, extreme zero points and clamps.
func TestAddNEONAllPairs(t *testing.T) {
	var a, b []int8
	for i := range 256 {
		for j := range 256 {
			a, b = append(a, int8(i)), append(b, int8(j))
		}
	}
	r := rand.New(rand.NewPCG(161, 162))
	ms := []int32{0, 1, 1 << 15, 1<<16 - 1, 1 << 16, 1<<16 + 1<<15, 1 << 30, 3 << 29, addFastMaxM - 1, addFastMaxM, 1<<31 - 1}
	shifts := []int32{1, 2, 15, 16, 17, 18, 24, 30, 31, 32, 33, 40, 46, 47, 48, 61, 62}
	zs := []int32{-128, -1, 0, 127}
	want, got := make([]int8, len(a)), make([]int8, len(a))
	for it := range 120 {
		p := AddParams{
			AZero: zs[r.IntN(len(zs))], BZero: zs[r.IntN(len(zs))], YZero: zs[r.IntN(len(zs))],
			MA: ms[r.IntN(len(ms))], MB: ms[r.IntN(len(ms))], S: shifts[it%len(shifts)], Out: Full,
		}
		switch r.IntN(4) {
		case 0:
			p.MA = int32(r.Int64N(1 << 31))
		case 1:
			p.MB = int32(r.Int64N(1 << 31))
			p.AZero, p.BZero, p.YZero = int32(r.IntN(256)-128), int32(r.IntN(256)-128), int32(r.IntN(256)-128)
		case 2:
			p.Out = Range{int8(r.IntN(100) - 50), int8(50 + r.IntN(77))}
		}
		if p.S >= 24 && p.S <= 40 && r.IntN(2) == 0 { // the typical scale ratios, not saturated
			p.MA, p.MB = int32(1<<30+r.IntN(1<<30)), int32(r.IntN(1<<31-1<<15))
		}
		Add(&p, a, b, want)
		addARM(&p, a, b, got)
		if !slices.Equal(got, want) {
			c := addConstsFor(&p)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%+v (fast %d): a=%d b=%d: %d, want %d", p, c.fast, a[i], b[i], got[i], want[i])
				}
			}
		}
	}
}

// TestAddNEONLengths checks addARM's split between addNEON and the generic
// tail for lengths around the vector width, with guard bytes.
func TestAddNEONLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(163, 164))
	for _, n := range []int{1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 255, 256, 257} {
		for _, p := range []AddParams{
			{AZero: -128, BZero: 127, YZero: 3, MA: 1 << 30, MB: 3 << 28, S: 31, Out: Full},
			{AZero: 5, BZero: -7, YZero: -128, MA: 1<<31 - 1, MB: 1 << 30, S: 40, Out: Range{-100, 100}},
		} {
			a, b := randI8(r, n, -128, 127), randI8(r, n, -128, 127)
			want := make([]int8, n)
			Add(&p, a, b, want)
			ga, gb, gy := newGuarded(r, a), newGuarded(r, b), newGuarded(r, make([]int8, n))
			addARM(&p, ga.s(), gb.s(), gy.s())
			name := fmt.Sprintf("n=%d %+v", n, p)
			ga.check(t, name)
			gb.check(t, name)
			gy.check(t, name)
			if !slices.Equal(gy.s(), want) {
				t.Errorf("%s: %v, want %v", name, gy.s(), want)
			}
		}
	}
}

// TestChanMulNEONAllProducts runs chanMulARM on every (x, g) pair of codes
// (256 pixels by 256 channels, and the same codes over 264 channels, so that
// the 8-wide tail sees them too) for multipliers at the edges of the rule:
// every shift class (S < 32 with the SQSHL pre-shift, saturating or not;
// S >= 32; S = 62 with a tiny M), M at both ends of its range and 0,
// extreme zero points and clamps.
func TestChanMulNEONAllProducts(t *testing.T) {
	r := rand.New(rand.NewPCG(165, 166))
	shifts := []int32{1, 2, 8, 15, 16, 17, 22, 24, 30, 31, 32, 33, 38, 40, 46, 47, 48, 61, 62}
	zs := []int32{-128, -1, 0, 127}
	for it := range 60 {
		c := []int{256, 264, 8, 24}[it%4]
		hw := 65536 / c
		x, g := make([]int8, hw*c), make([]int8, c)
		for i := range x {
			x[i] = int8(i / c)
		}
		for i := range g {
			g[i] = int8(i)
		}
		if c < 256 {
			x, g = randI8(r, hw*c, -128, 127), randI8(r, c, -128, 127)
		}
		s := shifts[it%len(shifts)]
		m := []int32{0, 1 << 30, 1<<31 - 1, int32(1<<30 + r.IntN(1<<30))}[r.IntN(4)]
		if s == MaxShift && r.IntN(2) == 0 {
			m = int32(r.IntN(1 << 20))
		}
		p := ChannelMulParams{N: 1, HW: hw, C: c, XZero: zs[r.IntN(4)], GZero: zs[r.IntN(4)], YZero: []int32{-128, int32(r.IntN(256) - 128)}[r.IntN(2)],
			Mult: Multiplier{M: m, S: s}, Out: []Range{Full, {-100, 50}, {0, 0}}[r.IntN(3)]}
		if err := p.Validate(x, g, make([]int8, len(x))); err != nil {
			t.Fatal(err)
		}
		want := make([]int8, len(x))
		ChannelMul(&p, x, g, want, 0, hw)
		gx, gy := newGuarded(r, x), newGuarded(r, make([]int8, len(x)))
		chanMulARM(&p, gx.s(), g, gy.s(), 0, hw)
		name := fmt.Sprintf("%+v", p)
		gy.check(t, name)
		if got := gy.s(); !slices.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: x=%d g=%d: %d, want %d", name, x[i], g[i%c], got[i], want[i])
				}
			}
		}
	}
}
