package quant

import (
	"math"
)

// HistBins is the number of bins on each side of zero of a Histogram.
const HistBins = 2048

// Histogram counts values in bins of a power-of-two width anchored at zero,
// HistBins on each side. When a value falls beyond the last bin the width
// doubles and pairs of bins merge, which is exact because the bin edges of
// the coarser histogram are edges of the finer one: the result does not
// depend on the order in which values arrive, only on the final width. One
// pass over the data therefore suffices.
type Histogram struct {
	// Width is the bin width, a power of two (0 until a value is seen).
	Width float64
	// Pos[i] counts the values x >= 0 with floor(x/Width) = i; Neg[i] the
	// values x < 0 with floor(-x/Width) = i.
	Pos, Neg []int64
}

func newHistogram() *Histogram {
	return &Histogram{Pos: make([]int64, HistBins), Neg: make([]int64, HistBins)}
}

// grow doubles the width until |x| <= maxAbs fits.
func (h *Histogram) grow(maxAbs float64) {
	if h.Width == 0 {
		if maxAbs == 0 {
			h.Width = math.Ldexp(1, -40)
		} else {
			// The smallest power of two with maxAbs < HistBins*Width.
			_, e := math.Frexp(maxAbs / HistBins)
			h.Width = math.Ldexp(1, e)
		}
	}
	for maxAbs >= HistBins*h.Width {
		merge(h.Pos)
		merge(h.Neg)
		h.Width *= 2
	}
}

// merge halves the resolution of bins in place: bin i gets bins 2i and 2i+1.
func merge(b []int64) {
	n := len(b)
	for i := range n / 2 {
		b[i] = b[2*i] + b[2*i+1]
	}
	clear(b[n/2:])
}

// add counts the finite values of xs (whose largest magnitude is maxAbs).
func (h *Histogram) add(xs []float32, maxAbs float64) {
	h.grow(maxAbs)
	inv := 1 / h.Width // exact: Width is a power of two
	last := HistBins - 1
	for _, v := range xs {
		x := float64(v)
		if x >= 0 {
			i := int(x * inv)
			h.Pos[min(i, last)]++
		} else if x < 0 {
			i := int(-x * inv)
			h.Neg[min(i, last)]++
		}
	}
}

// Merge adds the counts of o (any width) into h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.Width == 0 {
		return
	}
	o = o.clone()
	if h.Width == 0 {
		*h = *o
		return
	}
	for o.Width < h.Width {
		merge(o.Pos)
		merge(o.Neg)
		o.Width *= 2
	}
	for h.Width < o.Width {
		merge(h.Pos)
		merge(h.Neg)
		h.Width *= 2
	}
	for i := range h.Pos {
		h.Pos[i] += o.Pos[i]
		h.Neg[i] += o.Neg[i]
	}
}

func (h *Histogram) clone() *Histogram {
	return &Histogram{Width: h.Width, Pos: append([]int64(nil), h.Pos...), Neg: append([]int64(nil), h.Neg...)}
}

// Total returns the number of values counted.
func (h *Histogram) Total() int64 {
	var n int64
	for i := range h.Pos {
		n += h.Pos[i] + h.Neg[i]
	}
	return n
}

// bins returns the histogram as one ordered list of bins over
// [lo, lo + len*Width): the negative side reversed, then the positive side,
// trimmed to the occupied span.
func (h *Histogram) bins() (counts []float64, lo float64) {
	nNeg, nPos := 0, 0
	for i := range h.Neg {
		if h.Neg[i] != 0 {
			nNeg = i + 1
		}
		if h.Pos[i] != 0 {
			nPos = i + 1
		}
	}
	counts = make([]float64, 0, nNeg+nPos)
	for i := nNeg - 1; i >= 0; i-- {
		counts = append(counts, float64(h.Neg[i]))
	}
	for i := range nPos {
		counts = append(counts, float64(h.Pos[i]))
	}
	return counts, -float64(nNeg) * h.Width
}

// abs returns the histogram of |x|: bin i covers [i*Width, (i+1)*Width).
func (h *Histogram) abs() []float64 {
	n := 0
	for i := range h.Pos {
		if h.Pos[i]+h.Neg[i] != 0 {
			n = i + 1
		}
	}
	a := make([]float64, n)
	for i := range a {
		a[i] = float64(h.Pos[i] + h.Neg[i])
	}
	return a
}
