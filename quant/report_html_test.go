package quant

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// hostile is a name that would run a script if it were not escaped.
const hostile = `<script>alert(1)</script>`

// checkXHTML parses page as XML (the report is XHTML-compatible): every
// tag closes in order. It returns the number of start elements by name.
func checkXHTML(t *testing.T, page []byte) map[string]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	counts := map[string]int{}
	var stack []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := bytes.Count(page[:min(int(d.InputOffset()), len(page))], []byte("\n")) + 1
			t.Fatalf("the page is not well-formed XML near line %d: %v", line, err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
			counts[e.Name.Local]++
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 || counts["html"] != 1 {
		t.Fatalf("unclosed elements %v, %d html elements", stack, counts["html"])
	}
	return counts
}

// hostileReport is a report whose every name from files is hostile.
func hostileReport() *Report {
	ts := &TensorStats{Min: -2, Max: 3, Count: 1000}
	ts.Hist = newHistogram()
	xs := make([]float32, 1000)
	for i := range xs {
		xs[i] = float32(-2 + 5*float64(i)/999)
	}
	ts.Hist.add(xs, 3)
	layers := []LayerReport{
		{Name: hostile, Op: "Conv" + hostile, SQNR: 9.5, Scale: 0.02, Zero: -28, Lo: -2, Hi: 3, Method: "minmax"},
		{Name: "b", Op: "Add", SQNR: 21, Scale: 0.02, Zero: 0, Lo: -1, Hi: 1, Method: "mse"},
		{Name: "c & d", Op: "Conv", SQNR: math.Inf(1), Scale: 0.1, Zero: -128},
	}
	m := &Metrics{Images: 2, LogitsSQNR: 20, Top1Agree: 1, Cosine: 0.99, MinCosine: 0.98, Layers: layers,
		PerImage: []ImageResult{
			{Name: "/x/" + hostile + ".jpg", FloatTop1: 0, Int8Top1: 1, LogitsSQNR: 12, Cosine: 0.98},
			{Name: "/x/ok.png", FloatTop1: 2, Int8Top1: 2, LogitsSQNR: 30, Cosine: 1},
		},
		logits: []logitSample{
			{Image: 0, F: []float32{3, 2.9, 0, -1}, Q: []float32{2.8, 3, 0.1, -1}},
			{Image: 1, F: []float32{0, 1, 5, -1}, Q: []float32{0, 1.1, 4.9, -1}},
		}}
	return &Report{Model: hostile, Scheme: Scheme, Method: "minmax+" + hostile, Preprocess: &preprocess.Spec{Preset: hostile},
		CalibImages: 2, Skipped: []string{hostile + ": bad"}, Calib: m,
		hists: map[string]*histSummary{hostile: summarizeHist(ts, Range{-2, 3}), "b": summarizeHist(ts, Range{-1, 1})}}
}

// TestHTMLReport: the page is well-formed, has every section, one bar per
// layer and a histogram per kept one, highlights the disagreement, names
// the classes, and escapes every name from files.
func TestHTMLReport(t *testing.T) {
	rep := hostileReport()
	page, err := rep.HTML([]string{"cat" + hostile, "dog", "bird", "fish"})
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	counts := checkXHTML(t, page)
	if strings.Contains(s, hostile) || strings.Contains(s, "<script") || counts["script"] != 0 {
		t.Errorf("a name is not escaped")
	}
	esc := "&lt;script&gt;alert(1)&lt;/script&gt;"
	for _, want := range []string{
		`id="header"`, `id="headline"`, `id="layers"`, `id="scatter"`, `id="images"`, `id="ranges"`,
		"Conv" + esc, "0 cat" + esc, "1 dog", "2 bird", esc + ".jpg", `class="image differs"`, "1/2", "∞",
		`class="bad"`, "c &amp; d",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(s, `<tr class="layer">`); n != len(rep.Calib.Layers) {
		t.Errorf("%d layer bars, want %d", n, len(rep.Calib.Layers))
	}
	if n := strings.Count(s, `<div class="hist">`); n != 2 {
		t.Errorf("%d histograms, want 2", n)
	}
	if n := len(regexp.MustCompile(`<div class="scatter( differs)?">`).FindAllString(s, -1)); n != 2 {
		t.Errorf("%d scatters, want 2", n)
	}
	if strings.Contains(s, "http://") || strings.Contains(s, "https://") || strings.Contains(s, "src=") {
		t.Errorf("the page refers to something outside itself")
	}
	// Without histograms the section says why.
	rep.hists = nil
	page, err = rep.HTML(nil)
	if err != nil {
		t.Fatal(err)
	}
	checkXHTML(t, page)
	if !strings.Contains(string(page), "Calibration kept no histograms") || strings.Contains(string(page), `<div class="hist">`) {
		t.Errorf("no histograms: the section is wrong")
	}
}

// TestHTMLMixedAndSensitivity: the mixed-precision and sensitivity
// sections show every kept op, step and ranked op, escaped, and the text
// and JSON reports carry them too.
func TestHTMLMixedAndSensitivity(t *testing.T) {
	rep := hostileReport()
	q := Quality{Images: 2, MedianSQNR: 20, LogitsSQNR: 19, WorstSQNR: math.Inf(1), Top1Agree: 2}
	rep.Sensitivity = &Sensitivity{Images: 2, Int8: q, Ops: []OpSensitivity{
		{Name: hostile, Op: "Conv", OnlyFloat: q, OnlyInt8: &q}, {Name: "b", Op: "Add", OnlyFloat: q}}}
	rep.Mixed = &MixedReport{Target: "median logits SQNR >= 30 dB", Met: true, Kept: []string{hostile},
		Steps:       []MixedStep{{Calib: q}, {Kept: hostile, Calib: q, Eval: &q}, {Kept: "b", Pruned: true, Calib: q}},
		Int8Latency: 4e6, MixedLatency: 5e6, Int8Bytes: 1e6, MixedBytes: 2e6}
	page, err := rep.HTML(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	checkXHTML(t, page)
	if strings.Contains(s, hostile) {
		t.Error("a name is not escaped")
	}
	for _, want := range []string{`id="mixed"`, `id="sensitivity"`, "1 ops kept in float32 (target median logits SQNR &gt;= 30 dB, met)",
		"4.00 ms all int8 → 5.00 ms (", "25.0%)", "- b (pruned)", "20.00 dB, 2/2"} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(s, "<tr><td class=\"num\">"); n != 2 {
		t.Errorf("%d sensitivity rows, want 2", n)
	}
	var text strings.Builder
	if err := rep.WriteText(&text, 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mixed precision: 1 ops kept in float32 (target median logits SQNR >= 30 dB, met)", "(+25.0%)", "- b (pruned)", "sensitivity on 2 calibration images"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text report lacks %q:\n%s", want, text.String())
		}
	}
	js, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kept_float"`, `"only_int8"`, `"worst_sqnr_db": 999`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("the JSON lacks %s", want)
		}
	}
}

// TestHTMLNotInJSON: the logits and histograms kept for the page stay out
// of the JSON report.
func TestHTMLNotInJSON(t *testing.T) {
	js, err := hostileReport().JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"hists"`, `"logits"`, `"Counts"`, `"F"`} {
		if bytes.Contains(js, []byte(k)) {
			t.Errorf("the JSON report holds %q:\n%s", k, js)
		}
	}
}

// timeRE matches the run times of a page.
var timeRE = regexp.MustCompile(`(in|run) [0-9.]+[a-zµ]*`)

// TestHTMLGolden: a golden model compiled with histograms kept: the same
// int8 graph (ranges and all) as without, and a page with every layer,
// a histogram per layer and logits kept for every image, the same for one
// worker and three.
func TestHTMLGolden(t *testing.T) {
	var e golden.Model
	for _, m := range golden.Manifest(t) {
		if m.Name == "v2" {
			e = m
		}
	}
	in := golden.Tensor(t, filepath.Join(golden.Dir(t), e.Files["input"]))
	compileOnce := func(o Options) (*ir.Graph, *Report) {
		g, err := frontend.Load(filepath.Join(golden.Dir(t), e.Files["onnx_opset17"]), frontend.Options{Arch: e.Arch,
			Width: e.Width, Classes: e.Classes, Resolution: e.Resolution, ReducedTail: e.ReducedTail})
		if err != nil {
			t.Fatal(err)
		}
		q, rep, err := CompileInputs(g, []*ir.Tensor{in}, []*ir.Tensor{in}, o)
		if err != nil {
			t.Fatal(err)
		}
		return q, rep
	}
	q0, _ := compileOnce(Options{Workers: 1})
	q1, rep := compileOnce(Options{Workers: 1, Histograms: true})
	if q0.String() != q1.String() || fmt.Sprint(q0.Meta) != fmt.Sprint(q1.Meta) {
		t.Errorf("keeping histograms changed the int8 graph")
	}
	page, err := rep.HTML(nil)
	if err != nil {
		t.Fatal(err)
	}
	checkXHTML(t, page)
	s := string(page)
	if n := strings.Count(s, `<tr class="layer">`); n != len(rep.Calib.Layers) || n < 10 {
		t.Errorf("%d layer bars for %d layers", n, len(rep.Calib.Layers))
	}
	if n := strings.Count(s, `<div class="hist">`); n != len(rep.Calib.Layers) {
		t.Errorf("%d histograms for %d layers", n, len(rep.Calib.Layers))
	}
	if len(rep.Eval.logits) != rep.Eval.Images || len(rep.Eval.logits[0].F) != e.Classes {
		t.Errorf("kept %d logit rows for %d images", len(rep.Eval.logits), rep.Eval.Images)
	}
	_, rep3 := compileOnce(Options{Workers: 3, Histograms: true})
	page3, err := rep3.HTML(nil)
	if err != nil {
		t.Fatal(err)
	}
	strip := func(b []byte) string { // the run times differ
		return timeRE.ReplaceAllString(string(b), "")
	}
	if strip(page) != strip(page3) {
		t.Errorf("the page depends on the worker count")
	}
}
