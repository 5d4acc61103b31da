package quant

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// metaRanges is the Meta key of the calibrated ranges (JSON, by statistics
// key: lo, hi and the method that chose them).
const metaRanges = "quant.ranges"

// SetPreprocess records the preprocessing spec in g.Meta["preprocess"] (as
// JSON), so that whoever runs the model prepares its images exactly as
// calibration did.
func SetPreprocess(g *ir.Graph, spec preprocess.Spec) error {
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("record preprocessing: %w", err)
	}
	if g.Meta == nil {
		g.Meta = map[string]string{}
	}
	g.Meta[MetaPreprocess] = string(b)
	return nil
}

// Preprocess returns the preprocessing spec recorded in g.Meta, and whether
// there is one.
func Preprocess(g *ir.Graph) (preprocess.Spec, bool, error) {
	s, ok := g.Meta[MetaPreprocess]
	if !ok {
		return preprocess.Spec{}, false, nil
	}
	spec, err := preprocess.ParseSpec([]byte(s))
	if err != nil {
		return preprocess.Spec{}, true, fmt.Errorf("model metadata %q: %w", MetaPreprocess, err)
	}
	return spec, true, nil
}

type rangeJSON struct {
	Key    string  `json:"key"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	Method string  `json:"method"`
}

func encodeChoices(c map[string]choice) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]rangeJSON, len(keys))
	for i, k := range keys {
		out[i] = rangeJSON{k, c[k].Range.Lo, c[k].Range.Hi, c[k].Method}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// CalibratedRanges returns the ranges recorded in a quantized graph's
// metadata, by statistics key, with the method that chose each.
func CalibratedRanges(q *ir.Graph) (map[string]Range, map[string]string, error) {
	s, ok := q.Meta[metaRanges]
	if !ok {
		return nil, nil, nil
	}
	var rs []rangeJSON
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		return nil, nil, fmt.Errorf("model metadata %q: %w", metaRanges, err)
	}
	ranges, methods := map[string]Range{}, map[string]string{}
	for _, r := range rs {
		ranges[r.Key] = Range{r.Lo, r.Hi}
		methods[r.Key] = r.Method
	}
	return ranges, methods, nil
}
