package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/runtime/kernels"
)

// TestBenchAndThreads: on a compiled golden model, `mnc run` gives the same
// logits for every --threads and --kernels, `mnc bench --json --profile`
// prints its fields, and `mnc inspect` names the kernels. (Figures are
// measured, never asserted.)
func TestBenchAndThreads(t *testing.T) {
	dir, ms := golden.Dir(t), golden.Manifest(t)
	m := ms[0]
	for _, c := range ms {
		if c.Name == "v3s" {
			m = c
		}
	}
	model := filepath.Join(t.TempDir(), "m.mnc")
	args := append([]string{"compile", filepath.Join(dir, m.Files["pth"]), "-o", model, "--quant", "float32"}, archFlags(m)...)
	if _, stderr, code := mnc(t, args...); code != 0 {
		t.Fatalf("compile: exit %d: %s", code, stderr)
	}
	input := filepath.Join(dir, m.Files["input"])
	want := runTensor(t, model, input, "--threads", "1")
	for _, k := range kernels.Available() {
		for _, th := range []string{"2", "3"} {
			got := runTensor(t, model, input, "--threads", th, "--kernels", k)
			for i := range want.Data {
				if got.Data[i] != want.Data[i] {
					t.Fatalf("--threads %s --kernels %s: logit %d is %v, one thread gives %v", th, k, i, got.Data[i], want.Data[i])
				}
			}
		}
	}
	stdout, stderr, code := mnc(t, "bench", model, "--threads", "2", "--iters", "3", "--warmup", "1", "--json", "--profile")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, stderr)
	}
	var r struct {
		Median  *float64 `json:"median_ms"`
		P90     *float64 `json:"p90_ms"`
		Threads int      `json:"threads"`
		Kernels string   `json:"kernels"`
		GMACs   *float64 `json:"gmacs"`
		Layers  []struct {
			MS float64 `json:"ms"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, stdout)
	}
	if r.Median == nil || r.P90 == nil || r.GMACs == nil || r.Threads != 2 || r.Kernels == "" || len(r.Layers) == 0 {
		t.Errorf("bench --json lacks fields: %s", stdout)
	}
	for i := 1; i < len(r.Layers); i++ {
		if r.Layers[i].MS > r.Layers[i-1].MS {
			t.Errorf("profile not slowest first: %v", r.Layers)
			break
		}
	}
	stdout, _, code = mnc(t, "bench", model, "--iters", "2", "--profile")
	if code != 0 || !strings.Contains(stdout, "median") || !strings.Contains(stdout, "per-layer time") {
		t.Errorf("bench: exit %d\n%s", code, stdout)
	}
	stdout, _, code = mnc(t, "inspect", model)
	if code != 0 || !strings.Contains(stdout, "kernels here: ") {
		t.Errorf("inspect does not name the kernels (exit %d):\n%s", code, stdout)
	}
	if _, stderr, code := mnc(t, "bench", model, "--kernels", "nosuch"); code != 1 || !strings.Contains(stderr, "nosuch") {
		t.Errorf("bench --kernels nosuch: exit %d, %q", code, stderr)
	}

	stdout, stderr, code = mnc(t, "bench", model, "--compare-threads", "1,2", "--iters", "4", "--rounds", "2", "--json")
	var c struct {
		Rounds  int `json:"rounds"`
		Threads []struct {
			Threads  int     `json:"threads"`
			MedianMS float64 `json:"median_ms"`
			Speedup  float64 `json:"speedup"`
		} `json:"threads"`
	}
	if err := json.Unmarshal([]byte(stdout), &c); code != 0 || err != nil || c.Rounds != 2 || len(c.Threads) != 2 ||
		c.Threads[0].Threads != 1 || c.Threads[1].Threads != 2 || c.Threads[0].Speedup != 1 || c.Threads[1].MedianMS <= 0 {
		t.Errorf("bench --compare-threads 1,2 --json: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if _, stderr, code := mnc(t, "bench", model, "--compare-threads", "1,2", "--threads", "2"); code != 1 || !strings.Contains(stderr, "--compare-threads") {
		t.Errorf("bench --compare-threads with --threads: exit %d, %q", code, stderr)
	}
}

// TestBenchSourceAndMultiOutput: `mnc bench` on a source model says to
// compile it first (with the command), and times a model file with two
// outputs (SSDLite's cls_logits and bbox_regression).
func TestBenchSourceAndMultiOutput(t *testing.T) {
	src := filepath.Join(golden.RepoRoot(t), "testdata", "det", "ssdlite.onnx")
	_, stderr, code := mnc(t, "bench", src)
	if code == 0 || !strings.Contains(stderr, "mnc compile "+src) {
		t.Errorf("bench of an ONNX file: exit %d, %s", code, stderr)
	}
	model := filepath.Join(t.TempDir(), "ssd.mnc")
	if _, stderr, code := mnc(t, "compile", src, "-o", model, "--quant", "float32", "--preprocess", "tf"); code != 0 {
		t.Fatalf("compile: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := mnc(t, "bench", model, "--threads", "1", "--iters", "2", "--warmup", "0")
	if code != 0 || !strings.Contains(stdout, "input [1 3 320 320]") {
		t.Errorf("bench of a two-output model: exit %d: %s%s", code, stdout, stderr)
	}
}
