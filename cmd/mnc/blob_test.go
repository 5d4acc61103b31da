package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
)

// calibImages writes a few synthetic PNG images for calibrating the
// testdata models (any image will do for a round trip).
func calibImages(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for k := range 2 {
		img := image.NewRGBA(image.Rect(0, 0, 96, 80))
		for y := range 80 {
			for x := range 96 {
				img.Set(x, y, color.RGBA{uint8(x * 2 * (k + 1)), uint8(y * 3), uint8((x + y) * (k + 2)), 255})
			}
		}
		f, err := os.Create(filepath.Join(dir, "img"+string(rune('a'+k))+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return dir
}

// onnxFile is a golden model's ONNX export (opset 17 if there is one).
func onnxFile(m golden.Model) string {
	for _, k := range []string{"onnx_opset17", "onnx_opset11"} {
		if f, ok := m.Files[k]; ok {
			return f
		}
	}
	return ""
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, code := mnc(t, args...)
	if code != 0 {
		t.Fatalf("mnc %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// TestCompileRunBlob: every testdata model compiles to an int8 and a
// float32 .mnc file, which mnc run executes; the float32 file reproduces
// PyTorch's logits, the int8 one runs and gives finite logits of the
// right shape, and mnc inspect reports the arena and the calibration.
func TestCompileRunBlob(t *testing.T) {
	dir, models := golden.Dir(t), golden.Manifest(t)
	calib := calibImages(t)
	for _, m := range models {
		file := onnxFile(m)
		if file == "" {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			tmp := t.TempDir()
			src := filepath.Join(dir, file)
			input := filepath.Join(dir, m.Files["input"])
			want, err := npy.ReadFile(filepath.Join(dir, m.Files["logits"]))
			if err != nil {
				t.Fatal(err)
			}
			f32 := filepath.Join(tmp, "f32.mnc")
			out := mustRun(t, "compile", src, "-o", f32, "--quant", "float32")
			if !strings.Contains(out, "wrote "+f32) {
				t.Errorf("compile output lacks the written line:\n%s", out)
			}
			got := runTensor(t, f32, input)
			if rel := relDiff(t, got, want); rel > 1e-4 {
				t.Errorf("float32 file: relative difference %.2e > 1e-4", rel)
			}

			i8 := filepath.Join(tmp, "int8.mnc")
			mustRun(t, "compile", src, "-o", i8, "--quant", "int8", "--calib", calib, "--calib-images", "2", "--report-images", "1")
			q := runTensor(t, i8, input)
			if len(q.Shape) != 2 || q.Shape[0] != want.Shape[0] || q.Shape[1] != want.Shape[1] {
				t.Fatalf("int8 logits shape %v, want %v", q.Shape, want.Shape)
			}
			for _, v := range q.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("int8 logit %v", v)
				}
			}
			text := mustRun(t, "inspect", i8)
			for _, w := range []string{"int8", "arena:", "lower bound", "size bound", "calibration: mnc-int8-v1", "2 images", "QUANTIZE", "CONV_2D"} {
				if !strings.Contains(text, w) {
					t.Errorf("inspect output lacks %q:\n%s", w, text)
				}
			}
			var s struct {
				Precision string `json:"precision"`
				Arena     struct {
					Bytes      int64 `json:"bytes"`
					LowerBound int64 `json:"lower_bound"`
				} `json:"arena"`
				Tensors []struct{ Name string } `json:"tensors"`
			}
			if err := json.Unmarshal([]byte(mustRun(t, "inspect", i8, "--json")), &s); err != nil {
				t.Fatal(err)
			}
			if s.Precision != "int8" || s.Arena.Bytes < s.Arena.LowerBound || s.Arena.LowerBound <= 0 || len(s.Tensors) < 10 {
				t.Errorf("inspect --json: %+v", s)
			}
			t.Logf("%s: arena %d, lower bound %d", m.Name, s.Arena.Bytes, s.Arena.LowerBound)
		})
	}
}

// TestCompileAtomic: a failed compile leaves no file, and does not touch
// an existing one.
func TestCompileAtomic(t *testing.T) {
	dir, models := golden.Dir(t), golden.Manifest(t)
	src := filepath.Join(dir, onnxFile(models[0]))
	tmp := t.TempDir()
	out := filepath.Join(tmp, "m.mnc")
	empty := t.TempDir()
	_, stderr, code := mnc(t, "compile", src, "-o", out, "--quant", "int8", "--calib", empty)
	if code != 1 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("compile with no calibration images: exit %d, stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("a failed compile left %v", entries)
	}
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, code := mnc(t, "compile", src, "-o", out, "--quant", "int8", "--calib", empty); code != 1 {
		t.Errorf("exit %d", code)
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("a failed compile changed the existing file: %q", b)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
		t.Errorf("a failed compile left %v", entries)
	}
}

// TestBadBlob: a corrupt or truncated .mnc file and a wrong input are one
// clear line on stderr, never a panic.
func TestBadBlob(t *testing.T) {
	dir, models := golden.Dir(t), golden.Manifest(t)
	m := models[0]
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good.mnc")
	mustRun(t, "compile", filepath.Join(dir, onnxFile(m)), "-o", good)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(tmp, "trunc.mnc")
	if err := os.WriteFile(trunc, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	other := models[len(models)-1]
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"truncated", []string{"run", trunc, "--tensor", filepath.Join(dir, m.Files["input"])}, "trunc.mnc"},
		{"truncated inspect", []string{"inspect", trunc}, "outside the file"},
		{"wrong input", []string{"run", good, "--tensor", filepath.Join(dir, other.Files["input"])}, "shape"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := mnc(t, c.args...)
			if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "mnc: ") {
				t.Errorf("exit %d, stderr %q: want one line", code, stderr)
			}
			if !strings.Contains(stderr, c.want) || strings.Contains(stderr, "panic") {
				t.Errorf("stderr %q does not mention %q", stderr, c.want)
			}
		})
	}
}

// TestSharedBlob: MobileNetV2 (../shared) compiled to int8 with labels
// classifies the eval images through mnc run with the preprocessing it
// records; mnc inspect prints the size bound and the arena.
func TestSharedBlob(t *testing.T) {
	shared := golden.Shared(t)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "v2.mnc")
	labels := filepath.Join(shared, "models", "imagenet_labels.txt")
	mustRun(t, "compile", filepath.Join(shared, "models", "mobilenet_v2_1.0_224.onnx"), "-o", out, "--quant", "int8",
		"--calib", filepath.Join(shared, "images", "calib"), "--calib-images", "4", "--report-images", "1",
		"--preprocess", "tf", "--labels", labels)
	stdout := mustRun(t, "run", out, "--top", "1", "--json",
		filepath.Join(shared, "images", "eval", "parrot.jpg"), filepath.Join(shared, "images", "eval", "grace_hopper.bmp"))
	var res []struct {
		Input string
		Top   []struct {
			Index int
			Label string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Top[0].Index != 89 || res[0].Top[0].Label != "macaw" || res[1].Top[0].Index != 653 {
		t.Errorf("int8 MobileNetV2 top-1: %+v", res)
	}
	text := mustRun(t, "inspect", out)
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "size") || strings.HasPrefix(line, "arena") || strings.HasPrefix(line, "calibration") {
			t.Log(line)
		}
	}
	if !strings.Contains(text, "size bound") || !strings.Contains(text, "1.000x") {
		t.Errorf("inspect output:\n%s", text)
	}
}
