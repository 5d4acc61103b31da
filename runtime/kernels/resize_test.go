package kernels_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/kernels"
)

// TestResizeSource10: the fixed-point coordinates stay inside the input,
// their weights in [0, 2^10], and they are within one step of the float
// ones (for DeepLab's 33 -> 513 with align_corners, exact: the scale is
// 1/16).
func TestResizeSource10(t *testing.T) {
	sizes := []int{1, 2, 3, 5, 7, 8, 16, 33, 65, 129, 257, 513, 4000}
	for _, rule := range []ir.ResizeAttrs{{}, {AlignCorners: true}, {HalfPixelCenters: true}} {
		for _, in := range sizes {
			for _, out := range sizes {
				for d := range out {
					x0, x1, w1 := kernels.ResizeSource10(d, in, out, rule.AlignCorners, rule.HalfPixelCenters)
					if x0 < 0 || x1 < x0 || x1 >= in || x1 > x0+1 || w1 < 0 || w1 > 1<<10 {
						t.Fatalf("%v %d of %d->%d: %d %d %d", &rule, d, in, out, x0, x1, w1)
					}
					f0, _, f := kernels.ResizeSource(d, in, out, rule.AlignCorners, rule.HalfPixelCenters)
					fx, qx := float64(f0)+f, float64(x0)+float64(w1)/1024
					if x1 == x0 {
						qx = float64(x0)
					}
					// The scale's rounding (half a step of 2^-10 per
					// output index) moves the coordinate by at most d/2048.
					if math.Abs(fx-qx) > float64(d+2)/2048 && x1 != x0 {
						t.Fatalf("%v %d of %d->%d: fixed point %g, float %g", &rule, d, in, out, qx, fx)
					}
					if rule.AlignCorners && in == 33 && out == 513 && math.Abs(fx-qx) != 0 {
						t.Fatalf("33->513 align_corners at %d: fixed point %g, float %g", d, qx, fx)
					}
				}
			}
		}
	}
}

// TestResizeParams: bad geometries are refused.
func TestResizeParams(t *testing.T) {
	for _, c := range []struct {
		n, h, w, ch, oh, ow int
		align, half         bool
		want                string
	}{
		{1, 0, 4, 1, 4, 4, false, false, "positive"},
		{1, 4, 4, 1, 0, 4, false, false, "positive"},
		{1, 4, 4, 1, 1 << 17, 4, false, false, "at most"},
		{1, 4, 4, 1 << 20, 1 << 16, 1 << 16, false, false, "2^31"},
		{1, 4, 4, 1, 8, 8, true, true, "both"},
	} {
		_, err := kernels.NewResizeParams(c.n, c.h, c.w, c.ch, c.oh, c.ow, c.align, c.half)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error saying %q", c, err, c.want)
		}
	}
	p, err := kernels.NewResizeParams(1, 2, 2, 1, 3, 3, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(4, 8); err == nil {
		t.Error("Validate accepted 8 output elements for 9")
	}
	// int8: the corners are the input's, the centre their mean
	// (rounded half up: (-3 + 5 + 7 + 10)/4 = 4.75 -> 5).
	x, y := []int8{-3, 5, 7, 10}, make([]int8, 9)
	kernels.ResizeBilinearI8(&p, x, y, 0, 3)
	if y[0] != -3 || y[2] != 5 || y[6] != 7 || y[8] != 10 || y[4] != 5 || y[1] != 1 {
		t.Errorf("int8 resize %v", y)
	}
	xf, yf := []float32{-3, 5, 7, 10}, make([]float32, 9)
	kernels.ResizeBilinearF32(&p, xf, yf, 0, 3)
	if yf[4] != 4.75 || yf[1] != 1 || yf[8] != 10 {
		t.Errorf("float resize %v", yf)
	}
}

// TestArgMax: the first largest wins, NaN never does, all NaN gives 0;
// int8 codes compare as values.
func TestArgMax(t *testing.T) {
	nan := float32(math.NaN())
	x := []float32{1, 3, 3, nan, 2, nan, nan, nan}
	y := make([]int32, 2)
	kernels.ArgMax(x, 2, 4, 1, y)
	if y[0] != 1 || y[1] != 0 {
		t.Errorf("last axis: %v", y)
	}
	// [2][2][2]: over the middle axis.
	kernels.ArgMax([]int8{-5, 4, 7, 4, 1, -128, 1, 127}, 2, 2, 2, make([]int32, 4))
	y4 := make([]int32, 4)
	kernels.ArgMax([]int8{-5, 4, 7, 4, 1, -128, 1, 127}, 2, 2, 2, y4)
	if y4[0] != 1 || y4[1] != 0 || y4[2] != 0 || y4[3] != 1 {
		t.Errorf("middle axis: %v", y4)
	}
}

// TestConcatRequant: inputs of the output's quantization are copied, the
// others requantized by the package's rule.
func TestConcatRequant(t *testing.T) {
	q := kernels.Quant{Scale: 0.5, Zero: 3}
	same, err := kernels.NewRequant(q, q)
	if err != nil || !same.Copy {
		t.Fatalf("same quantization: %+v %v", same, err)
	}
	half, err := kernels.NewRequant(kernels.Quant{Scale: 0.25, Zero: -1}, q)
	if err != nil || half.Copy {
		t.Fatalf("%+v %v", half, err)
	}
	p := kernels.ConcatParams{Outer: 2, Chunks: []int{1, 2}, Requant: []kernels.Requant{same, half}}
	if err := p.Validate([]int{2, 4}, 6); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate([]int{2, 3}, 6); err == nil {
		t.Error("Validate accepted a short input")
	}
	y := make([]int8, 6)
	kernels.ConcatI8(&p, 0, []int8{10, 20}, y)
	// (x+1)*0.25/0.5 + 3: -1 -> 3, 2 -> 4.5 -> 5 (ties up), 126 -> 66.5 -> 67, -128 -> -60.5 -> -60.
	kernels.ConcatI8(&p, 1, []int8{-1, 2, 126, -128}, y)
	if want := []int8{10, 3, 5, 20, 67, -60}; string(i8bytes(y)) != string(i8bytes(want)) {
		t.Errorf("concat %v, want %v", y, want)
	}
	// Apply (a table of the 256 codes) is the rule code by code, for
	// scales either way (saturating ones included) and extreme zero points.
	all := make([]int8, 256)
	for i := range all {
		all[i] = int8(i)
	}
	for _, c := range []struct{ sx, sy float64 }{{0.25, 0.5}, {0.5, 0.25}, {1e-3, 0.37}, {3.1, 0.01}, {0.0219, 0.0217}} {
		for _, z := range [][2]int32{{0, 0}, {-128, 127}, {127, -128}, {-5, 17}} {
			r, err := kernels.NewRequant(kernels.Quant{Scale: c.sx, Zero: z[0]}, kernels.Quant{Scale: c.sy, Zero: z[1]})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]int8, 256)
			r.Apply(all, got)
			for i, v := range all {
				if want := kernels.Requantize(int32(v)-z[0], r.M, z[1], -128, 127); got[i] != want {
					t.Fatalf("%+v %v: code %d -> %d, want %d", c, z, v, got[i], want)
				}
			}
		}
	}
}

func i8bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// TestArgMaxLast: the last-axis kernels give ArgMax's indices (ties, NaN,
// all NaN included).
func TestArgMaxLast(t *testing.T) {
	nan := float32(math.NaN())
	for _, dim := range []int{1, 2, 3, 21} {
		const outer = 500
		x8 := make([]int8, outer*dim)
		xf := make([]float32, outer*dim)
		seed := uint32(dim)
		for i := range x8 {
			seed = seed*1664525 + 1013904223
			x8[i] = int8(seed>>24) / 16 // many ties
			xf[i] = float32(x8[i])
			if seed>>8&7 == 0 {
				xf[i] = nan
			}
		}
		for o := 0; o < outer; o += 7 { // whole slices of NaN
			for d := range dim {
				xf[o*dim+d] = nan
			}
		}
		want, have := make([]int32, outer), make([]int32, outer)
		kernels.ArgMax(x8, outer, dim, 1, want)
		kernels.ArgMaxLastI8(x8, outer, dim, have)
		if string(i32bytes(want)) != string(i32bytes(have)) {
			t.Errorf("int8, dim %d: %v, want %v", dim, have[:10], want[:10])
		}
		kernels.ArgMax(xf, outer, dim, 1, want)
		kernels.ArgMaxLastF32(xf, outer, dim, have)
		if string(i32bytes(want)) != string(i32bytes(have)) {
			t.Errorf("float32, dim %d: %v, want %v", dim, have[:10], want[:10])
		}
	}
}

func i32bytes(v []int32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
	}
	return b
}

// TestResizeBilinearI8: the kernel (vertical first for short rows, the four
// taps at once for long ones) equals the sum of ResizeSource10's four
// products rounded once, for every rule, up- and downsampling.
func TestResizeBilinearI8(t *testing.T) {
	for _, g := range []struct{ h, w, c, oh, ow int }{
		{33, 33, 21, 65, 65}, {5, 7, 3, 13, 4}, {1, 1, 8, 9, 9}, {6, 400, 6, 11, 700}, {9, 9, 1, 3, 3}, {1, 1, 256, 33, 33}, {1, 1, 3, 1, 7},
	} {
		for _, rule := range []ir.ResizeAttrs{{}, {AlignCorners: true}, {HalfPixelCenters: true}} {
			p, err := kernels.NewResizeParams(2, g.h, g.w, g.c, g.oh, g.ow, rule.AlignCorners, rule.HalfPixelCenters)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]int8, 2*g.h*g.w*g.c)
			seed := uint32(g.h*31 + g.w)
			for i := range x {
				seed = seed*1664525 + 1013904223
				x[i] = int8(seed >> 24)
			}
			y := make([]int8, 2*g.oh*g.ow*g.c)
			kernels.ResizeBilinearI8(&p, x, y, 0, 2*g.oh)
			for b := range 2 {
				for oy := range g.oh {
					y0, y1, wy1 := kernels.ResizeSource10(oy, g.h, g.oh, rule.AlignCorners, rule.HalfPixelCenters)
					for ox := range g.ow {
						x0, x1, wx1 := kernels.ResizeSource10(ox, g.w, g.ow, rule.AlignCorners, rule.HalfPixelCenters)
						for ch := range g.c {
							at := func(yy, xx int) int64 { return int64(x[((b*g.h+yy)*g.w+xx)*g.c+ch]) }
							v := at(y0, x0)*(1024-wy1)*(1024-wx1) + at(y0, x1)*(1024-wy1)*wx1 +
								at(y1, x0)*wy1*(1024-wx1) + at(y1, x1)*wy1*wx1
							want := kernels.Clamp(kernels.RoundShift(v, 20), -128, 127)
							if got := y[((b*g.oh+oy)*g.ow+ox)*g.c+ch]; got != want {
								t.Fatalf("%+v %v: y[%d,%d,%d,%d] = %d, want %d", g, &rule, b, oy, ox, ch, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestResizeArgMax: the fused kernels. Float: exactly ResizeBilinearF32
// then ArgMax (NaNs and ties included). Int8: the ArgMax of the exact sums
// of ResizeSource10's four products (computed here independently, pixel by
// pixel), which is ResizeBilinearI8-then-ArgMax's index wherever the
// rounded codes have one largest channel (rounding is monotone), and
// breaks the codes' ties. Inputs: noise (few blocks of one class), smooth
// fields (DeepLab's logits: mostly blocks of one class, which the int8
// kernel fills from their corners, with class boundaries crossing
// blocks) and plateaus where channels tie exactly over whole regions (the
// first index must win inside a filled block as at its corners), and, for
// float32, channels a few ulps apart, normal or subnormal, whose rounded
// interpolations cross inside blocks (a float block is filled only past a
// margin).
func TestResizeArgMax(t *testing.T) {
	brokenTies := 0
	for _, g := range []struct{ h, w, c, oh, ow int }{
		{33, 33, 21, 65, 65}, {5, 7, 3, 13, 4}, {1, 1, 8, 9, 9}, {9, 9, 1, 3, 3}, {4, 6, 2, 17, 5},
		{33, 33, 21, 513, 513}, {3, 4, 5, 40, 31}, {12, 9, 4, 5, 70},
	} {
		for _, rule := range []ir.ResizeAttrs{{}, {AlignCorners: true}, {HalfPixelCenters: true}} {
			for _, kind := range []string{"noise", "smooth", "plateau", "ulps", "subnormal"} {
				if g.oh == 513 && (kind == "noise" || rule.AlignCorners != true) {
					continue // DeepLab's case; the others are covered small
				}
				p, err := kernels.NewResizeParams(2, g.h, g.w, g.c, g.oh, g.ow, rule.AlignCorners, rule.HalfPixelCenters)
				if err != nil {
					t.Fatal(err)
				}
				x8, xf := argMaxInput(kind, 2, g.h, g.w, g.c)
				brokenTies += checkResizeArgMax(t, fmt.Sprintf("%+v %v %s", g, &rule, kind), &p, x8, xf)
			}
		}
	}
	if brokenTies == 0 {
		t.Error("no rounded tie was broken: the test does not exercise the difference")
	}
	t.Logf("%d pixels whose rounded codes tie went to a later channel", brokenTies)
}

// argMaxInput makes n items of [h][w][c] codes (and floats: codes/32, some
// NaN) of a kind (TestResizeArgMax).
func argMaxInput(kind string, n, h, w, c int) ([]int8, []float32) {
	x8, xf := make([]int8, n*h*w*c), make([]float32, n*h*w*c)
	seed := uint32(h*31 + w + c + len(kind))
	rnd := func() uint32 { seed = seed*1664525 + 1013904223; return seed }
	// Per item and channel, a plane a + bx*x + by*y (smooth) or a few
	// levels (plateau); channels 0 and 1 share theirs in half the image.
	type plane struct{ a, bx, by float64 }
	planes := make([]plane, n*c)
	for i := range planes {
		planes[i] = plane{float64(int32(rnd()>>16)%200) - 100, float64(int32(rnd()>>16)%21-10) / 2, float64(int32(rnd()>>16)%21-10) / 2}
	}
	for b := range n {
		for yy := range h {
			for xx := range w {
				for ch := range c {
					i := ((b*h+yy)*w+xx)*c + ch
					r := rnd()
					var v float64
					switch kind {
					case "noise":
						v = float64(int8(r>>24) / 16 * 16) // coarse codes: ties after rounding
					case "smooth":
						pl := planes[b*c+ch]
						v = pl.a + pl.bx*float64(xx) + pl.by*float64(yy) + float64(int32(r>>29)) - 4
					case "plateau":
						src := ch
						if ch == 1 && xx < w/2 {
							src = 0
						}
						pl := planes[b*c+src]
						v = math.Round((pl.a+pl.bx*float64(xx/3)+pl.by*float64(yy/3))/40) * 40
					}
					if kind == "ulps" || kind == "subnormal" {
						v = float64(int8(r >> 24))
					}
					x8[i] = int8(max(-128, min(127, v)))
					xf[i] = float32(x8[i]) / 32
					if kind == "noise" && r%97 == 0 {
						xf[i] = float32(math.NaN())
					}
					if kind == "ulps" { // one smooth field in [1, 2), each channel a few ulps off it
						pl := planes[b*c]
						f := 1.5 + (pl.bx*float64(xx)+pl.by*float64(yy))/float64(20*(w+h))
						xf[i] = math.Float32frombits(math.Float32bits(float32(f)) + uint32(r>>30) + uint32(ch%2))
					}
					if kind == "subnormal" { // the same among subnormals: codes of a few units apart
						pl := planes[b*c]
						f := 40 + (pl.bx*float64(xx)+pl.by*float64(yy))/float64(w+h)
						xf[i] = math.Float32frombits(uint32(f) + uint32(r>>30) + uint32(ch%2))
					}
				}
			}
		}
	}
	return x8, xf
}

// checkResizeArgMax is TestResizeArgMax's comparison of one input; it
// returns the pixels whose rounded codes tie but whose exact sums do not.
func checkResizeArgMax(t *testing.T, name string, p *kernels.ResizeParams, x8 []int8, xf []float32) (brokenTies int) {
	t.Helper()
	g := struct{ h, w, c, oh, ow int }{p.H, p.W, p.C, p.OH, p.OW}
	rule := ir.ResizeAttrs{AlignCorners: p.AlignCorners, HalfPixelCenters: p.HalfPixel}
	m := p.N * g.oh * g.ow
	// Float: the two ops.
	up := make([]float32, m*g.c)
	kernels.ResizeBilinearF32(p, xf, up, 0, 2*g.oh)
	want, got := make([]int32, m), make([]int32, m)
	kernels.ArgMax(up, m, g.c, 1, want)
	kernels.ResizeArgMaxF32(p, xf, got, 0, 2*g.oh)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s f32: pixel %d: fused %d, two ops %d", name, i, got[i], want[i])
		}
	}
	// Int8.
	up8 := make([]int8, m*g.c)
	kernels.ResizeBilinearI8(p, x8, up8, 0, 2*g.oh)
	codes := make([]int32, m)
	kernels.ArgMax(up8, m, g.c, 1, codes)
	// In three row ranges, as threads call it (a range may cut a
	// block).
	for _, cut := range [][2]int{{0, g.oh / 3}, {g.oh / 3, g.oh + 1}, {g.oh + 1, 2 * g.oh}} {
		kernels.ResizeArgMaxI8(p, x8, got, cut[0], cut[1])
	}
	for b := range 2 {
		for oy := range g.oh {
			y0, y1, wy1 := kernels.ResizeSource10(oy, g.h, g.oh, rule.AlignCorners, rule.HalfPixelCenters)
			for ox := range g.ow {
				x0, x1, wx1 := kernels.ResizeSource10(ox, g.w, g.ow, rule.AlignCorners, rule.HalfPixelCenters)
				best, top, uniq := 0, int64(math.MinInt64), true
				for ch := range g.c {
					at := func(yy, xx int) int64 { return int64(x8[((b*g.h+yy)*g.w+xx)*g.c+ch]) }
					v := at(y0, x0)*(1024-wy1)*(1024-wx1) + at(y0, x1)*(1024-wy1)*wx1 +
						at(y1, x0)*wy1*(1024-wx1) + at(y1, x1)*wy1*wx1
					if v > top {
						best, top = ch, v
					}
				}
				px := (b*g.oh+oy)*g.ow + ox
				row := up8[px*g.c : px*g.c+g.c]
				for ch, q := range row {
					if ch != int(codes[px]) && q == row[codes[px]] {
						uniq = false
					}
				}
				if got[px] != int32(best) {
					t.Fatalf("%s i8: pixel %d: fused %d, exact sums %d", name, px, got[px], best)
				}
				if uniq && got[px] != codes[px] {
					t.Fatalf("%s i8: pixel %d: fused %d, the codes' unique largest %d", name, px, got[px], codes[px])
				}
				if !uniq && got[px] != codes[px] {
					brokenTies++
				}
			}
		}
	}
	return brokenTies
}
