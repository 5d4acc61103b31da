package runtime_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/quant"
)

// testModel is a small real model (a testdata MobileNetV3-Small) compiled
// to int8 and float32 files, with its golden input.
type testModel struct {
	int8, f32 []byte
	mixed     []byte // int8 with its first three quantized ops in float32
	input     *ir.Tensor
}

var (
	testOnce sync.Once
	testM    testModel
	testErr  error
)

func blobs(t testing.TB) testModel {
	t.Helper()
	testOnce.Do(func() { testM, testErr = makeBlobs() })
	if testErr != nil {
		t.Fatal(testErr)
	}
	return testM
}

func makeBlobs() (testModel, error) {
	dir := filepath.Join("..", "testdata", "golden")
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return testModel{}, err
	}
	var es []struct {
		Name  string            `json:"name"`
		Arch  string            `json:"arch"`
		Files map[string]string `json:"files"`
	}
	if err := json.Unmarshal(data, &es); err != nil {
		return testModel{}, err
	}
	pick := es[0]
	for _, e := range es {
		if e.Name == "v3s" {
			pick = e
		}
	}
	file := pick.Files["onnx_opset17"]
	if file == "" {
		file = pick.Files["onnx_opset11"]
	}
	g, err := frontend.Load(filepath.Join(dir, file), frontend.Options{})
	if err != nil {
		return testModel{}, err
	}
	a, err := npy.ReadFile(filepath.Join(dir, pick.Files["input"]))
	if err != nil {
		return testModel{}, err
	}
	in := ir.NewFloat32(ir.Shape(a.Shape), a.Data)
	q, _, err := quant.CompileInputs(g, []*ir.Tensor{in}, nil, quant.Options{})
	if err != nil {
		return testModel{}, err
	}
	var m testModel
	m.input = in
	if m.int8, err = codegen.Build(q, codegen.Options{Labels: labels(q)}); err != nil {
		return testModel{}, err
	}
	keep := quant.QuantizedOps(g)[:3] // g was prepared by CompileInputs
	if q, _, err = quant.CompileInputs(g, []*ir.Tensor{in}, nil, quant.Options{KeepFloat: keep}); err != nil {
		return testModel{}, err
	}
	if m.mixed, err = codegen.Build(q, codegen.Options{Labels: labels(q)}); err != nil {
		return testModel{}, err
	}
	m.f32, err = codegen.Build(g, codegen.Options{})
	return m, err
}

func labels(g *ir.Graph) []string {
	n := g.Outputs[0].Type.Shape[1]
	l := make([]string, n)
	for i := range l {
		l[i] = "class " + string(rune('a'+i%26))
	}
	return l
}
