//go:build !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// armImpls returns the GEMM families this CPU runs.
func armImpls(t *testing.T) []*armImpl {
	ims := []*armImpl{armNeon}
	if cpu.ARM64.HasASIMDDP {
		ims = append(ims, armDot)
	} else {
		t.Log("no ASIMDDP: dotprod kernels not tested")
	}
	return ims
}

func armName(im *armImpl) string {
	if im.dot {
		return "dotprod"
	}
	return "neon"
}

// TestArmGemmTiles sweeps the tile boundaries of the ARM64 GEMM kernels:
// rows below, at and above the 4-row tile, channel counts around the 4- and
// 16-channel blocks and the 256-channel epilogue group, K around the 4-,
// 8- and 16-byte steps, row strides above K, weights with and without -128
// (the neon kernel's two paths), extreme inputs and multipliers.
func TestArmGemmTiles(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	ks := []int{1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 15, 16, 17, 20, 23, 24, 25, 31, 32, 33, 40, 47, 48, 49, 63, 64, 65, 72, 100}
	outs := []int{1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 20, 31, 32, 33, 48, 255, 256, 257, 300}
	ps := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 13}
	n := 0
	for _, im := range armImpls(t) {
		for _, k := range ks {
			for _, o := range outs {
				if o > 48 && r.IntN(4) != 0 {
					continue
				}
				p := ps[r.IntN(len(ps))]
				stride := k + []int{0, 0, 1, 5, 16}[r.IntN(5)]
				mode := r.IntN(4) // 0, 1: random in [-127, 127]; 2: with -128; 3: extremes
				x := randI8(r, p*stride, -128, 127)
				w := randI8(r, o*k, -127, 127)
				switch mode {
				case 2:
					w = randI8(r, o*k, -128, 127)
					w[r.IntN(len(w))] = -128
				case 3:
					for i := range x {
						x[i] = []int8{-128, 127}[r.IntN(2)]
					}
					for i := range w {
						w[i] = []int8{-127, 127}[r.IntN(2)]
					}
				}
				zs := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}
				zx, zy := zs[r.IntN(4)], zs[r.IntN(4)]
				mult := extremeMults(r, o, multMode(r), k)
				bias := randBias(r, o, k)
				out := []Range{Full, {int8(zy), 127}, {-128, -128}, {int8(-100 + r.IntN(90)), int8(10 + r.IntN(100))}}[r.IntN(4)]
				// The reference on compact rows.
				xc := make([]int8, p*k)
				for i := range p {
					copy(xc[i*k:][:k], x[i*stride:][:k])
				}
				want := make([]int8, p*o)
				gemmRows(xc, w, bias, want, k, o, zx, mult, zy, out, 0, p)
				packed := im.pack(w, o, k)
				got := make([]int8, p*o+7)
				for i := range got {
					got[i] = 99
				}
				lo := r.IntN(p)
				gemmRows(xc, w, bias, got, k, o, zx, mult, zy, out, 0, lo) // rows the kernel does not compute
				im.run(x[:(p-1)*stride+k], stride, k, packed, bias, got, o, zx, mult, zy, out, lo, p)
				name := fmt.Sprintf("%s K=%d O=%d P=%d stride=%d mode=%d lo=%d", armName(im), k, o, p, stride, mode, lo)
				if !slices.Equal(got[:p*o], want) {
					reportDiff(t, name, got[:p*o], want, o)
				}
				for _, v := range got[p*o:] {
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

// TestArmGemmPackFlag checks that the packer flags exactly the weight
// matrices holding -128.
func TestArmGemmPackFlag(t *testing.T) {
	for _, im := range []*armImpl{armNeon, armDot} {
		l := im.layout(5, 19)
		w := make([]int8, 5*19)
		if readInt32(im.pack(w, 5, 19), l.flagOff()) != 0 {
			t.Errorf("%s: flag set without -128", armName(im))
		}
		w[77] = -128
		if readInt32(im.pack(w, 5, 19), l.flagOff()) != 1 {
			t.Errorf("%s: flag not set with -128", armName(im))
		}
	}
}

// TestArmGemmShifts runs the SDOT kernels' epilogue with every uniform
// shift k = S - 31 of the SQRSHRN table (1-16; 0 stands for an S < 32,
// which runs the pre-shift then k = 1; 17 takes the SRSHL path), on every
// block width and both row tiles, with the output zero point -128 (the
// unsigned narrow) and others, clamped or not, and blocks whose k differ in
// one channel (the SRSHL path). The accumulators' scale is chosen per k so
// that the outputs spread over the int8 range, with some at its ends.
func TestArmGemmShifts(t *testing.T) {
	if !cpu.ARM64.HasASIMDDP {
		t.Skip("no ASIMDDP")
	}
	r := rand.New(rand.NewPCG(73, 74))
	n, inside, total := 0, 0, 0
	for k := 0; k <= maxUniformKTest+1; k++ {
		for _, o := range []int{4, 8, 12, 16, 20, 28, 32, 44} {
			for rep := range 3 {
				p := []int{1, 5, 9}[rep]
				s := int32(31 + k)
				if k == 0 {
					s = int32(20 + r.IntN(12))
				}
				mult := sharedMults(r, o, s)
				if rep == 2 {
					mult[r.IntN(o)].S++ // one block not uniform
				}
				// K so that acc M / 2^S spans about +-300: |acc| ~ sqrt(K) 128 74.
				kk := 1 + r.IntN(64)
				x := randI8(r, p*kk, -128, 127)
				w := randI8(r, o*kk, -127, 127)
				bias := make([]int32, o)
				span := int64(300) << max(s-31, 1) // |acc| that reaches 300 at M ~ 2^30.5
				for i := range bias {
					bias[i] = int32(r.Int64N(2*span+1) - span)
				}
				zy := []int32{-128, -128, 0, int32(r.IntN(256) - 128)}[r.IntN(4)]
				out := []Range{Full, Full, {int8(min(max(zy, -100), 50)), 100}}[r.IntN(3)]
				zx := int32(r.IntN(256) - 128)
				want := make([]int8, p*o)
				gemmRows(x, w, bias, want, kk, o, zx, mult, zy, out, 0, p)
				got := make([]int8, p*o)
				armDot.run(x, kk, kk, armDot.pack(w, o, kk), bias, got, o, zx, mult, zy, out, 0, p)
				for _, v := range want {
					if v > out.Lo && v < out.Hi {
						inside++
					}
					total++
				}
				if !slices.Equal(got, want) {
					reportDiff(t, fmt.Sprintf("k=%d S=%d O=%d P=%d K=%d zy=%d out=%v", k, s, o, p, kk, zy, out), got, want, o)
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

// maxUniformKTest is asmgen_arm64.go's maxUniformK.
const maxUniformKTest = 16

// rdmMults returns n multipliers of S 30 or 31 (the SDOT kernels' SQRDMLAH
// path, fillRdm), M over its range with its ends and values that make
// ties; with off, one channel leaves the path (S 29 or 32, or M = 0 with S
// = 62), so that its block takes another one.
func rdmMults(r *rand.Rand, n int, off bool) []Multiplier {
	ms := make([]Multiplier, n)
	for i := range ms {
		m := []int32{1 << 30, 1<<31 - 1, 3 << 29, 5 << 28, int32(1<<30 + r.IntN(1<<30))}[r.IntN(5)]
		ms[i] = Multiplier{M: m, S: int32(30 + r.IntN(2))}
	}
	if off {
		i := r.IntN(n)
		ms[i] = []Multiplier{{M: ms[i].M, S: 29}, {M: ms[i].M, S: 32}, {M: 0, S: MaxShift}}[r.IntN(3)]
	}
	return ms
}

// smallRows returns n values within 3 of z (clipped to int8), so that the
// accumulators of rdmMults' tests stay within the int8 range after the
// multiplier of about 1 (S 30 or 31).
func smallRows(r *rand.Rand, n int, z int32) []int8 {
	x := make([]int8, n)
	for i := range x {
		x[i] = int8(min(max(z+int32(r.IntN(7)-3), -128), 127))
	}
	return x
}

// TestArmGemmRdm runs the SDOT kernels' SQRDMLAH path (every S of a block
// 30 or 31) against the generic twin: every block width, both row tiles,
// the 256-channel group, blocks with one channel off the path, zero points
// -128 and others, clamped or not, on inputs near their zero point and
// small weights (outputs inside the int8 range, with ties), and on
// extreme inputs (saturation).
func TestArmGemmRdm(t *testing.T) {
	if !cpu.ARM64.HasASIMDDP {
		t.Skip("no ASIMDDP")
	}
	r := rand.New(rand.NewPCG(75, 76))
	n, inside, total := 0, 0, 0
	for _, o := range []int{4, 8, 12, 16, 20, 28, 32, 44, 260} {
		for rep := range 8 {
			p := []int{1, 4, 5, 9}[rep%4]
			k := 1 + r.IntN(64)
			zx := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}[r.IntN(4)]
			zy := []int32{-128, -128, 0, int32(r.IntN(256) - 128)}[r.IntN(4)]
			out := []Range{Full, Full, {int8(min(max(zy, -100), 50)), 100}}[r.IntN(3)]
			mult := rdmMults(r, o, rep%3 == 2)
			x, w := smallRows(r, p*k, zx), randI8(r, o*k, -3, 3)
			bias := make([]int32, o)
			for i := range bias {
				bias[i] = int32(r.IntN(121) - 60)
			}
			if rep == 7 { // saturation
				x, w = randI8(r, p*k, -128, 127), randI8(r, o*k, -128, 127)
			}
			want := make([]int8, p*o)
			gemmRows(x, w, bias, want, k, o, zx, mult, zy, out, 0, p)
			got := make([]int8, p*o)
			armDot.run(x, k, k, armDot.pack(w, o, k), bias, got, o, zx, mult, zy, out, 0, p)
			for _, v := range want {
				if v > out.Lo && v < out.Hi {
					inside++
				}
				total++
			}
			if !slices.Equal(got, want) {
				reportDiff(t, fmt.Sprintf("O=%d P=%d K=%d rep=%d zx=%d zy=%d out=%v", o, p, k, rep, zx, zy, out), got, want, o)
			}
			n++
		}
	}
	if inside*2 < total {
		t.Fatalf("only %d of %d outputs inside the clamp: the test data saturates", inside, total)
	}
	t.Logf("%d cases, %d of %d outputs inside the clamp", n, inside, total)
}

// TestArmRdmPathTaken checks that the SDOT kernels' constants put exactly
// the blocks whose every S is 30 or 31 on the SQRDMLAH path (fast flag 2,
// the leaf of SQXTN alone), and never the neon kernels' ones.
func TestArmRdmPathTaken(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 78))
	for _, off := range []bool{false, true} {
		ms := rdmMults(r, 16, off)
		for _, im := range []*armImpl{armNeon, armDot} {
			l := im.layout(16, 8)
			w := im.pack(make([]int8, 16*8), 16, 8)
			q := make([]int32, armBlkWords(l.bw))
			fillBlk(q, l.bw, 0, 16, w, l, nil, 0, ms, 0, im.dot)
			want := int32(0)
			if im.dot && !off {
				want = 2
			}
			if q[4*l.bw] != want {
				t.Errorf("%s off=%v: fast flag %d, want %d", armName(im), off, q[4*l.bw], want)
			}
			if leaf := q[4*l.bw+2]; (leaf == 17) != (want == 2) {
				t.Errorf("%s off=%v: leaf %d", armName(im), off, leaf)
			}
		}
	}
}

// TestArmGemmMixedShifts checks the SDOT kernels' leaves of mixed shifts
// (fillMixed: SQSHRN by min k - 1, then SRSHL of the int16 lanes) against
// gemmRows: blocks whose k = max(S, 32) - 31 spread over 1 to 8 values from
// every smallest k of 1 to 17 (past the leaves' reach: 17, and a spread of
// 8, take the SRSHL path), with S < 32 in some (the pre-shift), on every
// block width and both row tiles, accumulators reaching past the int16
// range in some cases (the saturating SQSHRN), output zero points -128 and
// others, clamped or not.
func TestArmGemmMixedShifts(t *testing.T) {
	if !cpu.ARM64.HasASIMDDP {
		t.Skip("no ASIMDDP")
	}
	r := rand.New(rand.NewPCG(75, 76))
	n, mixed := 0, 0
	for kmin := int32(1); kmin <= 17; kmin++ {
		for spread := int32(1); spread <= 8; spread++ {
			for _, o := range []int{4, 8, 12, 16, 20, 32, 44} {
				rep := r.IntN(4)
				p := []int{1, 5, 9, 4}[rep]
				mult := make([]Multiplier, o)
				for i := range mult {
					s := 31 + kmin + int32(r.IntN(int(spread)))
					if kmin == 1 && r.IntN(3) == 0 {
						s = int32(20 + r.IntN(12)) // S < 32: k = 1 after the pre-shift
					}
					mult[i] = Multiplier{M: int32(1<<30 + r.IntN(1<<30)), S: s}
				}
				for b := 0; b < o; b += 16 { // each block spans the whole spread
					mult[b].S = 31 + kmin
					if m := min(16, o-b); m > 1 {
						mult[b+1+r.IntN(m-1)].S = 31 + kmin + spread - 1
					}
				}
				kk := 1 + r.IntN(64)
				x := randI8(r, p*kk, -128, 127)
				w := randI8(r, o*kk, -127, 127)
				bias := make([]int32, o)
				for i := range bias {
					span := int64(300) << max(mult[i].S-31, 1)
					if rep == 3 {
						span <<= 9 // past the int16 range after the first shift
					}
					bias[i] = int32(min(max(r.Int64N(2*span+1)-span, -1<<30), 1<<30))
				}
				zy := []int32{-128, -128, 0, int32(r.IntN(256) - 128)}[r.IntN(4)]
				out := []Range{Full, Full, {int8(min(max(zy, -100), 50)), 100}}[r.IntN(3)]
				zx := int32(r.IntN(256) - 128)
				want := make([]int8, p*o)
				gemmRows(x, w, bias, want, kk, o, zx, mult, zy, out, 0, p)
				got := make([]int8, p*o)
				armDot.run(x, kk, kk, armDot.pack(w, o, kk), bias, got, o, zx, mult, zy, out, 0, p)
				if !slices.Equal(got, want) {
					reportDiff(t, fmt.Sprintf("kmin=%d spread=%d O=%d P=%d K=%d zy=%d out=%v", kmin, spread, o, p, kk, zy, out), got, want, o)
				}
				q := make([]int32, armBlkWords(16))
				fillBlk(q, 16, 0, min(16, o), armDot.pack(w, o, kk), armDot.layout(o, kk), bias, zx, mult, zy, true)
				if l := q[4*16+2] % 34; l >= 18 {
					mixed++
				}
				n++
			}
		}
	}
	if mixed*2 < n {
		t.Fatalf("only %d of %d cases on the leaves of mixed shifts", mixed, n)
	}
	t.Logf("%d cases, %d on the leaves of mixed shifts", n, mixed)
}

// TestArmGemmEpiCache checks that the epilogue constants cache (epiFor)
// never serves stale constants: the same packed weights buffer run with
// other multipliers, another bias, other zero points or clamp, and then
// refilled with other weights, each against gemmRows.
func TestArmGemmEpiCache(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 78))
	for _, im := range armImpls(t) {
		o, k, p := 40, 24, 6
		x := randI8(r, p*k, -128, 127)
		w := randI8(r, o*k, -127, 127)
		packed := im.pack(w, o, k)
		mult := extremeMults(r, o, 0, k)
		bias := randBias(r, o, k)
		zx, zy, out := int32(3), int32(-5), Full
		check := func(what string) {
			t.Helper()
			want := make([]int8, p*o)
			gemmRows(x, w, bias, want, k, o, zx, mult, zy, out, 0, p)
			got := make([]int8, p*o)
			im.run(x, k, k, packed, bias, got, o, zx, mult, zy, out, 0, p)
			if !slices.Equal(got, want) {
				reportDiff(t, armName(im)+": "+what, got, want, o)
			}
		}
		check("first")
		check("again")
		mult = slices.Clone(mult)
		mult[7].S++
		check("one shift changed")
		bias = randBias(r, o, k)
		check("bias")
		bias = nil
		check("no bias")
		zx, zy = -20, 9
		check("zero points")
		out = Range{-60, 70}
		check("clamp")
		w = randI8(r, o*k, -127, 127)
		copy(packed, im.pack(w, o, k))
		check("other weights in the same buffer")
	}
}
