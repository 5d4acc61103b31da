package quant

import (
	"fmt"
	"math"
	"time"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
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
	// Grams are the input patch moments of the layers, by weight name,
	// kept for Options.Rounding RoundOutput (rounding.go).
	Grams  map[string]*Gram
	Images int      // images used
	Files  []string // the images used, in order
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
	// floatOut[i] is the calibrated graph's output for inputs[i], and
	// view the compiled calibration view that computed it, of the graph
	// viewOf: the report's float reference when it evaluates viewOf (the
	// view computes its values bit for bit, TestViewIsReference), so that
	// it neither builds the float model again nor reruns it where it needs
	// only the logits.
	floatOut []*ir.Tensor
	view     *runtime.Model
	viewOf   *ir.Graph
	// rangesTime is how long Auto took to choose.
	rangesTime time.Duration
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

// collector accumulates TensorStats. Calibration gives each of its
// workers a collector and merges them (merge): every statistic but the
// channel sums is exact and independent of the order of the values (min,
// max, counts, histograms, see Histogram). The channel sums, float64 sums
// whose rounding depends on the order, are summed per image (chanSums) and
// added to the merged collector in image order (addSums), so that the
// statistics are the same for any number of workers.
type collector struct {
	tensors map[string]*TensorStats
	chanAx  map[string]int // keys whose per-channel sums are kept, with the axis
	hist    bool           // keep histograms
}

func newCollector(chanAx map[string]int, hist bool) *collector {
	return &collector{tensors: map[string]*TensorStats{}, chanAx: chanAx, hist: hist}
}

// stat returns the statistics of key, created empty if new.
func (c *collector) stat(key string) *TensorStats {
	ts := c.tensors[key]
	if ts == nil {
		ts = &TensorStats{Min: math.Inf(1), Max: math.Inf(-1), ChanAxis: -1}
		if c.hist {
			ts.Hist = newHistogram()
		}
		c.tensors[key] = ts
	}
	return ts
}

// chanSums are one image's per-channel sums, by key.
type chanSums map[string]*chanSum

type chanSum struct {
	axis  int
	sum   []float64
	count int64 // values per channel
}

// observe adds the values of t to the statistics of key and, when key's
// channel sums are kept and sums is not nil, t's channel sums to sums.
func (c *collector) observe(key string, t *ir.Tensor, sums chanSums) {
	if t == nil || t.DType != ir.Float32 {
		return
	}
	ts := c.stat(key)
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
	if ax, ok := c.chanAx[key]; ok && sums != nil && ax < len(t.Shape) && bad == 0 {
		sums.add(key, ax, t)
	}
}

// NonFiniteError says that the float model's activations were not finite
// on the calibration images (weights too large for float32, typically),
// naming the first layer, in graph order, whose output held NaN or
// infinities: no int8 range can be derived from values that overflowed.
type NonFiniteError struct {
	Op, Layer string // the first such layer
	Value     string // its output's statistics key
	NonFinite int64  // NaN and infinite values seen in it
	Total     int64  // all values seen in it
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("the activations are not finite: the output of %s %q, the first layer whose output is not, held %d NaN or infinite values of %d over the calibration images (are the weights too large for float32?)",
		e.Op, e.Layer, e.NonFinite, e.Total)
}

// nonFinite returns a *NonFiniteError naming the first node of g whose
// output (or an intermediate result of it, see Stats) saw NaN or infinite
// values during calibration, or nil if none did.
func (s *Stats) nonFinite(g *ir.Graph) error {
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			for _, k := range []string{o.Name + keyPre, o.Name + keySEPool, o.Name + keySESqueeze, o.Name + keySEExcite, o.Name + keySEGate, o.Name} {
				if ts := s.Tensors[k]; ts != nil && ts.NonFinite > 0 {
					return &NonFiniteError{Op: n.Op.String(), Layer: n.Name, Value: k, NonFinite: ts.NonFinite, Total: ts.NonFinite + ts.Count}
				}
			}
		}
	}
	return nil
}

// merge adds the statistics of o (except channel sums, see addSums).
func (c *collector) merge(o *collector) {
	for key, s := range o.tensors {
		ts := c.stat(key)
		ts.Count += s.Count
		ts.NonFinite += s.NonFinite
		ts.Min, ts.Max = min(ts.Min, s.Min), max(ts.Max, s.Max)
		if ts.Hist != nil {
			ts.Hist.Merge(s.Hist)
		}
	}
}

// addSums adds one image's channel sums (in image order: see collector).
func (c *collector) addSums(sums chanSums) {
	for key, cs := range sums {
		ts := c.stat(key)
		ch := len(cs.sum)
		if ts.ChanSum == nil {
			ts.ChanSum, ts.ChanAxis = make([]float64, ch), cs.axis
		}
		if len(ts.ChanSum) != ch || ts.ChanAxis != cs.axis {
			continue
		}
		for i, v := range cs.sum {
			ts.ChanSum[i] += v
		}
		ts.ChanCount += cs.count
	}
}

// finiteRange returns the smallest and largest finite values of x (+Inf and
// -Inf when there are none; -0 is below +0, as min and max order them) and
// the number of NaNs and infinities. Its loop takes the integer min and
// max of the values' order keys (orderKey), in which every NaN and
// infinity lies at or beyond the keys of the infinities: min and max of
// float32 are a chain of NaN-aware instructions per value, three times
// slower over the calibration's hundreds of millions of values. The rare
// tensors that hold a NaN or an infinity are scanned again by
// finiteRangeExact.
func finiteRange(x []float32) (lo, hi float64, bad int64) {
	l0, h0 := ^uint32(0), uint32(0)
	l1, h1 := l0, h0
	i := 0
	for ; i+2 <= len(x); i += 2 {
		v := x[i : i+2 : i+2]
		k0, k1 := orderKey(math.Float32bits(v[0])), orderKey(math.Float32bits(v[1]))
		l0, h0 = min(l0, k0), max(h0, k0)
		l1, h1 = min(l1, k1), max(h1, k1)
	}
	if i < len(x) {
		k := orderKey(math.Float32bits(x[i]))
		l0, h0 = min(l0, k), max(h0, k)
	}
	l, h := min(l0, l1), max(h0, h1)
	if len(x) == 0 {
		return math.Inf(1), math.Inf(-1), 0
	}
	if l <= negInfKey || h >= posInfKey {
		return finiteRangeExact(x)
	}
	return float64(fromOrderKey(l)), float64(fromOrderKey(h)), 0
}

// orderKey maps the bits of a float32 to an integer of the same order for
// the values that are not NaNs (-Inf < ... < -0 < +0 < ... < +Inf); the
// negative NaNs map below -Inf, the positive ones above +Inf.
func orderKey(b uint32) uint32 { return b ^ (uint32(int32(b)>>31) | 0x8000_0000) }

// fromOrderKey is the float32 of an orderKey.
func fromOrderKey(k uint32) float32 {
	if k&0x8000_0000 != 0 {
		return math.Float32frombits(k ^ 0x8000_0000)
	}
	return math.Float32frombits(^k)
}

var (
	negInfKey = orderKey(0xff80_0000)
	posInfKey = orderKey(0x7f80_0000)
)

// finiteRangeExact is finiteRange's specification: min and max over the
// finite values.
func finiteRangeExact(x []float32) (lo, hi float64, bad int64) {
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

// add adds the per-channel sums of t along axis ax to key's sums.
func (s chanSums) add(key string, ax int, t *ir.Tensor) {
	ch := t.Shape[ax]
	inner := 1
	for _, d := range t.Shape[ax+1:] {
		inner *= d
	}
	cs := s[key]
	if cs == nil {
		cs = &chanSum{axis: ax, sum: make([]float64, ch)}
		s[key] = cs
	}
	if len(cs.sum) != ch || ch == 0 {
		return
	}
	// Blocks of inner values of one channel, channels in turn (no division
	// per value: NHWC tensors have inner = 1).
	sum := cs.sum
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
	cs.count += int64(len(t.F32) / ch)
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
