package quant

import (
	"fmt"
	"math"
	"time"

	"github.com/mncdev/mnc/ir"
)

// Weight rounding by output error: each weight code of a channel is
// rounded down or up so that the layer's output error on the calibration
// images' activations is smallest, instead of to the nearest code. Rounding
// the channel's real codes u = w/s to q changes its output at a position
// whose input patch is x by s·(q-u)·x; over the calibration images the mean
// square of that is s²·(q-u)ᵀ G (q-u), with G the second moment E[x xᵀ] of
// the input patches (AdaRound, Nagel et al. 2020, eq. 20, on the float
// model's activations; rounding to nearest minimizes only the diagonal).
// When bias correction follows (the layer has a bias and
// Options.NoBiasCorrect is off) it removes the error's mean, and the
// covariance E[x xᵀ] - E[x]E[x]ᵀ is what is left. The int8 input adds its
// own rounding noise, independent of x, of variance step²/12 per element:
// it is added to G's diagonal, and it keeps G invertible where the images
// do not excite every direction. The search (roundByOutput) starts from
// the nearest codes and from GPTQ's sequential rounding (Frantar et al.
// 2022) kept within each code's floor and ceiling, descends from each by
// one-step moves, and keeps the lower error; codes stay in [-127, 127],
// channels represented exactly (weightGrid) are left alone, and a layer
// with fewer than minPatchesPerTap patches per weight keeps the nearest
// codes.
//
// RoundAuto, the default, rounds by output error the weights of float
// models and to nearest those already on an 8-bit grid (a model trained
// with quantization in the loop, whose few channels past ±127 steps are the
// only ones re-rounded); Compile (chooseRounding) then quantizes the model
// both ways and keeps the one whose logits are closer to float's on the
// calibration images, since a smaller error of every layer on float inputs
// does not always make the int8 model closer: measured in doc.go.

// Weight rounding methods (Options.Rounding).
const (
	RoundAuto    = "auto"    // RoundOutput for weights not on an 8-bit grid, RoundNearest for the others
	RoundNearest = "nearest" // to the nearest code
	RoundOutput  = "output"  // by each layer's output error on the calibration activations
)

// CheckRounding returns an error unless r names a weight rounding method
// (or is empty: DefaultRounding).
func CheckRounding(r string) error {
	switch r {
	case "", RoundAuto, RoundNearest, RoundOutput:
		return nil
	}
	return fmt.Errorf("--weight-rounding %q: want %s, %s or %s", r, RoundAuto, RoundNearest, RoundOutput)
}

// roundsByOutput reports whether the weights of a layer are rounded by
// output error under the rounding method r: onGrid says they lie on an
// 8-bit grid (weightGrid).
func roundsByOutput(r string, onGrid bool) bool {
	return r == RoundOutput || (r == RoundAuto && !onGrid)
}

// gramBudget bounds the multiply-adds one layer's second moments take per
// image (positions are subsampled evenly beyond it), and gramTotal those of
// all the calibration images together: past gramTotal/gramBudget = 16
// images, each image's share shrinks (gramBudgetFor), so that the moments
// of many images cost what 16 images' do. (Fitted on 16 of the 37
// calibration photos, the search still gained 0.6 to 2.2 dB on the other 21
// on the trained-like V3s; with the full budget on all 37 images the
// moments were three quarters of the compile time of the segmenters.)
const (
	gramBudget = 1 << 22
	gramTotal  = 16 * gramBudget
)

// gramBudgetFor is the budget of one image of n.
func gramBudgetFor(n int) int { return min(gramBudget, gramTotal/max(n, 1)) }

// maxGramTaps bounds the patch length of a layer rounded by output error:
// its moments take n² float64 per image in flight and the factor n³/2
// multiply-adds, and a longer patch (a 3x3 convolution over 960 channels in
// DeepLabV3's ASPP, n = 8640: 600 MB a matrix) keeps the nearest codes.
const maxGramTaps = 1024

// minPatchesPerTap is the number of patches per weight of a channel
// below which its moments are not trusted (a Gram matrix of fewer patches
// than taps is singular, and the search would move codes freely along
// what the images happen not to excite).
const minPatchesPerTap = 4

// gramSpec is the patch geometry of one Conv or Gemm whose weight codes are
// rounded by output error: its weight is [O, cpg, KH, KW] (Gemm: [O, K],
// taken as cpg = K, KH = KW = 1), its input NHWC.
type gramSpec struct {
	weight      string     // the weight constant's name: the key of the moments
	w           *ir.Tensor // the weight
	groups, cpg int
	kh, kw      int
	conv        *ir.ConvAttrs // nil for Gemm
	inputC      int
}

// n is the length of one group's patch.
func (g gramSpec) n() int { return g.cpg * g.kh * g.kw }

// Gram holds the patch moments of one layer: for each group, Sum[g·n·n +
// a·n + b] sums x_a·x_b over the patches seen and Mean[g·n + a] sums x_a
// (both divided by Count in moments).
type Gram struct {
	Groups, N int
	Sum, Mean []float64
	Count     int64
}

// gramSpecOf returns the patch geometry of n, a Conv or Gemm of the
// calibration view, and whether its codes can be rounded by output error.
func gramSpecOf(n *ir.Node) (gramSpec, bool) {
	if len(n.Inputs) < 2 || !n.Inputs[1].IsConst() || n.Inputs[1].Const.DType != ir.Float32 {
		return gramSpec{}, false
	}
	ws := n.Inputs[1].Const.Shape
	switch n.Op {
	case ir.Gemm:
		a, ok := n.Attrs.(*ir.GemmAttrs)
		if !ok || a == nil || a.TransA || !a.TransB || len(ws) != 2 {
			return gramSpec{}, false
		}
		if ws[1] > maxGramTaps {
			return gramSpec{}, false
		}
		return gramSpec{weight: n.Inputs[1].Name, w: n.Inputs[1].Const, groups: 1, cpg: ws[1], kh: 1, kw: 1, inputC: ws[1]}, true
	case ir.Conv:
		a, ok := n.Attrs.(*ir.ConvAttrs)
		if !ok || a == nil || n.Layout != ir.NHWC || len(ws) != 4 || ws[1]*ws[2]*ws[3] > maxGramTaps {
			return gramSpec{}, false
		}
		return gramSpec{weight: n.Inputs[1].Name, w: n.Inputs[1].Const, groups: a.Groups(), cpg: ws[1], kh: ws[2], kw: ws[3], conv: a,
			inputC: ws[1] * a.Groups()}, true
	}
	return gramSpec{}, false
}

// addGram adds the patch moments of one image's input x of the layer sp to
// grams (nil when x does not have the shape the layer reads).
func addGram(grams map[string]*Gram, sp gramSpec, x *ir.Tensor, budget, images int) {
	n := sp.n()
	var b, h, w, c int
	switch {
	case sp.conv == nil && len(x.Shape) == 2:
		b, h, w, c = x.Shape[0], 1, 1, x.Shape[1]
	case sp.conv != nil && len(x.Shape) == 4:
		b, h, w, c = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	default:
		return
	}
	if c != sp.inputC || len(x.F32) != b*h*w*c || n == 0 {
		return
	}
	oh, ow, sh, sw, dh, dw, pt0, pl := h, w, 1, 1, 1, 1, 0, 0
	if a := sp.conv; a != nil {
		d := a.Dilations()
		sh, sw, dh, dw, pt0, pl = a.Stride[0], a.Stride[1], d[0], d[1], a.Pads[0], a.Pads[1]
		oh = (h+a.Pads[0]+a.Pads[2]-((sp.kh-1)*dh+1))/max(sh, 1) + 1
		ow = (w+a.Pads[1]+a.Pads[3]-((sp.kw-1)*dw+1))/max(sw, 1) + 1
		if oh <= 0 || ow <= 0 {
			return
		}
	}
	positions := b * oh * ow
	take := min(positions, max(64, budget/max(1, sp.groups*n*(n+1)/2)))
	if take*images < minPatchesPerTap*n {
		// The images (all of one size) cannot give the layer enough
		// patches to be trusted: it keeps the nearest codes whatever
		// these moments say, so skip them (DeepLabV3's and LR-ASPP's
		// 960-channel 1x1 convolutions: 64 patches of 460K products
		// each, per image).
		return
	}
	gr := grams[sp.weight]
	if gr == nil {
		gr = &Gram{Groups: sp.groups, N: n, Sum: make([]float64, sp.groups*n*n), Mean: make([]float64, sp.groups*n)}
		grams[sp.weight] = gr
	}
	if sp.cpg == 1 && sp.groups == c && sp.conv != nil {
		addGramDepthwise(gr, sp, x, take, positions, [8]int{h, w, oh, ow, sh, sw, dh, dw}, pt0, pl)
		gr.Count += int64(take)
		return
	}
	// Patches in chunks, transposed (pt[(g·n + a)·chunk + k] is tap a of
	// group g in the chunk's patch k), so that the sums of a chunk are dot
	// products of rows, four at a time in registers (one fixed order: the
	// same moments on every machine).
	const chunk = 64
	pt := make([]float64, sp.groups*n*chunk)
	for k0 := 0; k0 < take; k0 += chunk {
		kc := min(chunk, take-k0)
		clear(pt)
		for k := range kc {
			p := (k0 + k) * positions / take
			img, oy, ox := p/(oh*ow), p/ow%oh, p%ow
			for ky := range sp.kh {
				iy := oy*sh - pt0 + ky*dh
				if iy < 0 || iy >= h {
					continue
				}
				for kx := range sp.kw {
					ix := ox*sw - pl + kx*dw
					if ix < 0 || ix >= w {
						continue
					}
					px := x.F32[((img*h+iy)*w+ix)*c : ((img*h+iy)*w+ix+1)*c]
					// Channel ch = g·cpg + ci is tap ci·kk + tap of group
					// g: row ch·kk + tap of pt.
					idx, step := (ky*sp.kw+kx)*chunk+k, sp.kh*sp.kw*chunk
					for _, v := range px {
						pt[idx] = float64(v)
						idx += step
					}
				}
			}
		}
		for g := range sp.groups {
			s := gr.Sum[g*n*n : (g+1)*n*n]
			m := gr.Mean[g*n : (g+1)*n]
			for a := range n {
				xa := pt[(g*n+a)*chunk : (g*n+a)*chunk+kc]
				sm := m[a]
				for _, v := range xa {
					sm += v
				}
				m[a] = sm
				row := s[a*n : (a+1)*n]
				b := a
				for ; b+4 <= n; b += 4 { // four sums at a time, sharing the loads of xa
					o := (g*n + b) * chunk
					x0, x1 := pt[o:o+len(xa)], pt[o+chunk:o+chunk+len(xa)]
					x2, x3 := pt[o+2*chunk:o+2*chunk+len(xa)], pt[o+3*chunk:o+3*chunk+len(xa)]
					var a0, a1, a2, a3 float64
					for k, v := range xa {
						a0 += float64(v * x0[k])
						a1 += float64(v * x1[k])
						a2 += float64(v * x2[k])
						a3 += float64(v * x3[k])
					}
					row[b] += a0
					row[b+1] += a1
					row[b+2] += a2
					row[b+3] += a3
				}
				for ; b < n; b++ {
					xb := pt[(g*n+b)*chunk : (g*n+b)*chunk+len(xa)]
					var acc float64
					for k, v := range xb {
						acc += float64(xa[k] * v)
					}
					row[b] += acc
				}
			}
		}
	}
	gr.Count += int64(take)
}

// addGramDepthwise is addGram for a depthwise convolution (one input
// channel per group): each pair of taps is a product of two pixels' channel
// vectors, accumulated channel-contiguous in pairs[(t1·kk + t2)·C + c] and
// moved to the groups' matrices at the end (dims: h, w, oh, ow, strides,
// dilations).
func addGramDepthwise(gr *Gram, sp gramSpec, x *ir.Tensor, take, positions int, dims [8]int, pt, pl int) {
	h, w, oh, ow, sh, sw, dh, dw := dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6], dims[7]
	c, kk := sp.groups, sp.kh*sp.kw
	pairs := make([]float64, kk*kk*c)
	sums := make([]float64, kk*c)
	px := make([][]float32, kk) // the taps' pixels (nil: padding)
	for i := range take {
		p := i * positions / take
		img, oy, ox := p/(oh*ow), p/ow%oh, p%ow
		for ky := range sp.kh {
			for kx := range sp.kw {
				iy, ix := oy*sh-pt+ky*dh, ox*sw-pl+kx*dw
				px[ky*sp.kw+kx] = nil
				if iy >= 0 && iy < h && ix >= 0 && ix < w {
					o := ((img*h+iy)*w + ix) * c
					px[ky*sp.kw+kx] = x.F32[o : o+c : o+c]
				}
			}
		}
		for t1, p1 := range px {
			if p1 == nil {
				continue
			}
			m := sums[t1*c : (t1+1)*c]
			for ch, v := range p1 {
				m[ch] += float64(v)
			}
			for t2 := t1; t2 < kk; t2++ {
				p2 := px[t2]
				if p2 == nil {
					continue
				}
				acc := pairs[(t1*kk+t2)*c : (t1*kk+t2+1)*c]
				p2 = p2[:len(acc)]
				for ch, v := range p1[:len(acc)] {
					acc[ch] += float64(float64(v) * float64(p2[ch]))
				}
			}
		}
	}
	for ch := range c {
		s := gr.Sum[ch*kk*kk : (ch+1)*kk*kk]
		m := gr.Mean[ch*kk : (ch+1)*kk]
		for t1 := range kk {
			m[t1] += sums[t1*c+ch]
			for t2 := t1; t2 < kk; t2++ {
				s[t1*kk+t2] += pairs[(t1*kk+t2)*c+ch]
			}
		}
	}
}

// addGrams adds one image's moments (in image order, like the channel sums).
func addGrams(into, img map[string]*Gram) {
	for k, g := range img {
		t := into[k]
		if t == nil {
			into[k] = g
			continue
		}
		if t.Groups != g.Groups || t.N != g.N {
			continue
		}
		for i, v := range g.Sum {
			t.Sum[i] += v
		}
		for i, v := range g.Mean {
			t.Mean[i] += v
		}
		t.Count += g.Count
	}
}

// moments returns one group's second moment E[x xᵀ], or with centered
// its covariance, plus inScale²/12 on the diagonal (the int8 input's
// rounding noise), n x n with both triangles filled.
func (g *Gram) moments(group int, centered bool, inScale float32) []float64 {
	n := g.N
	c := float64(max(g.Count, 1))
	out := make([]float64, n*n)
	s := g.Sum[group*n*n : (group+1)*n*n]
	m := g.Mean[group*n : (group+1)*n]
	for a := range n {
		for b := a; b < n; b++ {
			v := s[a*n+b] / c
			if centered {
				v -= float64(float64(m[a]/c) * (m[b] / c))
			}
			out[a*n+b], out[b*n+a] = v, v
		}
		out[a*n+a] += float64(float64(inScale)*float64(inScale)) / 12
	}
	return out
}

// gram returns the input moments by which the weight name (o channels of
// per values; step its 8-bit grid, 0 if none) is rounded, or nil when it
// is rounded to nearest.
func (qz *quantizer) gram(name string, step float32, o, per int) *Gram {
	if qz.st == nil || !roundsByOutput(qz.o.Rounding, step > 0) {
		return nil
	}
	g := qz.st.Grams[name]
	if g == nil || g.N != per || g.Groups < 1 || o%g.Groups != 0 || g.Count < int64(minPatchesPerTap*per) {
		return nil
	}
	return g
}

// roundFactor returns the factor of G by which roundByOutput spreads each
// code's rounding error over the codes after it (GPTQ, Frantar et al.
// 2022): U upper triangular with G⁻¹ = UᵀU, n x n row-major; nil when G is
// not positive definite.
func roundFactor(G []float64, n int) []float64 {
	l := cholesky(G, n)
	if l == nil {
		return nil
	}
	// G⁻¹ = L⁻ᵀ L⁻¹: invert L (lower triangular) by columns.
	li := make([]float64, n*n)
	for c := range n {
		for i := c; i < n; i++ {
			var s float64
			if i == c {
				s = 1
			}
			for k := c; k < i; k++ {
				s -= float64(l[i*n+k] * li[k*n+c])
			}
			li[i*n+c] = s / l[i*n+i]
		}
	}
	inv := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			var s float64
			for k := j; k < n; k++ { // (L⁻ᵀL⁻¹)_ij = sum_k Li_ki Li_kj, k >= max(i, j)
				s += float64(li[k*n+i] * li[k*n+j])
			}
			inv[i*n+j], inv[j*n+i] = s, s
		}
	}
	lu := cholesky(inv, n)
	if lu == nil {
		return nil
	}
	u := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			u[j*n+i] = lu[i*n+j]
		}
	}
	return u
}

// cholesky returns L, lower triangular with a = L Lᵀ, or nil when a is not
// positive definite.
func cholesky(a []float64, n int) []float64 {
	l := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			s := a[i*n+j]
			for k := range j {
				s -= float64(l[i*n+k] * l[j*n+k])
			}
			if i == j {
				if !(s > 0) {
					return nil
				}
				l[i*n+i] = math.Sqrt(s)
			} else {
				l[i*n+j] = s / l[j*n+j]
			}
		}
	}
	return l
}

// roundByOutput chooses the codes of one channel (given as the nearest
// codes of row/s) that lower e(q) = (q-u)ᵀ G (q-u), u = row/s, in
// [-127, 127]: it descends (descend) from two starts, the nearest codes
// and GPTQ's (each code in turn rounded to nearest within the floor and
// ceiling of its own u, its error spread over the codes not yet rounded
// by the factor f of G, see roundFactor; when f is not nil), and keeps the
// lower; neither start is better than the other on every channel.
func roundByOutput(codes []int8, row []float32, s float32, G, f []float64) {
	n := len(codes)
	u := make([]float64, n)
	for i, v := range row {
		u[i] = float64(v) / float64(s)
	}
	best := descend(codes, u, G)
	if f == nil {
		return
	}
	alt := make([]int8, n)
	w := append([]float64(nil), u...)
	for i := range n {
		// Within the floor and ceiling of the channel's own code (the
		// constraint of AdaRound): measured better on held-out images
		// than GPTQ's free codes, which fit the calibration images closer.
		q := max(-127, min(127, max(math.Floor(u[i]), min(math.Ceil(u[i]), math.RoundToEven(w[i])))))
		alt[i] = int8(q)
		e := (w[i] - q) / f[i*n+i]
		for j := i + 1; j < n; j++ {
			w[j] -= float64(e * f[i*n+j])
		}
	}
	if descend(alt, u, G) < best {
		copy(codes, alt)
	}
}

// descend moves one code at a time by one step, in [-127, 127], while that
// lowers (q-u)ᵀ G (q-u), and returns the error reached.
func descend(codes []int8, u, G []float64) float64 {
	n := len(codes)
	d := make([]float64, n) // q - u
	for i := range n {
		d[i] = float64(codes[i]) - u[i]
	}
	gd := make([]float64, n) // G d
	for i := range n {
		var s float64
		for j := range n {
			s += float64(G[i*n+j] * d[j])
		}
		gd[i] = s
	}
	for pass := 0; pass < 100; pass++ {
		moved := false
		for i := range n {
			for _, step := range [2]float64{1, -1} {
				if c := float64(codes[i]) + step; c < -127 || c > 127 {
					continue
				}
				// The error changes by 2·step·(G d)_i + G_ii.
				if delta := float64(2*step*gd[i]) + G[i*n+i]; delta >= -1e-12*math.Abs(G[i*n+i]) {
					continue
				}
				codes[i] += int8(step)
				d[i] += step
				col := G[i*n : (i+1)*n] // G is symmetric
				for j := range n {
					gd[j] += float64(step * col[j])
				}
				moved = true
				break
			}
		}
		if !moved {
			break
		}
	}
	var e float64
	for i := range n {
		e += float64(d[i] * gd[i])
	}
	return e
}

// RoundingChoice is the report of RoundAuto's choice (chooseRounding): the
// pooled logits SQNR on the calibration images with the weights of float
// models rounded by output error and with every weight rounded to nearest.
type RoundingChoice struct {
	Chosen    string  `json:"chosen"` // RoundOutput or RoundNearest
	OutputDB  float64 `json:"output_sqnr_db"`
	NearestDB float64 `json:"nearest_sqnr_db"`
	Images    int     `json:"images"`
}

func (c *RoundingChoice) String() string {
	how := "by each layer's output error"
	if c.Chosen == RoundNearest {
		how = "to nearest"
	}
	return fmt.Sprintf("%s (calibration logits SQNR %.2f dB by output error, %.2f dB to nearest, on %d images)",
		how, c.OutputDB, c.NearestDB, c.Images)
}

// chooseRounding resolves o.Rounding RoundAuto for Compile: when any layer
// would be rounded by output error (calibration measured its moments), the
// model is quantized both ways and the rounding whose int8 logits have the
// higher pooled SQNR against float's on the calibration images kept in st
// (up to o.ReportImages) is returned, with the figures, the chosen
// quantized graph and its metrics on those images (the report's, which
// finish reuses); nearest when they tie. Other methods are returned as
// they are, with nothing else.
func chooseRounding(work *ir.Graph, st *Stats, o Options) (string, *RoundingChoice, *ir.Graph, *Metrics, error) {
	if o.Rounding != RoundAuto {
		return o.Rounding, nil, nil, nil, nil
	}
	if len(st.Grams) == 0 || len(st.inputs) == 0 {
		return RoundNearest, nil, nil, nil, nil
	}
	inputs, names := st.inputs, st.Files
	if o.ReportImages > 0 && len(inputs) > o.ReportImages {
		inputs = inputs[:o.ReportImages]
	}
	fr := floatRef{g: work}
	if st.viewOf == work && st.view != nil {
		fr.model, fr.outs = st.view, st.floatOut
	}
	// Both quantizations on the logits only; then the chosen one's first
	// LayerImages inputs again, layer by layer, for the report (the same
	// figures as evaluate's: each input's are its own).
	var qs [2]*ir.Graph
	var rs [2][]*inputEval
	var ms [2]*Metrics
	start := time.Now()
	for i, r := range [2]string{RoundNearest, RoundOutput} {
		c := o
		c.Rounding = r
		q, err := Quantize(work, st, c)
		if err != nil {
			return "", nil, nil, nil, err
		}
		res, err := evalInputs(fr, q, inputs, o.workers(), nil, 0)
		if err == nil {
			ms[i], err = metricsOf(q, res, names)
		}
		if err != nil {
			return "", nil, nil, nil, fmt.Errorf("choose the weight rounding: %w", err)
		}
		qs[i], rs[i] = q, res
	}
	ch := &RoundingChoice{Chosen: RoundNearest, NearestDB: ms[0].LogitsSQNR, OutputDB: ms[1].LogitsSQNR, Images: len(inputs)}
	k := 0
	if ms[1].LogitsSQNR > ms[0].LogitsSQNR {
		ch.Chosen, k = RoundOutput, 1
	}
	nl := min(LayerImages, len(inputs))
	layered, err := evalInputs(fr, qs[k], inputs[:nl], o.workers(), nil, nl)
	var m *Metrics
	if err == nil {
		copy(rs[k], layered)
		m, err = metricsOf(qs[k], rs[k], names)
	}
	if err != nil {
		return "", nil, nil, nil, fmt.Errorf("choose the weight rounding: %w", err)
	}
	m.Elapsed = time.Since(start)
	return ch.Chosen, ch, qs[k], m, nil
}
