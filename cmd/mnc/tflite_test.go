package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
)

// A TFLite file compiles to int8 with calibration like any float model,
// with --preprocess tf by default (no warning), and the int8 model
// classifies ../shared/images/eval like the ONNX float model converted from
// the same network.
func TestTFLiteInt8(t *testing.T) {
	shared := golden.Shared(t)
	tfl := filepath.Join(shared, "models", "tflite", "mobilenet_v1_0.25_128_quant.tflite")
	out := filepath.Join(t.TempDir(), "v1.mnc")
	_, stderr, code := mnc(t, "compile", tfl, "--quant", "int8", "--calib", filepath.Join(shared, "images", "calib"), "-o", out)
	if code != 0 {
		t.Fatalf("compile: exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "warning:") {
		t.Errorf("a .tflite compile warns about its preprocessing: %s", stderr)
	}
	images, _ := filepath.Glob(filepath.Join(shared, "images", "eval", "*"))
	top1 := func(model string, extra ...string) map[string]int {
		args := append([]string{"run", model, "--top", "1", "--json"}, extra...)
		stdout, stderr, code := mnc(t, append(args, images...)...)
		if code != 0 {
			t.Fatalf("run %s: exit %d: %s", model, code, stderr)
		}
		var res []struct {
			Input string
			Top   []struct{ Index int }
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, r := range res {
			m[filepath.Base(r.Input)] = r.Top[0].Index
		}
		return m
	}
	onnx := top1(filepath.Join(shared, "models", "mobilenet_v1_0.25_128.onnx"), "--preprocess", "tf")
	float := top1(tfl) // tf by default
	int8 := top1(out)  // the preprocessing the file records
	agree := 0
	for img, want := range onnx {
		if float[img] != want {
			t.Errorf("%s: the float TFLite model's top-1 is %d, the ONNX model's %d", img, float[img], want)
		}
		if int8[img] == want {
			agree++
		}
	}
	t.Logf("int8 from TFLite agrees with the ONNX float model on %d/%d images", agree, len(onnx))
	if agree < len(onnx)-1 {
		t.Errorf("int8 agrees on %d/%d images", agree, len(onnx))
	}
}
