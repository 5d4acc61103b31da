package quant

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
)

// actBiasMinPositions is how many values per channel and image a
// convolution's output needs (H x W) for activation bias correction to
// correct it: a channel mean estimated from fewer (the 7x7 layers, the
// classifier's one value per image) fits the calibration images rather
// than the model (measured on ../shared MobileNetV2, see doc.go).
const actBiasMinPositions = 14 * 14

// correctActBias is empirical bias correction of the activations' error
// (Nagel et al. 2019, section 4.2, the empirical variant measured on the
// quantized model): the int32 biases of q's convolutions are corrected, in
// place, for the mean error of their int8 outputs against the float ones
// of ref on inputs, layer by layer in graph order, each layer measured
// with the layers before it already corrected. The per-channel mean of
// float minus dequantized int8 output, in units of the bias scale, rounded
// half away from zero, is added to the bias. ref is the float graph whose
// values share q's names (the calibration view of the graph q quantizes);
// its compiled form model is used when not nil. Only convolutions with a
// clamp activation (none, ReLU, ReLU6, Clip) and at least
// actBiasMinPositions output positions are corrected. It returns how many
// layers it corrected. Everything is computed in one order with rounded
// float64 products and the int8 reference interpreter, so the result is
// the same on every machine.
func correctActBias(ref *ir.Graph, model *runtime.Model, q *ir.Graph, inputs []*ir.Tensor, workers int) (int, error) {
	layers := map[string]*ir.Node{}
	for _, n := range q.Nodes {
		if n.Op != ir.Conv || len(n.Inputs) < 3 || n.Inputs[2].Const == nil || n.Inputs[2].Quant == nil {
			continue
		}
		a, ok := n.Attrs.(*ir.ConvAttrs)
		if !ok || a == nil {
			continue
		}
		switch a.Act.Kind {
		case ir.ActNone, ir.ActRelu, ir.ActRelu6, ir.ActClip:
		default:
			continue
		}
		y := n.Output().Type.Shape // NHWC
		if len(y) != 4 || y[1]*y[2] < actBiasMinPositions || len(n.Inputs[2].Quant.Scale) != y[3] {
			continue
		}
		layers[n.Output().Name] = n
	}
	if len(layers) == 0 || len(inputs) == 0 {
		return 0, nil
	}
	items := batchItems(inputs)
	// The float per-channel means of every layer's output, summed over
	// the items in order.
	fmean := map[string][]float64{}
	var fx *executable
	var err error
	if model != nil {
		var it *runtime.Interpreter
		if it, err = model.NewInterpreterThreads(workers); err == nil {
			fx = &executable{m: model, it: it}
		}
	} else {
		fx, err = compileGraph(ref, workers)
	}
	if err != nil {
		return 0, fmt.Errorf("activation bias correction: %w", err)
	}
	for _, in := range items {
		_, err := fx.run(in, func(o *runtime.Observation) {
			n := layers[o.Name]
			if n == nil || o.F32 == nil {
				return
			}
			c := n.Output().Type.Shape[3]
			if len(o.F32)%c != 0 {
				return
			}
			s := fmean[o.Name]
			if s == nil {
				s = make([]float64, c)
				fmean[o.Name] = s
			}
			per := float64(len(o.F32) / c)
			for j, v := range chanTotals(o.F32, c) {
				s[j] += v / per
			}
		})
		if err != nil {
			fx.close()
			return 0, fmt.Errorf("activation bias correction: float model: %w", err)
		}
	}
	fx.close()
	r, err := NewRunner(q, workers)
	if err != nil {
		return 0, err
	}
	// Every item's values, node by node.
	envs := make([]map[*ir.Value]*ir.Tensor, len(items))
	for i, in := range items {
		envs[i] = map[*ir.Value]*ir.Tensor{q.Inputs[0]: in}
	}
	lastUse := map[*ir.Value]int{}
	for i, n := range q.Nodes {
		for _, v := range n.Inputs {
			lastUse[v] = i
		}
	}
	keep := map[*ir.Value]bool{q.Inputs[0]: true}
	for _, v := range q.Outputs {
		keep[v] = true
	}
	runAll := func(n *ir.Node) error {
		for _, env := range envs {
			out, err := r.step(n, env)
			if err != nil {
				return fmt.Errorf("activation bias correction: %w", err)
			}
			env[n.Output()] = out
		}
		return nil
	}
	last := 0 // the nodes after the last layer to correct need not run
	for i, n := range q.Nodes {
		if layers[n.Output().Name] == n {
			last = i
		}
	}
	corrected := 0
	for i, n := range q.Nodes[:last+1] {
		if err := runAll(n); err != nil {
			return corrected, err
		}
		y := n.Output()
		if fm := fmean[y.Name]; fm != nil && layers[y.Name] == n {
			s, z := float64(y.Quant.Scale[0]), float64(y.Quant.ZeroPoint[0])
			c := len(fm)
			qm := make([]float64, c)
			for _, env := range envs {
				t := env[y]
				per := float64(len(t.I8) / c)
				sums := make([]float64, c)
				for k, v := range t.I8 {
					sums[k%c] += float64(v) - z
				}
				for j := range c {
					qm[j] += float64(s*sums[j]) / per
				}
			}
			b := n.Inputs[2]
			nb := append([]int32(nil), b.Const.I32...)
			k := n.Inputs[1].Const.Len() / c
			lim := float64(maxBias(k))
			for j := range c {
				d := (fm[j] - qm[j]) / float64(len(items))
				delta := math.Round(d / float64(b.Quant.Scale[j]))
				if math.IsNaN(delta) {
					continue
				}
				nb[j] = int32(max(-lim, min(lim, float64(nb[j])+delta)))
			}
			b.Const = &ir.Tensor{DType: ir.Int32, Shape: b.Const.Shape.Clone(), I32: nb}
			st, err := prepare(n)
			if err != nil {
				return corrected, fmt.Errorf("activation bias correction: %s %q: %w", n.Op, n.Name, err)
			}
			r.steps[n] = st
			if err := runAll(n); err != nil {
				return corrected, err
			}
			corrected++
		}
		for _, v := range n.Inputs {
			if lastUse[v] == i && v.Const == nil && !keep[v] {
				for _, env := range envs {
					delete(env, v)
				}
			}
		}
	}
	return corrected, nil
}

// chanTotals returns the per-channel sums of an NHWC (or [N,C]) tensor
// with c channels, in order.
func chanTotals(x []float32, c int) []float64 {
	s := make([]float64, c)
	for i, v := range x {
		s[i%c] += float64(v)
	}
	return s
}

// actBiasCorrect runs correctActBias on q, the quantization of work, with
// the calibration inputs kept in st, and records it in the method label.
func actBiasCorrect(work, q *ir.Graph, st *Stats, o Options) error {
	view, err := newCalibView(work)
	if err != nil {
		return err
	}
	var model *runtime.Model
	if st.viewOf == work {
		model = st.view
	}
	if _, err := correctActBias(view.g, model, q, st.inputs, o.workers()); err != nil {
		return fmt.Errorf("quantize %s: %w", work.Name, err)
	}
	q.Meta[MetaMethod] += "+actbias"
	return nil
}
