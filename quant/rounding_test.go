package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// quadForm is (q-u)ᵀ G (q-u) with u = row/s.
func quadForm(codes []int8, row []float32, s float32, G []float64) float64 {
	n := len(codes)
	d := make([]float64, n)
	for i := range n {
		d[i] = float64(codes[i]) - float64(row[i])/float64(s)
	}
	var e float64
	for i := range n {
		for j := range n {
			e += d[i] * G[i*n+j] * d[j]
		}
	}
	return e
}

// randSPD is a symmetric positive definite matrix with strong
// correlations: AᵀA/n for A n x n plus a common component.
func randSPD(r *rand.Rand, n int, common float64) []float64 {
	a := make([]float64, n*n)
	for i := range a {
		a[i] = r.NormFloat64()
	}
	g := make([]float64, n*n)
	for i := range n {
		for j := range n {
			var s float64
			for k := range n {
				s += a[k*n+i] * a[k*n+j]
			}
			g[i*n+j] = s/float64(n) + common
		}
	}
	return g
}

func nearestCodes(row []float32, s float32) []int8 {
	c := make([]int8, len(row))
	for i, v := range row {
		c[i] = int8(max(-127, min(127, math.RoundToEven(float64(v)/float64(s)))))
	}
	return c
}

// TestRoundByOutput: the codes stay in [-127, 127], the error never
// exceeds the nearest codes', no one-step move lowers it further, the
// factor is G⁻¹'s, and with an uncorrelated G (diagonal) the nearest codes
// are kept. On channels of up to 9 codes the exhaustive optimum over the
// floors and ceilings is logged beside the search's result (summed over
// the cases: nearest 52.9, search 28.3, optimum 27.1).
func TestRoundByOutput(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	for _, n := range []int{1, 2, 5, 9, 25, 27, 64} {
		for trial := range 20 {
			G := randSPD(r, n, 0.5*float64(trial%3))
			row := make([]float32, n)
			s := float32(0.01 + r.Float64())
			for i := range row {
				row[i] = float32(max(-127, min(127, r.NormFloat64()*50)) * float64(s))
			}
			if trial%5 == 0 { // codes at the clamp
				row[0] = 127.7 * s
				row[n-1] = -127.6 * s
			}
			near := nearestCodes(row, s)
			codes := append([]int8(nil), near...)
			f := roundFactor(G, n)
			if f == nil {
				t.Fatalf("n %d: no factor of a positive definite matrix", n)
			}
			checkFactor(t, G, f, n)
			roundByOutput(codes, row, s, G, f)
			for _, c := range codes {
				if c < -127 {
					t.Fatalf("n %d: code %d", n, c)
				}
			}
			e, e0 := quadForm(codes, row, s, G), quadForm(near, row, s, G)
			if e > e0*(1+1e-12) {
				t.Fatalf("n %d: error %g above the nearest codes' %g", n, e, e0)
			}
			for i := range codes {
				for _, alt := range []int{int(codes[i]) - 1, int(codes[i]) + 1} {
					if alt < -127 || alt > 127 {
						continue
					}
					moved := append([]int8(nil), codes...)
					moved[i] = int8(alt)
					if quadForm(moved, row, s, G) < e*(1-1e-9) {
						t.Fatalf("n %d: moving code %d to %d lowers the error: not a local optimum", n, i, alt)
					}
				}
			}
			if n <= 9 { // the search's result against every choice
				best := math.Inf(1)
				cur := make([]int8, n)
				for m := range 1 << n {
					for i := range n {
						u := float64(row[i]) / float64(s)
						v := math.Floor(u)
						if m>>i&1 == 1 {
							v = math.Ceil(u)
						}
						cur[i] = int8(max(-127, min(127, v)))
					}
					best = min(best, quadForm(cur, row, s, G))
				}
				t.Logf("n %d trial %d: nearest %.4g, search %.4g, optimum %.4g", n, trial, e0, e, best)
			}
			diag := make([]float64, n*n)
			for i := range n {
				diag[i*n+i] = 0.1 + r.Float64()
			}
			codes = append(codes[:0], near...)
			roundByOutput(codes, row, s, diag, roundFactor(diag, n))
			if !reflect.DeepEqual(codes, near) {
				t.Fatalf("n %d: a diagonal G moved codes from the nearest", n)
			}
		}
	}
}

// checkFactor checks G⁻¹ = fᵀf with f upper triangular.
func checkFactor(t *testing.T, G, f []float64, n int) {
	t.Helper()
	for i := range n {
		for j := range i {
			if f[i*n+j] != 0 {
				t.Fatalf("factor not upper triangular at (%d,%d)", i, j)
			}
		}
	}
	for i := range n { // G (fᵀf) = I
		for j := range n {
			var s float64
			for k := range n {
				var inv float64
				for m := range n {
					inv += f[m*n+k] * f[m*n+j]
				}
				s += G[i*n+k] * inv
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(s-want) > 1e-6 {
				t.Fatalf("n %d: (G fᵀf)[%d,%d] = %g, want %g", n, i, j, s, want)
			}
		}
	}
	if roundFactor([]float64{1, 2, 2, 1}, 2) != nil {
		t.Fatal("a factor of an indefinite matrix")
	}
}

// TestAddGram compares the patch moments with a direct computation of every
// patch (the layer's im2col), for convolutions with strides, dilations,
// asymmetric pads and groups, and a Gemm; and checks the subsampling count.
func TestAddGram(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 1))
	conv := func(sh, sw, dh, dw int, pads [4]int, group int) *ir.ConvAttrs {
		return &ir.ConvAttrs{Stride: [2]int{sh, sw}, Dilation: [2]int{dh, dw}, Pads: pads, Group: group}
	}
	cases := []struct {
		name      string
		sp        gramSpec
		shape     ir.Shape // NHWC, or [B, K] for a Gemm
		positions int
	}{
		{"stem", gramSpec{groups: 1, cpg: 3, kh: 3, kw: 3, inputC: 3, conv: conv(2, 2, 1, 1, [4]int{1, 1, 1, 1}, 1)}, ir.Shape{2, 9, 8, 3}, 2 * 5 * 4},
		{"depthwise", gramSpec{groups: 4, cpg: 1, kh: 3, kw: 3, inputC: 4, conv: conv(1, 1, 2, 2, [4]int{2, 1, 0, 2}, 4)}, ir.Shape{1, 7, 6, 4}, 5 * 5},
		{"grouped", gramSpec{groups: 2, cpg: 3, kh: 2, kw: 3, inputC: 6, conv: conv(1, 2, 1, 1, [4]int{0, 1, 1, 0}, 2)}, ir.Shape{1, 5, 7, 6}, 5 * 3},
		{"pointwise", gramSpec{groups: 1, cpg: 5, kh: 1, kw: 1, inputC: 5, conv: conv(1, 1, 1, 1, [4]int{}, 1)}, ir.Shape{3, 4, 4, 5}, 48},
		{"gemm", gramSpec{groups: 1, cpg: 7, kh: 1, kw: 1, inputC: 7}, ir.Shape{6, 7}, 6},
	}
	for _, c := range cases {
		x := randTensor(r, c.shape, 1)
		for i := range x.F32 {
			if i%7 == 0 {
				x.F32[i] = 0 // zeros are skipped by the accumulation
			}
		}
		c.sp.weight = "w"
		grams := map[string]*Gram{}
		addGram(grams, c.sp, x, gramBudget, 1000)
		g := grams["w"]
		if g == nil || g.Count != int64(c.positions) {
			t.Fatalf("%s: %v patches, want %d", c.name, g, c.positions)
		}
		// The reference: every patch, built from the convolution's index
		// arithmetic.
		n := c.sp.n()
		want := make([]float64, c.sp.groups*n*n)
		wantMean := make([]float64, c.sp.groups*n)
		b, h, w, ch := c.shape[0], 1, 1, c.shape[len(c.shape)-1]
		sh, sw, dh, dw, pt, pl, pb, pr := 1, 1, 1, 1, 0, 0, 0, 0
		if a := c.sp.conv; a != nil {
			h, w = c.shape[1], c.shape[2]
			sh, sw, dh, dw = a.Stride[0], a.Stride[1], a.Dilations()[0], a.Dilations()[1]
			pt, pl, pb, pr = a.Pads[0], a.Pads[1], a.Pads[2], a.Pads[3]
		}
		oh := (h+pt+pb-(c.sp.kh-1)*dh-1)/sh + 1
		ow := (w+pl+pr-(c.sp.kw-1)*dw-1)/sw + 1
		for img := range b {
			for oy := range oh {
				for ox := range ow {
					for grp := range c.sp.groups {
						p := make([]float64, n)
						for ci := range c.sp.cpg {
							for ky := range c.sp.kh {
								for kx := range c.sp.kw {
									iy, ix := oy*sh-pt+ky*dh, ox*sw-pl+kx*dw
									if iy >= 0 && iy < h && ix >= 0 && ix < w {
										p[(ci*c.sp.kh+ky)*c.sp.kw+kx] = float64(x.F32[((img*h+iy)*w+ix)*ch+grp*c.sp.cpg+ci])
									}
								}
							}
						}
						for a := range n {
							wantMean[grp*n+a] += p[a]
							for j := a; j < n; j++ {
								want[grp*n*n+a*n+j] += p[a] * p[j]
							}
						}
					}
				}
			}
		}
		for i := range want {
			if math.Abs(want[i]-g.Sum[i]) > 1e-9*(1+math.Abs(want[i])) {
				t.Fatalf("%s: Sum[%d] = %g, want %g", c.name, i, g.Sum[i], want[i])
			}
		}
		for i := range wantMean {
			if math.Abs(wantMean[i]-g.Mean[i]) > 1e-9*(1+math.Abs(wantMean[i])) {
				t.Fatalf("%s: Mean[%d] = %g, want %g", c.name, i, g.Mean[i], wantMean[i])
			}
		}
		// moments: symmetric, the covariance below the second moment by
		// the mean's outer product, the noise on the diagonal.
		m2, cov := g.moments(0, false, 0), g.moments(0, true, 0.5)
		cnt := float64(g.Count)
		for a := range n {
			for j := range n {
				lo, hi := min(a, j), max(a, j)
				if m2[a*n+j] != want[lo*n+hi]/cnt {
					t.Fatalf("%s: moment (%d,%d) = %g, want %g", c.name, a, j, m2[a*n+j], want[lo*n+hi]/cnt)
				}
				d := m2[a*n+j] - (wantMean[a]/cnt)*(wantMean[j]/cnt)
				if a == j {
					d += 0.25 / 12
				}
				if math.Abs(cov[a*n+j]-d) > 1e-12*(1+math.Abs(d)) {
					t.Fatalf("%s: covariance (%d,%d) = %g, want %g", c.name, a, j, cov[a*n+j], d)
				}
			}
		}
	}
	// Past the budget, positions are subsampled evenly.
	sp := gramSpec{weight: "w", groups: 1, cpg: 600, kh: 1, kw: 1, inputC: 600, conv: conv(1, 1, 1, 1, [4]int{}, 1)}
	grams := map[string]*Gram{}
	addGram(grams, sp, randTensor(r, ir.Shape{1, 20, 20, 600}, 1), gramBudget, 1000) // 400 positions
	if want := int64(max(64, gramBudget/(600*601/2))); grams["w"].Count != want {
		t.Fatalf("subsampled to %d patches, want %d", grams["w"].Count, want)
	}
	// Many images share gramTotal: each one's budget shrinks past 16, and
	// no image takes fewer than 64 positions.
	sp.cpg, sp.inputC = 200, 200 // 20100 products per patch
	// (One image of 208 patches, or four of 208, are too few for 200
	// taps: minPatchesPerTap x 200 = 800; those layers take no moments.)
	for _, c := range []struct{ images, want int }{{1, 0}, {4, 208}, {16, 208}, {37, 90}, {1000, 64}} {
		grams := map[string]*Gram{}
		addGram(grams, sp, randTensor(r, ir.Shape{1, 20, 20, 200}, 1), gramBudgetFor(c.images), c.images)
		var got int64
		if g := grams["w"]; g != nil {
			got = g.Count
		}
		if got != int64(c.want) {
			t.Errorf("%d images: %d patches per image, want %d", c.images, got, c.want)
		}
	}
	// A tensor of another shape adds nothing.
	grams = map[string]*Gram{}
	addGram(grams, cases[0].sp, randTensor(r, ir.Shape{1, 9, 8, 4}, 1), gramBudget, 1000)
	if len(grams) != 0 {
		t.Fatal("moments of a tensor whose channels differ from the layer's")
	}
}

// smoothInputs are images whose neighbouring pixels and channels are
// correlated (a few random waves plus a little noise), like photos: the
// case where rounding by output error differs from nearest.
func smoothInputs(r *rand.Rand, n, b, c, h, w int) []*ir.Tensor {
	var out []*ir.Tensor
	for range n {
		t := ir.NewFloat32(ir.Shape{b, c, h, w}, nil)
		for img := range b {
			type wave struct{ fy, fx, ph, amp float64 }
			var ws []wave
			for range 3 {
				ws = append(ws, wave{r.Float64() * 0.6, r.Float64() * 0.6, r.Float64() * 6.3, 0.5 + r.Float64()})
			}
			for ch := range c {
				gain := 0.7 + 0.6*r.Float64()
				for y := range h {
					for x := range w {
						var v float64
						for _, wv := range ws {
							v += wv.amp * math.Sin(wv.fy*float64(y)+wv.fx*float64(x)+wv.ph)
						}
						t.F32[((img*c+ch)*h+y)*w+x] = float32(gain*v + 0.05*r.NormFloat64())
					}
				}
			}
		}
		out = append(out, t)
	}
	return out
}

// TestRoundOutputLowersLayerError: on the small graph, calibrated on
// smooth images, rounding by output error lowers the output error that the
// weights (with their corrected int32 bias) cause in each convolution whose
// codes it moved, measured directly by running the layer alone (float
// input, no activation) with the float and with the dequantized weights;
// its moments are the same for any number of workers.
func TestRoundOutputLowersLayerError(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 4))
	g := handBuilt(t, r)
	calib := smoothInputs(r, 8, 2, 3, 12, 12)
	var st *Stats
	for _, workers := range []int{1, 3} {
		s, err := CalibrateTensors(g, calib, Options{Rounding: RoundOutput, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if st != nil && !reflect.DeepEqual(st.Grams, s.Grams) {
			t.Fatal("the patch moments depend on the number of workers")
		}
		st = s
	}
	// stem, dw, pw; se.fc and logits see one patch per image (16 in all,
	// under minPatchesPerTap per tap) and take none.
	if len(st.Grams) != 3 {
		t.Fatalf("moments of %d layers, want 3", len(st.Grams))
	}
	quantized := map[string]*ir.Graph{}
	for _, rnd := range []string{RoundNearest, RoundOutput} {
		q, err := Quantize(g, st, Options{Rounding: rnd})
		if err != nil {
			t.Fatal(err)
		}
		quantized[rnd] = q
	}
	// The inputs of every layer on the calibration images.
	inputs := map[string][]*ir.Tensor{}
	for _, in := range calib {
		_, err := interp.Run(g, []*ir.Tensor{in}, &interp.Options{Observe: func(v *ir.Value, x *ir.Tensor) {
			inputs[v.Name] = append(inputs[v.Name], x.Clone())
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	moved := 0
	for _, n := range g.Nodes {
		if n.Op != ir.Conv {
			continue
		}
		if gm := st.Grams[n.Inputs[1].Name]; gm == nil || gm.Count < int64(minPatchesPerTap*gm.N) {
			continue
		}
		var errs []float64
		var codes [][]int8
		for _, rnd := range []string{RoundNearest, RoundOutput} {
			w, b := dequantizedLayer(t, quantized[rnd], n)
			codes = append(codes, w.codes)
			var e float64
			for _, x := range inputs[n.Inputs[0].Name] {
				yf := runLayer(t, n, x, n.Inputs[1].Const, n.Inputs[2].Const)
				yq := runLayer(t, n, x, w.t, b)
				for i := range yf.F32 {
					d := float64(yq.F32[i]) - float64(yf.F32[i])
					e += d * d
				}
			}
			errs = append(errs, e)
		}
		t.Logf("%s: output error of the weights: nearest %.4g, by output %.4g", n.Name, errs[0], errs[1])
		if reflect.DeepEqual(codes[0], codes[1]) {
			continue
		}
		moved++
		if errs[1] >= errs[0] {
			t.Errorf("%s: rounding by output error gives %.4g, nearest %.4g", n.Name, errs[1], errs[0])
		}
	}
	if moved < 2 {
		t.Fatalf("rounding by output error moved the codes of %d layers, want the stem, dw and pw", moved)
	}
}

type dequant struct {
	t     *ir.Tensor
	codes []int8
}

// dequantizedLayer returns the float weights and bias that the quantized
// graph q holds for the float layer n: codes times scales, and the int32
// bias times input scale times weight scale.
func dequantizedLayer(t *testing.T, q *ir.Graph, n *ir.Node) (dequant, *ir.Tensor) {
	t.Helper()
	for _, qn := range q.Nodes {
		if qn.Name != n.Name {
			continue
		}
		w, b := qn.Inputs[1], qn.Inputs[2]
		per := len(w.Const.I8) / len(w.Quant.Scale)
		wf := ir.NewFloat32(w.Const.Shape.Clone(), nil)
		for i, c := range w.Const.I8 {
			wf.F32[i] = float32(c) * w.Quant.Scale[i/per]
		}
		bf := ir.NewFloat32(ir.Shape{len(b.Const.I32)}, nil)
		sx := qn.Inputs[0].Quant.Scale[0]
		for i, v := range b.Const.I32 {
			bf.F32[i] = float32(float64(v) * float64(sx) * float64(w.Quant.Scale[i]))
		}
		return dequant{wf, w.Const.I8}, bf
	}
	t.Fatalf("no quantized node %s", n.Name)
	return dequant{}, nil
}

// runLayer runs the convolution n alone on x with the weight w and bias b,
// without its activation.
func runLayer(t *testing.T, n *ir.Node, x, w, b *ir.Tensor) *ir.Tensor {
	t.Helper()
	g := ir.NewGraph("layer")
	in := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: x.Shape.Clone()})
	a := *n.Attrs.(*ir.ConvAttrs)
	a.Act = ir.Activation{}
	node := &ir.Node{Name: "conv", Op: ir.Conv, Attrs: &a, Layout: n.Layout, Inputs: []*ir.Value{in, g.AddConst("w", w), g.AddConst("b", b)}}
	types, err := ir.InferNode(node, inTypes(node.Inputs))
	if err != nil {
		t.Fatal(err)
	}
	node.Outputs = []*ir.Value{g.NewValue("y", types[0])}
	g.Nodes = append(g.Nodes, node)
	g.Outputs = node.Outputs
	out, err := interp.Run(g, []*ir.Tensor{x}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// TestChooseRounding: Compile's default (auto) quantizes the small float
// graph both ways, reports both calibration figures, keeps the rounding
// with the higher one (the same graph as asking for it), and labels the
// method; a model whose weights all lie on 8-bit grids measures no moments
// and keeps the nearest codes without a choice; an unknown method is an
// error naming the choices.
func TestChooseRounding(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 8))
	g := handBuilt(t, r)
	// More images than LayerImages: the choice measures the logits of
	// all, then the chosen quantization's first LayerImages layer by layer.
	calib := smoothInputs(r, LayerImages+3, 1, 3, 12, 12)
	q, rep, err := CompileInputs(g, calib, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Rounding
	if c == nil || c.Images != LayerImages+3 || !(c.OutputDB > 0) || !(c.NearestDB > 0) {
		t.Fatalf("rounding choice %+v", c)
	}
	if want := map[bool]string{true: RoundOutput, false: RoundNearest}[c.OutputDB > c.NearestDB]; c.Chosen != want {
		t.Fatalf("chose %s with %.2f dB by output, %.2f to nearest", c.Chosen, c.OutputDB, c.NearestDB)
	}
	if rep.Calib.LogitsSQNR != map[string]float64{RoundOutput: c.OutputDB, RoundNearest: c.NearestDB}[c.Chosen] {
		t.Fatalf("report %.4f dB, choice %+v", rep.Calib.LogitsSQNR, c)
	}
	var text strings.Builder
	if err := rep.WriteText(&text, 0); err != nil || !strings.Contains(text.String(), "  weight rounding: "+c.String()+"\n") {
		t.Fatalf("the text report does not state the choice (%v):\n%s", err, text.String())
	}
	again, againRep, err := CompileInputs(g, calib, nil, Options{Rounding: c.Chosen})
	if err != nil {
		t.Fatal(err)
	}
	// The report reuses the choice's measurement: the same figures as a
	// report measured afresh.
	a, b := rep.Calib, againRep.Calib
	if a.LogitsSQNR != b.LogitsSQNR || a.MedianSQNR != b.MedianSQNR || a.WorstSQNR != b.WorstSQNR || a.Top1Agree != b.Top1Agree ||
		a.Cosine != b.Cosine || a.MinCosine != b.MinCosine || len(a.PerImage) != len(b.PerImage) || len(a.Layers) == 0 ||
		!reflect.DeepEqual(a.Layers, b.Layers) || !reflect.DeepEqual(a.logits, b.logits) {
		t.Fatalf("the reused calibration metrics differ from a fresh report's:\n%+v\n%+v", a, b)
	}
	for i := range a.PerImage {
		if !reflect.DeepEqual(a.PerImage[i], b.PerImage[i]) {
			t.Fatalf("image %d: %+v, fresh %+v", i, a.PerImage[i], b.PerImage[i])
		}
	}
	if !reflect.DeepEqual(constBytes(q), constBytes(again)) {
		t.Fatal("auto's graph differs from the one of the rounding it chose")
	}
	if strings.HasSuffix(q.Meta[MetaMethod], "+outputrounding") != (c.Chosen == RoundOutput) {
		t.Fatalf("method %q for %s", q.Meta[MetaMethod], c.Chosen)
	}
	// The same graph with its weights put on 8-bit grids.
	grid := cloneGraph(g)
	for _, v := range grid.Consts {
		if len(v.Const.Shape) >= 2 {
			step := float32(0.01)
			for i, x := range v.Const.F32 {
				v.Const.F32[i] = float32(max(-120, min(120, math.Round(float64(x/step))))) * step
			}
		}
	}
	_, rep, err = CompileInputs(grid, calib, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rounding != nil {
		t.Fatalf("a choice of rounding for weights on grids: %+v", rep.Rounding)
	}
	if _, _, err := CompileInputs(g, calib, nil, Options{Rounding: "up"}); err == nil || !strings.Contains(err.Error(), "want auto, nearest or output") {
		t.Fatalf("unknown rounding: %v", err)
	}
}

// constBytes are q's int8 constants by name.
func constBytes(q *ir.Graph) map[string][]int8 {
	m := map[string][]int8{}
	for _, c := range q.Consts {
		if c.Const.DType == ir.Int8 {
			m[c.Name] = c.Const.I8
		}
	}
	return m
}

// TestGramSpecBound: a layer whose patch is longer than maxGramTaps keeps
// the nearest codes (no moments are measured for it).
func TestGramSpecBound(t *testing.T) {
	g := ir.NewGraph("bound")
	for _, c := range []struct {
		cin, k int
		want   bool
	}{{113, 3, true}, {114, 3, false}, {1024, 1, true}, {1025, 1, false}} {
		w := g.AddConst(fmt.Sprint("w", c.cin, c.k), ir.NewFloat32(ir.Shape{4, c.cin, c.k, c.k}, nil))
		n := &ir.Node{Op: ir.Conv, Attrs: &ir.ConvAttrs{Stride: [2]int{1, 1}}, Layout: ir.NHWC, Inputs: []*ir.Value{w, w}}
		if _, ok := gramSpecOf(n); ok != c.want {
			t.Errorf("%d channels, %dx%d: measured %v, want %v", c.cin, c.k, c.k, ok, c.want)
		}
	}
}
