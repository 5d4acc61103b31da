package quant

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
)

// Accuracy targets (Options.TargetSQNR, Options.MaxAgreementLoss): ops
// are kept in float32 one at a time, after those of Options.KeepFloat, in
// the order of the sensitivity analysis (the op whose quantization alone
// costs the most first), until
// the model meets every target on the calibration images of the report
// (Options.ReportImages) and, when given, on the eval images; then every
// op so added whose removal keeps the targets met is removed again, last
// added first. The choice depends only on measured quality, never on
// timings, so a compile gives the same file every time. The report's
// Mixed section says what was kept, the quality after each step, and what
// it costs in latency (measured on the runtime, one thread, the int8 and
// the mixed model in alternating rounds) and in file size.

// MixedStep is the quality after keeping one more op float.
type MixedStep struct {
	// Kept is the op added ("" for the start: Options.KeepFloat only), or
	// with Pruned the one taken out again.
	Kept   string   `json:"kept"`
	Pruned bool     `json:"pruned,omitempty"`
	Calib  Quality  `json:"calib"`
	Eval   *Quality `json:"eval,omitempty"`
}

// label names the step for the reports, the op name passed through e.
func (s MixedStep) label(e func(string) string) string {
	switch {
	case s.Pruned:
		return "- " + e(s.Kept) + " (pruned)"
	case s.Kept != "":
		return "+ " + e(s.Kept)
	}
	return "(start)"
}

// summary says how many ops are kept and why.
func (x *MixedReport) summary() string {
	why := "named by --keep-float"
	if x.Unstated {
		why = "the model file states no range for their results and no calibration images measure one"
	}
	if x.Target != "" {
		why = "target " + x.Target + map[bool]string{true: ", met", false: ", NOT met even with every op float"}[x.Met]
	}
	return fmt.Sprintf("%d ops kept in float32 (%s)", len(x.Kept), why)
}

// cost gives the latency and size of the model against all int8, with
// arrow between the two.
func (x *MixedReport) cost(arrow string) string {
	if x.Unstated {
		return fmt.Sprintf("file %s (no all-int8 model to compare with: it would need calibration images)", mb(x.MixedBytes))
	}
	return fmt.Sprintf("latency (one thread) %.2f ms all int8 %s %.2f ms (%+.1f%%); file %s %s %s",
		ms(x.Int8Latency), arrow, ms(x.MixedLatency), 100*(float64(x.MixedLatency)/math.Max(float64(x.Int8Latency), 1)-1),
		mb(x.Int8Bytes), arrow, mb(x.MixedBytes))
}

// MixedReport describes the ops a model keeps in float32 and their cost.
type MixedReport struct {
	// Target states the targets ("" when the ops were named by hand), Met
	// whether the kept ops meet them.
	Target string      `json:"target,omitempty"`
	Met    bool        `json:"met"`
	Kept   []string    `json:"kept_float"`
	Steps  []MixedStep `json:"steps,omitempty"`
	// Latency of one inference, one thread, of the model without any op
	// kept float and of this one (medians of alternating rounds); file
	// sizes of both.
	Int8Latency  time.Duration `json:"int8_latency_ns"`
	MixedLatency time.Duration `json:"mixed_latency_ns"`
	Int8Bytes    int64         `json:"int8_file_bytes"`
	MixedBytes   int64         `json:"mixed_file_bytes"`
	ChooseTime   time.Duration `json:"choose_time_ns,omitempty"`
	// Unstated says that the ops are kept because the model file states
	// no range for their results and there are no calibration images
	// (Options.RangesFromModel; model.go): no all-int8 model exists to
	// compare with, so only MixedBytes is set.
	Unstated bool `json:"unstated_ranges,omitempty"`
}

// targeted reports whether o sets an accuracy target.
func (o Options) targeted() bool { return o.TargetSQNR > 0 || o.MaxAgreementLoss != nil }

// targetString describes o's targets.
func (o Options) targetString() string {
	var t []string
	if o.TargetSQNR > 0 {
		t = append(t, fmt.Sprintf("median logits SQNR >= %g dB", o.TargetSQNR))
	}
	if o.MaxAgreementLoss != nil {
		t = append(t, fmt.Sprintf("top-1 agreement loss <= %g", *o.MaxAgreementLoss))
	}
	return strings.Join(t, ", ")
}

// meets reports whether q meets o's targets.
func (o Options) meets(q Quality) bool {
	if o.TargetSQNR > 0 && q.MedianSQNR < o.TargetSQNR {
		return false
	}
	return o.MaxAgreementLoss == nil || q.AgreementLoss() <= *o.MaxAgreementLoss+1e-12
}

// chooseKeep returns Options.KeepFloat extended by ops of ranked, taken in
// that order until the model meets o's targets and then pruned (see
// above), with the steps taken; all of ranked when no prefix meets them
// (Met false).
func chooseKeep(g *ir.Graph, st *Stats, o Options, ranked []string, eval []*ir.Tensor) ([]string, *MixedReport, error) {
	start := time.Now()
	pc, err := newProbe(g, st, firstN(st.inputs, o.ReportImages))
	if err != nil {
		return nil, nil, err
	}
	var pe *probe
	if len(eval) > 0 {
		if pe, err = newProbe(g, st, eval); err != nil {
			return nil, nil, err
		}
	}
	rep := &MixedReport{Target: o.targetString()}
	keep := slices.Clone(o.KeepFloat)
	todo := slices.DeleteFunc(slices.Clone(ranked), func(s string) bool { return slices.Contains(keep, s) })
	for i := 0; ; i++ {
		q, err := quantizeKeeping(g, st, o, keep)
		if err != nil {
			return nil, nil, err
		}
		step := MixedStep{}
		if i > 0 {
			step.Kept = keep[len(keep)-1]
		}
		if step.Calib, err = pc.measure(q, o.workers()); err != nil {
			return nil, nil, err
		}
		ok := o.meets(step.Calib)
		if pe != nil {
			qe, err := pe.measure(q, o.workers())
			if err != nil {
				return nil, nil, err
			}
			step.Eval = &qe
			ok = ok && o.meets(qe)
		}
		rep.Steps = append(rep.Steps, step)
		if ok || len(todo) == 0 {
			rep.Met = ok
			break
		}
		keep = append(keep, todo[0])
		todo = todo[1:]
	}
	if rep.Met {
		// Prune: the last added first, never those named by hand.
		for i := len(keep) - 1; i >= len(o.KeepFloat); i-- {
			if i == len(keep)-1 && len(rep.Steps) > 1 {
				continue // without it, the previous step missed the targets
			}
			try := slices.Delete(slices.Clone(keep), i, i+1)
			q, err := quantizeKeeping(g, st, o, try)
			if err != nil {
				return nil, nil, err
			}
			step := MixedStep{Kept: keep[i], Pruned: true}
			if step.Calib, err = pc.measure(q, o.workers()); err != nil {
				return nil, nil, err
			}
			ok := o.meets(step.Calib)
			if pe != nil && ok {
				qe, err := pe.measure(q, o.workers())
				if err != nil {
					return nil, nil, err
				}
				step.Eval = &qe
				ok = o.meets(qe)
			}
			if ok {
				rep.Steps = append(rep.Steps, step)
				keep = try
			}
		}
	}
	rep.ChooseTime = time.Since(start)
	return keep, rep, nil
}

// quantizeKeeping is Quantize keeping the ops of keep in float32.
func quantizeKeeping(g *ir.Graph, st *Stats, o Options, keep []string) (*ir.Graph, error) {
	o.KeepFloat = keep
	return Quantize(g, st, o)
}

// mixedCost fills rep's latency and size figures: q (with ops kept float)
// against the same quantization without any.
func mixedCost(g *ir.Graph, st *Stats, o Options, q *ir.Graph, rep *MixedReport) error {
	rep.Kept = KeptFloat(q)
	if st.Images == 0 {
		rep.Unstated = true
		data, err := codegen.Build(q, codegen.Options{})
		rep.MixedBytes = int64(len(data))
		return err
	}
	base, err := quantizeKeeping(g, st, o, nil)
	if err != nil {
		return err
	}
	var models [2]*runtime.Model
	for i, m := range []*ir.Graph{base, q} {
		data, err := codegen.Build(m, codegen.Options{})
		if err != nil {
			return err
		}
		if i == 0 {
			rep.Int8Bytes = int64(len(data))
		} else {
			rep.MixedBytes = int64(len(data))
		}
		if models[i], err = runtime.LoadWith(data, runtime.Options{Threads: 1}); err != nil {
			return err
		}
	}
	if len(st.inputs) == 0 {
		return nil
	}
	lat, err := alternate(models[:], st.inputs[0], 7)
	if err != nil {
		return err
	}
	rep.Int8Latency, rep.MixedLatency = lat[0], lat[1]
	return nil
}

// alternate times one inference of each model on in, one thread, in
// rounds that run the models in turn (so that a busy spell of the machine
// hits both), and returns each model's median over the rounds of its mean
// time per inference in the round (a round runs each model for about
// 50 ms, at least 3 inferences).
func alternate(models []*runtime.Model, in *ir.Tensor, rounds int) ([]time.Duration, error) {
	its := make([]*runtime.Interpreter, len(models))
	for i, m := range models {
		it, err := m.NewInterpreterThreads(1)
		if err != nil {
			return nil, err
		}
		defer it.Close()
		its[i] = it
	}
	x := runtime.Tensor{Shape: in.Shape, Data: in.F32}
	iters := make([]int, len(its))
	for i, it := range its { // warm up, and size the rounds
		t0 := time.Now()
		if _, err := it.Run(x); err != nil {
			return nil, err
		}
		iters[i] = max(3, int(50*time.Millisecond/max(time.Since(t0), time.Microsecond)))
	}
	per := make([][]time.Duration, len(its))
	for range rounds {
		for i, it := range its {
			t0 := time.Now()
			for range iters[i] {
				if _, err := it.Run(x); err != nil {
					return nil, err
				}
			}
			per[i] = append(per[i], time.Since(t0)/time.Duration(iters[i]))
		}
	}
	out := make([]time.Duration, len(its))
	for i, ds := range per {
		slices.Sort(ds)
		out[i] = ds[len(ds)/2]
	}
	return out, nil
}
