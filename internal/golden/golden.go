// Package golden gives tests the PyTorch-made models of testdata/golden
// (their manifest, files and tensors) and the real models of ../shared,
// skipping with a clear message when ../shared is absent. It is support code
// for the tests of several packages.
package golden

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
)

// Model is one entry of testdata/golden/manifest.json.
type Model struct {
	Name        string            `json:"name"`
	Arch        string            `json:"arch"`
	Width       float64           `json:"width"`
	Resolution  int               `json:"resolution"`
	Classes     int               `json:"classes"`
	ReducedTail bool              `json:"reduced_tail"`
	Files       map[string]string `json:"files"` // kind (pth, onnx_opset11, onnx_opset17, input, logits, ...) -> file
}

// RepoRoot is the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// Dir is testdata/golden.
func Dir(t testing.TB) string { return filepath.Join(RepoRoot(t), "testdata", "golden") }

// Manifest reads testdata/golden/manifest.json afresh (the models are
// regenerated from time to time; the format stays).
func Manifest(t testing.TB) []Model {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(t), "manifest.json"))
	if err != nil {
		t.Fatalf("golden manifest: %v", err)
	}
	var ms []Model
	if err := json.Unmarshal(data, &ms); err != nil {
		t.Fatalf("golden manifest: %v", err)
	}
	return ms
}

// Path is the path of the model's file of the given kind, and whether the
// manifest lists one.
func (m Model) Path(t testing.TB, kind string) (string, bool) {
	f, ok := m.Files[kind]
	if !ok {
		return "", false
	}
	return filepath.Join(Dir(t), f), true
}

// Tensor reads a float32 .npy file as an ir tensor.
func Tensor(t testing.TB, path string) *ir.Tensor {
	t.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ir.NewFloat32(ir.Shape(a.Shape), a.Data)
}

// Shared is a path under ../shared (next to the repository); the test is
// skipped, saying why, when it does not exist. CI always has it.
func Shared(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{filepath.Dir(RepoRoot(t)), "shared"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("../shared not available (%v): these checks need the real models and images next to the repository", err)
	}
	return p
}
