package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// A MobileNetV2-shaped (1.0, 224x224, batch 1) sequence of layers run
// through a Set: the stem conv, every inverted-residual block (1x1 expand
// with ReLU6, depthwise 3x3 with ReLU6, 1x1 project, residual Add), the last
// 1x1 conv, the global average pool and the classifier, with random int8
// weights and typical quantization parameters. It is what the runtime will
// run, minus the graph walk, so its time per inference is comparable with
// ONNX Runtime's int8 QDQ MobileNetV2 on one core (../shared/peers/README.md):
//
//	go test -run '^$' -bench MobileNetV2 -benchtime 200x ./runtime/kernels
//
// ms/op is the mean; the min-ms and p50-ms metrics are the fastest and the
// median single inference, steadier on a shared machine.

type v2Layer struct {
	kind    string // "conv", "pw", "dw", "add", "pool", "fc", "lut", "se"
	p       *ConvParams
	gp      *GemmParams
	ap      *AddParams
	pp      *PoolParams
	se      *SEParams
	tab     *Table
	w       []int8 // generic layout (SE: the squeeze weights)
	w2      []int8 // SE: the excite weights
	pw, pw2 []int8 // packed for the Set
	bias    []int32
	bias2   []int32
	scratch []int8 // for setSqueezeExcite
	in, in2 int    // buffer indices
	out     int
}

type v2Net struct {
	layers []*v2Layer
	bufs   [][]int8
	macs   int
}

func typicalMults(r *rand.Rand, n int) []Multiplier {
	ms := make([]Multiplier, n)
	for i := range ms {
		ms[i], _ = NewMultiplier(1e-4 * (1 + 30*r.Float64()))
	}
	return ms
}

func newV2Net(r *rand.Rand) *v2Net {
	net := &v2Net{}
	newBuf := func(n int) int {
		net.bufs = append(net.bufs, randI8(r, n, -128, 127))
		return len(net.bufs) - 1
	}
	relu6 := Range{-128, 127}
	conv := func(kind string, in, h, c, o, k, s int, out Range) (int, int) {
		pad := k / 2
		oh := (h+2*pad-k)/s + 1
		p := &ConvParams{N: 1, H: h, W: h, C: c, OH: oh, OW: oh, O: o, KH: k, KW: k, StrideH: s, StrideW: s,
			PadTop: pad, PadLeft: pad, XZero: int32(r.IntN(40) - 128), YZero: -128, Mult: typicalMults(r, o), Out: out}
		wn := o * k * k * c
		if kind == "dw" {
			p.Groups = c
			wn = o * k * k
		}
		if out == Full {
			p.YZero = int32(r.IntN(20) - 10)
		}
		l := &v2Layer{kind: kind, p: p, w: randI8(r, wn, -127, 127), bias: make([]int32, o), in: in}
		for i := range l.bias {
			l.bias[i] = int32(r.IntN(20001) - 10000)
		}
		l.out = newBuf(oh * oh * o)
		net.layers = append(net.layers, l)
		net.macs += oh * oh * wn
		return l.out, oh
	}
	x := newBuf(224 * 224 * 3)
	cur, h := conv("conv", x, 224, 3, 32, 3, 2, relu6)
	c := 32
	for _, st := range []struct{ t, c, n, s int }{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}} {
		for i := range st.n {
			s := st.s
			if i > 0 {
				s = 1
			}
			in, inH := cur, h
			t := cur
			hid := c * st.t
			if st.t != 1 {
				t, _ = conv("pw", t, inH, c, hid, 1, 1, relu6)
			}
			t, h = conv("dw", t, inH, hid, hid, 3, s, relu6)
			t, _ = conv("pw", t, h, hid, st.c, 1, 1, Full)
			if s == 1 && c == st.c {
				ap, _ := NewAddParams(0.05, 0.04, 0.07, int32(r.IntN(20)-10), int32(r.IntN(20)-10), 2, Full)
				l := &v2Layer{kind: "add", ap: &ap, in: in, in2: t, out: newBuf(h * h * st.c)}
				net.layers = append(net.layers, l)
				t = l.out
			}
			cur, c = t, st.c
		}
	}
	cur, h = conv("pw", cur, h, c, 1280, 1, 1, relu6)
	m, _ := NewMultiplier(0.9 / float64(h*h))
	pool := &v2Layer{kind: "pool", pp: &PoolParams{N: 1, HW: h * h, C: 1280, XZero: -128, YZero: -128, Mult: m, Out: Full}, in: cur, out: newBuf(1280)}
	net.layers = append(net.layers, pool)
	fc := &v2Layer{kind: "fc", gp: &GemmParams{M: 1, K: 1280, N: 1000, AZero: -128, YZero: 5, Mult: typicalMults(r, 1000), Out: Full},
		w: randI8(r, 1000*1280, -127, 127), bias: make([]int32, 1000), in: pool.out, out: newBuf(1000)}
	net.layers = append(net.layers, fc)
	net.macs += 1280 * 1000
	return net
}

// pack prepares the weights for s (the runtime's load step).
func (net *v2Net) pack(s *Set) {
	for _, l := range net.layers {
		switch l.kind {
		case "conv":
			l.pw = s.PackConv(l.p, l.w)
		case "pw":
			l.pw = s.PackPointwise(l.w, l.p.O, l.p.C)
		case "dw":
			l.pw = s.PackDepthwise(l.p, l.w)
		case "fc":
			l.pw = s.PackGemm(l.w, l.gp.N, l.gp.K)
		case "se":
			l.pw = s.PackGemm(l.w, l.se.Squeeze.N, l.se.Squeeze.K)
			l.pw2 = s.PackGemm(l.w2, l.se.Excite.N, l.se.Excite.K)
		}
	}
}

func (net *v2Net) run(s *Set) {
	b := net.bufs
	for _, l := range net.layers {
		switch l.kind {
		case "conv":
			s.Conv(l.p, b[l.in], l.pw, l.bias, b[l.out], 0, l.p.Rows())
		case "pw":
			s.Pointwise(l.p, b[l.in], l.pw, l.bias, b[l.out], 0, l.p.Pixels())
		case "dw":
			s.Depthwise(l.p, b[l.in], l.pw, l.bias, b[l.out], 0, l.p.Rows())
		case "add":
			s.Add(l.ap, b[l.in], b[l.in2], b[l.out])
		case "pool":
			s.GlobalAveragePool(l.pp, b[l.in], b[l.out])
		case "fc":
			s.Gemm(l.gp, b[l.in], l.pw, l.bias, b[l.out], 0, 1)
		case "lut":
			s.LUT(l.tab, b[l.in], b[l.out])
		case "se":
			setSqueezeExcite(s, l.se, b[l.in], l.pw, l.bias, l.pw2, l.bias2, b[l.out], l.scratch)
		}
	}
}

// newV3LNet builds a MobileNetV3-Large-shaped (1.0, 224x224) sequence: the
// stem with hard-swish, the 15 bottlenecks (3x3 and 5x5 depthwise, ReLU or
// hard-swish as lookup tables, squeeze-excite units), the last 1x1 conv,
// the pool and the two classifier layers.
func newV3LNet(r *rand.Rand) *v2Net {
	net := &v2Net{}
	newBuf := func(n int) int {
		net.bufs = append(net.bufs, randI8(r, n, -128, 127))
		return len(net.bufs) - 1
	}
	var hswish Table
	for i := range hswish {
		v := float64(int8(uint8(i))) / 20
		hswish[i] = int8(max(-128, min(127, int(math.Round(v*min(max(v+3, 0), 6)/6*20)))))
	}
	relu := Range{-128, 127}
	addLayer := func(l *v2Layer) { net.layers = append(net.layers, l) }
	conv := func(kind string, in, h, c, o, k, s int, hs bool) (int, int) {
		pad := k / 2
		oh := (h+2*pad-k)/s + 1
		p := &ConvParams{N: 1, H: h, W: h, C: c, OH: oh, OW: oh, O: o, KH: k, KW: k, StrideH: s, StrideW: s,
			PadTop: pad, PadLeft: pad, XZero: int32(r.IntN(40) - 128), YZero: -128, Mult: typicalMults(r, o), Out: relu}
		wn := o * k * k * c
		if kind == "dw" {
			p.Groups = c
			wn = o * k * k
		}
		if hs {
			p.YZero, p.Out = int32(r.IntN(20)-100), Full
		}
		l := &v2Layer{kind: kind, p: p, w: randI8(r, wn, -127, 127), bias: make([]int32, o), in: in}
		for i := range l.bias {
			l.bias[i] = int32(r.IntN(20001) - 10000)
		}
		l.out = newBuf(oh * oh * o)
		addLayer(l)
		net.macs += oh * oh * wn
		out := l.out
		if hs {
			lt := &v2Layer{kind: "lut", tab: &hswish, in: out, out: out}
			addLayer(lt)
		}
		return out, oh
	}
	se := func(in, h, c int) int {
		sq := (c/4 + 4) / 8 * 8
		zx := int32(r.IntN(40) - 128)
		pm, _ := NewMultiplier(1 / float64(h*h))
		gm, _ := NewMultiplier(0.004)
		var gate Table
		for i := range gate {
			gate[i] = int8(max(-128, min(127, int(int8(uint8(i)))/2+64)))
		}
		p := &SEParams{
			Pool:    PoolParams{N: 1, HW: h * h, C: c, XZero: zx, YZero: zx, Mult: pm, Out: Full},
			Squeeze: GemmParams{M: 1, K: c, N: sq, AZero: zx, YZero: -128, Mult: typicalMults(r, sq), Out: relu},
			Excite:  GemmParams{M: 1, K: sq, N: c, AZero: -128, YZero: 0, Mult: typicalMults(r, c), Out: Full},
			Gate:    gate,
			Scale:   ChannelMulParams{N: 1, HW: h * h, C: c, XZero: zx, GZero: -128, YZero: zx, Mult: gm, Out: Full},
		}
		l := &v2Layer{kind: "se", se: p, scratch: seScratch(p), w: randI8(r, sq*c, -127, 127), w2: randI8(r, c*sq, -127, 127),
			bias: make([]int32, sq), bias2: make([]int32, c), in: in, out: newBuf(h * h * c)}
		addLayer(l)
		net.macs += 2 * sq * c
		return l.out
	}
	x := newBuf(224 * 224 * 3)
	cur, h := conv("conv", x, 224, 3, 16, 3, 2, true)
	c := 16
	for _, b := range []struct {
		k, exp, out int
		se, hs      bool
		s           int
	}{
		{3, 16, 16, false, false, 1}, {3, 64, 24, false, false, 2}, {3, 72, 24, false, false, 1},
		{5, 72, 40, true, false, 2}, {5, 120, 40, true, false, 1}, {5, 120, 40, true, false, 1},
		{3, 240, 80, false, true, 2}, {3, 200, 80, false, true, 1}, {3, 184, 80, false, true, 1},
		{3, 184, 80, false, true, 1}, {3, 480, 112, true, true, 1}, {3, 672, 112, true, true, 1},
		{5, 672, 160, true, true, 2}, {5, 960, 160, true, true, 1}, {5, 960, 160, true, true, 1},
	} {
		in, inH := cur, h
		t := cur
		if b.exp != c {
			t, _ = conv("pw", t, inH, c, b.exp, 1, 1, b.hs)
		}
		t, h = conv("dw", t, inH, b.exp, b.exp, b.k, b.s, b.hs)
		if b.se {
			t = se(t, h, b.exp)
		}
		t, _ = conv("pw", t, h, b.exp, b.out, 1, 1, false)
		net.layers[len(net.layers)-1].p.Out = Full
		if b.s == 1 && c == b.out {
			ap, _ := NewAddParams(0.05, 0.04, 0.07, int32(r.IntN(20)-10), int32(r.IntN(20)-10), 2, Full)
			l := &v2Layer{kind: "add", ap: &ap, in: in, in2: t, out: newBuf(h * h * b.out)}
			addLayer(l)
			t = l.out
		}
		cur, c = t, b.out
	}
	cur, h = conv("pw", cur, h, c, 960, 1, 1, true)
	m, _ := NewMultiplier(0.9 / float64(h*h))
	pool := &v2Layer{kind: "pool", pp: &PoolParams{N: 1, HW: h * h, C: 960, XZero: -100, YZero: -100, Mult: m, Out: Full}, in: cur, out: newBuf(960)}
	addLayer(pool)
	fc1 := &v2Layer{kind: "fc", gp: &GemmParams{M: 1, K: 960, N: 1280, AZero: -100, YZero: -100, Mult: typicalMults(r, 1280), Out: Full},
		w: randI8(r, 1280*960, -127, 127), bias: make([]int32, 1280), in: pool.out, out: newBuf(1280)}
	addLayer(fc1)
	addLayer(&v2Layer{kind: "lut", tab: &hswish, in: fc1.out, out: fc1.out})
	fc2 := &v2Layer{kind: "fc", gp: &GemmParams{M: 1, K: 1280, N: 1000, AZero: -100, YZero: 5, Mult: typicalMults(r, 1000), Out: Full},
		w: randI8(r, 1000*1280, -127, 127), bias: make([]int32, 1000), in: fc1.out, out: newBuf(1000)}
	addLayer(fc2)
	net.macs += 960*1280 + 1280*1000
	return net
}

func BenchmarkMobileNetV2(b *testing.B) { benchNet(b, newV2Net(rand.New(rand.NewPCG(5, 6)))) }

// BenchmarkMobileNetV3Large is the same for the MobileNetV3-Large-shaped
// sequence (ONNX Runtime int8: about 4.5-5.4 ms on this kind of machine).
func BenchmarkMobileNetV3Large(b *testing.B) { benchNet(b, newV3LNet(rand.New(rand.NewPCG(5, 6)))) }

func benchNet(b *testing.B, net *v2Net) {
	for _, s := range benchSets(b) {
		b.Run(s.Name, func(b *testing.B) {
			net.pack(s)
			net.run(s) // warm up
			b.ReportAllocs()
			var times []time.Duration
			for b.Loop() {
				t := time.Now()
				net.run(s)
				times = append(times, time.Since(t))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[0].Microseconds())/1000, "min-ms")
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(net.macs)/times[len(times)/2].Seconds()/1e9, "GMAC/s")
		})
	}
}

// TestMobileNetSets checks that every Set computes the same bytes as the
// generic twins over the whole V2- and V3-Large-shaped sequences (identical
// logits, and every intermediate tensor).
func TestMobileNetSets(t *testing.T) {
	sets := accelSets(t)
	if len(sets) == 0 {
		t.Skip("no accelerated kernel set on this machine/build")
	}
	if testing.Short() {
		t.Skip("short")
	}
	for name, net := range map[string]*v2Net{"V2": newV2Net(rand.New(rand.NewPCG(7, 8))), "V3-Large": newV3LNet(rand.New(rand.NewPCG(7, 8)))} {
		net.pack(Generic)
		net.run(Generic)
		want := make([][]int8, len(net.bufs))
		for i, b := range net.bufs {
			want[i] = slices.Clone(b)
		}
		var spread []int8
		for _, l := range net.layers {
			if l.kind == "pw" || l.kind == "dw" {
				spread = append(spread, want[l.out]...)
			}
		}
		checkSpread(t, name, spread, Full)
		for _, s := range sets {
			for _, buf := range net.bufs[1:] {
				clear(buf)
			}
			net.pack(s)
			net.run(s)
			for i := range net.bufs {
				if !slices.Equal(net.bufs[i], want[i]) {
					t.Errorf("%s %s: tensor %d differs from generic", name, s.Name, i)
				}
			}
		}
	}
}
