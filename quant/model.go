package quant

import (
	"errors"
	"slices"

	"github.com/mncdev/mnc/ir"
)

// Ranges from the model file (Options.RangesFromModel): a QDQ ONNX file or
// a quantized TFLite file states the range of its activations, which the
// frontends record as ir.Value.FileRange. Quantizing by those ranges keeps
// what quantization-aware training (or the file's own calibration)
// learned; with them for every activation, no calibration images are
// needed at all.

// MethodModel is the method recorded for a range taken from the model
// file.
const MethodModel = "model"

// fileRanges returns the ranges g's values state, by statistics key (the
// value's name).
func fileRanges(g *ir.Graph) map[string]Range {
	m := map[string]Range{}
	add := func(v *ir.Value) {
		if v != nil && v.FileRange != nil {
			m[v.Name] = Range{Lo: float64(v.FileRange[0]), Hi: float64(v.FileRange[1])}
		}
	}
	for _, v := range g.Inputs {
		add(v)
	}
	for _, n := range g.Nodes {
		for _, v := range n.Outputs {
			add(v)
		}
	}
	return m
}

// StatesRanges reports whether any value of g has a range from the model
// file.
func StatesRanges(g *ir.Graph) bool { return len(fileRanges(g)) > 0 }

// noImages returns the statistics of a compile without calibration images
// (ranges from the model only) and the options it runs with: no bias
// correction and no analysis that needs images.
func noImages(g *ir.Graph, o Options) (*Stats, Options, error) {
	switch {
	case !o.RangesFromModel:
		return nil, o, errors.New("no calibration images: give a directory of images, or use the model's own ranges (a QDQ or quantized TFLite file)")
	case o.Sensitivity || o.targeted() || o.ActBiasCorrect || o.Equalize:
		return nil, o, errors.New("the sensitivity analysis, accuracy targets, activation bias correction and equalization need calibration images")
	}
	spec, err := specFor(g, o.Preprocess)
	if err != nil {
		return nil, o, err
	}
	o.NoBiasCorrect = true
	o.Method = MinMax
	o.KeepFloat = append(slices.Clone(o.KeepFloat), unstated(g, o.KeepFloat)...)
	return &Stats{Tensors: map[string]*TensorStats{}, Preprocess: spec}, o, nil
}

// unstated lists the quantizable ops of g (not in kept) whose result has
// no range in the file: without images they stay float32, reading their
// int8 inputs dequantized, as ONNX Runtime runs a DequantizeLinear -> op
// with no QuantizeLinear after it (a QDQ file's last Gemm, typically).
func unstated(g *ir.Graph, kept []string) []string {
	var names []string
	for _, n := range g.Nodes {
		if Keepable(n.Op) && n.Output().FileRange == nil && !slices.Contains(kept, n.Name) {
			names = append(names, n.Name)
		}
	}
	return names
}
