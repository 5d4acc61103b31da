package quant

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/kernels"
)

// autoCandidates are the methods Auto chooses between, per tensor.
var autoCandidates = []string{MinMax, Percentile, Entropy, MSE}

// autoImages caps the calibration inputs Auto's second pass uses.
const autoImages = 8

// chooseAuto picks, for every calibrated tensor, the method whose range
// gives the smallest mean squared error of the layer that reads the tensor:
// on up to autoImages calibration inputs, each Conv or Gemm reading the
// tensor is evaluated in float on the tensor quantized with each candidate
// range (weights kept float, so only the range differs) and compared with
// its float output. Tensors read by no Conv or Gemm are judged by the
// expected quantization error of the tensor itself, from its histogram.
func chooseAuto(g *ir.Graph, st *Stats, opts Options) error {
	o, err := opts.normalize()
	if err != nil {
		return err
	}
	view, err := newCalibView(g)
	if err != nil {
		return err
	}
	cands := map[string][]Range{}
	for k, ts := range st.Tensors {
		if ts.Count == 0 {
			continue
		}
		for _, m := range autoCandidates {
			r := rangeOf(ts, m, o.Percentile)
			if m != MinMax && lossVsMinMax(ts, r) > wreckDB {
				r = rangeOf(ts, MinMax, 0) // a wrecking range is never a candidate
			}
			cands[k] = append(cands[k], r)
		}
	}
	// Probes: the Conv and Gemm nodes reading a calibrated tensor.
	type probe struct {
		n   *ir.Node
		key string
		g   *ir.Graph // the node alone
	}
	var probes []*probe
	probed := map[string]bool{}
	for _, n := range view.g.Nodes {
		if n.Op != ir.Conv && n.Op != ir.Gemm {
			continue
		}
		k, ok := view.keys[n.Inputs[0]]
		if !ok || cands[k] == nil {
			continue
		}
		sg, err := single(n)
		if err != nil {
			return err
		}
		probes = append(probes, &probe{n: n, key: k, g: sg})
		probed[k] = true
	}
	sse := map[string][]float64{}
	inputs := st.inputs
	if len(inputs) > autoImages {
		inputs = inputs[:autoImages]
	}
	// The calibration view of g, compiled during calibration, when st
	// has it.
	var ex *executable
	if st.viewOf == g && st.view != nil {
		var it *runtime.Interpreter
		if it, err = st.view.NewInterpreterThreads(o.workers()); err == nil {
			ex = &executable{m: st.view, it: it}
		}
	} else {
		ex, err = compileGraph(view.g, o.workers())
	}
	if err != nil {
		return fmt.Errorf("auto calibration: %w", err)
	}
	defer ex.close()
	// The probes, compiled once each; each probe's input and output by
	// tensor name.
	probeEx := make([]*executable, len(probes))
	for i, p := range probes {
		if probeEx[i], err = compileGraph(p.g, o.workers()); err != nil {
			return fmt.Errorf("auto calibration: %s %q: %w", p.n.Op, p.n.Name, err)
		}
		defer probeEx[i].close()
	}
	want := map[string]bool{}
	for _, p := range probes {
		want[p.n.Inputs[0].Name] = true
		want[p.n.Output().Name] = true
	}
	items := batchItems(inputs)
	bar := newBar(o.Progress, len(items), "auto: choosing ranges")
	defer func() {
		if bar != nil {
			_ = bar.Finish()
		}
	}()
	for _, in := range items {
		if bar != nil {
			_ = bar.Add(1)
		}
		captured := map[string]*ir.Tensor{}
		_, err := ex.run(in, func(ob *runtime.Observation) {
			if want[ob.Name] && ob.F32 != nil {
				captured[ob.Name] = float32View(ob).Clone()
			}
		})
		if err != nil {
			return fmt.Errorf("auto calibration: %w", err)
		}
		for i, p := range probes {
			x, y := captured[p.n.Inputs[0].Name], captured[p.n.Output().Name]
			if x == nil || y == nil {
				continue
			}
			if sse[p.key] == nil {
				sse[p.key] = make([]float64, len(cands[p.key]))
			}
			for c, r := range cands[p.key] {
				yq, err := probeEx[i].run(fakeQuant(x, r), nil)
				if err != nil {
					return fmt.Errorf("auto calibration: %s %q: %w", p.n.Op, p.n.Name, err)
				}
				var e float64
				for j, v := range yq.F32 {
					d := float64(v) - float64(y.F32[j])
					e += float64(d * d) // rounded: the same sums on every CPU
				}
				sse[p.key][c] += e
			}
		}
	}
	st.autoChoice = map[string]string{}
	for k, rs := range cands {
		best := 0
		if probed[k] && sse[k] != nil {
			for c := range rs {
				if sse[k][c] < sse[k][best] {
					best = c
				}
			}
		} else {
			counts, lo := st.Tensors[k].Hist.bins()
			errs := make([]float64, len(rs))
			for c, r := range rs {
				errs[c] = expectedSqErr(counts, lo, st.Tensors[k].Hist.Width, r)
				if errs[c] < errs[best] {
					best = c
				}
			}
		}
		st.autoChoice[k] = autoCandidates[best]
	}
	return nil
}

// single returns a graph running node n alone on a fresh input (its other
// inputs constants).
func single(n *ir.Node) (*ir.Graph, error) {
	for _, c := range n.Inputs[1:] {
		if !c.IsConst() {
			return nil, fmt.Errorf("%s %q reads a non-constant %s", n.Op, n.Name, c)
		}
	}
	return nodeGraph(n)
}

// fakeQuant returns x quantized with range r and dequantized, exactly as
// the int8 model's Quantize and Dequantize would.
func fakeQuant(x *ir.Tensor, r Range) *ir.Tensor {
	s, z := r.Params()
	q := make([]int8, len(x.F32))
	_ = kernels.Quantize(x.F32, s, z, q)
	out := ir.NewFloat32(x.Shape, nil)
	_ = kernels.Dequantize(q, s, z, out.F32)
	for i, v := range out.F32 {
		if math.IsNaN(float64(v)) {
			out.F32[i] = 0
		}
	}
	return out
}

// wreckDB is how much higher than min/max's range's (in dB) a tensor's
// expected quantization error may be under another method's range before
// the range counts as wrecking the tensor: Auto never picks such a range,
// and an explicit method that yields one is warned about.
const wreckDB = 10

// wreck is a tensor whose range under a method has an expected
// quantization error lossDB above that of its min/max range.
type wreck struct {
	key    string
	lossDB float64
}

// lossVsMinMax is the expected quantization error of ts's values (from its
// histogram) under r, relative to that under the min/max range, in dB; 0
// without a histogram.
func lossVsMinMax(ts *TensorStats, r Range) float64 {
	if ts.Hist == nil || ts.Count == 0 {
		return 0
	}
	counts, lo := ts.Hist.bins()
	e := expectedSqErr(counts, lo, ts.Hist.Width, r)
	e0 := expectedSqErr(counts, lo, ts.Hist.Width, rangeOf(ts, MinMax, 0))
	if e0 <= 0 || e <= e0 {
		return 0
	}
	return 10 * kernels.Log(e/e0) / math.Ln10
}

// wrecked lists the tensors method's ranges wreck (see wreckDB), worst
// first.
func wrecked(st *Stats, method string, percentile float64) []wreck {
	var ws []wreck
	for k, ts := range st.Tensors {
		if l := lossVsMinMax(ts, rangeOf(ts, method, percentile)); l > wreckDB {
			ws = append(ws, wreck{k, l})
		}
	}
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].lossDB != ws[j].lossDB {
			return ws[i].lossDB > ws[j].lossDB
		}
		return ws[i].key < ws[j].key
	})
	return ws
}

// warnWrecked warns, naming the tensors, when an explicitly chosen method's
// ranges wreck tensors.
func warnWrecked(st *Stats, o Options) {
	if o.Warn == nil || o.Method == MinMax || o.Method == Auto {
		return
	}
	ws := wrecked(st, o.Method, o.Percentile)
	if len(ws) == 0 {
		return
	}
	var names []string
	for i, w := range ws {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(ws)-5))
			break
		}
		names = append(names, fmt.Sprintf("%q (+%.1f dB)", w.key, w.lossDB))
	}
	fmt.Fprintf(o.Warn, "warning: --calib-method %s clips %d tensors far inside the values they hold: their expected quantization error is more than %d dB above min/max's: %s; --calib-method auto or minmax avoids it\n",
		o.Method, len(ws), wreckDB, strings.Join(names, ", "))
}
