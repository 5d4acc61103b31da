//go:build !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/cpu"
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

func TestDwDot8ArgsLayout(t *testing.T) {
	var a dwDot8Args
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"rows", unsafe.Offsetof(a.rows), 0},
		{"w", unsafe.Offsetof(a.w), 64},
		{"y0", unsafe.Offsetof(a.y0), 72},
		{"y1", unsafe.Offsetof(a.y1), 80},
		{"epi", unsafe.Offsetof(a.epi), 88},
		{"c", unsafe.Offsetof(a.c), 96},
		{"npix", unsafe.Offsetof(a.npix), 104},
		{"nblk", unsafe.Offsetof(a.nblk), 112},
		{"zy", unsafe.Offsetof(a.zy), 120},
		{"lo", unsafe.Offsetof(a.lo), 128},
		{"hi", unsafe.Offsetof(a.hi), 136},
		{"clamp", unsafe.Offsetof(a.clamp), 144},
		{"zx", unsafe.Offsetof(a.zx), 152},
		{"wcols", unsafe.Offsetof(a.wcols), 160},
		{"ix0", unsafe.Offsetof(a.ix0), 168},
	} {
		if f.got != f.want {
			t.Errorf("dwDot8Args.%s at %d, asmgen_arm64.go says %d", f.name, f.got, f.want)
		}
	}
}

// TestDwDot5Fallback checks that 5x5 layers the SDOT kernels do not take
// (dilation 2, stride 3, W*C beyond the zx row) pack without SDOT weights
// and still match the twin on the NEON kernels.
func TestDwDot5Fallback(t *testing.T) {
	r := rand.New(rand.NewPCG(85, 86))
	for _, tc := range []struct{ h, w, c, s, d int }{{9, 9, 16, 1, 2}, {9, 9, 16, 3, 1}, {3, dwZRowMax/64 + 1, 64, 1, 1}} {
		p, x, wd, bias := newConvCase(r, 1, tc.h, tc.w, tc.c, tc.c, 5, 5, tc.s, tc.s, tc.d, tc.d, 2, 2, 2, 2, tc.c)
		if dwDot8Packed(p) || dwDotLen(p) != 0 || len(packDwDot(p, wd)) != dwPackedLenARM(p) {
			t.Fatalf("%+v: packed for the SDOT kernels", tc)
		}
		want := make([]int8, p.N*p.OH*p.OW*p.O)
		Depthwise(p, x, wd, bias, want, 0, p.Rows())
		if !cpu.ARM64.HasASIMDDP {
			continue
		}
		got := make([]int8, len(want))
		dwRunDot(p, x, packDwDot(p, wd), bias, got, 0, p.Rows())
		if !slices.Equal(got, want) {
			reportDiff(t, fmt.Sprintf("%+v", tc), got, want, tc.c)
		}
	}
}

func TestDwDotArgsLayout(t *testing.T) {
	var a dwDotArgs
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"rows", unsafe.Offsetof(a.rows), 0},
		{"steps", unsafe.Offsetof(a.steps), 32},
		{"w", unsafe.Offsetof(a.w), 64},
		{"y0", unsafe.Offsetof(a.y0), 72},
		{"y1", unsafe.Offsetof(a.y1), 80},
		{"epi", unsafe.Offsetof(a.epi), 88},
		{"c", unsafe.Offsetof(a.c), 96},
		{"npix", unsafe.Offsetof(a.npix), 104},
		{"nblk", unsafe.Offsetof(a.nblk), 112},
		{"zy", unsafe.Offsetof(a.zy), 120},
		{"lo", unsafe.Offsetof(a.lo), 128},
		{"hi", unsafe.Offsetof(a.hi), 136},
		{"clamp", unsafe.Offsetof(a.clamp), 144},
		{"zx", unsafe.Offsetof(a.zx), 152},
		{"wcols", unsafe.Offsetof(a.wcols), 160},
		{"ix0", unsafe.Offsetof(a.ix0), 168},
	} {
		if f.got != f.want {
			t.Errorf("dwDotArgs.%s at %d, asmgen_arm64.go says %d", f.name, f.got, f.want)
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
		for _, c := range []int{8, 16, 24, 32, 40, 64, 72, 120, 504, 520, 528, 1032} {
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
				run, pack := dwRunARM, packDwARM
				for _, dot := range []bool{false, true} {
					if dot {
						if !cpu.ARM64.HasASIMDDP {
							continue
						}
						run, pack, name = dwRunDot, packDwDot, name+" dotprod"
					}
					pw := pack(p, wd)
					gx, gw := newGuarded(r, x), newGuarded(r, pw)
					gy := newGuarded(r, make([]int8, len(want)))
					for _, sp := range splits(r, p.Rows()) {
						run(p, gx.s(), gw.s(), bias, gy.s(), sp[0], sp[1])
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
	}
	t.Logf("%d cases", n)
}

// TestDepthwiseDot sweeps the SDOT kernels of 3x3 and 5x5 stride-1 and -2
// layers (pairs of rows and a single last row, image boundaries, pads 0 to
// k-1 on every side, widths 1-11 (the 8-channel kernels: 1-16) around their
// 3- and 5-pixel unrolls, channels around the 512-channel chunk, for the
// 8-channel kernels (5x5, 3x3 of C % 16 = 8) any multiple of 8)
// with typical multipliers (S >= 32), ones sharing S (the uniform
// shift) and extreme ones (S < 32: the pre-shift), random inputs and
// weights (-128 included) or all extreme ones and extreme zero points,
// against the generic twin.
func TestDepthwiseDot(t *testing.T) {
	if !cpu.ARM64.HasASIMDDP {
		t.Skip("no ASIMDDP")
	}
	r := rand.New(rand.NewPCG(81, 82))
	n := 0
	for _, kc := range [][2]int{{3, 16}, {3, 32}, {3, 48}, {3, 528}, {3, 8}, {3, 24}, {3, 88}, {3, 184}, {3, 520}, {5, 8}, {5, 16}, {5, 24}, {5, 40}, {5, 72}, {5, 120}, {5, 520}, {5, 536}} {
		k, c := kc[0], kc[1]
		for rep := range 40 {
			h, w := 1+r.IntN(9), 1+r.IntN(11)
			if c%16 != 0 || k == 5 { // the 8-channel kernels
				h, w = 1+r.IntN(12), 1+r.IntN(16)
			}
			if c > 500 {
				h, w = 1+r.IntN(4), 1+r.IntN(6)
			}
			pads := [4]int{k / 2, k / 2, k / 2, k / 2}
			if rep%3 == 2 {
				pads = [4]int{r.IntN(k), r.IntN(k), r.IntN(k), r.IntN(k)}
			}
			if h+pads[0]+pads[2] < k || w+pads[1]+pads[3] < k {
				continue
			}
			s := 1 + rep%5/3 // strides 1 and 2
			p, x, wd, bias := newConvCase(r, 1+r.IntN(2), h, w, c, c, k, k, s, s, 1, 1, pads[0], pads[1], pads[2], pads[3], c)
			if c%16 != 0 && rep%7 == 6 { // extremes: every input and weight at a bound
				x = slices.Repeat([]int8{[]int8{-128, 127}[r.IntN(2)]}, len(x))
				wd = slices.Repeat([]int8{[]int8{-128, 127}[r.IntN(2)]}, len(wd))
				p.XZero = []int32{-128, 127}[r.IntN(2)]
			}
			p.Mult = typicalMults(r, c)
			switch rep % 4 {
			case 1:
				p.Mult = extremeMults(r, c, 2, 9) // one S: the SQRSHRN table
			case 3:
				p.Mult = extremeMults(r, c, 1, 9) // S < 32 and S = 62 too
			}
			want := make([]int8, p.N*p.OH*p.OW*p.O)
			if err := p.ValidateDepthwise(x, wd, bias, want); err != nil {
				t.Fatal(err)
			}
			Depthwise(p, x, wd, bias, want, 0, p.Rows())
			name := fmt.Sprintf("%dx%d C=%d N=%d %dx%d/%d pads %v zx=%d zy=%d out=%v", k, k, c, p.N, h, w, s, pads, p.XZero, p.YZero, p.Out)
			pw := packDwDot(p, wd)
			if dwDotLen(p) == 0 || len(pw) != dwPackedLenARM(p)+dwDotLen(p) {
				t.Fatalf("%s: packed to %d bytes", name, len(pw))
			}
			gx, gw := newGuarded(r, x), newGuarded(r, pw)
			gy := newGuarded(r, make([]int8, len(want)))
			for _, sp := range splits(r, p.Rows()) {
				dwRunDot(p, gx.s(), gw.s(), bias, gy.s(), sp[0], sp[1])
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
	t.Logf("%d cases", n)
}

// TestUniformK checks the blocks' uniform shift: k = max(S, 32) - 31 when
// every channel has it and it is at most 16, else 0.
func TestUniformK(t *testing.T) {
	for _, c := range []struct {
		s    []int32
		want int32
	}{
		{[]int32{40}, 9}, {[]int32{40, 40, 40}, 9}, {[]int32{40, 41}, 0}, {[]int32{20, 32, 31}, 1},
		{[]int32{47, 47}, 16}, {[]int32{48}, 0}, {[]int32{62}, 0}, {[]int32{33, 62}, 0}, {[]int32{1}, 1},
	} {
		k := int32(-1)
		for _, s := range c.s {
			k = uniformK(k, s)
		}
		if max(k, 0) != c.want {
			t.Errorf("S %v: k %d, want %d", c.s, k, c.want)
		}
	}
}

// TestDepthwiseShifts runs the depthwise epilogues (NEON 3x3 and 5x5,
// paired and "w", 16- and 8-wide blocks; SDOT stride 1 and 2) with every
// uniform shift k = S - 31 of the SQRSHRN table (1-16; 0 stands for an
// S < 32, 17 takes the SRSHL path), blocks with one channel off, zero
// points -128 and others, against the generic twin. The bias is scaled
// per k so that the outputs spread over the int8 range.
func TestDepthwiseShifts(t *testing.T) {
	r := rand.New(rand.NewPCG(83, 84))
	n, inside, total := 0, 0, 0
	for k := 0; k <= maxUniformKTest+1; k++ {
		for rep := range 8 {
			kw, s := []int{3, 5}[rep%2], 1+rep/2%2
			c := []int{8, 16, 24, 48}[r.IntN(4)]
			minW := []int{-127, -128}[rep/4]
			h, w := 2+r.IntN(5), 2+r.IntN(6)
			p, x, _, _ := newConvCase(r, 1, h, w, c, c, kw, kw, s, s, 1, 1, kw/2, kw/2, kw/2, kw/2, c)
			sh := int32(31 + k)
			if k == 0 {
				sh = int32(20 + r.IntN(12))
			}
			p.Mult = sharedMults(r, c, sh)
			if r.IntN(4) == 0 {
				p.Mult[r.IntN(c)].S++ // one block not uniform
			}
			p.YZero = []int32{-128, -128, 0, int32(r.IntN(256) - 128)}[r.IntN(4)]
			p.Out = []Range{Full, Full, {int8(min(max(p.YZero, -100), 50)), 100}}[r.IntN(3)]
			x = randI8(r, len(x), -128, 127)
			wd := randI8(r, kw*kw*c, minW, 127)
			if minW == -128 {
				wd[r.IntN(len(wd))] = -128
			}
			bias := make([]int32, c)
			span := int64(300) << max(sh-31, 1)
			for i := range bias {
				bias[i] = int32(r.Int64N(2*span+1) - span)
			}
			want := make([]int8, p.N*p.OH*p.OW*p.O)
			if err := p.ValidateDepthwise(x, wd, bias, want); err != nil {
				t.Fatal(err)
			}
			Depthwise(p, x, wd, bias, want, 0, p.Rows())
			for _, v := range want {
				if v > p.Out.Lo && v < p.Out.Hi {
					inside++
				}
				total++
			}
			name := fmt.Sprintf("k=%d S=%d w>=%d %dx%d/%d C=%d %dx%d zy=%d out=%v", k, sh, minW, kw, kw, s, c, h, w, p.YZero, p.Out)
			for _, dot := range []bool{false, true} {
				run, pack := dwRunARM, packDwARM
				if dot {
					if !cpu.ARM64.HasASIMDDP {
						continue
					}
					run, pack = dwRunDot, packDwDot
				}
				got := make([]int8, len(want))
				run(p, x, pack(p, wd), bias, got, 0, p.Rows())
				if !slices.Equal(got, want) {
					reportDiff(t, fmt.Sprintf("%s dot=%v", name, dot), got, want, c)
				}
				n++
			}
		}
	}
	if inside*5 < total {
		t.Fatalf("only %d of %d outputs inside the clamp: the test data saturates", inside, total)
	}
	t.Logf("%d cases, %d of %d outputs inside the clamp", n, inside, total)
}

// TestDepthwiseRdm runs the SDOT depthwise kernels' SQRDMLAH path (every S
// of a block 30 or 31) against the generic twin, next to the neon kernels
// on the same cases: 3x3 and 5x5, strides 1 and 2, 8- and 16-channel
// blocks, blocks with one channel off the path, inputs near their zero
// point and small weights (outputs inside the int8 range, with ties), and
// extreme ones (saturation).
func TestDepthwiseRdm(t *testing.T) {
	r := rand.New(rand.NewPCG(85, 86))
	n, inside, total := 0, 0, 0
	for rep := range 48 {
		kw, s := []int{3, 5}[rep%2], 1+rep/2%2
		c := []int{8, 16, 24, 40, 48}[r.IntN(5)]
		h, w := 2+r.IntN(6), 2+r.IntN(7)
		p, _, _, _ := newConvCase(r, 1+r.IntN(2), h, w, c, c, kw, kw, s, s, 1, 1, kw/2, kw/2, kw/2, kw/2, c)
		p.Mult = rdmMults(r, c, rep%3 == 2)
		p.YZero = []int32{-128, -128, 0, int32(r.IntN(256) - 128)}[r.IntN(4)]
		p.Out = []Range{Full, Full, {int8(min(max(p.YZero, -100), 50)), 100}}[r.IntN(3)]
		x, wd := smallRows(r, p.N*h*w*c, p.XZero), randI8(r, kw*kw*c, -3, 3)
		if rep%8 == 7 {
			x, wd = randI8(r, p.N*h*w*c, -128, 127), randI8(r, kw*kw*c, -127, 127)
		}
		bias := make([]int32, c)
		for i := range bias {
			bias[i] = int32(r.IntN(121) - 60)
		}
		want := make([]int8, p.N*p.OH*p.OW*p.O)
		if err := p.ValidateDepthwise(x, wd, bias, want); err != nil {
			t.Fatal(err)
		}
		Depthwise(p, x, wd, bias, want, 0, p.Rows())
		for _, v := range want {
			if v > p.Out.Lo && v < p.Out.Hi {
				inside++
			}
			total++
		}
		name := fmt.Sprintf("rep=%d %dx%d/%d C=%d N=%d %dx%d zx=%d zy=%d out=%v", rep, kw, kw, s, c, p.N, h, w, p.XZero, p.YZero, p.Out)
		for _, dot := range []bool{false, true} {
			run, pack := dwRunARM, packDwARM
			if dot {
				if !cpu.ARM64.HasASIMDDP {
					continue
				}
				run, pack = dwRunDot, packDwDot
			}
			for _, sp := range splits(r, p.Rows()) {
				got := make([]int8, len(want))
				Depthwise(p, x, wd, bias, got, 0, sp[0])
				Depthwise(p, x, wd, bias, got, sp[1], p.Rows())
				run(p, x, pack(p, wd), bias, got, sp[0], sp[1])
				if !slices.Equal(got, want) {
					reportDiff(t, fmt.Sprintf("%s dot=%v rows [%d, %d)", name, dot, sp[0], sp[1]), got, want, c)
				}
			}
			n++
		}
	}
	if inside*2 < total {
		t.Fatalf("only %d of %d outputs inside the clamp: the test data saturates", inside, total)
	}
	t.Logf("%d cases, %d of %d outputs inside the clamp", n, inside, total)
}

// TestDepthwiseMixedShifts runs the SDOT depthwise kernels' leaves of mixed
// shifts (fillEpiARM, fillMixed's proof) against the generic twin, next to
// the neon kernels: blocks whose k = max(S, 32) - 31 spread over 1 to 8
// values (8: the SRSHL path) from smallest k of 1 to 17 (17: the SRSHL
// path), S < 32 in some, 3x3 and 5x5, strides 1 and 2, 8- and 16-channel
// blocks, zero points -128 and others, clamped or not, biases past the
// int16 range after the first shift in some (the saturating SQSHRN).
func TestDepthwiseMixedShifts(t *testing.T) {
	r := rand.New(rand.NewPCG(85, 86))
	n := 0
	for kmin := int32(1); kmin <= 17; kmin++ {
		for spread := int32(1); spread <= 8; spread++ {
			for rep := range 2 {
				kw, s := []int{3, 5}[r.IntN(2)], 1+r.IntN(2)
				c := []int{8, 16, 24, 48}[r.IntN(4)]
				h, w := 2+r.IntN(5), 2+r.IntN(6)
				p, x, _, _ := newConvCase(r, 1, h, w, c, c, kw, kw, s, s, 1, 1, kw/2, kw/2, kw/2, kw/2, c)
				p.Mult = make([]Multiplier, c)
				for i := range p.Mult {
					sh := 31 + kmin + int32(r.IntN(int(spread)))
					if kmin == 1 && r.IntN(3) == 0 {
						sh = int32(20 + r.IntN(12))
					}
					p.Mult[i] = Multiplier{M: int32(1<<30 + r.IntN(1<<30)), S: sh}
				}
				for b := 0; b < c; b += 16 {
					p.Mult[b].S = 31 + kmin
					if m := min(16, c-b); m > 1 {
						p.Mult[b+1+r.IntN(m-1)].S = 31 + kmin + spread - 1
					}
				}
				p.YZero = []int32{-128, -128, 0, int32(r.IntN(256) - 128)}[r.IntN(4)]
				p.Out = []Range{Full, Full, {int8(min(max(p.YZero, -100), 50)), 100}}[r.IntN(3)]
				x = randI8(r, len(x), -128, 127)
				wd := randI8(r, kw*kw*c, -128, 127)
				bias := make([]int32, c)
				for i := range bias {
					span := int64(300) << max(p.Mult[i].S-31, 1)
					if rep == 1 {
						span <<= 9
					}
					bias[i] = int32(min(max(r.Int64N(2*span+1)-span, -1<<30), 1<<30))
				}
				want := make([]int8, p.N*p.OH*p.OW*p.O)
				if err := p.ValidateDepthwise(x, wd, bias, want); err != nil {
					t.Fatal(err)
				}
				Depthwise(p, x, wd, bias, want, 0, p.Rows())
				name := fmt.Sprintf("kmin=%d spread=%d %dx%d/%d C=%d %dx%d zy=%d out=%v", kmin, spread, kw, kw, s, c, h, w, p.YZero, p.Out)
				for _, dot := range []bool{false, true} {
					run, pack := dwRunARM, packDwARM
					if dot {
						if !cpu.ARM64.HasASIMDDP {
							continue
						}
						run, pack = dwRunDot, packDwDot
					}
					got := make([]int8, len(want))
					run(p, x, pack(p, wd), bias, got, 0, p.Rows())
					if !slices.Equal(got, want) {
						reportDiff(t, fmt.Sprintf("%s dot=%v", name, dot), got, want, c)
					}
					n++
				}
			}
		}
	}
	t.Logf("%d cases", n)
}
