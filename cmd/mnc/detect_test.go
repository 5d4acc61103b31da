package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestInspectDetector: mnc inspect describes torchvision's SSDLite320 by
// --arch and from testdata/det's checkpoint, at its 320x320 input unless
// --resolution says otherwise, with both outputs; the parameter counts are
// torchvision's (3,440,060 for the COCO model's reduced tail).
func TestInspectDetector(t *testing.T) {
	det := filepath.Join("..", "..", "testdata", "det", "ssdlite.pth")
	for _, c := range []struct {
		args    []string
		input   []int
		anchors int
		classes int
		params  float64
		note    string
	}{
		{[]string{"--arch", "ssdlite320_mobilenet_v3_large", "--reduced-tail"}, []int{-1, 3, 320, 320}, 3234, 91, 3440060, ""},
		{[]string{"--arch", "ssdlite320_mobilenet_v3_large"}, []int{-1, 3, 320, 320}, 3234, 91, 5198540, ""},
		{[]string{"--arch", "ssdlite", "--classes", "21", "--resolution", "224"}, []int{-1, 3, 224, 224}, 1602, 21, 0, ""},
		{[]string{det}, []int{-1, 3, 320, 320}, 3234, 21, 1132940,
			"mnc: inferred --arch ssdlite320_mobilenet_v3_large --width 0.5 --classes 21 --reduced-tail\n"},
	} {
		stdout, stderr, code := mnc(t, append([]string{"inspect", "--json"}, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: %s", c.args, stderr)
		}
		if stderr != c.note {
			t.Errorf("%v: stderr %q, want %q", c.args, stderr, c.note)
		}
		var s struct {
			Params  float64
			Inputs  []struct{ Shape []int } `json:"inputs"`
			Outputs []struct {
				Name  string `json:"name"`
				Shape []int  `json:"shape"`
			} `json:"outputs"`
		}
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Inputs) != 1 || !reflect.DeepEqual(s.Inputs[0].Shape, c.input) {
			t.Errorf("%v: inputs %+v, want %v", c.args, s.Inputs, c.input)
		}
		type out = struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
		}
		want := []out{{"cls_logits", []int{-1, c.anchors, c.classes}}, {"bbox_regression", []int{-1, c.anchors, 4}}}
		if got := []out(s.Outputs); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: outputs %v, want %v", c.args, got, want)
		}
		if c.params != 0 && s.Params != c.params {
			t.Errorf("%v: %.0f params, torchvision %.0f", c.args, s.Params, c.params)
		}
	}
}

// TestCompileDetector: testdata/det's SSDLite320 compiles to a float32
// .mnc file with both outputs, which mnc inspect lists (text and JSON);
// mnc run, a classifier's command, refuses it as it refuses the
// checkpoint.
func TestCompileDetector(t *testing.T) {
	det := filepath.Join("..", "..", "testdata", "det", "ssdlite.pth")
	out := filepath.Join(t.TempDir(), "ssdlite.mnc")
	if _, stderr, code := mnc(t, "compile", det, "-o", out); code != 0 {
		t.Fatalf("compile: %s", stderr)
	}
	stdout, stderr, code := mnc(t, "inspect", out)
	if code != 0 {
		t.Fatalf("inspect: %s", stderr)
	}
	if lines := "\noutput cls_logits float32 [1,3234,21]\noutput bbox_regression float32 [1,3234,4]\n"; !strings.Contains(stdout, lines) {
		t.Errorf("inspect does not print %q:\n%s", lines, stdout)
	}
	stdout, stderr, code = mnc(t, "inspect", "--json", out)
	if code != 0 {
		t.Fatalf("inspect --json: %s", stderr)
	}
	var s struct {
		Output  struct{ Name string }
		Outputs []struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.Output.Name != "cls_logits" || len(s.Outputs) != 2 || s.Outputs[0].Name != "cls_logits" || s.Outputs[1].Name != "bbox_regression" ||
		!reflect.DeepEqual(s.Outputs[1].Shape, []int{1, 3234, 4}) {
		t.Errorf("inspect --json: output %+v, outputs %+v", s.Output, s.Outputs)
	}
	input := filepath.Join("..", "..", "testdata", "det", "ssdlite.input.npy")
	for _, model := range []string{out, det} {
		_, stderr, code = mnc(t, "run", model, "--tensor", input)
		if code == 0 || !strings.Contains(stderr, "2 outputs") || !strings.Contains(stderr, "a classifier has one of each") {
			t.Errorf("run %s: exit %d, %s", model, code, stderr)
		}
	}
}
