package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
)

// evalJSON is the part of mnc eval --json the tests read.
type evalJSON struct {
	ImageCount int `json:"image_count"`
	Models     []struct {
		Name        string  `json:"name"`
		Kind        string  `json:"kind"`
		Top1Correct int     `json:"top1_correct"`
		Top1        float64 `json:"top1"`
		Top5        float64 `json:"top5"`
		PerClass    []struct {
			Label  string `json:"label"`
			Images int    `json:"images"`
		} `json:"per_class"`
	} `json:"models"`
	Agreement []struct {
		Top1Agree int `json:"top1_agree"`
	} `json:"agreement"`
}

// TestEvalDemo: mnc eval on what mnc demo --dir leaves gives the demo's
// accuracy and agreement.
func TestEvalDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	stdout, stderr, code := mnc(t, "demo", "--dir", dir, "--calib-images", "8", "--test-images", "40")
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, stderr)
	}
	acc := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  (float32|int8) +([0-9.]+%)`).FindAllStringSubmatch(stdout, -1) {
		acc[m[1]] = m[2]
	}
	agree := regexp.MustCompile(`agrees with float32 on (\d+)/40`).FindStringSubmatch(stdout)
	if len(acc) != 2 || agree == nil {
		t.Fatalf("demo output:\n%s", stdout)
	}
	f32, i8 := filepath.Join(dir, "demo_float32.mnc"), filepath.Join(dir, "demo_int8.mnc")
	stdout, stderr, code = mnc(t, "eval", f32, i8, "--images", filepath.Join(dir, "test"), "--json", "--workers", "3")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var rep evalJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if rep.ImageCount != 40 || len(rep.Models) != 2 || len(rep.Models[0].PerClass) != 10 || rep.Models[0].PerClass[0].Images != 4 {
		t.Fatalf("report:\n%s", stdout)
	}
	for i, name := range []string{"float32", "int8"} {
		if got := fmt.Sprintf("%.1f%%", 100*rep.Models[i].Top1); got != acc[name] || rep.Models[i].Kind != name {
			t.Errorf("%s: eval says %s (%s), the demo %s", name, got, rep.Models[i].Kind, acc[name])
		}
	}
	if fmt.Sprint(rep.Agreement[0].Top1Agree) != agree[1] {
		t.Errorf("eval agreement %d, the demo %s", rep.Agreement[0].Top1Agree, agree[1])
	}
	// --csv: a header and a row per image.
	stdout, _, code = mnc(t, "eval", f32, "--images", filepath.Join(dir, "test"), "--csv")
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); code != 0 || len(lines) != 41 ||
		lines[0] != "path,true_index,true_label,demo_float32.mnc top1_index,demo_float32.mnc top1_label,demo_float32.mnc correct" {
		t.Errorf("--csv: exit %d:\n%s", code, stdout)
	}
}

// TestEvalGate: --min-top1 missed is exit status 3 with the report still
// printed; usage errors are status 2, other errors 1, all one line.
func TestEvalGate(t *testing.T) {
	m := golden.Manifest(t)[0]
	onnx, _ := m.Path(t, "onnx_opset17")
	dir := t.TempDir()
	img := filepath.Join(golden.RepoRoot(t), "runtime", "preprocess", "testdata")
	images, err := filepath.Glob(filepath.Join(img, "*.png"))
	if err != nil || len(images) == 0 {
		t.Fatalf("no test images in %s: %v", img, err)
	}
	var b strings.Builder
	for _, p := range images {
		fmt.Fprintf(&b, "%s,%d\n", p, 3)
	}
	list := filepath.Join(dir, "l.csv")
	if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := mnc(t, "eval", onnx, "--images", list, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep evalJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	top1 := rep.Models[0].Top1
	if top1 == 1 {
		t.Skip("every image is class 3 for this model: no gate to miss")
	}
	gate := fmt.Sprintf("%.0f%%", 100*top1+1)
	stdout, stderr, code = mnc(t, "eval", onnx, "--images", list, "--min-top1", gate)
	if code != 3 || !strings.Contains(stdout, "top-1") || !strings.HasPrefix(stderr, "mnc: top-1 below --min-top1 "+gate+": ") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("gate %s missed: exit %d, stderr %q, stdout:\n%s", gate, code, stderr, stdout)
	}
	if _, stderr, code := mnc(t, "eval", onnx, "--images", list, "--min-top1", fmt.Sprint(top1)); code != 0 {
		t.Errorf("gate %g met: exit %d: %s", top1, code, stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval", onnx}, 2, "--images"},
		{[]string{"eval", "--images", list}, 2, "at least 1 arg"},
		{[]string{"eval", onnx, "--images", list, "--min-top1", "70"}, 2, "70%"},
		{[]string{"eval", onnx, "--images", list, "--json", "--csv"}, 2, "not both"},
		{[]string{"eval", onnx, "--images", list, "--preprocess", "caffe"}, 2, "caffe"},
		{[]string{"eval", onnx, "--images", list, "--top", "3"}, 2, "unknown flag: --top (see mnc eval --help)"},
		{[]string{"eval", onnx, "--images", list, "--confusions", "-1"}, 2, "--confusions -1"},
		{[]string{"evaluate"}, 2, "unknown command"},
		{[]string{"eval", onnx, "--images", filepath.Join(dir, "none")}, 1, "none"},
		{[]string{"eval", onnx, "--images", dir}, 1, "--labels"},
	} {
		_, stderr, code := mnc(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "mnc: ") {
			t.Errorf("%q: exit %d, stderr %q; want %d and one line with %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

// TestSharedEval is the acceptance test on ../shared: an ImageFolder of the
// ten eval photos under the labels ../shared/models/README.md expects
// (written as a user would: any case, '_' for ' ', first synonyms) gives
// 10/10 top-1 for the float MobileNetV2 ONNX file with --preprocess tf.
func TestSharedEval(t *testing.T) {
	shared := golden.Shared(t)
	folders := map[string]string{ // image -> folder
		"bird.bmp": "chickadee", "cat.bmp": "Egyptian_cat", "cat_test_0.bmp": "tiger cat",
		"dog_test_0.bmp": "soft-coated wheaten terrier", "dragonfly.bmp": "dragonfly", "grace_hopper.bmp": "military uniform",
		"hot_dog.jpg": "hotdog", "hotdog_test_0.bmp": "Hotdog, hot dog, red hot", "parrot.jpg": "macaw",
		"sunflower.bmp": "daisy",
	}
	dir := t.TempDir()
	for img, folder := range folders {
		if folder == "Hotdog, hot dog, red hot" {
			folder = "hotdog" // one folder per class
		}
		if err := os.MkdirAll(filepath.Join(dir, folder), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(shared, "images", "eval", img), filepath.Join(dir, folder, img)); err != nil {
			t.Fatal(err)
		}
	}
	model := filepath.Join(shared, "models", "mobilenet_v2_1.0_224.onnx")
	labels := filepath.Join(shared, "models", "imagenet_labels.txt")
	stdout, stderr, code := mnc(t, "eval", model, "--preprocess", "tf", "--labels", labels, "--images", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep evalJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if rep.ImageCount != 10 || rep.Models[0].Top1Correct != 10 || len(rep.Models[0].PerClass) != 9 {
		t.Errorf("want 10/10 top-1 over 9 classes:\n%s", stdout)
	}
	// A misspelt folder is an error naming it and the label meant.
	if err := os.Rename(filepath.Join(dir, "macaw"), filepath.Join(dir, "macaws")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = mnc(t, "eval", model, "--preprocess", "tf", "--labels", labels, "--images", dir)
	if code != 1 || !strings.Contains(stderr, `folder "macaws": no class of that name among the 1001 labels; close: 89 "macaw"`) {
		t.Errorf("misspelt folder: exit %d, %s", code, stderr)
	}
}
