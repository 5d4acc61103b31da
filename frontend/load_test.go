package frontend_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// inferModel is an entry of testdata/infer/manifest.json (made by
// testdata/gen/gen_infer.py).
type inferModel struct {
	Name        string            `json:"name"`
	Arch        string            `json:"arch"`
	Width       float64           `json:"width"`
	Resolution  int               `json:"resolution"`
	Classes     int               `json:"classes"`
	ReducedTail bool              `json:"reduced_tail"`
	AlphaScaled bool              `json:"alpha_scaled"`
	Files       map[string]string `json:"files"`
}

// inferDir is testdata/infer, or $MNC_INFER_DIR (e.g. the output of
// gen_infer.py --full, with the full-width models that are not committed).
func inferDir(t *testing.T) string {
	if d := os.Getenv("MNC_INFER_DIR"); d != "" {
		return d
	}
	return filepath.Join(golden.RepoRoot(t), "testdata", "infer")
}

// logitsDiff runs g on in with the reference interpreter and returns
// max|got - want| / max|want|.
func logitsDiff(t *testing.T, g *ir.Graph, in, want *ir.Tensor) float64 {
	t.Helper()
	outs, err := interp.Run(g, []*ir.Tensor{in}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := outs[0]
	if !got.Shape.Equal(want.Shape) {
		t.Fatalf("logits %v, PyTorch %v", got.Shape, want.Shape)
	}
	var d, m float64
	for i, w := range want.F32 {
		d = max(d, math.Abs(float64(got.F32[i])-float64(w)))
		m = max(m, math.Abs(float64(w)))
	}
	return d / m
}

// TestInferGolden: every checkpoint of testdata/infer (alpha-scaled
// MobileNetV2, torchvision V3-Large and V3-Small with and without
// reduced_tail) loads without architecture flags, saying what it inferred,
// and with its explicit flags, and both reproduce PyTorch's logits.
func TestInferGolden(t *testing.T) {
	dir := inferDir(t)
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct{ Models []inferModel }
	if err := json.Unmarshal(data, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Models) == 0 {
		t.Fatal("empty manifest")
	}
	for _, m := range man.Models {
		t.Run(m.Name, func(t *testing.T) {
			file := m.Files["pth"]
			if file == "" {
				file = m.Files["safetensors"]
			}
			path := filepath.Join(dir, file)
			in := golden.Tensor(t, filepath.Join(dir, m.Files["input"]))
			want := golden.Tensor(t, filepath.Join(dir, m.Files["logits"]))
			wantNote := "inferred --arch " + m.Arch + " --width " + formatWidth(m.Width) + " --classes " + strconv.Itoa(m.Classes)
			if m.ReducedTail {
				wantNote += " --reduced-tail"
			}
			if m.AlphaScaled && m.Width < 1 {
				wantNote += " (alpha-scaled last conv)"
			}
			explicit := frontend.Options{Arch: m.Arch, Width: m.Width, Classes: m.Classes, Resolution: m.Resolution,
				ReducedTail: m.ReducedTail, ReducedTailSet: true}
			for _, c := range []struct {
				name string
				opts frontend.Options
				note string
			}{
				{"inferred", frontend.Options{Resolution: m.Resolution}, wantNote},
				{"explicit", explicit, map[bool]string{true: wantNote}[m.AlphaScaled && m.Width < 1]},
			} {
				var notes []string
				c.opts.Note = func(s string) { notes = append(notes, s) }
				g, err := frontend.Load(path, c.opts)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if got := strings.Join(notes, "\n"); got != c.note {
					t.Errorf("%s: note %q, want %q", c.name, got, c.note)
				}
				rel := logitsDiff(t, g, in, want)
				t.Logf("%s (%s): max|diff| / max|logit| = %.2e", file, c.name, rel)
				if rel > 1e-4 {
					t.Errorf("%s: logits differ from PyTorch's by %.2e of max|logit| (> 1e-4)", c.name, rel)
				}
			}
		})
	}
}

// TestInferGoldenModels: the checkpoints of testdata/golden load without
// flags as the manifest's architecture.
func TestInferGoldenModels(t *testing.T) {
	for _, m := range golden.Manifest(t) {
		for _, kind := range []string{"pth", "safetensors"} {
			path, ok := m.Path(t, kind)
			if !ok {
				continue
			}
			var note string
			g, err := frontend.Load(path, frontend.Options{Resolution: m.Resolution, Note: func(s string) { note = s }})
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			want := "inferred --arch " + m.Arch + " --width " + formatWidth(m.Width) + " --classes " + strconv.Itoa(m.Classes)
			if m.ReducedTail {
				want += " --reduced-tail"
			}
			if note != want {
				t.Errorf("%s: note %q, want %q", filepath.Base(path), note, want)
			}
			in := golden.Tensor(t, filepath.Join(golden.Dir(t), m.Files["input"]))
			logits := golden.Tensor(t, filepath.Join(golden.Dir(t), m.Files["logits"]))
			if rel := logitsDiff(t, g, in, logits); rel > 1e-4 {
				t.Errorf("%s: logits differ from PyTorch's by %.2e of max|logit|", filepath.Base(path), rel)
			}
		}
	}
}

// TestInferShared: ../shared's torchvision MobileNetV2 (ImageNet weights,
// 1001 classes) loads without flags; at width 1.0 it is also the
// alpha-scaled V2 of width 1.0, which testdata/infer leaves out for size.
func TestInferShared(t *testing.T) {
	shared := golden.Shared(t)
	var note string
	g, err := frontend.Load(filepath.Join(shared, "models", "mobilenet_v2_1.0_224_tv.pth"),
		frontend.Options{Note: func(s string) { note = s }})
	if err != nil {
		t.Fatal(err)
	}
	if want := "inferred --arch mobilenet_v2 --width 1.0 --classes 1001"; note != want {
		t.Errorf("note %q, want %q", note, want)
	}
	ref := filepath.Join(shared, "models", "reference")
	in := golden.Tensor(t, filepath.Join(ref, "mobilenet_v2_1.0_224.grace_hopper.input.npy"))
	want := golden.Tensor(t, filepath.Join(ref, "mobilenet_v2_1.0_224_tv.grace_hopper.logits.npy"))
	rel := logitsDiff(t, g, in, want)
	t.Logf("max|diff| / max|logit| = %.2e", rel)
	if rel > 1e-4 {
		t.Errorf("logits differ from PyTorch's by %.2e of max|logit|", rel)
	}
}

// TestInferErrors: explicit flags that disagree with the checkpoint are
// named, with what the checkpoint is and the first tensor that shows it.
func TestInferErrors(t *testing.T) {
	dir := inferDir(t)
	v2a := filepath.Join(dir, "v2a_0.75.pth")
	v3s := filepath.Join(dir, "v3s_0.5.pth")
	cases := []struct {
		path string
		opts frontend.Options
		want string
	}{
		{v2a, frontend.Options{Arch: "mobilenet_v2", Width: 0.5},
			"--width 0.5 does not match the checkpoint, which is mobilenet_v2 width 0.75 (alpha-scaled last conv) with 10 classes " +
				"(features.0.0.weight: checkpoint has [24,3,3,3], mobilenet_v2 width 0.5 (alpha-scaled last conv) wants [16,3,3,3])"},
		{v2a, frontend.Options{Arch: "v3s"},
			"--arch mobilenet_v3_small does not match the checkpoint, which is mobilenet_v2 width 0.75 (alpha-scaled last conv) with 10 classes " +
				"(features.0.0.weight: checkpoint has [24,3,3,3], mobilenet_v3_small width 0.75 wants [16,3,3,3])"},
		{v2a, frontend.Options{Classes: 1000},
			"--classes 1000 does not match the checkpoint, which is mobilenet_v2 width 0.75 (alpha-scaled last conv) with 10 classes " +
				"(classifier.1.weight: checkpoint has [10,960], mobilenet_v2 width 0.75 (alpha-scaled last conv) wants [1000,960])"},
		{v3s, frontend.Options{ReducedTail: true},
			"--reduced-tail does not match the checkpoint, which is mobilenet_v3_small width 0.5 with 10 classes " +
				"(features.9.block.3.0.weight: checkpoint has [48,144,1,1], mobilenet_v3_small width 0.5 reduced_tail wants [24,144,1,1])"},
		{filepath.Join(dir, "v3s_0.5_rt.safetensors"), frontend.Options{ReducedTailSet: true},
			"--reduced-tail=false does not match the checkpoint, which is mobilenet_v3_small width 0.5 reduced_tail with 10 classes " +
				"(features.9.block.3.0.weight: checkpoint has [24,144,1,1], mobilenet_v3_small width 0.5 wants [48,144,1,1])"},
		{v3s, frontend.Options{Arch: "v3l", Width: 1, Classes: 7},
			"--arch mobilenet_v3_large and --width 1.0 and --classes 7 do not match the checkpoint, which is mobilenet_v3_small width 0.5 with 10 classes " +
				"(features.0.0.weight: checkpoint has [8,3,3,3], mobilenet_v3_large width 1.0 wants [16,3,3,3])"},
	}
	for _, c := range cases {
		_, err := frontend.Load(c.path, c.opts)
		want := "load " + c.path + ": " + c.want
		if err == nil || err.Error() != want {
			t.Errorf("%+v:\n  error %v\n  want  %s", c.opts, err, want)
		}
	}
}

func formatWidth(w float64) string {
	s := strconv.FormatFloat(w, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// TestDescribe: Describe gives Definition's graph without allocating any
// weight (what `mnc inspect --arch` prints), and both refuse an
// architecture over the budget.
func TestDescribe(t *testing.T) {
	opts := frontend.Options{Arch: "mobilenet_v3_large", Width: 4}
	d, err := frontend.Describe(opts)
	if err != nil {
		t.Fatal(err)
	}
	g, err := frontend.Definition(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Consts) != len(g.Consts) || len(d.Nodes) != len(g.Nodes) {
		t.Fatalf("Describe: %d constants, %d nodes; Definition: %d, %d", len(d.Consts), len(d.Nodes), len(g.Consts), len(g.Nodes))
	}
	for i, c := range d.Consts {
		if c.Const.Len() != 0 {
			t.Fatalf("Describe allocated %s", c.Name)
		}
		if !c.Type.Shape.Equal(g.Consts[i].Type.Shape) || g.Consts[i].Const.Len() != c.Type.Shape.NumElements() {
			t.Fatalf("%s: Describe %v, Definition %v with %d elements", c.Name, c.Type, g.Consts[i].Type, g.Consts[i].Const.Len())
		}
	}
	opts.Classes = 1 << 20
	for _, f := range []func(frontend.Options) (*ir.Graph, error){frontend.Describe, frontend.Definition} {
		if _, err := f(opts); err == nil || !strings.Contains(err.Error(), "the model's weights need") {
			t.Errorf("2^20 classes at width 4: %v", err)
		}
	}
}

// TFLite files are recognised by their identifier, whatever their name; a
// .tflite name on another file gets the TFLite reader's error.
func TestLoadTFLite(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(golden.RepoRoot(t), "frontend", "tflite", "testdata", "layout.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	renamed := filepath.Join(dir, "model.bin")
	if err := os.WriteFile(renamed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := frontend.FormatOf(renamed); err != nil || f != frontend.TFLite {
		t.Fatalf("FormatOf: %v %v", f, err)
	}
	g, err := frontend.Load(renamed, frontend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !g.Inputs[0].Type.Shape.Equal(ir.Shape{1, 2, 2, 3}) {
		t.Errorf("input %v, want NCHW [1,2,2,3]", g.Inputs[0].Type)
	}
	fake := filepath.Join(dir, "fake.tflite")
	if err := os.WriteFile(fake, []byte("not a flatbuffer at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := frontend.Load(fake, frontend.Options{}); err == nil || !strings.Contains(err.Error(), `file identifier is "a fl", want "TFL3"`) {
		t.Errorf("fake .tflite: %v", err)
	}
}

// TestLoadSegmentation: testdata/seg's LR-ASPP and DeepLabV3 checkpoints
// (testdata/gen/make_seg_golden.py) load without architecture flags, the
// note naming what was inferred, and reproduce PyTorch's "out".
func TestLoadSegmentation(t *testing.T) {
	dir := filepath.Join(golden.RepoRoot(t), "testdata", "seg")
	for _, tc := range []struct {
		name, note string
		res        int
	}{
		{"lraspp", "inferred --arch lraspp_mobilenet_v3_large --width 0.5 --classes 21", 100},
		{"deeplabv3", "inferred --arch deeplabv3_mobilenet_v3_large --width 0.1 --classes 6", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var notes []string
			g, err := frontend.Load(filepath.Join(dir, tc.name+".pth"),
				frontend.Options{Resolution: tc.res, Note: func(s string) { notes = append(notes, s) }})
			if err != nil {
				t.Fatal(err)
			}
			if len(notes) != 1 || notes[0] != tc.note {
				t.Errorf("notes %q, want %q", notes, tc.note)
			}
			if out := g.Outputs[0]; out.Name != "out" {
				t.Errorf("output %s", out.Name)
			}
			in := golden.Tensor(t, filepath.Join(dir, tc.name+".input.npy"))
			want := golden.Tensor(t, filepath.Join(dir, tc.name+".out.npy"))
			d := logitsDiff(t, g, in, want)
			t.Logf("max |diff| / max |out| %.2e", d)
			if d > 1e-4 {
				t.Errorf("out differs from PyTorch by %.3g of its max", d)
			}
		})
	}
}

// TestLoadDetection: testdata/det's SSDLite checkpoint
// (testdata/gen/make_ssd_model_golden.py) loads without architecture flags
// or --resolution (SSDLite320's 320), the note naming what was inferred, and
// so does its ONNX export; both reproduce PyTorch's two head outputs.
func TestLoadDetection(t *testing.T) {
	dir := filepath.Join(golden.RepoRoot(t), "testdata", "det")
	for _, tc := range []struct{ file, note string }{
		{"ssdlite.pth", "inferred --arch ssdlite320_mobilenet_v3_large --width 0.5 --classes 21 --reduced-tail"},
		{"ssdlite.onnx", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var notes []string
			g, err := frontend.Load(filepath.Join(dir, tc.file), frontend.Options{Note: func(s string) { notes = append(notes, s) }})
			if err != nil {
				t.Fatal(err)
			}
			if tc.note != "" && (len(notes) != 1 || notes[0] != tc.note) || tc.note == "" && len(notes) != 0 {
				t.Errorf("notes %q, want %q", notes, tc.note)
			}
			checkDetOutputs(t, g, dir)
		})
	}
}

// checkDetOutputs runs a detector's graph on testdata/det's input and
// compares cls_logits and bbox_regression with PyTorch's.
func checkDetOutputs(t *testing.T, g *ir.Graph, dir string) {
	t.Helper()
	if len(g.Outputs) != 2 || g.Outputs[0].Name != "cls_logits" || g.Outputs[1].Name != "bbox_regression" {
		t.Fatalf("outputs %v, want cls_logits and bbox_regression", g.Outputs)
	}
	in := golden.Tensor(t, filepath.Join(dir, "ssdlite.input.npy"))
	outs, err := interp.Run(g, []*ir.Tensor{in}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range g.Outputs {
		want := golden.Tensor(t, filepath.Join(dir, "ssdlite."+o.Name+".npy"))
		if !outs[i].Shape.Equal(want.Shape) {
			t.Fatalf("%s %v, PyTorch %v", o.Name, outs[i].Shape, want.Shape)
		}
		var d, m float64
		for j, w := range want.F32 {
			d = max(d, math.Abs(float64(outs[i].F32[j])-float64(w)))
			m = max(m, math.Abs(float64(w)))
		}
		t.Logf("%s: max |diff| / max |PyTorch| %.2e", o.Name, d/m)
		if d/m > 1e-4 {
			t.Errorf("%s differs from PyTorch by %.3g of its max", o.Name, d/m)
		}
	}
}
