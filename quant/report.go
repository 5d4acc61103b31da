package quant

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// LayerReport is the accuracy of one int8 activation against its float
// twin (the value of the same name in the float graph).
type LayerReport struct {
	Name   string  `json:"name"`
	Op     string  `json:"op"`
	SQNR   float64 `json:"sqnr_db"` // 10 log10(Σ x² / Σ (x - x̂)²) over the images
	Scale  float32 `json:"scale"`
	Zero   int32   `json:"zero_point"`
	Lo     float64 `json:"range_lo"` // the calibrated range (NaN-free; 0 if unknown)
	Hi     float64 `json:"range_hi"`
	Method string  `json:"method,omitempty"` // the method that chose the range
}

// ImageResult compares the two models on one image.
type ImageResult struct {
	Name       string  `json:"name"`
	FloatTop1  int     `json:"float_top1"`
	Int8Top1   int     `json:"int8_top1"`
	LogitsSQNR float64 `json:"logits_sqnr_db"`
	Cosine     float64 `json:"cosine"`
}

// Metrics compare the int8 model with the float one over a set of images.
type Metrics struct {
	Images int `json:"images"`
	// MedianSQNR and WorstSQNR are the median and the lowest of the
	// per-image logits SQNRs: the headline, which one image with large
	// logits cannot hide as it can in the pooled LogitsSQNR.
	MedianSQNR float64 `json:"median_sqnr_db"`
	WorstSQNR  float64 `json:"worst_sqnr_db"`
	LogitsSQNR float64 `json:"logits_sqnr_db"` // pooled: over all images' logits together
	Top1Agree  int     `json:"top1_agree"`     // images (batch rows) with the same top-1
	Cosine     float64 `json:"cosine"`         // mean cosine similarity of the logits
	// MinCosine is the lowest per-image cosine similarity.
	MinCosine float64 `json:"min_cosine"`
	// Output is what the models output: "" a classifier's logits, OutputMap
	// a class map (then the SQNRs are 10 log10(pixels / differing pixels),
	// the cosines the fraction of pixels that agree, and top-1 agreement
	// counts identical maps), OutputSegLogits segmentation logits (top-1
	// agreement counts identical class maps).
	Output string `json:"output,omitempty"`
	// FloatConfidence is the float model's mean top-1 probability (softmax
	// of its logits): low values on photos of its classes hint at the
	// wrong preprocessing.
	FloatConfidence float64       `json:"float_confidence"`
	PerImage        []ImageResult `json:"per_image,omitempty"`
	Layers          []LayerReport `json:"layers,omitempty"` // worst SQNR first
	Elapsed         time.Duration `json:"elapsed_ns"`
	layerAcc        map[string]*acc
	// logits are the float and int8 logits of the first maxKeptLogits
	// images (batch rows) in input order, for the HTML report's scatter;
	// not in the JSON.
	logits []logitSample
}

// maxKeptLogits caps the images whose logits Evaluate keeps (Metrics.logits).
const maxKeptLogits = 32

// logitSample is the output 0 of both models on one image (batch row);
// Image indexes Metrics.PerImage.
type logitSample struct {
	Image int
	F, Q  []float32
}

type acc struct{ sig, noise float64 }

func sqnr(sig, noise float64) float64 {
	if noise == 0 {
		if sig == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return 10 * kernels.Log(sig/noise) / math.Ln10
}

// Report is the quality report of a quantization.
type Report struct {
	Model       string           `json:"model"`
	Scheme      string           `json:"scheme"`
	Method      string           `json:"method"`
	Preprocess  *preprocess.Spec `json:"preprocess,omitempty"`
	CalibImages int              `json:"calib_images"`
	CalibTime   time.Duration    `json:"calib_time_ns"`
	// RangesTime is Auto's choice of ranges, ReportTime the comparison of
	// the two models (Calib and Eval).
	RangesTime time.Duration `json:"ranges_time_ns,omitempty"`
	ReportTime time.Duration `json:"report_time_ns"`
	Skipped    []string      `json:"skipped_images,omitempty"`
	// ImageList and ImageListSHA256 are those of Stats: the calibration
	// images used and the hash of their list.
	ImageList       []string `json:"-"`
	ImageListSHA256 string   `json:"-"`
	// Sizes in bytes: float32 weights (all float constants) and the int8
	// model's int8 weights; the model sizes add biases, per-channel scales
	// and lookup tables.
	FloatWeightBytes int64 `json:"float_weight_bytes"`
	Int8WeightBytes  int64 `json:"int8_weight_bytes"`
	FloatModelBytes  int64 `json:"float_model_bytes"`
	Int8ModelBytes   int64 `json:"int8_model_bytes"`
	// Rounding is the choice of the default weight rounding (nil when no
	// weight could be rounded by output error, or another was asked for).
	Rounding *RoundingChoice `json:"weight_rounding,omitempty"`
	// Calib is measured on the calibration images, Eval (optional) on
	// held-out ones.
	Calib *Metrics `json:"calib"`
	Eval  *Metrics `json:"eval,omitempty"`
	// Sensitivity is the per-op analysis (Options.Sensitivity, and the
	// ranking of an accuracy target); Mixed the ops kept in float32 and
	// their cost.
	Sensitivity *Sensitivity `json:"sensitivity,omitempty"`
	Mixed       *MixedReport `json:"mixed,omitempty"`
	// hists are the calibration histograms of the int8 activations, by
	// value name, when calibration kept them (Options.Histograms), for the
	// HTML report; not in the JSON.
	hists map[string]*histSummary
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	clean := *r
	return json.MarshalIndent(&clean, "", "  ")
}

// MarshalJSON renders infinite SQNRs (exact layers) as 999.
func (m *Metrics) MarshalJSON() ([]byte, error) {
	type plain Metrics
	c := plain(*m)
	c.LogitsSQNR, c.MedianSQNR, c.WorstSQNR = finite(c.LogitsSQNR), finite(c.MedianSQNR), finite(c.WorstSQNR)
	c.Layers = append([]LayerReport(nil), m.Layers...)
	for i := range c.Layers {
		c.Layers[i].SQNR = finite(c.Layers[i].SQNR)
	}
	c.PerImage = append([]ImageResult(nil), m.PerImage...)
	for i := range c.PerImage {
		c.PerImage[i].LogitsSQNR = finite(c.PerImage[i].LogitsSQNR)
	}
	return json.Marshal(c)
}

// LayerImages is how many of Evaluate's inputs (the first ones) also
// measure the per-layer SQNR: capturing and comparing every activation
// costs more than running the two models (12 ms against 2.4 ms per ../shared
// V2 input, memory-bound), and the per-layer figures settle within a few
// images (8 against 16 on that V2: within 0.9 dB, 0.25 dB on average, the
// worst layer the same; the report of a 37-image compile 150 -> 110 ms);
// the logits are compared on every input.
const LayerImages = 8

// The kinds of output of Metrics.Output besides a classifier's logits.
const (
	OutputMap       = "class map"
	OutputSegLogits = "segmentation logits"
	// OutputDetLogits is a detector's class logits [N, anchors, classes]
	// (SSD's cls_logits, its first output): top-1 agreement counts the
	// images whose every anchor keeps its top class.
	OutputDetLogits = "detection logits"
)

// lowConfidence is the float model's mean top-1 probability below which
// the report asks whether the preprocessing is right.
const lowConfidence = 0.25

// finite clamps a figure to [-999, 999] (NaN: -999), for JSON and the model
// file, which hold no infinities.
func finite(v float64) float64 {
	switch {
	case v > 999:
		return 999
	case v < -999 || v != v:
		return -999
	}
	return v
}

// WriteText prints the report for people: sizes, logits metrics and the
// per-layer SQNR table, worst first (maxLayers rows; 0: all).
func (r *Report) WriteText(w io.Writer, maxLayers int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "int8 quantization of %s (%s, method %s)\n", esc.String(r.Model), r.Scheme, r.Method)
	if r.Preprocess != nil {
		fmt.Fprintf(&b, "  preprocessing: %s\n", r.Preprocess)
	}
	if r.CalibImages == 0 {
		b.WriteString("  calibration: none, the model file's own ranges")
	} else {
		fmt.Fprintf(&b, "  calibration: %d images in %v", r.CalibImages, r.CalibTime.Round(10*time.Millisecond))
	}
	if r.RangesTime > 0 {
		fmt.Fprintf(&b, ", ranges chosen in %v", r.RangesTime.Round(10*time.Millisecond))
	}
	if r.Calib != nil || r.Eval != nil {
		fmt.Fprintf(&b, ", report in %v", r.ReportTime.Round(10*time.Millisecond))
	}
	b.WriteString("\n")
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "    skipped %s\n", esc.Line(s))
	}
	ratio := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	fmt.Fprintf(&b, "  weights: %s float32 -> %s int8 (%.2fx smaller); model %s -> %s (%.2fx)\n",
		mb(r.FloatWeightBytes), mb(r.Int8WeightBytes), ratio(r.FloatWeightBytes, r.Int8WeightBytes),
		mb(r.FloatModelBytes), mb(r.Int8ModelBytes), ratio(r.FloatModelBytes, r.Int8ModelBytes))
	if r.Rounding != nil {
		fmt.Fprintf(&b, "  weight rounding: %s\n", r.Rounding)
	}
	metrics := func(what string, m *Metrics) {
		switch m.Output {
		case OutputMap:
			fmt.Fprintf(&b, "  %s (%d): class maps agree on %.2f%% of the pixels (worst image %.2f%%), %d/%d maps identical\n",
				what, m.Images, 100*m.Cosine, 100*m.MinCosine, m.Top1Agree, m.Images)
		case OutputSegLogits:
			fmt.Fprintf(&b, "  %s (%d): logits SQNR %.2f dB median, %.2f worst (%.2f pooled), class maps identical %d/%d, cosine %.4f (min %.4f)\n",
				what, m.Images, m.MedianSQNR, m.WorstSQNR, m.LogitsSQNR, m.Top1Agree, m.Images, m.Cosine, m.MinCosine)
		case OutputDetLogits:
			fmt.Fprintf(&b, "  %s (%d): class logits SQNR %.2f dB median, %.2f worst (%.2f pooled), every anchor's top class kept in %d/%d, cosine %.4f (min %.4f); box regressions not measured\n",
				what, m.Images, m.MedianSQNR, m.WorstSQNR, m.LogitsSQNR, m.Top1Agree, m.Images, m.Cosine, m.MinCosine)
		default:
			fmt.Fprintf(&b, "  %s (%d): logits SQNR %.2f dB median, %.2f worst (%.2f pooled), top-1 agreement %d/%d, cosine %.4f (min %.4f)\n",
				what, m.Images, m.MedianSQNR, m.WorstSQNR, m.LogitsSQNR, m.Top1Agree, m.Images, m.Cosine, m.MinCosine)
		}
		if m.FloatConfidence < lowConfidence {
			fmt.Fprintf(&b, "  note: the float model's mean top-1 probability on these images is %.0f%%, low for a trained classifier on photos of its classes: is the preprocessing right (--preprocess)?\n", 100*m.FloatConfidence)
		}
	}
	if r.Calib != nil {
		metrics("calibration images", r.Calib)
	}
	if r.Eval != nil {
		metrics("eval images", r.Eval)
		for _, im := range r.Eval.PerImage {
			mark := ""
			if im.FloatTop1 != im.Int8Top1 {
				mark = "  <- differs"
			}
			if r.Eval.Output == OutputMap {
				fmt.Fprintf(&b, "    %-28s pixels agree %.2f%%\n", esc.String(filepath.Base(im.Name)), 100*im.Cosine)
				continue
			}
			fmt.Fprintf(&b, "    %-28s float %4d  int8 %4d  SQNR %6.2f dB  cos %.4f%s\n", esc.String(filepath.Base(im.Name)), im.FloatTop1, im.Int8Top1, im.LogitsSQNR, im.Cosine, mark)
		}
	}
	if x := r.Mixed; x != nil {
		fmt.Fprintf(&b, "  mixed precision: %s", x.summary())
		if x.ChooseTime > 0 {
			fmt.Fprintf(&b, ", chosen in %v", x.ChooseTime.Round(10*time.Millisecond))
		}
		fmt.Fprintf(&b, "\n    %s\n", x.cost("->"))
		for _, k := range x.Kept {
			fmt.Fprintf(&b, "    float32: %s\n", esc.String(k))
		}
		for _, st := range x.Steps {
			fmt.Fprintf(&b, "    %-44s calibration %v", st.label(esc.String), st.Calib)
			if st.Eval != nil {
				fmt.Fprintf(&b, "; eval %v", *st.Eval)
			}
			b.WriteString("\n")
		}
	}
	if s := r.Sensitivity; s != nil {
		fmt.Fprintf(&b, "  sensitivity on %d calibration images (%v): all int8 %v\n", s.Images, s.Elapsed.Round(10*time.Millisecond), s.Int8)
		fmt.Fprintf(&b, "    %4s  %-18s %-40s %-34s %s\n", "rank", "op", "name", "only this op float", "only this op int8")
		for i, o := range s.Ops {
			if maxLayers > 0 && i == maxLayers {
				fmt.Fprintf(&b, "    ... %d more\n", len(s.Ops)-maxLayers)
				break
			}
			only8 := "-"
			if o.OnlyInt8 != nil {
				only8 = o.OnlyInt8.Cell("  ")
			}
			fmt.Fprintf(&b, "    %4d  %-18s %-40s %-34s %s\n", i+1, o.Op, esc.String(o.Name), o.OnlyFloat.Cell("  "), only8)
		}
	}
	m := r.Calib
	if m != nil && len(m.Layers) > 0 {
		fmt.Fprintf(&b, "  per-layer SQNR over the first %d calibration images (worst first):\n", min(m.Images, LayerImages))
		fmt.Fprintf(&b, "    %8s  %-18s %-40s %-22s %-10s %5s %s\n", "SQNR dB", "op", "value", "range", "scale", "zero", "method")
		for i, l := range m.Layers {
			if maxLayers > 0 && i == maxLayers {
				fmt.Fprintf(&b, "    ... %d more\n", len(m.Layers)-maxLayers)
				break
			}
			fmt.Fprintf(&b, "    %8.2f  %-18s %-40s %-22s %-10.4g %5d %s\n", l.SQNR, l.Op, esc.String(l.Name),
				fmt.Sprintf("[%.4g, %.4g]", l.Lo, l.Hi), l.Scale, l.Zero, l.Method)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func (r *Report) String() string {
	var b strings.Builder
	_ = r.WriteText(&b, 0)
	return b.String()
}

// Sizes fills the size fields from the float and int8 graphs.
func (r *Report) Sizes(f, q *ir.Graph) {
	r.FloatWeightBytes, r.FloatModelBytes = 0, 0
	for _, c := range f.Consts {
		if c.Const.DType == ir.Float32 {
			r.FloatWeightBytes += int64(len(c.Const.F32)) * 4
		}
	}
	r.FloatModelBytes = r.FloatWeightBytes
	r.Int8WeightBytes, r.Int8ModelBytes = 0, 0
	tables := map[*ir.Value]bool{} // gate tables: counted with their nodes below
	for _, n := range q.Nodes {
		if n.Op == ir.SqueezeExcite && len(n.Inputs) == 6 {
			tables[n.Inputs[5]] = true
		}
	}
	for _, c := range q.Consts {
		if tables[c] {
			continue
		}
		n := int64(c.Const.Len()) * int64(c.Const.DType.Size())
		if c.Const.DType == ir.Int8 {
			r.Int8WeightBytes += n
		}
		r.Int8ModelBytes += n
		if c.Quant != nil && c.Const.DType == ir.Int8 {
			r.Int8ModelBytes += int64(len(c.Quant.Scale)) * 4
		}
	}
	for _, n := range q.Nodes {
		switch n.Op {
		case ir.Lookup, ir.SqueezeExcite:
			r.Int8ModelBytes += 256
		}
	}
}

// Evaluate runs the float graph f and its int8 twin q on the inputs (each
// a float32 tensor for their common input) and compares them: logits SQNR,
// top-1 agreement and cosine similarity of output 0, and (on the first
// LayerImages inputs) the SQNR of every
// int8 activation whose float twin (same name, same shape) exists. names
// labels the inputs (may be nil). The inputs run in parallel on workers
// pairs of single-threaded interpreters (0: GOMAXPROCS); every input's sums
// are its own and are added in input order, so the figures are the same
// for any number of workers.
func Evaluate(f, q *ir.Graph, inputs []*ir.Tensor, names []string, workers int) (*Metrics, error) {
	return evaluate(floatRef{g: f}, q, inputs, names, workers, nil)
}

// floatRef is the float side of an evaluation: the graph f, and, when
// known, a compiled model that computes f's values bit for bit (the
// calibration view) and f's outputs for the first inputs.
type floatRef struct {
	g     *ir.Graph
	model *runtime.Model // nil: compile g
	outs  []*ir.Tensor   // outs[i] is the output for inputs[i]
}

// evaluate is Evaluate calling tick (when not nil) after each input.
func evaluate(f floatRef, q *ir.Graph, inputs []*ir.Tensor, names []string, workers int, tick func()) (*Metrics, error) {
	start := time.Now()
	results, err := evalInputs(f, q, inputs, workers, tick, LayerImages)
	if err != nil {
		return nil, err
	}
	m, err := metricsOf(q, results, names)
	if err != nil {
		return nil, err
	}
	m.Elapsed = time.Since(start)
	return m, nil
}

// evalInputs compares the models on each input, the first layerImages of
// them layer by layer too (evaluate's first half: each input's figures
// are its own, whatever the other inputs and workers).
func evalInputs(f floatRef, q *ir.Graph, inputs []*ir.Tensor, workers int, tick func(), layerImages int) ([]*inputEval, error) {
	if len(inputs) == 0 {
		return nil, errors.New("evaluate: no inputs")
	}
	if workers < 1 {
		workers = goruntime.GOMAXPROCS(0)
	}
	nw := min(workers, len(inputs))
	var fxs []*executable
	var err error
	if f.model != nil {
		fxs, err = executables(f.model, nw)
	} else {
		fxs, err = compileGraphs(f.g, nw)
	}
	if err != nil {
		return nil, fmt.Errorf("evaluate: float model: %w", err)
	}
	qxs, err := compileGraphs(q, nw)
	if err != nil {
		return nil, fmt.Errorf("evaluate: int8 model: %w", err)
	}
	defer func() {
		for _, ex := range append(fxs, qxs...) {
			ex.close()
		}
	}()
	// The float values with an int8 twin: the only ones worth capturing.
	twins := map[string]bool{}
	for _, v := range valuesOf(q) {
		twins[v.Name] = true
	}
	results := make([]*inputEval, len(inputs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := &evaluator{fx: fxs[w], qx: qxs[w], captured: map[string]*ir.Tensor{}, twins: twins}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(inputs) {
					return
				}
				var out *ir.Tensor
				if i < len(f.outs) {
					out = f.outs[i]
				}
				results[i] = e.eval(inputs[i], out, i < layerImages, i < maxKeptLogits)
				if tick != nil {
					tick()
				}
			}
		}()
	}
	wg.Wait()
	return results, nil
}

// metricsOf adds up the inputs' figures, in input order (evaluate's
// second half).
func metricsOf(q *ir.Graph, results []*inputEval, names []string) (*Metrics, error) {
	m := &Metrics{layerAcc: map[string]*acc{}, MinCosine: 1}
	var sig, noise, cosSum, confSum float64
	for i, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		m.Output = r.kind
		for row, x := range r.rows {
			if x.ft == x.qt {
				m.Top1Agree++
			}
			name := fmt.Sprintf("input %d", i)
			if i < len(names) {
				name = names[i]
			}
			if len(r.rows) > 1 {
				name += fmt.Sprintf("[%d]", row)
			}
			m.PerImage = append(m.PerImage, ImageResult{Name: name, FloatTop1: x.ft, Int8Top1: x.qt, LogitsSQNR: sqnr(x.sig, x.noise), Cosine: x.cos})
			sig += x.sig
			noise += x.noise
			cosSum += x.cos
			confSum += x.conf
			m.MinCosine = min(m.MinCosine, x.cos)
			if x.f != nil && len(m.logits) < maxKeptLogits {
				m.logits = append(m.logits, logitSample{Image: len(m.PerImage) - 1, F: x.f, Q: x.q})
			}
			m.Images++
		}
		for name, p := range r.layers {
			a := m.layerAcc[name]
			if a == nil {
				a = &acc{}
				m.layerAcc[name] = a
			}
			a.sig += p.sig
			a.noise += p.noise
		}
	}
	m.LogitsSQNR = sqnr(sig, noise)
	m.Cosine = cosSum / float64(m.Images)
	per := make([]float64, len(m.PerImage))
	for i, im := range m.PerImage {
		per[i] = im.LogitsSQNR
	}
	m.WorstSQNR, m.MedianSQNR = worstAndMedian(per)
	m.FloatConfidence = confSum / float64(m.Images)
	ops := map[string]string{}
	for _, n := range q.Nodes {
		ops[n.Output().Name] = n.Op.String()
	}
	ranges, methods, _ := CalibratedRanges(q)
	for _, v := range valuesOf(q) {
		a := m.layerAcc[v.Name]
		if a == nil {
			continue
		}
		l := LayerReport{Name: v.Name, Op: ops[v.Name], SQNR: sqnr(a.sig, a.noise), Scale: v.Quant.Scale[0], Zero: v.Quant.ZeroPoint[0]}
		if rg, ok := ranges[v.Name]; ok {
			l.Lo, l.Hi, l.Method = rg.Lo, rg.Hi, methods[v.Name]
		}
		m.Layers = append(m.Layers, l)
	}
	sort.SliceStable(m.Layers, func(i, j int) bool { return m.Layers[i].SQNR < m.Layers[j].SQNR })
	return m, nil
}

// worstAndMedian returns the lowest and the median of the per-image
// SQNRs (0 and 0 for none).
func worstAndMedian(per []float64) (worst, med float64) {
	if len(per) == 0 {
		return 0, 0
	}
	return slices.Min(per), median(per)
}

// sqErr returns the sums of x[j]^2 and of (x[j] - deq[codes[j]])^2 (the
// signal and the quantization noise of an int8 tensor whose float twin is
// x), in float64 with every product rounded, in four partial sums (j mod 4)
// added at the end: four chains of additions instead of one, and the same
// sums on every CPU.
func sqErr(x []float32, codes []int8, deq *[256]float64) (sig, noise float64) {
	var s0, s1, s2, s3, n0, n1, n2, n3 float64
	x = x[:len(codes)]
	j := 0
	for ; j+4 <= len(codes); j += 4 {
		c, v := codes[j:j+4:j+4], x[j:j+4:j+4]
		x0, x1, x2, x3 := float64(v[0]), float64(v[1]), float64(v[2]), float64(v[3])
		d0, d1, d2, d3 := x0-deq[uint8(c[0])], x1-deq[uint8(c[1])], x2-deq[uint8(c[2])], x3-deq[uint8(c[3])]
		s0, s1, s2, s3 = s0+float64(x0*x0), s1+float64(x1*x1), s2+float64(x2*x2), s3+float64(x3*x3)
		n0, n1, n2, n3 = n0+float64(d0*d0), n1+float64(d1*d1), n2+float64(d2*d2), n3+float64(d3*d3)
	}
	for ; j < len(codes); j++ {
		x0 := float64(x[j])
		d0 := x0 - deq[uint8(codes[j])]
		s0, n0 = s0+float64(x0*x0), n0+float64(d0*d0)
	}
	return ((s0 + s1) + s2) + s3, ((n0 + n1) + n2) + n3
}

// inputEval is what Evaluate measures on one input: per batch row the
// logits' sums and top-1 classes, per int8 activation its signal and noise.
type inputEval struct {
	rows   []rowEval
	layers map[string]*acc
	err    error
	kind   string // Metrics.Output
}

type rowEval struct {
	sig, noise, cos float64
	conf            float64   // the float top-1's softmax probability
	ft, qt          int       // float and int8 top-1
	f, q            []float32 // the logits, when kept
}

// evaluator runs inputs through a float and an int8 executable, keeping
// the float activations of the input being evaluated in captured (buffers
// reused from input to input).
type evaluator struct {
	fx, qx   *executable
	captured map[string]*ir.Tensor
	twins    map[string]bool // the names of the int8 model's values
}

// eval compares the models on in: the logits (kept with keepLogits), and
// with layers the int8 activations against their float twins.
func (e *evaluator) eval(in, floatOut *ir.Tensor, layers, keepLogits bool) *inputEval {
	r := &inputEval{layers: map[string]*acc{}}
	for _, t := range e.captured {
		t.F32 = t.F32[:0]
	}
	var fobs, qobs func(*runtime.Observation)
	fobs = func(o *runtime.Observation) {
		if o.F32 == nil || o.Op < 0 || !e.twins[o.Name] {
			return
		}
		t := e.captured[o.Name]
		if t == nil {
			t = &ir.Tensor{DType: ir.Float32, Shape: ir.Shape(o.Shape).Clone()}
			e.captured[o.Name] = t
		}
		t.F32 = append(t.F32, o.F32...)
	}
	if !layers {
		fobs = nil
	}
	fo := floatOut // the float output, when known and the layers are not needed
	if fo == nil || layers {
		var err error
		if fo, err = e.fx.run(in, fobs); err != nil {
			r.err = fmt.Errorf("evaluate: float model: %w", err)
			return r
		}
	}
	var deq [256]float64 // the dequantized value of each code
	qobs = func(o *runtime.Observation) {
		if o.I8 == nil {
			return
		}
		ft := e.captured[o.Name]
		if ft == nil || !ft.Shape.Equal(ir.Shape(o.Shape)) {
			return
		}
		a := r.layers[o.Name]
		if a == nil {
			a = &acc{}
			r.layers[o.Name] = a
		}
		per := len(o.I8)
		if (o.Item+1)*per > len(ft.F32) {
			return
		}
		fv := ft.F32[o.Item*per:][:per]
		s, z := float64(o.Scale), float64(o.Zero)
		for c := -128; c < 128; c++ {
			deq[uint8(int8(c))] = float64(s * (float64(c) - z))
		}
		sig, noise := sqErr(fv, o.I8, &deq)
		a.sig += sig
		a.noise += noise
	}
	if !layers {
		qobs = nil
	}
	qo, err := e.qx.run(in, qobs)
	if err != nil {
		r.err = fmt.Errorf("evaluate: int8 model: %w", err)
		return r
	}
	if fo.Len() != qo.Len() || len(fo.Shape) == 0 {
		r.err = fmt.Errorf("evaluate: outputs %v and %v differ in shape", fo.Shape, qo.Shape)
		return r
	}
	if fo.DType == ir.Int32 || qo.DType == ir.Int32 {
		classMapRows(r, fo, qo)
		return r
	}
	rows := 1
	if len(fo.Shape) > 1 {
		rows = fo.Shape[0]
	}
	cols := fo.Len() / max(rows, 1)
	// Segmentation logits [N,C,H,W] (H*W > 1): the SQNR and cosine over
	// all of them, top-1 as for a class map (classMapRows: the per-pixel
	// argmax over C of both, agreeing when the whole map does), and no
	// classifier confidence. A detector's class logits [N,anchors,C]
	// likewise, per anchor.
	seg := len(fo.Shape) == 4 && fo.Shape[2]*fo.Shape[3] > 1
	det := len(fo.Shape) == 3 && fo.Shape[1] > 1
	switch {
	case seg:
		r.kind = OutputSegLogits
	case det:
		r.kind = OutputDetLogits
	}
	for row := range rows {
		fr, qr := fo.F32[row*cols:(row+1)*cols], qo.F32[row*cols:(row+1)*cols]
		var x rowEval
		var dot, nf, nq float64
		for j := range fr {
			a, b := float64(fr[j]), float64(qr[j])
			d := a - b
			x.sig += float64(a * a)
			x.noise += float64(d * d) // products rounded: the same sums on every CPU
			dot += float64(a * b)
			nf += float64(a * a)
			nq += float64(b * b)
		}
		if nf > 0 && nq > 0 {
			x.cos = dot / math.Sqrt(nf*nq)
		}
		if seg || det {
			x.conf = 1
			same := det && sameClasses(fr, qr, fo.Shape[1], fo.Shape[2], 1) ||
				seg && sameClasses(fr, qr, 1, fo.Shape[1], fo.Shape[2]*fo.Shape[3])
			if !same {
				x.qt = 1
			}
			r.rows = append(r.rows, x)
			continue
		}
		x.ft, x.qt = kernels.Argmax(fr), kernels.Argmax(qr)
		var z float64 // softmax denominator relative to the top logit
		for _, v := range fr {
			z += kernels.Exp(float64(v) - float64(fr[x.ft]))
		}
		x.conf = 1 / z
		if keepLogits {
			x.f, x.q = slices.Clone(fr), slices.Clone(qr)
		}
		r.rows = append(r.rows, x)
	}
	return r
}

// sameClasses reports whether the logits f and q of one item, viewed as
// [outer][c][inner], give the same class at every (outer, inner) position
// (kernels.ArgMax's rule): a segmentation's [C][HW] is outer 1, a
// detector's [anchors][classes] inner 1.
func sameClasses(f, q []float32, outer, c, inner int) bool {
	fm, qm := make([]int32, outer*inner), make([]int32, outer*inner)
	kernels.ArgMax(f, outer, c, inner, fm)
	kernels.ArgMax(q, outer, c, inner, qm)
	return slices.Equal(fm, qm)
}

// classMapRows compares class maps (an ArgMax's indices, a segmentation's
// output) item by item: the signal is the item's pixel count and the noise
// the count of pixels whose classes differ (so the logits SQNR reads as
// 10 log10(pixels / differing pixels)), the cosine is the fraction of
// pixels that agree, and top-1 agrees when the whole map does.
func classMapRows(r *inputEval, fo, qo *ir.Tensor) {
	if fo.DType != ir.Int32 || qo.DType != ir.Int32 {
		r.err = fmt.Errorf("evaluate: outputs %v and %v: one is a class map, the other not", fo.DType, qo.DType)
		return
	}
	r.kind = OutputMap
	rows := max(fo.Shape[0], 1)
	cols := len(fo.I32) / rows
	for row := range rows {
		fr, qr := fo.I32[row*cols:(row+1)*cols], qo.I32[row*cols:(row+1)*cols]
		diff := 0
		for j := range fr {
			if fr[j] != qr[j] {
				diff++
			}
		}
		x := rowEval{sig: float64(cols), noise: float64(diff), cos: 1 - float64(diff)/float64(max(cols, 1)), conf: 1}
		if diff > 0 {
			x.qt = 1
		}
		r.rows = append(r.rows, x)
	}
}

// valuesOf lists the node outputs of g in order.
func valuesOf(g *ir.Graph) []*ir.Value {
	var vs []*ir.Value
	for _, n := range g.Nodes {
		if v := n.Output(); v.Type.DType == ir.Int8 && v.Quant != nil && len(v.Quant.Scale) == 1 {
			vs = append(vs, v)
		}
	}
	return vs
}

// Record returns the calibration record of the int8 model of the report,
// as model files store it: the method, the image count, the hash of the
// image list that calibration used (ImageListSHA256, see the schema) and
// the report's headline figures.
func (rep *Report) Record() *runtime.Calibration {
	c := &runtime.Calibration{Scheme: rep.Scheme, Method: rep.Method, Images: rep.CalibImages,
		ImageListSHA256: rep.ImageListSHA256}
	figures := func(m *Metrics) *runtime.Quality {
		if m == nil {
			return nil
		}
		med, worst := finite(m.MedianSQNR), finite(m.WorstSQNR)
		return &runtime.Quality{Images: m.Images, LogitsSQNR: finite(m.LogitsSQNR), Top1Agree: m.Top1Agree,
			Cosine: m.Cosine, MinCosine: m.MinCosine, MedianSQNR: &med, WorstSQNR: &worst}
	}
	c.Calib, c.Eval = figures(rep.Calib), figures(rep.Eval)
	return c
}
