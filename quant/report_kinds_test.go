package quant

import (
	"strings"
	"testing"
)

// TestReportOutputKinds: a class map's headline reads as pixel agreement
// and identical maps, segmentation logits' top-1 as identical class maps,
// and neither gets the classifier-confidence note.
func TestReportOutputKinds(t *testing.T) {
	for _, c := range []struct {
		kind      string
		want, not []string
	}{
		{OutputMap, []string{"class maps agree on 99.50% of the pixels (worst image 98.00%), 1/2 maps identical", "a.bmp                        pixels agree 99.00%"}, []string{"SQNR", "top-1", "note:"}},
		{OutputSegLogits, []string{"logits SQNR 20.00 dB median", "class maps identical 1/2"}, []string{"top-1 agreement", "note:"}},
		{OutputDetLogits, []string{"class logits SQNR 20.00 dB median", "every anchor's top class kept in 1/2", "box regressions not measured"}, []string{"top-1 agreement", "note:"}},
		{"", []string{"logits SQNR 20.00 dB median", "top-1 agreement 1/2"}, nil},
	} {
		m := &Metrics{Images: 2, MedianSQNR: 20, WorstSQNR: 18, LogitsSQNR: 19, Top1Agree: 1, Cosine: 0.995, MinCosine: 0.98,
			Output: c.kind, FloatConfidence: 1, PerImage: []ImageResult{{Name: "a.bmp", Cosine: 0.99, LogitsSQNR: 20}, {Name: "b.bmp", Cosine: 1, Int8Top1: 1}}}
		var b strings.Builder
		if err := (&Report{Eval: m}).WriteText(&b, 0); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%q: no %q in\n%s", c.kind, w, b.String())
			}
		}
		for _, n := range c.not {
			if strings.Contains(b.String(), n) {
				t.Errorf("%q: %q in\n%s", c.kind, n, b.String())
			}
		}
	}
}

// TestSensitivityClassMap: the sensitivity section and the qualities of a
// class map read as pixels (30 dB: 99.90% of them agree) and identical
// maps, a classifier's as SQNR and top-1.
func TestSensitivityClassMap(t *testing.T) {
	for _, c := range []struct {
		kind      string
		want, not []string
	}{
		{OutputMap, []string{"pixels agree 99.90% median (99.00% pooled, 90.00% worst), maps identical 1/2", " 99.90%  1/2", "99.90%, 1/2"}, []string{"dB", "top-1"}},
		{"", []string{"30.00 dB median (20.00 pooled, 10.00 worst), top-1 1/2", " 30.00 dB  1/2", "30.00 dB, 1/2"}, nil},
	} {
		q := Quality{Images: 2, MedianSQNR: 30, LogitsSQNR: 20, WorstSQNR: 10, Top1Agree: 1, Output: c.kind}
		r := &Report{Sensitivity: &Sensitivity{Images: 2, Int8: q, Ops: []OpSensitivity{{Op: "Conv", Name: "c", OnlyFloat: q}}}}
		var b strings.Builder
		if err := r.WriteText(&b, 0); err != nil {
			t.Fatal(err)
		}
		text := b.String() + "\n" + q.htmlCell()
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%q: no %q in\n%s", c.kind, w, text)
			}
		}
		for _, n := range c.not {
			if strings.Contains(text, n) {
				t.Errorf("%q: %q in\n%s", c.kind, n, text)
			}
		}
	}
}
