package quant

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mncdev/mnc/ir"
)

// The HTML report: one self-contained page (inline CSS and SVG, no script,
// nothing fetched), XHTML-compatible so that an XML parser can check it.
// Every string from files (model, op and value names, labels, image paths)
// goes through html/template's escaping.

//go:embed report.html.tmpl
var reportHTMLText string

var reportHTML = template.Must(template.New("report").Parse(reportHTMLText))

// SQNR thresholds of the HTML report's colors (dB): below sqnrBad red,
// below sqnrWarn amber, green above.
const (
	sqnrBad  = 15
	sqnrWarn = 25
)

// histSummary is a calibration histogram reduced for display: Counts[i]
// counts the values in [Lo + i*Width, Lo + (i+1)*Width); Min and Max are
// the finite values seen; Clip is the int8 grid (the real values of codes
// -128 to 127) and Clipped the fraction of the values more than half a
// step beyond it, counted in the full-resolution bins wholly outside (a
// lower bound).
type histSummary struct {
	Lo, Width float64
	Counts    []int64
	Min, Max  float64
	Total     int64
	Clip      Range
	Clipped   float64
}

// histDisplayBins bounds the bins of a histSummary.
const histDisplayBins = 96

// summarizeHist reduces h for display, with the fraction of its values
// outside r.
func summarizeHist(ts *TensorStats, r Range) *histSummary {
	h := ts.Hist
	if h == nil || h.Width == 0 {
		return nil
	}
	counts, lo := h.bins()
	if len(counts) == 0 {
		return nil
	}
	s := &histSummary{Min: ts.Min, Max: ts.Max, Clip: r}
	var out float64
	for i, c := range counts {
		s.Total += int64(c)
		if a := lo + float64(float64(i)*h.Width); a+h.Width <= r.Lo || a > r.Hi { // the whole bin is outside
			out += c
		}
	}
	if s.Total > 0 {
		s.Clipped = out / float64(s.Total)
	}
	k := (len(counts) + histDisplayBins - 1) / histDisplayBins
	s.Lo, s.Width = lo, h.Width*float64(k)
	for i := 0; i < len(counts); i += k {
		var c float64
		for _, v := range counts[i:min(i+k, len(counts))] {
			c += v
		}
		s.Counts = append(s.Counts, int64(c))
	}
	return s
}

// gridRange is the real interval of the int8 codes of scale s and zero
// point z: [s(-128-z), s(127-z)].
func gridRange(s float32, z int32) Range {
	return Range{float64(float64(s) * float64(-128-z)), float64(float64(s) * float64(127-z))}
}

// keepHistograms records in rep the histograms of q's activations, when st
// has them.
func (rep *Report) keepHistograms(q *ir.Graph, st *Stats) {
	if !st.Histograms {
		return
	}
	rep.hists = map[string]*histSummary{}
	for _, v := range valuesOf(q) {
		ts, ok := st.Tensors[v.Name]
		if !ok || ts.Count == 0 {
			continue
		}
		sc := v.Quant.Scale[0]
		g := gridRange(sc, v.Quant.ZeroPoint[0])
		// Values within half a step of the grid round to its end codes:
		// only beyond that are they clipped.
		half := float64(float64(sc) / 2)
		beyond := Range{g.Lo - half, g.Hi + half}
		if s := summarizeHist(ts, beyond); s != nil {
			s.Clip = g
			rep.hists[v.Name] = s
		}
	}
}

// HTML returns the report as one self-contained HTML page: the header,
// the headline figures, per-layer SQNR bars, float-against-int8 logit
// scatters, the per-image table and the calibrated ranges over their
// histograms (when calibration kept them, Options.Histograms). labels
// (may be nil) names the classes.
func (r *Report) HTML(labels []string) ([]byte, error) {
	var b bytes.Buffer
	if err := r.WriteHTML(&b, labels); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteHTML writes the page of HTML to w.
func (r *Report) WriteHTML(w io.Writer, labels []string) error {
	var b bytes.Buffer
	if err := reportHTML.Execute(&b, r.page(labels)); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

type htmlPage struct {
	Title     string
	Header    [][2]string
	Skipped   []string
	Sets      []htmlSet
	Layers    htmlLayers
	Scatters  []htmlScatter
	ScatterOf string
	Hists     []htmlHist
	HistNote  string
	Bad, Warn int
	Mixed     *htmlMixed
	Sens      *htmlSens
}

// htmlMixed is the mixed-precision section: the ops kept float32, their
// cost, and the steps of an accuracy target.
type htmlMixed struct {
	Summary, Cost string
	Kept          []string
	Steps         [][3]string // op, calibration quality, eval quality
}

// htmlSens is the sensitivity table.
type htmlSens struct {
	Summary string
	Rows    []htmlSensRow
}

type htmlSensRow struct {
	N                 int
	Op, Name          string
	Float, Int8       string
	FloatCls, Int8Cls string
}

func (r *Report) htmlMixedOf() *htmlMixed {
	x := r.Mixed
	if x == nil {
		return nil
	}
	h := &htmlMixed{Kept: x.Kept, Summary: x.summary(), Cost: x.cost("→")}
	for _, st := range x.Steps {
		ev := ""
		if st.Eval != nil {
			ev = st.Eval.String()
		}
		h.Steps = append(h.Steps, [3]string{st.label(func(s string) string { return s }), st.Calib.String(), ev})
	}
	return h
}

func (r *Report) htmlSensOf() *htmlSens {
	s := r.Sensitivity
	if s == nil {
		return nil
	}
	h := &htmlSens{Summary: fmt.Sprintf("%d quantized ops on %d calibration images (%v); all int8: %v", len(s.Ops), s.Images, s.Elapsed.Round(10*time.Millisecond), s.Int8)}
	for i, o := range s.Ops {
		row := htmlSensRow{N: i + 1, Op: o.Op, Name: o.Name,
			Float: o.OnlyFloat.htmlCell(), FloatCls: sqnrClass(o.OnlyFloat.MedianSQNR)}
		if o.OnlyInt8 != nil {
			row.Int8 = o.OnlyInt8.htmlCell()
			row.Int8Cls = sqnrClass(o.OnlyInt8.MedianSQNR)
		}
		h.Rows = append(h.Rows, row)
	}
	return h
}

type htmlSet struct {
	Name     string
	Images   int
	Agree    string
	AgreeCls string
	Disagree int
	SQNR     [3]string // pooled, median, worst
	SQNRCls  [3]string
	Cos      [3]string // mean, median, worst
	Worst    [2]string // the images of the worst SQNR and cosine
	Elapsed  string
	Rows     []htmlImage
	RowsNote string
}

type htmlImage struct {
	Name, Path   string
	Float, Int8  string
	SQNR, Cosine string
	Cls          string
	Differs      bool
}

type htmlLayers struct {
	Rows  []htmlLayer
	Ticks []htmlTick
	Lines []htmlTick // threshold lines
	Width int        // of the bars' scale
	// SVGWidth is Width with 10 pixels each side for the tick labels.
	SVGWidth int
	Of       string
}

type htmlLayer struct {
	N             int
	Name, Op      string
	SQNR          string
	Cls           string
	W             string // bar width in px
	Scale, Zero   string
	Range, Method string
}

type htmlTick struct {
	X, Label string
}

type htmlScatter struct {
	Title, Sub  string
	Points      string // path data, one dot per logit
	Marks       []htmlDot
	Diag        string
	Ticks       []htmlTick // on the x axis: X is the pixel position
	YTicks      []htmlTick // on the y axis: X is the pixel position
	Differs     bool
	Size, Plot  int
	Left, Right string
}

type htmlDot struct {
	X, Y, Cls, Title string
}

type htmlHist struct {
	Name, Op, SQNR, SQNRCls string
	From, Method, Range     string
	Seen                    string // the values seen, when beyond the range
	Clipped                 string
	Bars                    string // path data
	RangeX, RangeW          string
	LoX, HiX, ZeroX         string
	HasZero                 bool
	Axis                    [2]string
}

// htmlCell is Quality.Cell with f2's numbers.
func (q Quality) htmlCell() string {
	if q.Output == OutputMap {
		return fmt.Sprintf("%s, %d/%d", pixelShare(q.MedianSQNR), q.Top1Agree, q.Images)
	}
	return fmt.Sprintf("%s dB, %d/%d", f2(q.MedianSQNR), q.Top1Agree, q.Images)
}

func f2(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	case math.IsNaN(v):
		return "NaN"
	}
	return fmt.Sprintf("%.2f", v)
}

func px(v float64) string { return fmt.Sprintf("%.1f", v) }

// g3 formats v with 3 significant digits, 0 for -0.
func g3(v float64) string {
	if v == 0 {
		v = 0
	}
	return fmt.Sprintf("%.3g", v)
}

func sqnrClass(v float64) string {
	switch {
	case v < sqnrBad || math.IsNaN(v):
		return "bad"
	case v < sqnrWarn:
		return "warn"
	}
	return "ok"
}

func (r *Report) page(labels []string) *htmlPage {
	p := &htmlPage{Title: "int8 quality report: " + r.Model}
	ratio := func(a, b int64) string {
		if b == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.2f× smaller)", float64(a)/float64(b))
	}
	pre := ""
	if r.Preprocess != nil {
		pre = r.Preprocess.String()
	}
	calib := fmt.Sprintf("%d images in %v", r.CalibImages, r.CalibTime.Round(10*time.Millisecond))
	if len(r.Skipped) > 0 {
		calib += fmt.Sprintf(", %d skipped", len(r.Skipped))
	}
	p.Header = [][2]string{
		{"model", r.Model},
		{"scheme", r.Scheme},
		{"method", r.Method},
		{"preprocessing", pre},
		{"calibration", calib},
		{"weights", fmt.Sprintf("%s float32 → %s int8%s", mb(r.FloatWeightBytes), mb(r.Int8WeightBytes), ratio(r.FloatWeightBytes, r.Int8WeightBytes))},
		{"model size", fmt.Sprintf("%s float32 → %s int8%s", mb(r.FloatModelBytes), mb(r.Int8ModelBytes), ratio(r.FloatModelBytes, r.Int8ModelBytes))},
	}
	if r.Rounding != nil {
		p.Header = append(p.Header, [2]string{"weight rounding", r.Rounding.String()})
	}
	if r.ImageListSHA256 != "" {
		p.Header = append(p.Header, [2]string{"image list SHA-256", r.ImageListSHA256})
	}
	p.Skipped = r.Skipped
	label := func(c int) string {
		if c >= 0 && c < len(labels) {
			return fmt.Sprintf("%d %s", c, labels[c])
		}
		return fmt.Sprint(c)
	}
	for _, s := range []struct {
		name string
		m    *Metrics
	}{{"calibration images", r.Calib}, {"held-out images (--eval)", r.Eval}} {
		if s.m != nil && s.m.Images > 0 {
			p.Sets = append(p.Sets, htmlSetOf(s.name, s.m, label))
		}
	}
	if r.Calib != nil {
		p.Layers = htmlLayersOf(r.Calib.Layers)
		for _, l := range r.Calib.Layers {
			switch sqnrClass(l.SQNR) {
			case "bad":
				p.Bad++
			case "warn":
				p.Warn++
			}
		}
		p.Hists, p.HistNote = r.htmlHists()
	}
	p.Mixed, p.Sens = r.htmlMixedOf(), r.htmlSensOf()
	m, of := r.Eval, "held-out"
	if m == nil || len(m.logits) == 0 {
		m, of = r.Calib, "calibration"
	}
	if m != nil {
		p.Scatters = htmlScattersOf(m, label)
		p.ScatterOf = of
	}
	return p
}

func htmlSetOf(name string, m *Metrics, label func(int) string) htmlSet {
	s := htmlSet{Name: name, Images: m.Images, Elapsed: m.Elapsed.Round(10 * time.Millisecond).String()}
	s.Agree = fmt.Sprintf("%d/%d", m.Top1Agree, m.Images)
	s.Disagree = m.Images - m.Top1Agree
	s.AgreeCls = "ok"
	if s.Disagree > 0 {
		s.AgreeCls = "warn"
	}
	sq := make([]float64, 0, len(m.PerImage))
	cs := make([]float64, 0, len(m.PerImage))
	worstS, worstC := -1, -1
	for i, im := range m.PerImage {
		sq = append(sq, im.LogitsSQNR)
		cs = append(cs, im.Cosine)
		if worstS < 0 || im.LogitsSQNR < m.PerImage[worstS].LogitsSQNR {
			worstS = i
		}
		if worstC < 0 || im.Cosine < m.PerImage[worstC].Cosine {
			worstC = i
		}
	}
	s.SQNR[0], s.SQNRCls[0] = f2(m.LogitsSQNR), sqnrClass(m.LogitsSQNR)
	s.Cos[0] = fmt.Sprintf("%.4f", m.Cosine)
	if len(sq) > 0 {
		ms, mc := median(sq), median(cs)
		s.SQNR[1], s.SQNRCls[1] = f2(ms), sqnrClass(ms)
		s.SQNR[2], s.SQNRCls[2] = f2(m.PerImage[worstS].LogitsSQNR), sqnrClass(m.PerImage[worstS].LogitsSQNR)
		s.Cos[1] = fmt.Sprintf("%.4f", mc)
		s.Cos[2] = fmt.Sprintf("%.4f", m.PerImage[worstC].Cosine)
		s.Worst = [2]string{filepath.Base(m.PerImage[worstS].Name), filepath.Base(m.PerImage[worstC].Name)}
	}
	// Every image up to maxRows; beyond, the disagreements and then the
	// worst SQNRs, in input order.
	const maxRows = 200
	keep := make([]bool, len(m.PerImage))
	if len(m.PerImage) <= maxRows {
		for i := range keep {
			keep[i] = true
		}
	} else {
		order := make([]int, len(m.PerImage))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool {
			x, y := m.PerImage[order[a]], m.PerImage[order[b]]
			if dx, dy := x.FloatTop1 != x.Int8Top1, y.FloatTop1 != y.Int8Top1; dx != dy {
				return dx
			}
			return x.LogitsSQNR < y.LogitsSQNR
		})
		for _, i := range order[:maxRows] {
			keep[i] = true
		}
		s.RowsNote = fmt.Sprintf("%d of %d images: the disagreements, then the lowest SQNR; the other %d agree.",
			maxRows, len(m.PerImage), len(m.PerImage)-maxRows)
	}
	for i, im := range m.PerImage {
		if !keep[i] {
			continue
		}
		s.Rows = append(s.Rows, htmlImage{Name: filepath.Base(im.Name), Path: im.Name,
			Float: label(im.FloatTop1), Int8: label(im.Int8Top1), SQNR: f2(im.LogitsSQNR),
			Cosine: fmt.Sprintf("%.4f", im.Cosine), Cls: sqnrClass(im.LogitsSQNR), Differs: im.FloatTop1 != im.Int8Top1})
	}
	return s
}

// median returns the median of xs (sorting a copy).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// layerBarWidth is the width in pixels of the per-layer SQNR bars.
const layerBarWidth = 320

func htmlLayersOf(ls []LayerReport) htmlLayers {
	top := 40.0
	for _, l := range ls {
		if !math.IsInf(l.SQNR, 0) && !math.IsNaN(l.SQNR) {
			top = max(top, math.Ceil(l.SQNR/10)*10)
		}
	}
	top = min(top, 120)
	out := htmlLayers{Width: layerBarWidth, SVGWidth: layerBarWidth + 20, Of: fmt.Sprintf("0–%g dB", top)}
	x := func(v float64) float64 { return max(0, min(v, top)) / top * layerBarWidth }
	for t := 0.0; t <= top; t += 10 {
		out.Ticks = append(out.Ticks, htmlTick{px(x(t)), fmt.Sprint(t)})
	}
	out.Lines = []htmlTick{{px(x(sqnrBad)), fmt.Sprint(sqnrBad)}, {px(x(sqnrWarn)), fmt.Sprint(sqnrWarn)}}
	for i, l := range ls {
		w := x(l.SQNR)
		if math.IsNaN(l.SQNR) {
			w = 0
		}
		row := htmlLayer{N: i + 1, Name: l.Name, Op: l.Op, SQNR: f2(l.SQNR), Cls: sqnrClass(l.SQNR), W: px(w),
			Scale: fmt.Sprintf("%.4g", l.Scale), Zero: fmt.Sprint(l.Zero), Method: l.Method}
		if l.Lo != 0 || l.Hi != 0 {
			row.Range = fmt.Sprintf("[%.4g, %.4g]", l.Lo, l.Hi)
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

// The scatter's geometry: a square of scatterSize pixels, the plot inset
// by scatterPad.
const (
	scatterSize = 300
	scatterPad  = 34
)

// htmlScattersOf picks up to four images among those whose logits m kept
// (the worst SQNR, the first disagreement, the median and the best) and
// plots their int8 logits against the float ones.
func htmlScattersOf(m *Metrics, label func(int) string) []htmlScatter {
	if len(m.logits) == 0 {
		return nil
	}
	idx := make([]int, len(m.logits))
	for i := range idx {
		idx[i] = i
	}
	sq := func(i int) float64 { return m.PerImage[m.logits[i].Image].LogitsSQNR }
	sort.SliceStable(idx, func(a, b int) bool { return sq(idx[a]) < sq(idx[b]) })
	pick := []int{idx[0]}
	for _, i := range idx {
		if im := m.PerImage[m.logits[i].Image]; im.FloatTop1 != im.Int8Top1 {
			pick = append(pick, i)
			break
		}
	}
	pick = append(pick, idx[len(idx)/2], idx[len(idx)-1])
	var out []htmlScatter
	seen := map[int]bool{}
	for _, i := range pick {
		if seen[i] {
			continue
		}
		seen[i] = true
		out = append(out, scatterOf(m.logits[i], m.PerImage[m.logits[i].Image], label))
	}
	return out
}

func scatterOf(ls logitSample, im ImageResult, label func(int) string) htmlScatter {
	lo, hi := math.Inf(1), math.Inf(-1)
	for j := range ls.F {
		for _, v := range []float64{float64(ls.F[j]), float64(ls.Q[j])} {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if !(hi > lo) {
		lo, hi = lo-1, lo+1
		if math.IsInf(lo, 0) {
			lo, hi = -1, 1
		}
	}
	pad := float64((hi - lo) * 0.03)
	lo, hi = lo-pad, hi+pad
	plot := float64(scatterSize - 2*scatterPad)
	sx := func(v float64) float64 { return scatterPad + float64((v-lo)/(hi-lo)*plot) }
	sy := func(v float64) float64 { return scatterSize - scatterPad - float64((v-lo)/(hi-lo)*plot) }
	var d strings.Builder
	for j := range ls.F {
		x, y := float64(ls.F[j]), float64(ls.Q[j])
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			continue
		}
		fmt.Fprintf(&d, "M%.1f %.1fh0", sx(x), sy(y))
	}
	s := htmlScatter{Title: filepath.Base(im.Name), Points: d.String(), Differs: im.FloatTop1 != im.Int8Top1,
		Size: scatterSize, Plot: int(plot), Left: px(scatterPad), Right: px(scatterSize - scatterPad)}
	s.Sub = fmt.Sprintf("SQNR %s dB, cosine %.4f", f2(im.LogitsSQNR), im.Cosine)
	s.Diag = fmt.Sprintf("M%.1f %.1fL%.1f %.1f", sx(lo), sy(lo), sx(hi), sy(hi))
	for _, t := range niceTicks(lo, hi, 5) {
		s.Ticks = append(s.Ticks, htmlTick{px(sx(t)), fmt.Sprintf("%g", t)})
		s.YTicks = append(s.YTicks, htmlTick{px(sy(t)), fmt.Sprintf("%g", t)})
	}
	mark := func(c int, cls, what string) {
		if c >= 0 && c < len(ls.F) {
			s.Marks = append(s.Marks, htmlDot{px(sx(float64(ls.F[c]))), px(sy(float64(ls.Q[c]))), cls, what + " top-1: " + label(c)})
		}
	}
	mark(im.FloatTop1, "ftop", "float")
	if im.Int8Top1 != im.FloatTop1 {
		mark(im.Int8Top1, "qtop", "int8")
	}
	return s
}

// niceTicks returns round values (1, 2 or 5 times a power of ten apart)
// within [lo, hi], about n of them.
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || n < 1 {
		return nil
	}
	raw := (hi - lo) / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	var out []float64
	for t := float64(math.Ceil(lo/step) * step); t <= hi+float64(step*1e-9); t += step {
		if math.Abs(t) < step*1e-9 {
			t = 0
		}
		out = append(out, t)
	}
	return out
}

// The histogram's geometry.
const (
	histW = 232
	histH = 64
)

// htmlHists draws every activation's histogram with its calibrated range,
// in the per-layer order (worst SQNR first).
func (r *Report) htmlHists() ([]htmlHist, string) {
	if len(r.hists) == 0 {
		return nil, "Calibration kept no histograms (they are kept with --report-html or any method but minmax)."
	}
	var out []htmlHist
	for _, l := range r.Calib.Layers {
		s := r.hists[l.Name]
		if s == nil {
			continue
		}
		rg, from := Range{l.Lo, l.Hi}, "range"
		if l.Lo == 0 && l.Hi == 0 { // no recorded range: the int8 grid's
			rg, from = s.Clip, "grid"
		}
		lo, hi := min(s.Min, rg.Lo), max(s.Max, rg.Hi)
		if !(hi > lo) {
			hi = lo + 1
		}
		sx := func(v float64) float64 { return float64((v - lo) / (hi - lo) * histW) }
		var top int64
		for _, c := range s.Counts {
			top = max(top, c)
		}
		ly := func(c int64) float64 {
			if c <= 0 || top <= 0 {
				return histH
			}
			return histH - float64(math.Log1p(float64(c))/math.Log1p(float64(top))*(histH-2))
		}
		// The bins, clipped to [lo, hi] (the first and last bins reach
		// beyond the values seen).
		clip := func(v float64) float64 { return sx(max(lo, min(v, hi))) }
		var d strings.Builder
		fmt.Fprintf(&d, "M%.1f %d", clip(s.Lo), histH)
		for i, c := range s.Counts {
			a, b := clip(s.Lo+float64(float64(i)*s.Width)), clip(s.Lo+float64(float64(i+1)*s.Width))
			y := ly(c)
			fmt.Fprintf(&d, "L%.1f %.1fL%.1f %.1f", a, y, b, y)
		}
		fmt.Fprintf(&d, "L%.1f %dZ", clip(s.Lo+float64(float64(len(s.Counts))*s.Width)), histH)
		h := htmlHist{Name: l.Name, Op: l.Op, SQNR: f2(l.SQNR), SQNRCls: sqnrClass(l.SQNR), Method: l.Method,
			From: from, Range: fmt.Sprintf("[%.4g, %.4g]", rg.Lo, rg.Hi), Bars: d.String(),
			LoX: px(sx(rg.Lo)), HiX: px(sx(rg.Hi)), RangeX: px(sx(rg.Lo)), RangeW: px(sx(rg.Hi) - sx(rg.Lo)),
			Axis: [2]string{g3(lo), g3(hi)}}
		if s.Min < rg.Lo || s.Max > rg.Hi {
			h.Seen = fmt.Sprintf("[%.4g, %.4g]", s.Min, s.Max)
		}
		if lo < 0 && hi > 0 {
			h.HasZero, h.ZeroX = true, px(sx(0))
		}
		if s.Clipped > 0 {
			h.Clipped = fmt.Sprintf("≥ %.3g%% clipped", 100*s.Clipped)
		}
		out = append(out, h)
	}
	return out, ""
}
