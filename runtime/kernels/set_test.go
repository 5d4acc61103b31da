package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Every accelerated Set must give exactly the bytes of the generic twins.
// The tests below run each available Set (skipping, with a message, those
// this CPU or build lacks) over swept shapes and extreme parameters, with
// guard bytes around every buffer and slices starting at odd offsets.

// accelSets returns the non-generic Sets this binary can run here.
func accelSets(t testing.TB) []*Set {
	var sets []*Set
	for _, name := range Names() {
		if name == "generic" {
			continue
		}
		s, err := Select(name)
		if err != nil {
			t.Logf("skipping %s: %v", name, err)
			continue
		}
		sets = append(sets, s)
	}
	return sets
}

const guardLen = 67

// guarded is a slice surrounded by guard bytes, starting at an odd offset.
type guarded struct {
	buf    []int8
	lo, hi int
}

func newGuarded(r *rand.Rand, data []int8) *guarded {
	off := 1 + 2*r.IntN(8) // odd
	g := &guarded{buf: make([]int8, off+guardLen+len(data)+guardLen), lo: off + guardLen}
	g.hi = g.lo + len(data)
	for i := range g.buf {
		g.buf[i] = int8(0x5a ^ i)
	}
	copy(g.buf[g.lo:], data)
	return g
}

// s is the data, with capacity limited to its length.
func (g *guarded) s() []int8 { return g.buf[g.lo:g.hi:g.hi] }

func (g *guarded) check(t testing.TB, what string) {
	t.Helper()
	for i := range g.buf {
		if (i < g.lo || i >= g.hi) && g.buf[i] != int8(0x5a^i) {
			t.Fatalf("%s: guard byte %d (data [%d, %d)) overwritten", what, i, g.lo, g.hi)
		}
	}
}

// extremeMults returns n multipliers for dot products of length k: with
// mode 0 typical ones, mapping the spread of random accumulators to tens of
// output codes; with mode 1 a mix of those and the extremes of the rule (the
// largest reals with S = 1, the clamp path with S in [22, 32], S = 62 with
// tiny or zero M, the ends of the M range).
//
// With mode 2 the channels share one S (as the ARM64 epilogues' uniform
// shift path needs, see sharedMults): usually the typical one, give or take
// one, sometimes any in [1, 48]; one channel in 8 then moves by one.
//
// With mode 3 every S is 30 or 31 (the ARM64 SDOT kernels' SQRDMLAH path),
// but for one channel at 29 in half the calls.
func extremeMults(r *rand.Rand, n, mode, k int) []Multiplier {
	typ := 40 / (math.Sqrt(float64(k)) * 128 * 74)
	if mode == 2 {
		m, _ := NewMultiplier(typ)
		s := m.S + int32(r.IntN(3)-1)
		if r.IntN(4) == 0 {
			s = int32(1 + r.IntN(48))
		}
		ms := sharedMults(r, n, s)
		for i := range ms {
			if r.IntN(8) == 0 {
				ms[i].S = min(max(ms[i].S+int32(1-2*r.IntN(2)), MinShift), MaxShift)
			}
		}
		return ms
	}
	ms := make([]Multiplier, n)
	if mode == 3 {
		for i := range ms {
			ms[i] = Multiplier{M: []int32{1 << 30, 1<<31 - 1, int32(1<<30 + r.IntN(1<<30))}[r.IntN(3)], S: int32(30 + r.IntN(2))}
		}
		if r.IntN(2) == 0 {
			ms[r.IntN(n)].S = 29 // one block off the path
		}
		return ms
	}
	for i := range ms {
		var m Multiplier
		switch j := r.IntN(10); {
		case mode == 0 || j < 6:
			m, _ = NewMultiplier(typ * math.Pow(10, r.Float64()-0.5))
		case j == 6:
			m = Multiplier{M: int32(1<<30 + r.IntN(1<<30)), S: int32(1 + r.IntN(21))}
		case j == 7:
			m = Multiplier{M: int32(1<<30 + r.IntN(1<<30)), S: int32(22 + r.IntN(11))}
		case j == 8:
			m = Multiplier{M: int32(r.IntN(1 << 20)), S: MaxShift}
		default:
			m = Multiplier{M: []int32{1 << 30, 1<<31 - 1}[r.IntN(2)], S: int32(1 + r.IntN(MaxShift))}
		}
		ms[i] = m
	}
	return ms
}

// sharedMults returns n multipliers of shift s, M random in [2^30, 2^31).
func sharedMults(r *rand.Rand, n int, s int32) []Multiplier {
	ms := make([]Multiplier, n)
	for i := range ms {
		ms[i] = Multiplier{M: int32(1<<30 + r.IntN(1<<30)), S: max(s, MinShift)}
	}
	return ms
}

// multMode returns the extremeMults mode of a random case: mostly typical.
func multMode(r *rand.Rand) int { return []int{0, 0, 0, 1, 2, 2, 3}[r.IntN(7)] }

// randBias returns a bias for dot products of length k: usually nil or of
// the accumulators' own magnitude, sometimes the largest Validate accepts.
func randBias(r *rand.Rand, n, k int) []int32 {
	if r.IntN(5) == 0 {
		return nil
	}
	b := make([]int32, n)
	lim := int64(math.MaxInt32) - int64(k)*255*128 - 1
	for i := range b {
		switch r.IntN(10) {
		case 0:
			b[i] = int32(lim * int64(1-2*r.IntN(2)))
		case 1:
			b[i] = int32(r.Int64N(2*lim+1) - lim)
		default:
			s := int64(math.Sqrt(float64(k))*128*74) + 1
			b[i] = int32(r.Int64N(2*s+1) - s)
		}
	}
	return b
}

// checkSpread fails if the expected outputs are mostly at the ends of their
// range, which would hide wrong accumulators.
func checkSpread(t *testing.T, what string, want []int8, out Range) {
	t.Helper()
	if out.Hi-out.Lo < 20 || len(want) < 50 {
		return
	}
	in := 0
	for _, v := range want {
		if v > out.Lo && v < out.Hi {
			in++
		}
	}
	if in*4 < len(want) {
		t.Fatalf("%s: only %d of %d expected outputs inside (%d, %d): the test data saturates", what, in, len(want), out.Lo, out.Hi)
	}
}

// gemmCase is a random valid GEMM problem: x[P][K], w[O][K].
type gemmCase struct {
	p, k, o int
	zx, zy  int32
	mult    []Multiplier
	out     Range
	x, w    []int8
	bias    []int32
	mode    int // 0: typical multipliers
}

func newGemmCase(r *rand.Rand, p, k, o int) *gemmCase {
	c := &gemmCase{p: p, k: k, o: o}
	zs := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}
	c.zx, c.zy = zs[r.IntN(4)], zs[r.IntN(4)]
	c.mode = multMode(r)
	c.mult = extremeMults(r, o, c.mode, k)
	c.out = []Range{Full, Full, {int8(c.zy), 127}, {-128, -128}, {127, 127}, {int8(-100 + r.IntN(90)), int8(10 + r.IntN(100))}}[r.IntN(6)]
	switch r.IntN(6) {
	case 0: // extremes: the largest accumulators
		c.x = slices.Repeat([]int8{[]int8{-128, 127}[r.IntN(2)]}, p*k)
		c.w = slices.Repeat([]int8{[]int8{-128, 127, -127}[r.IntN(3)]}, o*k)
		c.mode = 1
	default:
		c.x = randI8(r, p*k, -128, 127)
		c.w = randI8(r, o*k, -128, 127)
	}
	c.bias = randBias(r, o, k)
	return c
}

// splits returns the row ranges to call a kernel with: one call or several.
func splits(r *rand.Rand, n int) [][2]int {
	if r.IntN(2) == 0 {
		return [][2]int{{0, n}}
	}
	var s [][2]int
	for lo := 0; lo < n; {
		hi := min(n, lo+1+r.IntN(max(1, n/2)))
		s = append(s, [2]int{lo, hi})
		lo = hi
	}
	return s
}

var (
	sweepK = []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 65, 96, 127, 144, 160, 255}
	sweepO = []int{1, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 47, 48, 57, 63, 64, 65, 88, 96, 100}
	sweepP = []int{1, 2, 3, 4, 5, 11, 12, 13, 16, 23, 24, 25, 49, 50}
)

func TestSetPointwiseGemm(t *testing.T) {
	sets := accelSets(t)
	if len(sets) == 0 {
		t.Skip("no accelerated kernel set on this machine/build")
	}
	r := rand.New(rand.NewPCG(31, 32))
	n := 0
	var spread []int8
	for _, k := range sweepK {
		for _, o := range sweepO {
			for range 2 {
				pix := sweepP[r.IntN(len(sweepP))]
				c := newGemmCase(r, pix, k, o)
				p := &ConvParams{N: 1, H: 1, W: pix, C: k, OH: 1, OW: pix, O: o, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
					XZero: c.zx, YZero: c.zy, Mult: c.mult, Out: c.out}
				want := make([]int8, pix*o)
				if err := p.ValidatePointwise(c.x, c.w, c.bias, want); err != nil {
					t.Fatal(err)
				}
				Pointwise(p, c.x, c.w, c.bias, want, 0, pix)
				if c.mode == 0 {
					spread = append(spread, want...)
				}
				gp := &GemmParams{M: pix, K: k, N: o, AZero: c.zx, YZero: c.zy, Mult: c.mult, Out: c.out}
				for _, s := range sets {
					name := fmt.Sprintf("%s K=%d O=%d P=%d zx=%d zy=%d out=%v", s.Name, k, o, pix, c.zx, c.zy, c.out)
					gx, gw := newGuarded(r, c.x), newGuarded(r, s.PackPointwise(c.w, o, k))
					gy := newGuarded(r, make([]int8, pix*o))
					for _, sp := range splits(r, pix) {
						s.Pointwise(p, gx.s(), gw.s(), c.bias, gy.s(), sp[0], sp[1])
					}
					gx.check(t, name+" x")
					gw.check(t, name+" w")
					gy.check(t, name+" y")
					if !slices.Equal(gy.s(), want) {
						reportDiff(t, name+" Pointwise", gy.s(), want, o)
					}
					gy2 := newGuarded(r, make([]int8, pix*o))
					gw2 := newGuarded(r, s.PackGemm(c.w, o, k))
					s.Gemm(gp, gx.s(), gw2.s(), c.bias, gy2.s(), 0, pix)
					gy2.check(t, name+" gemm y")
					if !slices.Equal(gy2.s(), want) {
						reportDiff(t, name+" Gemm", gy2.s(), want, o)
					}
					n++
				}
			}
		}
	}
	// Large enough for the row chunks and several channel groups of run;
	// then rows around the x86 VNNI driver's unsigned-row scratch
	// (gemmXorBytes = 16 KiB: 12 rows of 1365 bytes fit, of 1366 not, so
	// those run the in-loop XOR; fewer rows than 12 fit in one chunk); then
	// around the AMX driver's limits (amxMinRows = 16, amxMinK = 64, rows
	// of at most amxMaxK = 16384 bytes as tiles read them, 16-wide last
	// blocks, the last rows of x copied).
	for _, sh := range [][3]int{{3000, 24, 144}, {700, 33, 301}, {500, 260, 520}, {1200, 16, 1000},
		{30, 1365, 40}, {13, 1366, 40}, {5, 2000, 33}, {40, 700, 72}, {1, 4000, 50},
		{97, 64, 17}, {16, 65, 288}, {15, 200, 40}, {64, 63, 40}, {33, 4096, 48}, {20, 4097, 40}, {17, 16384, 20}, {17, 16385, 20},
		{300, 200, 16}, {47, 72, 33}, {1000, 300, 100}} {
		pix, k, o := sh[0], sh[1], sh[2]
		c := newGemmCase(r, pix, k, o)
		p := &ConvParams{N: 1, H: 1, W: pix, C: k, OH: 1, OW: pix, O: o, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
			XZero: c.zx, YZero: c.zy, Mult: c.mult, Out: c.out}
		want := make([]int8, pix*o)
		Pointwise(p, c.x, c.w, c.bias, want, 0, pix)
		for _, s := range sets {
			gy := newGuarded(r, make([]int8, pix*o))
			for _, sp := range splits(r, pix) {
				s.Pointwise(p, c.x, s.PackPointwise(c.w, o, k), c.bias, gy.s(), sp[0], sp[1])
			}
			gy.check(t, "large pointwise")
			if !slices.Equal(gy.s(), want) {
				reportDiff(t, fmt.Sprintf("%s large pointwise %v", s.Name, sh), gy.s(), want, o)
			}
		}
	}
	checkSpread(t, "pointwise", spread, Full)
	t.Logf("%d cases", n)
}

func reportDiff(t *testing.T, what string, got, want []int8, row int) {
	t.Helper()
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: element %d (row %d, col %d) = %d, want %d", what, i, i/row, i%row, got[i], want[i])
		}
	}
}

// dwCase is a random valid depthwise problem.
func newConvCase(r *rand.Rand, n, h, w, c, o, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups int) (*ConvParams, []int8, []int8, []int32) {
	cc := convCase{"", n, h, w, c, o, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups}
	p := cc.params()
	zs := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}
	p.XZero, p.YZero = zs[r.IntN(4)], zs[r.IntN(4)]
	cpg := c / max(groups, 1)
	k := kh * kw * cpg
	p.Mult = extremeMults(r, o, multMode(r), k)
	p.Out = []Range{Full, Full, {int8(p.YZero), 127}, {-128, -128}, {int8(-100 + r.IntN(90)), int8(10 + r.IntN(100))}}[r.IntN(5)]
	var x, wt []int8
	if r.IntN(6) == 0 {
		x = slices.Repeat([]int8{[]int8{-128, 127}[r.IntN(2)]}, n*h*w*c)
		wt = slices.Repeat([]int8{[]int8{-128, 127, -127}[r.IntN(3)]}, o*kh*kw*cpg)
	} else {
		x = randI8(r, n*h*w*c, -128, 127)
		wt = randI8(r, o*kh*kw*cpg, -128, 127)
	}
	return p, x, wt, randBias(r, o, k)
}

func TestSetDepthwise(t *testing.T) {
	sets := accelSets(t)
	if len(sets) == 0 {
		t.Skip("no accelerated kernel set on this machine/build")
	}
	r := rand.New(rand.NewPCG(33, 34))
	chans := []int{1, 3, 8, 13, 16, 24, 31, 32, 33, 40, 48, 64, 72, 96, 120, 144, 184, 200, 240, 256, 480, 520, 672, 1000}
	n := 0
	var spread []int8
	for _, k := range []int{3, 5, 1, 7} {
		for _, c := range chans {
			for rep := range 3 {
				s := 1 + r.IntN(2)
				d := 1
				if rep == 2 && r.IntN(2) == 0 {
					d = 2
				}
				h, w := 1+r.IntN(13), 1+r.IntN(13)
				if c >= 512 {
					h, w = 1+r.IntN(6), 1+r.IntN(6)
				}
				pads := [4]int{r.IntN(k), r.IntN(k), r.IntN(k), r.IntN(k)}
				if rep == 0 {
					pads = [4]int{k / 2, k / 2, k / 2, k / 2}
				}
				if h+pads[0]+pads[2] < d*(k-1)+1 || w+pads[1]+pads[3] < d*(k-1)+1 {
					continue
				}
				nb := 1 + r.IntN(2)
				p, x, wt, bias := newConvCase(r, nb, h, w, c, c, k, k, s, s, d, d, pads[0], pads[1], pads[2], pads[3], c)
				// Generic-layout depthwise weights [KH][KW][O] from [O][KH][KW][1].
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
				if p.Out == Full {
					spread = append(spread, want...)
				}
				for _, st := range sets {
					name := fmt.Sprintf("%s %dx%d/%d d%d C=%d N=%d %dx%d pads %v zx=%d zy=%d out=%v", st.Name, k, k, s, d, c, nb, h, w, pads, p.XZero, p.YZero, p.Out)
					gx, gw := newGuarded(r, x), newGuarded(r, st.PackDepthwise(p, wd))
					gy := newGuarded(r, make([]int8, len(want)))
					for _, sp := range splits(r, p.Rows()) {
						st.Depthwise(p, gx.s(), gw.s(), bias, gy.s(), sp[0], sp[1])
					}
					gx.check(t, name+" x")
					gw.check(t, name+" w")
					gy.check(t, name+" y")
					if !slices.Equal(gy.s(), want) {
						reportDiff(t, name+" Depthwise", gy.s(), want, c)
					}
					n++
				}
			}
		}
	}
	checkSpread(t, "depthwise", spread, Full)
	t.Logf("%d cases", n)
}

func TestSetConv(t *testing.T) {
	sets := accelSets(t)
	if len(sets) == 0 {
		t.Skip("no accelerated kernel set on this machine/build")
	}
	r := rand.New(rand.NewPCG(35, 36))
	n := 0
	cases := []convCase{
		{"stem", 1, 17, 16, 3, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
		{"stem TF pads", 2, 16, 15, 3, 16, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1},
		{"stem over im2col chunks", 1, 65, 64, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
		{"kernel rows of 16 bytes", 1, 9, 11, 4, 8, 4, 4, 1, 1, 1, 1, 1, 2, 2, 1, 1},
		{"1 channel stride 3", 2, 13, 14, 1, 5, 3, 3, 3, 3, 1, 1, 1, 0, 1, 2, 1},
		{"3x3/1", 1, 7, 9, 5, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{"5x5 dilated", 1, 11, 10, 4, 9, 5, 5, 1, 2, 2, 1, 4, 2, 4, 2, 1},
		{"grouped", 1, 6, 6, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},
		{"1x1 stride 2", 1, 9, 9, 17, 33, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},
		{"window bigger than input", 1, 2, 2, 3, 7, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 1},
		{"wide K", 1, 5, 5, 200, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{"huge K (im2col chunk of 1)", 1, 3, 3, 1900, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{"too big for im2col", 1, 3, 3, 2000, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		// DeepLabV3's ASPP branch (960 channels, rate 12 at 33x33), smaller:
		// a dilated window, rows of 8640 bytes in chunks of 7 pixels.
		{"ASPP", 1, 14, 13, 960, 24, 3, 3, 1, 1, 6, 6, 6, 6, 6, 6, 1},
		// Rows of 576 and 72 values, 156 and 80 pixels: the AMX tiles.
		{"3x3 over 64 channels", 1, 12, 13, 64, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{"3x3/2 over 8 channels", 2, 16, 10, 8, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
	}
	var spread []int8
	for _, cc := range cases {
		for range 6 {
			p, x, wt, bias := newConvCase(r, cc.n, cc.h, cc.w, cc.c, cc.o, cc.kh, cc.kw, cc.sh, cc.sw, cc.dh, cc.dw, cc.pt, cc.pl, cc.pb, cc.pr, cc.groups)
			want := make([]int8, p.N*p.OH*p.OW*p.O)
			if err := p.Validate(x, wt, bias, want); err != nil {
				t.Fatal(cc.name, err)
			}
			Conv(p, x, wt, bias, want, 0, p.Rows())
			if p.Out == Full {
				spread = append(spread, want...)
			}
			for _, st := range sets {
				name := fmt.Sprintf("%s %s zx=%d zy=%d out=%v", st.Name, cc.name, p.XZero, p.YZero, p.Out)
				gx, gw := newGuarded(r, x), newGuarded(r, st.PackConv(p, wt))
				gy := newGuarded(r, make([]int8, len(want)))
				for _, sp := range splits(r, p.Rows()) {
					st.Conv(p, gx.s(), gw.s(), bias, gy.s(), sp[0], sp[1])
				}
				gx.check(t, name+" x")
				gw.check(t, name+" w")
				gy.check(t, name+" y")
				if !slices.Equal(gy.s(), want) {
					reportDiff(t, name+" Conv", gy.s(), want, p.O)
				}
				n++
			}
		}
	}
	checkSpread(t, "conv", spread, Full)
	t.Logf("%d cases", n)
}

func TestSetAdd(t *testing.T) {
	sets := accelSets(t)
	if len(sets) == 0 {
		t.Skip("no accelerated kernel set on this machine/build")
	}
	r := rand.New(rand.NewPCG(37, 38))
	for it := range 400 {
		n := []int{1, 15, 16, 17, 31, 32, 33, 100, 1000, 4099}[it%10]
		var p AddParams
		switch it % 4 {
		case 0: // typical scales
			var err error
			p, err = NewAddParams(0.01+r.Float64(), 0.01+r.Float64(), 0.02+r.Float64(), int32(r.IntN(256)-128), int32(r.IntN(256)-128), int32(r.IntN(256)-128), Full)
			if err != nil {
				t.Fatal(err)
			}
		default: // raw extremes of the multipliers and shift
			p = AddParams{AZero: []int32{-128, 127, 0}[r.IntN(3)], BZero: []int32{-128, 127, 5}[r.IntN(3)], YZero: []int32{-128, 127, -3}[r.IntN(3)],
				MA: []int32{0, 1, 1<<31 - 1, 1 << 30, int32(r.Int64N(1 << 31))}[r.IntN(5)],
				MB: []int32{0, 1<<31 - 1, 1 << 30, int32(r.Int64N(1 << 31))}[r.IntN(4)],
				S:  int32(1 + r.IntN(MaxShift)), Out: Full}
		}
		if r.IntN(3) == 0 {
			p.Out = Range{int8(-128 + r.IntN(100)), int8(127 - r.IntN(100))}
		}
		a, b := randI8(r, n, -128, 127), randI8(r, n, -128, 127)
		want := make([]int8, n)
		if err := p.Validate(a, b, want); err != nil {
			t.Fatal(err)
		}
		Add(&p, a, b, want)
		for _, s := range sets {
			ga, gb, gy := newGuarded(r, a), newGuarded(r, b), newGuarded(r, make([]int8, n))
			s.Add(&p, ga.s(), gb.s(), gy.s())
			name := fmt.Sprintf("%s Add n=%d %+v", s.Name, n, p)
			ga.check(t, name)
			gb.check(t, name)
			gy.check(t, name)
			if !slices.Equal(gy.s(), want) {
				reportDiff(t, name, gy.s(), want, n)
			}
			// In place, as a runtime may run it.
			y2 := slices.Clone(a)
			s.Add(&p, y2, b, y2)
			if !slices.Equal(y2, want) {
				reportDiff(t, name+" in place", y2, want, n)
			}
		}
	}
}

func TestSetPoolMulLUT(t *testing.T) {
	sets := accelSets(t)
	if len(sets) == 0 {
		t.Skip("no accelerated kernel set on this machine/build")
	}
	r := rand.New(rand.NewPCG(39, 40))
	for it := range 300 {
		n := 1 + r.IntN(2)
		hw := []int{1, 2, 7, 49, 127, 128, 129, 196, 300}[r.IntN(9)]
		c := []int{1, 7, 8, 16, 24, 31, 32, 33, 40, 64, 72, 96, 120, 1280, 2100}[r.IntN(15)]
		if c > 1000 {
			hw = min(hw, 8)
		}
		x := randI8(r, n*hw*c, -128, 127)
		if it%7 == 0 || it < 4 {
			if it < 4 { // the longest 16-bit partial sums, at their extremes
				hw, c = 300, 64
			}
			x = slices.Repeat([]int8{[]int8{-128, 127}[it%2]}, n*hw*c)
		}
		zx := []int32{-128, 127, int32(r.IntN(256) - 128)}[r.IntN(3)]
		m := extremeMults(r, 1, 1, hw)[0]
		pp := PoolParams{N: n, HW: hw, C: c, XZero: zx, YZero: int32(r.IntN(256) - 128), Mult: m, Out: Full}
		if r.IntN(2) == 0 {
			pp.Mult, _ = NewMultiplier(1 / float64(hw))
		}
		wantP := make([]int8, n*c)
		if err := pp.Validate(x, wantP); err != nil {
			t.Fatal(err)
		}
		GlobalAveragePool(&pp, x, wantP)

		g := randI8(r, n*c, -128, 127)
		cp := ChannelMulParams{N: n, HW: hw, C: c, XZero: zx, GZero: []int32{-128, 127, 0}[r.IntN(3)], YZero: int32(r.IntN(256) - 128),
			Mult: extremeMults(r, 1, r.IntN(2), 1)[0], Out: []Range{Full, {-100, 50}}[r.IntN(2)]}
		wantM := make([]int8, len(x))
		if err := cp.Validate(x, g, wantM); err != nil {
			t.Fatal(err)
		}
		ChannelMul(&cp, x, g, wantM, 0, n*hw)

		var tab Table
		for i := range tab {
			tab[i] = int8(r.IntN(256) - 128)
		}
		wantL := make([]int8, len(x))
		LUT(&tab, x, wantL)

		for _, s := range sets {
			name := fmt.Sprintf("%s N=%d HW=%d C=%d", s.Name, n, hw, c)
			gx, gy := newGuarded(r, x), newGuarded(r, make([]int8, n*c))
			s.GlobalAveragePool(&pp, gx.s(), gy.s())
			gx.check(t, name+" pool")
			gy.check(t, name+" pool")
			if !slices.Equal(gy.s(), wantP) {
				reportDiff(t, name+" pool", gy.s(), wantP, c)
			}
			gg, gm := newGuarded(r, g), newGuarded(r, make([]int8, len(x)))
			// In up to three position ranges, as threads split it.
			cut1 := r.IntN(n*hw + 1)
			cut2 := cut1 + r.IntN(n*hw-cut1+1)
			s.ChannelMul(&cp, gx.s(), gg.s(), gm.s(), cut1, cut2)
			s.ChannelMul(&cp, gx.s(), gg.s(), gm.s(), 0, cut1)
			s.ChannelMul(&cp, gx.s(), gg.s(), gm.s(), cut2, n*hw)
			gm.check(t, name+" mul")
			if !slices.Equal(gm.s(), wantM) {
				reportDiff(t, name+" mul", gm.s(), wantM, c)
			}
			gl := newGuarded(r, make([]int8, len(x)))
			s.LUT(&tab, gx.s(), gl.s())
			gl.check(t, name+" lut")
			gx.check(t, name+" lut")
			if !slices.Equal(gl.s(), wantL) {
				reportDiff(t, name+" lut", gl.s(), wantL, c)
			}
			inPlace := slices.Clone(x)
			s.LUT(&tab, inPlace, inPlace)
			if !slices.Equal(inPlace, wantL) {
				t.Fatalf("%s: LUT in place differs", name)
			}
		}
	}
}

// setSqueezeExcite runs a squeeze-excite unit on a Set's kernels in the
// order of SqueezeExcite (as the runtime composes them), w1 and w2 packed
// by the Set's PackGemm; scratch holds the intermediates (seScratch).
func setSqueezeExcite(s *Set, p *SEParams, x, w1 []int8, b1 []int32, w2 []int8, b2 []int32, y, scratch []int8) {
	n, c := p.Pool.N, p.Pool.C
	pooled, mid, exc := scratch[:n*c], scratch[n*c:n*(c+p.Squeeze.N)], scratch[n*(c+p.Squeeze.N):][:n*c]
	s.GlobalAveragePool(&p.Pool, x, pooled)
	s.Gemm(&p.Squeeze, pooled, w1, b1, mid, 0, n)
	s.Gemm(&p.Excite, mid, w2, b2, exc, 0, n)
	s.LUT(&p.Gate, exc, exc)
	s.ChannelMul(&p.Scale, x, exc, y, 0, n*p.Scale.HW)
}

// seScratch returns scratch for setSqueezeExcite.
func seScratch(p *SEParams) []int8 { return make([]int8, p.Pool.N*(2*p.Pool.C+p.Squeeze.N)) }

// TestSetSqueezeExcite: a unit composed of each Set's kernels equals the
// generic SqueezeExcite.
func TestSetSqueezeExcite(t *testing.T) {
	sets := accelSets(t)
	if len(sets) == 0 {
		t.Skip("no accelerated kernel set on this machine/build")
	}
	r := rand.New(rand.NewPCG(41, 42))
	for it := range 60 {
		n := 1 + r.IntN(2)
		hw := []int{1, 9, 49, 196}[r.IntN(4)]
		c := []int{8, 16, 72, 120, 480, 960, 13}[r.IntN(7)]
		sq := []int{1, 4, 8, 24, 32, 120, 240}[r.IntN(7)]
		zx := int32(r.IntN(256) - 128)
		x := randI8(r, n*hw*c, -128, 127)
		w1, w2 := randI8(r, sq*c, -127, 127), randI8(r, c*sq, -127, 127)
		b1, b2 := make([]int32, sq), make([]int32, c)
		for i := range b1 {
			b1[i] = int32(r.IntN(20001) - 10000)
		}
		for i := range b2 {
			b2[i] = int32(r.IntN(20001) - 10000)
		}
		pm, _ := NewMultiplier(1 / float64(hw))
		var tab Table
		for i := range tab {
			tab[i] = int8(min(127, max(-128, i/2-64+r.IntN(3))))
		}
		zsq := int32(r.IntN(256) - 128)
		p := SEParams{
			Pool:    PoolParams{N: n, HW: hw, C: c, XZero: zx, YZero: zx, Mult: pm, Out: Full},
			Squeeze: GemmParams{M: n, K: c, N: sq, AZero: zx, YZero: zsq, Mult: extremeMults(r, sq, it%2, c), Out: Range{int8(zsq), 127}},
			Excite:  GemmParams{M: n, K: sq, N: c, AZero: zsq, YZero: int32(r.IntN(256) - 128), Mult: extremeMults(r, c, it%2, sq), Out: Full},
			Gate:    tab,
			Scale:   ChannelMulParams{N: n, HW: hw, C: c, XZero: zx, GZero: -128, YZero: int32(r.IntN(256) - 128), Mult: extremeMults(r, 1, 0, 1)[0], Out: Full},
		}
		want := make([]int8, len(x))
		if err := p.Validate(x, w1, b1, w2, b2, want); err != nil {
			t.Fatal(err)
		}
		SqueezeExcite(&p, x, w1, b1, w2, b2, want)
		for _, s := range sets {
			gy := newGuarded(r, make([]int8, len(x)))
			setSqueezeExcite(s, &p, x, s.PackGemm(w1, sq, c), b1, s.PackGemm(w2, c, sq), b2, gy.s(), seScratch(&p))
			gy.check(t, s.Name+" SE")
			if !slices.Equal(gy.s(), want) {
				reportDiff(t, fmt.Sprintf("%s SE N=%d HW=%d C=%d S=%d", s.Name, n, hw, c, sq), gy.s(), want, c)
			}
		}
	}
}
