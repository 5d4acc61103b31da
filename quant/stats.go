package quant

import (
	"fmt"
	"math"
	"time"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// TensorStats are the statistics of one float tensor over the calibration
// images, gathered in one pass.
type TensorStats struct {
	Count     int64   // finite values seen
	NonFinite int64   // NaN and infinities seen (ignored otherwise)
	Min, Max  float64 // over the finite values
	Hist      *Histogram
	// ChanSum[c] is the sum of the values of channel c (the axis ChanAxis),
	// ChanCount the number of values per channel; kept for tensors read by
	// a convolution or Gemm (bias correction uses their means).
	ChanAxis  int
	ChanSum   []float64
	ChanCount int64
}

// ChanMean returns the per-channel means, or nil.
func (ts *TensorStats) ChanMean() []float64 {
	if ts == nil || ts.ChanCount == 0 {
		return nil
	}
	m := make([]float64, len(ts.ChanSum))
	for i, s := range ts.ChanSum {
		m[i] = s / float64(ts.ChanCount)
	}
	return m
}

// Stats are the calibration statistics of a float graph, keyed by value
// name. Keys of values that the float graph does not expose as such name
// the intermediate results that quantization needs: "V/pre" is the result
// of V's producer before its fused hard activation, and "V/se.pool",
// "V/se.squeeze", "V/se.excite" and "V/se.gate" the inner results of the
// SqueezeExcite unit whose output is V.
type Stats struct {
	Tensors map[string]*TensorStats
	Images  int      // images used
	Files   []string // the images used, in order
	// ImageList is Files relative to the calibration directory,
	// slash-separated, and ImageListSHA256 the SHA-256 (hex) of
	// "relpath\x00sha256hex\n" over them in order: the image list hash of
	// the calibration record (both empty after CalibrateTensors).
	ImageList       []string
	ImageListSHA256 string
	Skipped         []string // "path: reason" of images skipped (SkipBad)
	Preprocess      preprocess.Spec
	Elapsed         time.Duration // wall time of Calibrate
	Workers         int
	Histograms      bool // the tensors' histograms were kept (Options.Histograms)

	inputs []*ir.Tensor // the calibration inputs, kept for the report (up to a memory bound)
	// autoChoice is the per-key method chosen by the Auto method.
	autoChoice map[string]string
}

// Keys of intermediate results (see Stats).
const (
	keyPre       = "/pre"
	keySEPool    = "/se.pool"
	keySESqueeze = "/se.squeeze"
	keySEExcite  = "/se.excite"
	keySEGate    = "/se.gate"
)

// collector accumulates TensorStats.
type collector struct {
	tensors map[string]*TensorStats
	chanAx  map[string]int // keys whose per-channel sums are kept, with the axis
	hist    bool           // keep histograms
}

func newCollector(chanAx map[string]int, hist bool) *collector {
	return &collector{tensors: map[string]*TensorStats{}, chanAx: chanAx, hist: hist}
}

func (c *collector) observe(key string, t *ir.Tensor) {
	if t == nil || t.DType != ir.Float32 {
		return
	}
	ts := c.tensors[key]
	if ts == nil {
		ts = &TensorStats{Min: math.Inf(1), Max: math.Inf(-1), ChanAxis: -1}
		if c.hist {
			ts.Hist = newHistogram()
		}
		c.tensors[key] = ts
	}
	lo, hi, bad := finiteRange(t.F32)
	n := int64(len(t.F32)) - bad
	ts.NonFinite += bad
	if n == 0 {
		return
	}
	ts.Count += n
	ts.Min, ts.Max = min(ts.Min, lo), max(ts.Max, hi)
	if c.hist {
		if bad > 0 {
			clean := make([]float32, 0, n)
			for _, v := range t.F32 {
				if x := float64(v); !math.IsNaN(x) && !math.IsInf(x, 0) {
					clean = append(clean, v)
				}
			}
			ts.Hist.add(clean, max(-lo, hi))
		} else {
			ts.Hist.add(t.F32, max(-lo, hi))
		}
	}
	if ax, ok := c.chanAx[key]; ok && ax < len(t.Shape) && bad == 0 {
		c.channelSums(ts, ax, t)
	}
}

// finiteRange returns the smallest and largest finite values of x (+Inf and
// -Inf when there are none) and the number of NaNs and infinities.
func finiteRange(x []float32) (lo, hi float64, bad int64) {
	l, h := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range x {
		if math.Float32bits(v)&0x7f80_0000 == 0x7f80_0000 { // NaN or Inf
			bad++
			continue
		}
		l, h = min(l, v), max(h, v)
	}
	return float64(l), float64(h), bad
}

// channelSums adds the per-channel sums of t along axis ax.
func (c *collector) channelSums(ts *TensorStats, ax int, t *ir.Tensor) {
	ch := t.Shape[ax]
	inner := 1
	for _, d := range t.Shape[ax+1:] {
		inner *= d
	}
	if ts.ChanSum == nil {
		ts.ChanSum = make([]float64, ch)
		ts.ChanAxis = ax
	}
	if len(ts.ChanSum) != ch || ch == 0 {
		return
	}
	// Blocks of inner values of one channel, channels in turn (no division
	// per value: NHWC tensors have inner = 1).
	sum := ts.ChanSum
	x := t.F32
	for off := 0; off+ch*inner <= len(x); off += ch * inner {
		if inner == 1 {
			row := x[off : off+ch]
			for c, v := range row {
				sum[c] += float64(v)
			}
			continue
		}
		for c := range ch {
			for _, v := range x[off+c*inner : off+(c+1)*inner] {
				sum[c] += float64(v)
			}
		}
	}
	ts.ChanCount += int64(len(t.F32) / ch)
}

// Range returns the range a method derives for a key (MinMax, Percentile,
// Entropy or MSE), and whether the key has statistics.
func (s *Stats) Range(key, method string, pct float64) (Range, bool) {
	ts, ok := s.Tensors[key]
	if !ok || ts.Count == 0 || (ts.Hist == nil && method != MinMax) {
		return Range{}, false
	}
	return rangeOf(ts, method, pct), true
}

func (s *Stats) String() string {
	return fmt.Sprintf("%d tensors over %d images (%v)", len(s.Tensors), s.Images, s.Elapsed.Round(time.Millisecond))
}
