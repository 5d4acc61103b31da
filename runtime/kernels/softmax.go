package kernels

import "math"

// Softmax sets y = softmax(x) along the middle axis of x [outer][dim][inner]
// (ONNX's Softmax, opset 13): for each row, with m its maximum,
//
//	y[k] = float32(exp(x[k] - m) / Σ_j exp(x[j] - m))
//
// in float64 (Exp, the same on every CPU), the sum in index order. The reference interpreter
// and the runtime both run it; SoftmaxProbs gives one row in float64.
func Softmax(x, y []float32, outer, dim, inner int) {
	for o := range outer {
		for i := range inner {
			base := o*dim*inner + i
			softmaxRow(x[base:], y[base:], dim, inner)
		}
	}
}

// SoftmaxProbs sets p[k] to the probability Softmax computes for x[k] over
// the row x, before its rounding to float32.
func SoftmaxProbs(x []float32, p []float64) { softmaxRow(x, p, len(x), 1) }

// softmaxRow is one row of dim values, stride apart.
func softmaxRow[T float32 | float64](x []float32, y []T, dim, stride int) {
	m := math.Inf(-1)
	for k := range dim {
		m = math.Max(m, float64(x[k*stride]))
	}
	var sum float64
	for k := range dim {
		sum += Exp(float64(x[k*stride]) - m)
	}
	for k := range dim {
		y[k*stride] = T(Exp(float64(x[k*stride])-m) / sum)
	}
}

// Argmax returns the index of the largest value of x (the first of equal
// ones; 0 for an empty x): the top-1 class of a logits row.
func Argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
