package quant

import (
	"errors"
	"fmt"
	"time"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/passes"
)

// Prepare runs the target-independent passes pipeline on g (in place) and
// returns it: the float graph that calibration and quantization expect.
func Prepare(g *ir.Graph) (*ir.Graph, error) {
	if g == nil {
		return nil, errors.New("quant: nil graph")
	}
	if _, err := passes.Run(g, passes.Options{Check: true}); err != nil {
		return nil, fmt.Errorf("passes: %w", err)
	}
	return g, nil
}

// Compile is the whole int8 pipeline for the CLI: the passes pipeline on
// the float graph g (modified in place), calibration on the images under
// calibDir, quantization, and the quality report (on up to
// opts.ReportImages calibration images, and on opts.EvalDir when set). It
// returns the int8 graph, whose Meta records the preprocessing used.
func Compile(g *ir.Graph, calibDir string, opts Options) (*ir.Graph, *Report, error) {
	f, err := Prepare(g)
	if err != nil {
		return nil, nil, err
	}
	return CompilePrepared(f, calibDir, opts)
}

// CompilePrepared is Compile for a graph that has already been through the
// passes pipeline (by Prepare, or by a caller that runs passes.Run itself
// to dump or report on it).
func CompilePrepared(f *ir.Graph, calibDir string, opts Options) (*ir.Graph, *Report, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, nil, err
	}
	o.Preprocess, err = specFor(f, o.Preprocess)
	if err != nil {
		return nil, nil, err
	}
	work, err := equalized(f, o)
	if err != nil {
		return nil, nil, err
	}
	var st *Stats
	if calibDir == "" {
		st, o, err = noImages(work, o)
	} else {
		st, err = Calibrate(work, calibDir, o)
	}
	if err != nil {
		return nil, nil, err
	}
	var eval []*ir.Tensor
	var evalNames []string
	if o.EvalDir != "" {
		files, err := ListImages(o.EvalDir)
		if err != nil {
			return nil, nil, err
		}
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("eval: no images under %s", o.EvalDir)
		}
		eval, evalNames, _, err = LoadImages(files, st.Preprocess, o.workers(), o.SkipBad, o.Warn, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("eval: %w", err)
		}
	}
	return finish(work, st, eval, evalNames, o)
}

// CompileInputs is Compile with preprocessed calibration (and optional
// evaluation) inputs instead of image directories, as tests use golden
// inputs. g is modified in place.
func CompileInputs(g *ir.Graph, calib, eval []*ir.Tensor, opts Options) (*ir.Graph, *Report, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, nil, err
	}
	f, err := Prepare(g)
	if err != nil {
		return nil, nil, err
	}
	work, err := equalized(f, o)
	if err != nil {
		return nil, nil, err
	}
	st, err := CalibrateTensors(work, calib, o)
	if err != nil {
		return nil, nil, err
	}
	return finish(work, st, eval, nil, o)
}

// equalized returns f, or with Equalize a copy of f with cross-layer
// equalization applied.
func equalized(f *ir.Graph, o Options) (*ir.Graph, error) {
	if !o.Equalize {
		return f, nil
	}
	c := cloneGraph(f)
	if _, err := Equalize(c); err != nil {
		return nil, err
	}
	return c, nil
}

// finish quantizes and reports.
func finish(work *ir.Graph, st *Stats, eval []*ir.Tensor, evalNames []string, o Options) (*ir.Graph, *Report, error) {
	warnWrecked(st, o)
	if o.Method == Auto {
		start := time.Now()
		if err := chooseAuto(work, st, o); err != nil {
			return nil, nil, err
		}
		st.rangesTime = time.Since(start)
	}
	var rounding *RoundingChoice
	var chosen *ir.Graph // the quantization chooseRounding kept, with its calibration metrics
	var chosenCalib *Metrics
	var err error
	if o.Rounding, rounding, chosen, chosenCalib, err = chooseRounding(work, st, o); err != nil {
		return nil, nil, err
	}
	var sens *Sensitivity
	var mixed *MixedReport
	if o.Sensitivity || o.targeted() {
		var err error
		if sens, err = Analyze(work, st, o, o.SensitivityImages, true); err != nil {
			return nil, nil, err
		}
	}
	if o.targeted() {
		var err error
		if o.KeepFloat, mixed, err = chooseKeep(work, st, o, sens.Ranked(), eval); err != nil {
			return nil, nil, fmt.Errorf("choose the ops to keep float: %w", err)
		}
	}
	// The choice's graph and metrics stand when nothing below changes it
	// (ops kept float, activation bias correction).
	reuse := chosen != nil && len(o.KeepFloat) == 0 && !o.ActBiasCorrect
	q := chosen
	if !reuse {
		chosenCalib = nil
		if q, err = Quantize(work, st, o); err != nil {
			return nil, nil, err
		}
	}
	if o.ActBiasCorrect {
		if err := actBiasCorrect(work, q, st, o); err != nil {
			return nil, nil, err
		}
	}
	// The equalized graph computes the same function as ref (equalization
	// is exact) and has the same intermediate values as q: the reference.
	rep, err := assess(work, q, st, eval, evalNames, o, chosenCalib)
	if err != nil {
		return nil, nil, err
	}
	rep.Sensitivity = sens
	rep.Rounding = rounding
	if len(o.KeepFloat) > 0 || mixed != nil {
		if mixed == nil {
			mixed = &MixedReport{}
		}
		if err := mixedCost(work, st, o, q, mixed); err != nil {
			return nil, nil, fmt.Errorf("cost of the ops kept float: %w", err)
		}
		rep.Mixed = mixed
	}
	return q, rep, nil
}

// Assess builds the Report of q against its float reference ref (the
// passes pipeline's output): on the calibration inputs kept in st (up to
// opts.ReportImages) and on eval when given.
func Assess(ref, q *ir.Graph, st *Stats, eval []*ir.Tensor, evalNames []string, opts Options) (*Report, error) {
	return assess(ref, q, st, eval, evalNames, opts, nil)
}

// assess is Assess with, when calib0 is not nil, q's metrics on the
// calibration images already measured (by chooseRounding, with the same
// images, names and float reference).
func assess(ref, q *ir.Graph, st *Stats, eval []*ir.Tensor, evalNames []string, opts Options, calib0 *Metrics) (*Report, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	rep := &Report{Model: ref.Name, Scheme: Scheme, Method: q.Meta[MetaMethod], CalibImages: st.Images,
		CalibTime: st.Elapsed, Skipped: st.Skipped,
		ImageList: st.ImageList, ImageListSHA256: st.ImageListSHA256}
	if spec, ok, err := Preprocess(q); err != nil {
		return nil, err
	} else if ok {
		rep.Preprocess = &spec
	}
	rep.Sizes(ref, q)
	rep.keepHistograms(q, st)
	calib := st.inputs
	names := st.Files
	if o.ReportImages > 0 && len(calib) > o.ReportImages {
		calib = calib[:o.ReportImages]
	}
	start := time.Now()
	if calib0 != nil && calib0.Images == len(calib) {
		rep.Calib, calib = calib0, nil
	}
	bar := newBar(o.Progress, len(calib)+len(eval), "report: int8 against float")
	tick := func() {
		if bar != nil {
			_ = bar.Add(1) // safe from several goroutines
		}
	}
	// The calibration view of ref computes ref's values: reuse it and its
	// outputs instead of building and running ref again.
	fr := floatRef{g: ref}
	if st.viewOf == ref && st.view != nil {
		fr.model = st.view
	}
	if len(calib) > 0 {
		cr := fr
		if fr.model != nil {
			cr.outs = st.floatOut
		}
		if rep.Calib, err = evaluate(cr, q, calib, names, o.workers(), tick); err != nil {
			return nil, err
		}
	}
	if len(eval) > 0 {
		if rep.Eval, err = evaluate(fr, q, eval, evalNames, o.workers(), tick); err != nil {
			return nil, err
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	rep.ReportTime = time.Since(start)
	rep.RangesTime = st.rangesTime
	return rep, nil
}

// cloneGraph copies g's structure and constant data (so that rewriting the
// copy's weights leaves g alone); names are kept.
func cloneGraph(g *ir.Graph) *ir.Graph {
	c := ir.NewGraph(g.Name)
	m := map[*ir.Value]*ir.Value{}
	cp := func(v *ir.Value) *ir.Value {
		nv := c.NewValue(v.Name, v.Type)
		nv.Name = v.Name
		nv.FileRange = v.FileRange
		if v.Quant != nil {
			q := *v.Quant
			nv.Quant = &q
		}
		m[v] = nv
		return nv
	}
	for _, v := range g.Inputs {
		c.Inputs = append(c.Inputs, cp(v))
	}
	for _, v := range g.Consts {
		nv := cp(v)
		nv.Const = v.Const.Clone()
		c.Consts = append(c.Consts, nv)
	}
	for _, n := range g.Nodes {
		nn := &ir.Node{Name: n.Name, Op: n.Op, Attrs: n.Attrs, Layout: n.Layout}
		for _, in := range n.Inputs {
			nn.Inputs = append(nn.Inputs, m[in])
		}
		for _, o := range n.Outputs {
			nn.Outputs = append(nn.Outputs, cp(o))
		}
		c.Nodes = append(c.Nodes, nn)
	}
	for _, o := range g.Outputs {
		c.Outputs = append(c.Outputs, m[o])
	}
	if g.Meta != nil {
		c.Meta = map[string]string{}
		for k, v := range g.Meta {
			c.Meta[k] = v
		}
	}
	return c
}
