package compile_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/demo"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/passes"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// tiny is a built-in architecture with zero weights.
var tiny = frontend.Options{Arch: "mobilenet_v3_small", Width: 0.1, Classes: 4, Resolution: 32}

// TestOptionErrors: the options mnc compile refuses before anything runs
// (flags, target, outputs, labels, image folders); nothing is written.
func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.mnc")
	labels, three, empty := filepath.Join(dir, "labels.txt"), filepath.Join(dir, "three.txt"), filepath.Join(dir, "empty.txt")
	for f, text := range map[string]string{labels: "a\nb\nc\nd\n", three: "a\nb\nc\n\n", empty: "\n"} {
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		o    compile.Options
		want string
	}{
		{compile.Options{}, "give a MODEL file, or --arch"},
		{compile.Options{Model: filepath.Join(dir, "missing.onnx"), LabelsFile: labels, Output: out}, "missing.onnx"},
		{compile.Options{Frontend: tiny, LabelsFile: three, Output: out}, `has 3 labels but the model has 4 classes`},
		{compile.Options{Frontend: tiny, LabelsFile: empty, Output: out}, `has no labels`},
		{compile.Options{Frontend: tiny, Output: out, Target: "rpi6"}, `--target: unknown target "rpi6"`},
		{compile.Options{Frontend: tiny, Output: filepath.Join(dir, "nodir", "m.mnc")}, `does not exist`},
		{compile.Options{Frontend: tiny, Output: dir}, `is a directory`},
		{compile.Options{Frontend: tiny, Output: out, ReportJSON: filepath.Join(dir, "nodir", "r.json"), Quant: "int8", Calib: dir}, `--report-json: output`},
		{compile.Options{Frontend: tiny, Output: out, MinSQNR: 20}, `--min-sqnr and --min-agreement gate an int8 compile`},
		{compile.Options{Frontend: tiny, Output: out, Quant: "int8", Calib: dir, MinAgreement: 1.5}, `--min-agreement 1.5 in [0, 1]`},
		{compile.Options{Frontend: tiny, Output: out, Quant: "int8", Calib: dir}, `--calib: no JPEG`},
		{compile.Options{Frontend: tiny, Output: out, Quant: "int8", Calib: filepath.Join(dir, "nope")}, `--calib: image directory`},
		{compile.Options{Frontend: tiny, LabelsFile: labels}, "--labels is stored in the model file: give -o OUT.mnc"},
		{compile.Options{Frontend: tiny, LabelsFile: filepath.Join(dir, "none.txt"), Output: out}, "read labels"},
		{compile.Options{Frontend: tiny, Calib: dir, Output: out}, "--calib is for --quant int8"},
		{compile.Options{Frontend: tiny, Quant: "int8"}, "--quant int8 needs calibration images: --calib DIR"},
		{compile.Options{Frontend: tiny, Quant: "int8", Calib: dir, PassReportJSON: true}, "--json is for the pass report"},
		{compile.Options{Frontend: tiny, Quant: "int4"}, `--quant "int4": want int8 or float32`},
	} {
		called := false
		c.o.AfterPasses = func(*passes.Report) error { called = true; return nil }
		_, err := compile.Run(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.o, err, c.want)
		}
		if called {
			t.Errorf("%+v: the passes ran", c.o)
		}
	}
	assertOnly(t, dir, "empty.txt", "labels.txt", "three.txt")
}

// assertOnly checks that dir holds exactly the named files.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, e := range entries {
		have = append(have, e.Name())
	}
	if strings.Join(have, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %v, want %v", dir, have, names)
	}
}

// TestFloat: without Output the compile stops after the passes; with it
// the float32 file is written, records the preprocessing and the labels,
// and a failing build leaves nothing behind.
func TestFloat(t *testing.T) {
	res, err := compile.Run(compile.Options{Frontend: tiny})
	if err != nil || res.Passes == nil || res.Graph == nil || res.Model != nil {
		t.Fatalf("passes only: %+v, %v", res, err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "m.mnc")
	var order []string
	o := compile.Options{Frontend: tiny, Output: out, Labels: []string{"a", "b", "c", "d"},
		Preprocess: preprocess.Spec{Preset: preprocess.TF}, Producer: "test", Target: "rpi4",
		AfterPasses: func(*passes.Report) error { order = append(order, "passes"); return nil },
		AfterQuant:  func(*quant.Report) error { order = append(order, "quant"); return nil }}
	res, err = compile.Run(o)
	if err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info := m.Info()
	if info.FileBytes != res.Model.FileBytes || info.Precision != "float32" || info.Target != "arm64" ||
		info.Preprocess == nil || info.Preprocess.Preset != preprocess.TF || info.Preprocess.Height != 32 || len(info.Labels) != 4 {
		t.Errorf("file: %+v", info)
	}
	if strings.Join(order, " ") != "passes" {
		t.Errorf("hooks called: %v", order)
	}
	// Five labels for four classes: the build fails, the old file stays.
	o.Labels = append(o.Labels, "e")
	if _, err := compile.Run(o); err == nil || !strings.Contains(err.Error(), "5 labels") {
		t.Errorf("five labels: %v", err)
	}
	if b, err := os.ReadFile(out); err != nil || int64(len(b)) != res.Model.FileBytes {
		t.Errorf("the old file changed: %d bytes, %v", len(b), err)
	}
	assertOnly(t, dir, "m.mnc")
}

// TestInt8: the demo's model calibrated on a few generated images: the
// hooks see the reports in order, the JSON report is written, and the file
// records the calibration of exactly the images used.
func TestInt8(t *testing.T) {
	dir := t.TempDir()
	calib := filepath.Join(dir, "calib")
	if err := demo.WriteDataset(calib, 4, 1, demo.ModelConfig.ImageSize); err != nil {
		t.Fatal(err)
	}
	g, err := demo.Graph()
	if err != nil {
		t.Fatal(err)
	}
	out, js := filepath.Join(dir, "m.mnc"), filepath.Join(dir, "report.json")
	var order []string
	res, err := compile.Run(compile.Options{Graph: g, Quant: "int8", Calib: calib, Output: out, ReportJSON: js,
		Preprocess: preprocess.Spec{Preset: demo.ModelConfig.Preset}, QuantOptions: quant.Options{Images: 3},
		AfterPasses: func(*passes.Report) error { order = append(order, "passes"); return nil },
		AfterQuant: func(rep *quant.Report) error {
			if _, err := os.Stat(js); err != nil {
				t.Errorf("the JSON report is not written before AfterQuant: %v", err)
			}
			order = append(order, "quant")
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, " ") != "passes quant" {
		t.Errorf("hooks called: %v", order)
	}
	c := res.Model.Calibration
	if res.Int8 == nil || res.Quant == nil || c == nil || c.Images != 3 || len(res.Quant.ImageList) != 3 ||
		c.ImageListSHA256 != res.Quant.ImageListSHA256 || len(c.ImageListSHA256) != 64 || res.Model.Precision != "int8" {
		t.Errorf("result %+v, calibration %+v", res.Model, c)
	}
	// Without Output the int8 compile stops after the report.
	g, err = demo.Graph()
	if err != nil {
		t.Fatal(err)
	}
	res, err = compile.Run(compile.Options{Graph: g, Quant: "int8", Calib: calib, QuantOptions: quant.Options{Images: 1}})
	if err != nil || res.Quant == nil || res.Model != nil {
		t.Errorf("report only: %+v, %v", res, err)
	}
	// Quality gates: a missed gate writes no file, returns a GateError
	// naming the figures, and the report is still seen.
	for _, gate := range []compile.Options{{MinSQNR: 999}, {MinAgreement: 1}} {
		g, err = demo.Graph()
		if err != nil {
			t.Fatal(err)
		}
		seen := false
		gated := filepath.Join(dir, "gated.mnc")
		o := compile.Options{Graph: g, Quant: "int8", Calib: calib, Output: gated, MinSQNR: gate.MinSQNR, MinAgreement: gate.MinAgreement,
			Preprocess:   preprocess.Spec{Preset: demo.ModelConfig.Preset},
			QuantOptions: quant.Options{Images: 4, Method: quant.Entropy, NoBiasCorrect: true}, // entropy on 4 images: agreement < 1 here
			AfterQuant:   func(*quant.Report) error { seen = true; return nil }}
		_, err := compile.Run(o)
		var ge *compile.GateError
		if gate.MinAgreement == 1 && err == nil {
			os.Remove(gated) // all 4 images agree: nothing to gate here
			continue
		}
		if !errors.As(err, &ge) || !seen || !strings.Contains(err.Error(), "no model written") {
			t.Errorf("gate %+v: error %v (report seen %v)", gate, err, seen)
		}
		if _, err := os.Stat(gated); !os.IsNotExist(err) {
			t.Errorf("gate %+v: the model was written", gate)
		}
	}
	assertOnly(t, dir, "calib", "m.mnc", "report.json")
}

// TestReportHTML: --report-html keeps calibration's histograms for the page
// and changes no byte of the model file; the page is written once the
// compile succeeds, atomically, and not at all when it fails.
func TestReportHTML(t *testing.T) {
	var e golden.Model
	for _, m := range golden.Manifest(t) {
		if m.Name == "v2" {
			e = m
		}
	}
	dir := t.TempDir()
	calib := filepath.Join(dir, "calib")
	if err := demo.WriteDataset(calib, 3, 1, e.Resolution); err != nil {
		t.Fatal(err)
	}
	labels := make([]string, e.Classes)
	for i := range labels {
		labels[i] = fmt.Sprintf("class <%d>", i)
	}
	run := func(out, page string, labels []string) error {
		_, err := compile.Run(compile.Options{Model: filepath.Join(golden.Dir(t), e.Files["onnx_opset17"]),
			Quant: "int8", Calib: calib, Output: out, ReportHTML: page, Labels: labels,
			QuantOptions: quant.Options{Workers: 2}})
		return err
	}
	plain, with, page := filepath.Join(dir, "plain.mnc"), filepath.Join(dir, "with.mnc"), filepath.Join(dir, "report.html")
	if err := run(plain, "", labels); err != nil {
		t.Fatal(err)
	}
	if err := run(with, page, labels); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(with)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("--report-html changed the model file (%d and %d bytes)", len(a), len(b))
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="layers"`, `<div class="hist">`, "class &lt;"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// A failing build (a label too many) writes no page.
	failed := filepath.Join(dir, "failed.html")
	if err := run(filepath.Join(dir, "failed.mnc"), failed, append(labels, "extra")); err == nil {
		t.Fatal("a label too many: no error")
	}
	// For float32 the flag is refused.
	if _, err := compile.Run(compile.Options{Frontend: tiny, Output: filepath.Join(dir, "f.mnc"), ReportHTML: failed}); err == nil ||
		!strings.Contains(err.Error(), "--report-html") {
		t.Errorf("float32 with --report-html: %v", err)
	}
	assertOnly(t, dir, "calib", "plain.mnc", "report.html", "with.mnc")
}
