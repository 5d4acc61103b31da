package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/quant"
)

// quantizedOps returns the quantized ops of the model file (the names
// --keep-float takes).
func quantizedOps(t *testing.T, path string) []string {
	t.Helper()
	g, err := frontend.Load(path, frontend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g, err = quant.Prepare(g); err != nil {
		t.Fatal(err)
	}
	return quant.QuantizedOps(g)
}

// everyThirdOp returns every third quantized op of the model file, from
// the first.
func everyThirdOp(t *testing.T, path string) []string {
	t.Helper()
	var keep []string
	for i, name := range quantizedOps(t, path) {
		if i%3 == 0 {
			keep = append(keep, name)
		}
	}
	return keep
}

// TestMixedPrecisionCLI: --sensitivity ranks every quantized op in the
// JSON report; --target-sqnr 3 dB above the all-int8 figure keeps ops in
// float32 until the report's calibration images reach it, and the model
// written is mixed, names them and runs; --keep-float writes exactly the
// ops named; the options' errors come before calibration.
func TestMixedPrecisionCLI(t *testing.T) {
	var m golden.Model
	for _, e := range golden.Manifest(t) {
		if e.Name == "v3s" {
			m = e
		}
	}
	model := filepath.Join(golden.Dir(t), onnxFile(m))
	calib, tmp := calibImages(t), t.TempDir()
	report := func(args ...string) *quant.Report {
		t.Helper()
		js := filepath.Join(tmp, "r.json")
		mustRun(t, append([]string{"compile", model, "--quant", "int8", "--calib", calib, "--report-json", js}, args...)...)
		data, err := os.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		var rep quant.Report
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		return &rep
	}
	ops := quantizedOps(t, model)
	rep := report("--sensitivity", "--sensitivity-images", "2")
	s := rep.Sensitivity
	if s == nil || s.Images != 2 || len(s.Ops) != len(ops) {
		t.Fatalf("sensitivity %+v for %d quantized ops", s, len(ops))
	}
	for _, o := range s.Ops {
		if o.OnlyInt8 == nil || o.OnlyFloat.Images != 2 {
			t.Fatalf("op %+v", o)
		}
	}
	if rep.Mixed != nil {
		t.Error("--sensitivity alone kept ops float")
	}

	target := rep.Calib.MedianSQNR + 3
	out := filepath.Join(tmp, "t.mnc")
	rep = report("--target-sqnr", strconv.FormatFloat(target, 'f', 2, 64), "-o", out)
	x := rep.Mixed
	if x == nil || !x.Met || len(x.Kept) == 0 || rep.Calib.MedianSQNR < target-0.005 {
		t.Fatalf("target %.2f dB: mixed %+v, calibration %.2f dB", target, x, rep.Calib.MedianSQNR)
	}
	// Kept ops store the int8 model's weight codes: the file stays about
	// the same size (here it shrinks by 2 KB).
	if x.MixedBytes <= 0 || x.Int8Bytes <= 0 || x.Int8Latency <= 0 || x.MixedLatency <= 0 {
		t.Errorf("costs %+v", x)
	}
	info := mustRun(t, "inspect", out, "--json")
	if !strings.Contains(info, `"precision": "mixed"`) || !strings.Contains(info, `"float_ops"`) {
		t.Errorf("inspect: %s", info)
	}
	mustRun(t, "run", out, "--tensor", filepath.Join(golden.Dir(t), m.Files["input"]))

	rep = report("--keep-float", strings.Join(ops[:2], ","))
	if rep.Mixed == nil || strings.Join(rep.Mixed.Kept, ",") != strings.Join(ops[:2], ",") || rep.Mixed.Target != "" {
		t.Errorf("--keep-float: %+v", rep.Mixed)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--quant", "int8", "--calib", calib, "--keep-float", ops[1] + "x"}, "did you mean"},
		{[]string{"--quant", "float32", "-o", filepath.Join(tmp, "f.mnc"), "--sensitivity"}, "are for an int8 compile"},
		{[]string{"--quant", "int8", "--calib", calib, "--max-agreement-loss", "1.5"}, "--max-agreement-loss 1.5: want a fraction"},
		{[]string{"--quant", "int8", "--calib", calib, "--target-sqnr", "-1"}, "--target-sqnr -1"},
		{[]string{"--quant", "int8", "--calib", calib, "--keep-float", ops[1], "--float-weights", "f16"}, `--float-weights "f16": want int8 or float32`},
	} {
		_, stderr, code := mnc(t, append([]string{"compile", model}, c.args...)...)
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "calibrat") && !strings.Contains(c.want, "calibrat") {
			t.Errorf("%v: exit %d, %q; want %q", c.args, code, stderr, c.want)
		}
	}
}
