package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/runtime/kernels"
)

// mncBin is the mnc binary built once for the tests that check real process
// behaviour (exit status, one-line errors, no Go stack on bad input).
var mncBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mnc-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mncBin = filepath.Join(dir, "mnc")
	if out, err := exec.Command("go", "build", "-o", mncBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build mnc: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// mnc runs the binary and returns stdout, stderr and the exit code.
func mnc(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runCmd(t, exec.Command(mncBin, args...))
}

// runCmd runs cmd and returns its stdout, stderr and exit code.
func runCmd(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// archFlags are the architecture flags a golden model's checkpoint needs.
func archFlags(m golden.Model) []string {
	f := []string{"--arch", m.Arch, "--width", fmt.Sprint(m.Width), "--classes", fmt.Sprint(m.Classes),
		"--resolution", fmt.Sprint(m.Resolution)}
	if m.ReducedTail {
		f = append(f, "--reduced-tail")
	}
	return f
}

// relDiff returns max|got-want| / max|want|.
func relDiff(t *testing.T, got, want *npy.Array) float64 {
	t.Helper()
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		t.Fatalf("output shape %v, want %v", got.Shape, want.Shape)
	}
	var d, m float64
	for i := range want.Data {
		d = math.Max(d, math.Abs(float64(got.Data[i]-want.Data[i])))
		m = math.Max(m, math.Abs(float64(want.Data[i])))
	}
	return d / m
}

// sameFloatBits reports whether a and b hold the same bits.
func sameFloatBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// runTensor runs `mnc run MODEL --tensor IN --save-output OUT` and returns
// the logits.
func runTensor(t *testing.T, model, input string, extra ...string) *npy.Array {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.npy")
	args := append([]string{"run", model, "--tensor", input, "--save-output", out}, extra...)
	stdout, stderr, code := mnc(t, args...)
	if code != 0 {
		t.Fatalf("mnc %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	a, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestGoldenLogits: every testdata model, from .pth and from both ONNX
// opsets, reproduces PyTorch's logits.
func TestGoldenLogits(t *testing.T) {
	dir, models := golden.Dir(t), golden.Manifest(t)
	for _, m := range models {
		want, err := npy.ReadFile(filepath.Join(dir, m.Files["logits"]))
		if err != nil {
			t.Fatal(err)
		}
		input := filepath.Join(dir, m.Files["input"])
		for _, kind := range []string{"pth", "onnx_opset11", "onnx_opset17", "onnx_opset17_bn", "safetensors"} {
			file, ok := m.Files[kind]
			if !ok {
				continue
			}
			t.Run(m.Name+"/"+kind, func(t *testing.T) {
				var extra []string
				if kind == "pth" || kind == "safetensors" {
					extra = archFlags(m)
				}
				got := runTensor(t, filepath.Join(dir, file), input, extra...)
				rel := relDiff(t, got, want)
				t.Logf("%s: max|diff| / max|logit| = %.2e", file, rel)
				if rel > 1e-4 {
					t.Errorf("%s: relative difference %.2e > 1e-4", file, rel)
				}
			})
		}
	}
}

// TestInferArch: the golden checkpoints run without architecture flags,
// with one line on stderr saying what was inferred, and give PyTorch's
// logits.
func TestInferArch(t *testing.T) {
	dir, models := golden.Dir(t), golden.Manifest(t)
	for _, m := range models {
		t.Run(m.Name, func(t *testing.T) {
			want, err := npy.ReadFile(filepath.Join(dir, m.Files["logits"]))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.npy")
			_, stderr, code := mnc(t, "run", filepath.Join(dir, m.Files["pth"]), "--tensor", filepath.Join(dir, m.Files["input"]),
				"--resolution", fmt.Sprint(m.Resolution), "--save-output", out)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			note := fmt.Sprintf("mnc: inferred --arch %s --width %s --classes %d", m.Arch, strconv.FormatFloat(m.Width, 'f', -1, 64), m.Classes)
			if m.ReducedTail {
				note += " --reduced-tail"
			}
			if stderr != note+"\n" {
				t.Errorf("stderr %q, want %q", stderr, note+"\n")
			}
			got, err := npy.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if rel := relDiff(t, got, want); rel > 1e-4 {
				t.Errorf("relative difference %.2e > 1e-4", rel)
			}
			// With every flag given nothing is inferred, and nothing said.
			if _, stderr, _ := mnc(t, append([]string{"inspect", filepath.Join(dir, m.Files["pth"])}, archFlags(m)...)...); stderr != "" {
				t.Errorf("explicit flags: stderr %q", stderr)
			}
		})
	}
}

// TestSharedReference: the real ImageNet models reproduce the reference
// logits of ONNX Runtime and PyTorch, on the float reference interpreter
// (the model file itself) and compiled to a float32 .mnc file (the
// runtime's float32 kernels, every variant this CPU runs: identical bytes).
func TestSharedReference(t *testing.T) {
	shared := golden.Shared(t)
	ref := filepath.Join(shared, "models", "reference")
	cases := []struct {
		model, name string
		extra       []string
	}{
		{"mobilenet_v2_1.0_224.onnx", "mobilenet_v2_1.0_224", nil},
		{"mobilenet_v1_0.25_128.onnx", "mobilenet_v1_0.25_128", nil},
		{"mobilenet_v2_1.0_224_tv.pth", "mobilenet_v2_1.0_224_tv", []string{"--arch", "mobilenet_v2", "--classes", "1001"}},
		// The uint8 TFLite originals of the ONNX files, loaded as float.
		{"tflite/mobilenet_v2_1.0_224_quant.tflite", "mobilenet_v2_1.0_224", nil},
		{"tflite/mobilenet_v1_0.25_128_quant.tflite", "mobilenet_v1_0.25_128", nil},
	}
	for _, c := range cases {
		for _, img := range []string{"grace_hopper", "parrot"} {
			t.Run(filepath.Base(c.model)+"/"+img, func(t *testing.T) {
				inName := strings.TrimSuffix(c.name, "_tv") // the _tv model has the ONNX V2's input
				input := filepath.Join(ref, inName+"."+img+".input.npy")
				want, err := npy.ReadFile(filepath.Join(ref, c.name+"."+img+".logits.npy"))
				if err != nil {
					t.Fatal(err)
				}
				model := filepath.Join(shared, "models", c.model)
				f32 := filepath.Join(t.TempDir(), "model.mnc")
				mustRun(t, append([]string{"compile", model, "--quant", "float32", "-o", f32}, c.extra...)...)
				interp := runTensor(t, model, input, c.extra...)
				rel := relDiff(t, interp, want)
				t.Logf("%s on %s, reference interpreter: max|diff| / max|logit| = %.2e", c.model, img, rel)
				if rel > 1e-4 {
					t.Errorf("reference interpreter: relative difference %.2e > 1e-4", rel)
				}
				// The float32 file on every kernel variant: the same bytes,
				// within 1e-5 of the reference interpreter and 1e-4 of
				// the peers.
				var first *npy.Array
				for _, k := range kernels.Available() {
					got := runTensor(t, f32, input, "--kernels", k)
					if first == nil {
						first = got
					} else if !sameFloatBits(got.Data, first.Data) {
						t.Errorf("float32 .mnc: the %s kernels' logits differ from the %s kernels'", k, kernels.Available()[0])
					}
					rel, ri := relDiff(t, got, want), relDiff(t, got, interp)
					t.Logf("%s on %s, float32 .mnc (%s): max|diff| / max|logit| = %.2e (reference interpreter: %.2e)", c.model, img, k, rel, ri)
					if rel > 1e-4 || ri > 1e-5 {
						t.Errorf("float32 .mnc (%s): relative difference %.2e > 1e-4, or %.2e > 1e-5 from the reference interpreter", k, rel, ri)
					}
				}
			})
		}
	}
}

// TestSharedEvalTop1: `mnc run` on ../shared/images/eval prints the top-1
// labels of the models README.
func TestSharedEvalTop1(t *testing.T) {
	shared := golden.Shared(t)
	want := map[string][3]int{ // image -> v2 onnx, v2 pth, v1 onnx
		"bird.bmp": {20, 20, 20}, "cat.bmp": {286, 286, 286}, "cat_test_0.bmp": {283, 282, 286},
		"dog_test_0.bmp": {203, 203, 171}, "dragonfly.bmp": {320, 320, 301}, "grace_hopper.bmp": {653, 653, 401},
		"hot_dog.jpg": {935, 935, 39}, "hotdog_test_0.bmp": {935, 935, 935}, "parrot.jpg": {89, 89, 89},
		"sunflower.bmp": {986, 986, 986},
	}
	models := [][]string{
		{"mobilenet_v2_1.0_224.onnx"},
		{"mobilenet_v2_1.0_224_tv.pth", "--arch", "mobilenet_v2", "--classes", "1001"},
		{"mobilenet_v1_0.25_128.onnx"},
	}
	images, err := filepath.Glob(filepath.Join(shared, "images", "eval", "*"))
	if err != nil || len(images) != len(want) {
		t.Fatalf("eval images: %v %v", images, err)
	}
	labels := filepath.Join(shared, "models", "imagenet_labels.txt")
	for mi, m := range models {
		t.Run(m[0], func(t *testing.T) {
			args := append([]string{"run", filepath.Join(shared, "models", m[0]), "--preprocess", "tf",
				"--labels", labels, "--top", "1", "--json"}, m[1:]...)
			stdout, stderr, code := mnc(t, append(args, images...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var results []struct {
				Input string
				Top   []struct {
					Index int
					Label string
				}
			}
			if err := json.Unmarshal([]byte(stdout), &results); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			for _, r := range results {
				img := filepath.Base(r.Input)
				if got := r.Top[0].Index; got != want[img][mi] {
					t.Errorf("%s: top-1 %d (%s), want %d", img, got, r.Top[0].Label, want[img][mi])
				}
			}
		})
	}
}

// TestBadInput: every kind of bad input ends with one clear line on stderr
// and exit status 1, never a panic.
func TestBadInput(t *testing.T) {
	dir, models := golden.Dir(t), golden.Manifest(t)
	tmp := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var v3s golden.Model
	for _, m := range models {
		if m.Arch == "mobilenet_v3_small" && !m.ReducedTail {
			v3s = m
		}
	}
	onnxFile, pthFile, input := v3s.Files["onnx_opset17"], v3s.Files["pth"], filepath.Join(dir, v3s.Files["input"])
	truncOnnx := write("trunc.onnx", read(onnxFile)[:len(read(onnxFile))/2])
	truncPth := write("trunc.pth", read(pthFile)[:len(read(pthFile))/2])
	notModel := write("notes.onnx", []byte("these are not the weights you are looking for\n"))
	notImage := write("picture.jpg", []byte("plain text"))
	evil := filepath.Join(golden.RepoRoot(t), "frontend", "torch", "testdata", "malicious_global.pt")
	notMobileNet := filepath.Join(golden.RepoRoot(t), "frontend", "torch", "testdata", "plain_dict.pt")
	flags := archFlags(v3s)
	labels := write("labels.txt", []byte(strings.Repeat("class\n", v3s.Classes+1)))
	png := write("x.png", tinyPNG(t))
	f32 := filepath.Join(tmp, "f32.mnc")
	if _, stderr, code := mnc(t, "compile", filepath.Join(dir, onnxFile), "--quant", "float32", "--preprocess", "tf", "-o", f32); code != 0 {
		t.Fatalf("compile: %s", stderr)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"labels of another length", []string{"run", filepath.Join(dir, onnxFile), "--labels", labels, png}, fmt.Sprintf("has %d labels but the model has %d classes", v3s.Classes+1, v3s.Classes)},
		{"preprocessing override", []string{"run", f32, "--preprocess", "torchvision", png}, "--force-preprocess"},
		{"mistyped flag", []string{"compile", "--calib-methd", "x"}, "did you mean --calib-method?"},
		{"missing argument", []string{"run"}, "requires at least 1 arg"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"bad flag value", []string{"run", f32, "--top", "many"}, "--top"},
		{"mean with tf", []string{"compile", filepath.Join(dir, onnxFile), "-o", filepath.Join(tmp, "m.mnc"), "--preprocess", "tf", "--mean", "1,2,3"}, "--mean, --std and --scale are for --preprocess torchvision"},
		{"bad std", []string{"compile", filepath.Join(dir, onnxFile), "-o", filepath.Join(tmp, "m.mnc"), "--std", "1,2"}, "--std \"1,2\": want three"},
		{"statistics override", []string{"run", f32, "--preprocess", "torchvision", "--mean", "0.4,0.4,0.4", png}, "--force-preprocess"},
		// f32 records tf: flags change what it records, and tf has no mean.
		{"statistics on tf", []string{"run", f32, "--mean", "0.4,0.4,0.4", png}, "--mean, --std and --scale are for --preprocess torchvision"},
		{"missing file", []string{"run", filepath.Join(tmp, "nope.onnx"), "--tensor", input}, "no such file"},
		{"unknown format", []string{"run", write("model.h5", []byte("x")), "--tensor", input}, "unknown model format"},
		{"not a model", []string{"run", notModel, "--tensor", input}, notModel},
		{"truncated onnx", []string{"run", truncOnnx, "--tensor", input}, truncOnnx},
		{"truncated checkpoint", append([]string{"run", truncPth, "--tensor", input}, flags...), truncPth},
		{"checkpoint of no MobileNet", []string{"run", notMobileNet, "--tensor", input},
			`the checkpoint matches no built-in MobileNet; the checkpoint has no features.0.0.weight (first key "w")`},
		{"wrong width", append([]string{"run", filepath.Join(dir, pthFile), "--tensor", input}, append(flags, "--width", "1.0")...),
			"--width 1.0 does not match the checkpoint, which is mobilenet_v3_small width 0.15 with 10 classes (features.0.0.weight: checkpoint has"},
		{"wrong classes", append([]string{"run", filepath.Join(dir, pthFile), "--tensor", input}, append(flags, "--classes", "7")...),
			"--classes 7 does not match the checkpoint, which is mobilenet_v3_small width 0.15 with 10 classes (classifier.3.weight: checkpoint has [10,152]"},
		{"wrong arch", append([]string{"run", filepath.Join(dir, pthFile), "--tensor", input}, append(flags, "--arch", "mobilenet_v2")...),
			"--arch mobilenet_v2 does not match the checkpoint, which is mobilenet_v3_small width 0.15 with 10 classes (missing key features.1.conv.0.0.weight"},
		{"wrong tail", append([]string{"run", filepath.Join(dir, pthFile), "--tensor", input}, append(flags, "--reduced-tail")...),
			"--reduced-tail does not match the checkpoint"},
		{"evil pickle", append([]string{"run", evil, "--tensor", input}, flags...), "refused"},
		{"not an image", []string{"run", filepath.Join(dir, onnxFile), notImage}, notImage},
		{"tensor of wrong size", []string{"run", filepath.Join(dir, onnxFile), "--tensor", filepath.Join(dir, models[0].Files["input"])}, "shape"},
		{"unknown arch", []string{"inspect", "--arch", "resnet50"}, "resnet50"},
		{"no input", []string{"run", filepath.Join(dir, onnxFile)}, "--tensor"},
		{"calibration flag without images", []string{"compile", filepath.Join(dir, "v2.qdq.onnx"), "--quant", "int8", "--calib-method", "entropy", "-o", filepath.Join(tmp, "m.mnc")},
			"--calib-method works on calibration images: give --calib DIR"},
		{"calibration flag without images", []string{"compile", filepath.Join(dir, "v2.qdq.onnx"), "--quant", "int8", "--weight-rounding", "output", "-o", filepath.Join(tmp, "m.mnc")},
			"--weight-rounding works on calibration images: give --calib DIR"},
		{"float model without images", []string{"compile", filepath.Join(dir, onnxFile), "--quant", "int8", "--preprocess", "tf", "-o", filepath.Join(tmp, "m.mnc")},
			"--quant int8 needs calibration images: --calib DIR (the model file states no activation ranges to use instead)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := mnc(t, c.args...)
			want := 1
			switch c.name {
			case "mistyped flag", "missing argument", "unknown command", "bad flag value", "mean with tf", "bad std", "statistics on tf", "calibration flag without images":
				want = 2 // usage errors
			}
			if code != want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, want, stderr)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "mnc: ") {
				t.Errorf("stderr is not one line starting with \"mnc: \":\n%s", stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not mention %q", stderr, c.want)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Errorf("Go stack on stderr:\n%s", stderr)
			}
		})
	}
}

// TestInspectArch: the parameter and MAC counts torchvision reports.
func TestInspectArch(t *testing.T) {
	cases := []struct {
		args         []string
		params, macs float64
	}{
		{[]string{"--arch", "mobilenet_v3_large"}, 5.48e6, 217e6},
		{[]string{"--arch", "mobilenet_v2"}, 3.50e6, 301e6},
		{[]string{"--arch", "mobilenet_v3_small"}, 2.54e6, 56.5e6},
		{[]string{"--arch", "mobilenet_v1"}, 4.23e6, 569e6},
	}
	for _, c := range cases {
		stdout, stderr, code := mnc(t, append([]string{"inspect", "--json"}, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: %s", c.args, stderr)
		}
		var s struct {
			Params, MACs float64
			Inputs       []struct {
				Name  string `json:"name"`
				Shape []int  `json:"shape"`
			} `json:"inputs"`
			Layers []struct {
				Shape []int `json:"shape"`
			} `json:"layers"`
		}
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatal(err) // shapes are arrays of numbers
		}
		if len(s.Inputs) != 1 || len(s.Inputs[0].Shape) != 4 || s.Inputs[0].Shape[1] != 3 || len(s.Layers) == 0 || len(s.Layers[0].Shape) != 4 {
			t.Errorf("%v: inputs %+v, %d layers", c.args, s.Inputs, len(s.Layers))
		}
		t.Logf("%v: %.4gM params, %.4gM MACs", c.args, s.Params/1e6, s.MACs/1e6)
		if math.Abs(s.Params/c.params-1) > 0.01 || math.Abs(s.MACs/c.macs-1) > 0.01 {
			t.Errorf("%v: %.0f params, %.0f MACs; want %.3g and %.3g within 1%%", c.args, s.Params, s.MACs, c.params, c.macs)
		}
	}
}

// TestCompileInt8: `mnc compile --quant int8` calibrates, quantizes and
// reports; the JSON report carries the figures.
func TestCompileInt8(t *testing.T) {
	shared := golden.Shared(t)
	report := filepath.Join(t.TempDir(), "report.json")
	stdout, stderr, code := mnc(t, "compile", filepath.Join(shared, "models", "mobilenet_v1_0.25_128.onnx"),
		"--quant", "int8", "--calib", filepath.Join(shared, "images", "calib"), "--preprocess", "tf",
		"--eval", filepath.Join(shared, "images", "eval"), "--report-images", "4", "--report-json", report)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"calibration: 37 images", "eval images (10)", "per-layer SQNR"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Method string `json:"method"`
		Eval   struct {
			Images     int     `json:"images"`
			LogitsSQNR float64 `json:"logits_sqnr_db"`
			Top1Agree  int     `json:"top1_agree"`
		} `json:"eval"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("mobilenet_v1_0.25_128 int8 (%s): eval %d/%d top-1, %.2f dB", rep.Method, rep.Eval.Top1Agree, rep.Eval.Images, rep.Eval.LogitsSQNR)
	if rep.Eval.Images != 10 || rep.Eval.Top1Agree < 9 || rep.Eval.LogitsSQNR < 15 {
		t.Errorf("eval figures %+v", rep.Eval)
	}

	// --json: the quality report, and only it, on stdout; a quality gate
	// missed exits 3 and writes nothing.
	gated := filepath.Join(t.TempDir(), "gated.mnc")
	stdout, stderr, code = mnc(t, "compile", filepath.Join(shared, "models", "mobilenet_v1_0.25_128.onnx"),
		"--quant", "int8", "--calib", filepath.Join(shared, "images", "calib"), "--preprocess", "tf", "--calib-images", "4",
		"--json", "--min-sqnr", "99", "-o", gated)
	var js struct {
		Calib struct {
			MedianSQNR float64 `json:"median_sqnr_db"`
		} `json:"calib"`
	}
	if err := json.Unmarshal([]byte(stdout), &js); err != nil || js.Calib.MedianSQNR == 0 {
		t.Errorf("--json: %v\n%s", err, stdout)
	}
	if _, err := os.Stat(gated); code != 3 || !strings.Contains(stderr, "--min-sqnr 99") || err == nil {
		t.Errorf("--min-sqnr 99: exit %d (want 3), file written %v: %s", code, err == nil, stderr)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compile", filepath.Join(shared, "models", "mobilenet_v1_0.25_128.onnx"), "--quant", "int8"}, "--calib DIR"},
		{[]string{"compile", filepath.Join(shared, "models", "mobilenet_v1_0.25_128.onnx"), "--quant", "int4"}, "int4"},
		{[]string{"compile", filepath.Join(shared, "models", "mobilenet_v1_0.25_128.onnx"), "--quant", "int8",
			"--calib", filepath.Join(shared, "images", "calib"), "--calib-method", "magic"}, "magic"},
		{[]string{"compile", filepath.Join(shared, "models", "mobilenet_v1_0.25_128.onnx"), "--quant", "int8",
			"--calib", filepath.Join(shared, "images", "calib"), "--weight-rounding", "up"}, `--weight-rounding "up": want auto, nearest or output`},
		{[]string{"compile", filepath.Join(shared, "models", "mobilenet_v1_0.25_128.onnx"), "--quant", "int8",
			"--calib", t.TempDir()}, "no"},
	} {
		_, stderr, code := mnc(t, c.args...)
		if code != 1 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q (want one line mentioning %q)", c.args[3:], code, stderr, c.want)
		}
	}
}

// tinyPNG is an 8x8 PNG image.
func tinyPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBatchFollowsTensor: an ONNX file exported with a fixed batch of 1 runs
// an N-item tensor item by item (the same logits as one by one), and a
// checkpoint is built at the tensor's resolution without --resolution.
func TestBatchFollowsTensor(t *testing.T) {
	shared := golden.Shared(t)
	tmp := t.TempDir()
	x := make([]float32, 2*3*224*224)
	for i := range x {
		x[i] = float32(i%255)/127.5 - 1
	}
	two, one := filepath.Join(tmp, "two.npy"), filepath.Join(tmp, "one.npy")
	if err := npy.WriteFile(two, &npy.Array{Shape: []int{2, 3, 224, 224}, Data: x}); err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteFile(one, &npy.Array{Shape: []int{1, 3, 224, 224}, Data: x[3*224*224:]}); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(shared, "models", "mobilenet_v2_1.0_224.onnx")
	a, b := filepath.Join(tmp, "a.npy"), filepath.Join(tmp, "b.npy")
	mustRun(t, "run", model, "--tensor", two, "--save-output", a)
	mustRun(t, "run", model, "--tensor", one, "--save-output", b)
	ra, err := npy.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := npy.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ra.Shape) != 2 || ra.Shape[0] != 2 || !sameFloatBits(ra.Data[len(ra.Data)/2:], rb.Data) {
		t.Errorf("batch of 2 on a batch-1 ONNX file: shape %v, second item differs from its own run", ra.Shape)
	}
	// A checkpoint at the tensor's size (the golden V3-Small is 80x80).
	dir := golden.Dir(t)
	for _, m := range golden.Manifest(t) {
		if m.Name == "v3s" {
			out := mustRun(t, "run", filepath.Join(dir, m.Files["pth"]), "--tensor", filepath.Join(dir, m.Files["input"]), "--top", "1")
			if !strings.Contains(out, "[0]") {
				t.Errorf("checkpoint at the tensor's resolution:\n%s", out)
			}
		}
	}
}

// TestCustomStats: --mean/--std replace the torchvision preset's ImageNet
// statistics, are recorded in the model file, and mnc run uses them.
func TestCustomStats(t *testing.T) {
	dir, tmp := golden.Dir(t), t.TempDir()
	var onnx string
	for _, m := range golden.Manifest(t) {
		if m.Name == "v3s" {
			onnx = filepath.Join(dir, m.Files["onnx_opset17"])
		}
	}
	out := filepath.Join(tmp, "m.mnc")
	mustRun(t, "compile", onnx, "-o", out, "--quant", "float32", "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25")
	if s := mustRun(t, "inspect", out); !strings.Contains(s, "preprocessing torchvision 80x80 (mean [0.5 0.5 0.5], std [0.25 0.25 0.25])") {
		t.Errorf("the statistics are not recorded:\n%s", s)
	}
	png := filepath.Join(tmp, "x.png")
	if err := os.WriteFile(png, tinyPNG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	a := mustRun(t, "run", out, "--top", "1", png)
	b := mustRun(t, "run", out, "--top", "1", "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25", png) // the recorded ones: fine
	c := mustRun(t, "run", out, "--top", "1", "--force-preprocess", "--std", "0.5,0.5,0.5", png)
	if a != b || a == c {
		t.Errorf("runs with the recorded, the same and other statistics:\n%s\n%s\n%s", a, b, c)
	}
}

// TestCustomPreprocess: --scale, --resize, --crop and --channels are
// recorded in the model and used by mnc run; spelling out the tf preset's
// steps as custom torchvision preprocessing gives the tf model's logits bit
// for bit; a run with other steps than the recorded ones is an error unless
// forced, and flags given to a .mnc file change only what they name.
func TestCustomPreprocess(t *testing.T) {
	onnx, tmp := goldenFile(t, "mobilenet_v3_small", "onnx_opset17"), t.TempDir()
	png := filepath.Join(tmp, "x.png")
	if err := os.WriteFile(png, tinyPNG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	tf, spelled, custom := filepath.Join(tmp, "tf.mnc"), filepath.Join(tmp, "spelled.mnc"), filepath.Join(tmp, "custom.mnc")
	mustRun(t, "compile", onnx, "-o", tf, "--quant", "float32", "--preprocess", "tf")
	mustRun(t, "compile", onnx, "-o", spelled, "--quant", "float32", "--scale", "127.5", "--mean", "1,1,1", "--std", "1,1,1", "--resize", "stretch")
	mustRun(t, "compile", onnx, "-o", custom, "--quant", "float32", "--preprocess", "tf", "--crop", "0.875", "--channels", "bgr", "--resize", "90")
	if s := mustRun(t, "inspect", custom); !strings.Contains(s, "preprocessing tf 80x80 (mean [0.5 0.5 0.5], std [0.5 0.5 0.5], central crop 0.875, shorter side resized to 90, center crop, BGR)") {
		t.Errorf("the custom preprocessing is not recorded:\n%s", s)
	}
	logits := func(model string, extra ...string) []float32 {
		t.Helper()
		out := filepath.Join(tmp, "logits.npy")
		mustRun(t, append([]string{"run", model, "--save-output", out, png}, extra...)...)
		a, err := npy.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return a.Data
	}
	if !sameFloatBits(logits(tf), logits(spelled)) {
		t.Error("tf's steps spelled out as torchvision's give other logits than tf")
	}
	c := logits(custom)
	if sameFloatBits(c, logits(tf)) {
		t.Error("the custom preprocessing changed nothing")
	}
	// The recorded steps, named again, are the recorded steps.
	if !sameFloatBits(c, logits(custom, "--crop", "0.875", "--preprocess", "tf")) {
		t.Error("naming the recorded crop changed the logits")
	}
	// The tf file run with the custom file's steps, forced, is the custom file.
	if !sameFloatBits(c, logits(tf, "--force-preprocess", "--crop", "0.875", "--channels", "bgr", "--resize", "90")) {
		t.Error("forced custom steps on the tf file differ from the custom file")
	}
	_, stderr, code := mnc(t, "run", custom, "--channels", "rgb", png)
	if code != 1 || !strings.Contains(stderr, "differs from the one") || !strings.Contains(stderr, "central crop 0.875, shorter side resized to 90, center crop)") {
		t.Errorf("another channel order: exit %d, %s", code, stderr)
	}
	for _, bad := range [][]string{
		{"--resize", "0"}, {"--resize", "fit"}, {"--crop", "224"}, {"--crop", "0"}, {"--crop", "-1"},
		{"--channels", "rgba"}, {"--scale", "0"}, {"--scale", "nan"}, {"--preprocess", "tf", "--scale", "2"},
	} {
		if _, stderr, code := mnc(t, append([]string{"compile", onnx, "--quant", "float32", "-o", filepath.Join(tmp, "bad.mnc")}, bad...)...); code != 2 || !strings.Contains(stderr, bad[len(bad)-2]) {
			t.Errorf("compile %v: exit %d, %s", bad, code, stderr)
		}
	}
}
