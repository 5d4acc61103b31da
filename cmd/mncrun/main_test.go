package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/demo"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// fixture is an int8 model compiled for amd64-vnni from the golden
// MobileNetV3-Small (80x80, 10 classes), the same model compiled for rpi5
// (arm64-dotprod), and generated images.
type fixture struct {
	dir    string
	model  string   // the .mnc file (amd64-vnni)
	rpi5   string   // the same model, target rpi5
	odd    string   // the same model, labels holding terminal escapes
	images []string // images to classify
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
	fixDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

func getFixture(t *testing.T) fixture {
	t.Helper()
	fixOnce.Do(func() {
		fixDir, fixErr = os.MkdirTemp("", "mncrun-test-")
		if fixErr != nil {
			return
		}
		fix, fixErr = buildFixture(fixDir)
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func buildFixture(dir string) (fixture, error) {
	const res = 80
	calib := filepath.Join(dir, "calib")
	if err := demo.WriteDataset(calib, 8, 7, res); err != nil {
		return fixture{}, err
	}
	g, err := frontend.Load("../../testdata/golden/v3s.opset17.onnx", frontend.Options{})
	if err != nil {
		return fixture{}, err
	}
	f, err := quant.Prepare(g)
	if err != nil {
		return fixture{}, err
	}
	spec, err := preprocess.Default(preprocess.TF, res, res)
	if err != nil {
		return fixture{}, err
	}
	q, _, err := quant.CompilePrepared(f, calib, quant.Options{Images: 8, Preprocess: spec})
	if err != nil {
		return fixture{}, err
	}
	blob, err := codegen.Build(q, codegen.Options{Target: "amd64-vnni", Producer: "test", Labels: demo.Classes})
	if err != nil {
		return fixture{}, err
	}
	model := filepath.Join(dir, "v3s.mnc")
	if err := os.WriteFile(model, blob, 0o644); err != nil {
		return fixture{}, err
	}
	if blob, err = codegen.Build(q, codegen.Options{Target: "rpi5", Producer: "test", Labels: demo.Classes}); err != nil {
		return fixture{}, err
	}
	rpi5 := filepath.Join(dir, "v3s-rpi5.mnc")
	if err := os.WriteFile(rpi5, blob, 0o644); err != nil {
		return fixture{}, err
	}
	odd := make([]string, len(demo.Classes))
	for i, c := range demo.Classes {
		odd[i] = c + "\x1b[31m\n"
	}
	if blob, err = codegen.Build(q, codegen.Options{Producer: "test", Labels: odd}); err != nil {
		return fixture{}, err
	}
	oddModel := filepath.Join(dir, "v3s-odd.mnc")
	if err := os.WriteFile(oddModel, blob, 0o644); err != nil {
		return fixture{}, err
	}
	images := filepath.Join(dir, "images")
	if err := demo.WriteDataset(images, 4, 9001, 96); err != nil {
		return fixture{}, err
	}
	pngs, err := filepath.Glob(filepath.Join(images, "*.png"))
	if err != nil || len(pngs) == 0 {
		return fixture{}, err
	}
	return fixture{dir: dir, model: model, rpi5: rpi5, odd: oddModel, images: pngs}, nil
}

// TestDependencies: the runner links the runtime only.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const mod = "github.com/mncdev/mnc/"
	for _, d := range strings.Fields(string(out)) {
		for _, banned := range []string{mod + "ir", mod + "passes", mod + "quant", mod + "frontend", mod + "codegen", mod + "targets", "github.com/spf13/cobra", "github.com/spf13/pflag"} {
			if d == banned || strings.HasPrefix(d, banned+"/") {
				t.Errorf("mncrun depends on %s", d)
			}
		}
	}
}

func TestRun(t *testing.T) {
	fx := getFixture(t)
	save := filepath.Join(t.TempDir(), "out.bin")
	var out bytes.Buffer
	args := append([]string{"-top", "2", "-raw", "-save", save, fx.model}, fx.images...)
	if err := run(args, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	t.Logf("\n%s", s)
	for _, img := range fx.images {
		if !strings.Contains(s, img) {
			t.Errorf("output lacks %s", img)
		}
	}
	found := false
	for _, c := range demo.Classes {
		found = found || strings.Contains(s, c)
	}
	if !found {
		t.Error("output names no class label")
	}
	b, err := os.ReadFile(save)
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 * 10 * len(fx.images); len(b) != want {
		t.Errorf("-save wrote %d bytes, want %d", len(b), want)
	}
}

func TestBench(t *testing.T) {
	fx := getFixture(t)
	var out bytes.Buffer
	if err := run([]string{"-bench", "-runs", "3", fx.model}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "median ") || !strings.Contains(out.String(), "target amd64-vnni") {
		t.Errorf("unexpected -bench output:\n%s", out.String())
	}
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(nil, &out); err == nil {
		t.Error("no arguments: no error")
	}
	fx := getFixture(t)
	if err := run([]string{"-kernels", "nosuch", fx.model, fx.images[0]}, &out); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown kernel variant: %v", err)
	}
}

// TestFlagsAfterModel: -model lets flags follow (as run.sh passes them),
// -json prints what -top prints, and bad values are usage errors.
func TestFlagsAfterModel(t *testing.T) {
	fx := getFixture(t)
	var plain, js bytes.Buffer
	if err := run([]string{"-top", "1", "-threads", "2", fx.model, fx.images[0]}, &plain); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-model", fx.model, fx.images[0], "-json", "-top", "1"}, &js); err != nil {
		t.Fatal(err)
	}
	var res []struct {
		Input string          `json:"input"`
		Top   []runtime.Class `json:"top"`
	}
	if err := json.Unmarshal(js.Bytes(), &res); err != nil || len(res) != 1 || len(res[0].Top) != 1 || res[0].Input != fx.images[0] {
		t.Fatalf("-json: %v\n%s", err, js.String())
	}
	if want := fmt.Sprintf("%5d  %6.2f%%", res[0].Top[0].Index, 100*res[0].Top[0].Prob); !strings.Contains(plain.String(), want) {
		t.Errorf("-json %+v does not match the text output\n%s", res[0].Top[0], plain.String())
	}
	for _, args := range [][]string{{"-top", "0", fx.model, fx.images[0]}, {"-threads", "0", fx.model, fx.images[0]}, {"-model", fx.model}, {"-frob"}} {
		var u usageError
		if err := run(args, &plain); !errors.As(err, &u) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	var v bytes.Buffer
	if err := run([]string{"-version"}, &v); err != nil || !strings.HasPrefix(v.String(), "mncrun (module ") {
		t.Errorf("-version: %v %q", err, v.String())
	}
}

// TestTargetModelRunsAnywhere: a model compiled for amd64-vnni records its
// target, loads and runs with the generic kernels (MNC_KERNELS=generic), and
// gives the same logits, bit for bit, as the best kernels of this CPU.
func TestTargetModelRunsAnywhere(t *testing.T) {
	fx := getFixture(t)
	logits := func(kern string) []float32 {
		t.Helper()
		t.Setenv("MNC_KERNELS", kern)
		m, err := runtime.Open(fx.model)
		if err != nil {
			t.Fatalf("MNC_KERNELS=%s: %v", kern, err)
		}
		defer m.Close()
		if m.Info().Target != "amd64-vnni" {
			t.Errorf("target %q, want amd64-vnni", m.Info().Target)
		}
		if kern != "" && m.Info().Kernels != kern {
			t.Errorf("MNC_KERNELS=%s: kernels %q", kern, m.Info().Kernels)
		}
		it, err := m.NewInterpreter()
		if err != nil {
			t.Fatal(err)
		}
		out, err := it.RunFile(fx.images[0])
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), out.Data...)
	}
	if !slices.Contains(kernels.Available(), "vnni") {
		// -tags purego, or a CPU without AVX-512 VNNI: forcing it is an error.
		if _, err := runtime.OpenWith(fx.model, runtime.Options{Kernels: "vnni"}); err == nil || !strings.Contains(err.Error(), `"vnni"`) {
			t.Errorf("forcing vnni where it is unavailable: %v", err)
		} else {
			t.Log(err)
		}
	}
	gen, best := logits("generic"), logits("")
	for i := range gen {
		if gen[i] != best[i] {
			t.Fatalf("logit %d: generic %v, best kernels %v", i, gen[i], best[i])
		}
	}
}

// TestBadFlags: explicit zero, negative or empty values are errors naming
// the flag, and a failed run leaves no -save file behind.
func TestBadFlags(t *testing.T) {
	fx := getFixture(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-top", "-5", fx.model, fx.images[0]}, "-top -5"},
		{[]string{"-top", "0", fx.model, fx.images[0]}, "-top 0"},
		{[]string{"-threads", "0", fx.model, fx.images[0]}, "-threads 0"},
		{[]string{"-bench", "-runs", "0", fx.model}, "-runs 0"},
		{[]string{"-bench", "-runs", "2000000000", fx.model}, "-runs 2000000000"},
		{[]string{"-save", "", fx.model, fx.images[0]}, "-save: empty path"},
		{[]string{"-model", "", fx.images[0]}, "-model: empty path"},
		{[]string{fx.model, ""}, "image path is empty"},
	} {
		var out bytes.Buffer
		err := run(c.args, &out)
		var u usageError
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &u) {
			t.Errorf("mncrun %q: %v, want a usage error mentioning %q", c.args, err, c.want)
		}
	}
	dir := t.TempDir()
	save := filepath.Join(dir, "out.bin")
	missing := filepath.Join(dir, "missing.png")
	if err := run([]string{"-save", save, fx.model, fx.images[0], missing}, new(bytes.Buffer)); err == nil {
		t.Fatal("a missing image accepted")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a failed run left %v behind", ents)
	}
	// A -save path that is not a regular file is refused.
	if err := run([]string{"-save", dir, fx.model, fx.images[0]}, new(bytes.Buffer)); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("-save DIR: %v", err)
	}
}

// TestEscapedOutput: an image path or a label with a terminal escape is
// printed quoted, in the results and in errors.
func TestEscapedOutput(t *testing.T) {
	fx := getFixture(t)
	data, err := os.ReadFile(fx.images[0])
	if err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(t.TempDir(), "a\x1b[2Jb.png")
	if err := os.WriteFile(odd, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{fx.model, odd}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\x1b") || !strings.Contains(out.String(), `a\x1b[2Jb.png`) {
		t.Errorf("output holds the raw name:\n%q", out.String())
	}
	if err := run([]string{fx.model, odd + ".missing"}, &out); err == nil || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("error holds the raw name: %q", err)
	}
	out.Reset()
	if err := run([]string{"-top", "3", fx.odd, fx.images[0]}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\x1b") || strings.Count(out.String(), `\x1b[31m\n"`) != 3 {
		t.Errorf("labels printed raw:\n%q", out.String())
	}
}

// TestRunDetector: the runner prints a detector's boxes (testdata/det's
// SSDLite compiled to float32) as mnc run does, on a photo: those at or
// above -min-score, at most -top, best first; -raw and a bad -min-score
// are usage errors.
func TestRunDetector(t *testing.T) {
	model := filepath.Join(t.TempDir(), "ssd.mnc")
	if _, err := compile.Run(compile.Options{Model: "../../testdata/det/ssdlite.pth", Output: model,
		Preprocess: preprocess.Spec{Preset: preprocess.Torchvision}}); err != nil {
		t.Fatal(err)
	}
	// A photo of three coloured quarters on black (the CLI tests' kind).
	img := image.NewRGBA(image.Rect(0, 0, 480, 480))
	for y := 240; y < 480; y++ {
		for x := range 480 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 240 {
				c = color.RGBA{0, 0, 255, 255}
			}
			if x >= 360 {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var pb bytes.Buffer
	if err := png.Encode(&pb, img); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(filepath.Dir(model), "photo.png")
	if err := os.WriteFile(photo, pb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"-min-score", "0", "-top", "2", model, photo}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || lines[0] != photo || len(strings.Fields(lines[1])) != 6 {
		t.Errorf("output:\n%s", out.String())
	}
	out.Reset()
	if err := run([]string{"-json", "-min-score", "1", model, photo}, &out); err != nil || !strings.Contains(out.String(), `"boxes": []`) {
		t.Errorf("-json -min-score 1: %v\n%s", err, out.String())
	}
	for _, args := range [][]string{{"-raw", model, photo}, {"-min-score", "-1", model, photo}} {
		if err := run(args, &out); err == nil || !errors.As(err, new(usageError)) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
