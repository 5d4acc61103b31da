package quant

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	goruntime "runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mncdev/mnc/ir"
)

// Quality is the agreement of a quantized model with float on a set of
// inputs: the per-image logits SQNR's median and minimum, the pooled
// SQNR and the top-1 agreement (the figures of Metrics without the
// per-layer and per-image detail).
type Quality struct {
	Images     int     `json:"images"`
	MedianSQNR float64 `json:"median_sqnr_db"`
	WorstSQNR  float64 `json:"worst_sqnr_db"`
	LogitsSQNR float64 `json:"logits_sqnr_db"`
	Top1Agree  int     `json:"top1_agree"`
	// Output is Metrics.Output: for a class map (OutputMap) the SQNRs are
	// 10 log10(pixels / differing pixels) and top-1 agreement counts
	// identical maps, and String shows them as such.
	Output string `json:"output,omitempty"`
}

// Cell is q in a table's cell: the median SQNR (for a class map the share
// of agreeing pixels) and the top-1 agreement (identical maps).
func (q Quality) Cell(sep string) string {
	if q.Output == OutputMap {
		return fmt.Sprintf("%7s%s%d/%d", pixelShare(q.MedianSQNR), sep, q.Top1Agree, q.Images)
	}
	return fmt.Sprintf("%6.2f dB%s%d/%d", q.MedianSQNR, sep, q.Top1Agree, q.Images)
}

// pixelShare turns a class map's SQNR, 10 log10(pixels / differing
// pixels), back into the share of agreeing pixels.
func pixelShare(db float64) string {
	return fmt.Sprintf("%.2f%%", 100*(1-math.Pow(10, -db/10)))
}

// AgreementLoss is the fraction of images whose int8 top-1 differs from
// float's.
func (q Quality) AgreementLoss() float64 {
	return float64(q.Images-q.Top1Agree) / float64(max(q.Images, 1))
}

func (q Quality) String() string {
	if q.Output == OutputMap {
		return fmt.Sprintf("pixels agree %s median (%s pooled, %s worst), maps identical %d/%d",
			pixelShare(q.MedianSQNR), pixelShare(q.LogitsSQNR), pixelShare(q.WorstSQNR), q.Top1Agree, q.Images)
	}
	return fmt.Sprintf("%.2f dB median (%.2f pooled, %.2f worst), top-1 %d/%d", q.MedianSQNR, q.LogitsSQNR, q.WorstSQNR, q.Top1Agree, q.Images)
}

// MarshalJSON renders infinite SQNRs (a model equal to float) as 999.
func (q Quality) MarshalJSON() ([]byte, error) {
	type plain Quality
	c := plain(q)
	c.MedianSQNR, c.WorstSQNR, c.LogitsSQNR = finite(c.MedianSQNR), finite(c.WorstSQNR), finite(c.LogitsSQNR)
	return json.Marshal(c)
}

// OpSensitivity is how much one quantized op costs: the model's quality
// with only that op kept float (the rest int8), and, when asked, with
// only that op quantized (the rest float).
type OpSensitivity struct {
	Name      string   `json:"name"`
	Op        string   `json:"op"`
	OnlyFloat Quality  `json:"only_float"`
	OnlyInt8  *Quality `json:"only_int8,omitempty"`
}

// Sensitivity is the per-op analysis of a quantization (Options.Sensitivity):
// the all-int8 model's quality and every quantized op's, ranked, when the
// analysis measured both ways, by the quality with only that op int8,
// worst first: the op whose quantization alone costs the most (its
// weights, its result's and its inputs' quantization). That order reaches
// an accuracy target with fewer ops than the gain of keeping one op float
// in an int8 model (measured on the ../shared MobileNetV2 for 30 dB on its
// 37 calibration images: 30 ops added and 27 kept after pruning, against
// 48 and 40; ordering by that noise per MAC instead added 39 and kept 32,
// with no latency difference measurable), since keeping one op float
// leaves its inputs and its result quantized for its int8 neighbours.
// Measured one way only, ranked by the quality with only that op float,
// best first. Ties keep graph order.
type Sensitivity struct {
	Images  int             `json:"images"`
	Int8    Quality         `json:"int8"`
	Ops     []OpSensitivity `json:"ops"`
	Elapsed time.Duration   `json:"elapsed_ns"`
}

// Ranked returns the names of the ops in the order of s.Ops.
func (s *Sensitivity) Ranked() []string {
	names := make([]string, len(s.Ops))
	for i, o := range s.Ops {
		names[i] = o.Name
	}
	return names
}

// DefaultSensitivityImages is how many calibration images the sensitivity
// analysis and the choice of ops to keep run (Options.SensitivityImages).
const DefaultSensitivityImages = 16

// probe measures quantized variants of g on fixed inputs against g's
// outputs for them.
type probe struct {
	inputs []*ir.Tensor
	fouts  []*ir.Tensor
}

// firstN returns the first n of ts (all for n <= 0).
func firstN(ts []*ir.Tensor, n int) []*ir.Tensor {
	if n > 0 && len(ts) > n {
		return ts[:n]
	}
	return ts
}

// newProbe returns a probe of g on inputs: the float outputs calibration
// kept in st for its own inputs, g run for the others.
func newProbe(g *ir.Graph, st *Stats, inputs []*ir.Tensor) (*probe, error) {
	if len(inputs) == 0 {
		return nil, errors.New("no inputs to measure on")
	}
	p := &probe{inputs: inputs, fouts: make([]*ir.Tensor, len(inputs))}
	var missing []int
	for i := range inputs {
		if i < len(st.floatOut) && i < len(st.inputs) && inputs[i] == st.inputs[i] && st.viewOf == g {
			p.fouts[i] = st.floatOut[i]
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		ex, err := compileGraph(g, 0)
		if err != nil {
			return nil, fmt.Errorf("float model: %w", err)
		}
		defer ex.close()
		for _, i := range missing {
			if p.fouts[i], err = ex.run(inputs[i], nil); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// measure runs q on the probe's inputs (on up to workers goroutines) and
// compares its outputs with float's.
func (p *probe) measure(q *ir.Graph, workers int) (Quality, error) {
	nw := max(1, min(workers, len(p.inputs)))
	qxs, err := compileGraphs(q, nw)
	if err != nil {
		return Quality{}, err
	}
	defer func() {
		for _, ex := range qxs {
			ex.close()
		}
	}()
	results := make([]*inputEval, len(p.inputs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := &evaluator{qx: qxs[w]}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.inputs) {
					return
				}
				results[i] = e.eval(p.inputs[i], p.fouts[i], false, false)
			}
		}()
	}
	wg.Wait()
	var qu Quality
	var sig, noise float64
	var per []float64
	for _, r := range results {
		if r.err != nil {
			return Quality{}, r.err
		}
		for _, x := range r.rows {
			qu.Images++
			if x.ft == x.qt {
				qu.Top1Agree++
			}
			sig += x.sig
			noise += x.noise
			per = append(per, sqnr(x.sig, x.noise))
		}
	}
	qu.LogitsSQNR = sqnr(sig, noise)
	qu.WorstSQNR, qu.MedianSQNR = worstAndMedian(per)
	if len(results) > 0 {
		qu.Output = results[0].kind
	}
	return qu, nil
}

// better orders qualities: higher median SQNR, then more agreement.
func better(a, b Quality) bool {
	if a.MedianSQNR != b.MedianSQNR {
		return a.MedianSQNR > b.MedianSQNR
	}
	return a.Top1Agree > b.Top1Agree
}

// Analyze is the sensitivity analysis of quantizing g with st: for every
// op of QuantizedOps(g), the quality with only it kept float, and with
// onlyInt8 also with only it quantized, on the first n calibration inputs
// of st (Options.SensitivityImages). The variants run in parallel on the
// runtime's kernels, each on one thread.
func Analyze(g *ir.Graph, st *Stats, opts Options, n int, onlyInt8 bool) (*Sensitivity, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	o.KeepFloat = nil
	start := time.Now()
	p, err := newProbe(g, st, firstN(st.inputs, n))
	if err != nil {
		return nil, fmt.Errorf("sensitivity: %w", err)
	}
	ops := QuantizedOps(g)
	kinds := map[string]string{}
	for _, nd := range g.Nodes {
		kinds[nd.Name] = nd.Op.String()
	}
	s := &Sensitivity{Images: len(p.inputs), Ops: make([]OpSensitivity, len(ops))}
	// Jobs: -1 the all-int8 model, then per op "only float" and, with
	// onlyInt8, "only int8".
	type job struct {
		op    int
		float bool
	}
	jobs := []job{{-1, false}}
	for i := range ops {
		s.Ops[i] = OpSensitivity{Name: ops[i], Op: kinds[ops[i]]}
		jobs = append(jobs, job{i, true})
		if onlyInt8 {
			jobs = append(jobs, job{i, false})
		}
	}
	workers := o.workers()
	if workers < 1 {
		workers = goruntime.GOMAXPROCS(0)
	}
	bar := newBar(o.Progress, len(jobs), "sensitivity: one op at a time")
	errs := make([]error, len(jobs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(jobs) {
					return
				}
				j := jobs[k]
				var keep []string
				switch {
				case j.op < 0:
				case j.float:
					keep = []string{ops[j.op]}
				default:
					keep = slices.Delete(slices.Clone(ops), j.op, j.op+1)
				}
				var qu Quality
				q, err := quantizeKeeping(g, st, o, keep)
				if err == nil {
					qu, err = p.measure(q, 1)
				}
				switch {
				case err != nil:
					errs[k] = err
				case j.op < 0:
					s.Int8 = qu
				case j.float:
					s.Ops[j.op].OnlyFloat = qu
				default:
					s.Ops[j.op].OnlyInt8 = &qu
				}
				if bar != nil {
					_ = bar.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sensitivity: %w", err)
	}
	sort.SliceStable(s.Ops, func(i, j int) bool {
		if onlyInt8 {
			return better(*s.Ops[j].OnlyInt8, *s.Ops[i].OnlyInt8)
		}
		return better(s.Ops[i].OnlyFloat, s.Ops[j].OnlyFloat)
	})
	s.Elapsed = time.Since(start)
	return s, nil
}
