package compile_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/internal/demo"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
)

// TestQDQ: the golden MobileNetV2 quantized by ONNX Runtime's own QDQ
// recipe (testdata/gen/make_qdq.sh) compiles without calibration images;
// every activation is quantized by the range the file states, and the int8
// logits agree with ONNX Runtime's on that file.
func TestQDQ(t *testing.T) {
	dir := golden.Dir(t)
	out := filepath.Join(t.TempDir(), "qdq.mnc")
	res, err := compile.Run(compile.Options{Model: filepath.Join(dir, "v2.qdq.onnx"), Quant: "int8", Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Quant.Method != quant.MethodModel || res.Quant.CalibImages != 0 || res.Model.Calibration.Images != 0 {
		t.Errorf("method %q, %d calibration images", res.Quant.Method, res.Quant.CalibImages)
	}
	// The ranges are the file's: every value stating one has an int8 twin
	// whose codes span it.
	twins := map[string]*ir.Value{}
	for _, n := range res.Int8.Nodes {
		twins[n.Output().Name] = n.Output()
	}
	stated := 0
	for _, n := range res.Graph.Nodes {
		v := n.Output()
		q := twins[v.Name]
		if v.FileRange == nil || q == nil || q.Quant == nil || q.Type.DType != ir.Int8 {
			continue
		}
		stated++
		s, z := float64(q.Quant.Scale[0]), float64(q.Quant.ZeroPoint[0])
		lo, hi := (-128-z)*s, (127-z)*s
		if tol := 1e-6 * (hi - lo); math.Abs(lo-float64(v.FileRange[0])) > tol || math.Abs(hi-float64(v.FileRange[1])) > tol {
			t.Errorf("%s: int8 codes span [%g, %g], the file states %v", v.Name, lo, hi, *v.FileRange)
		}
	}
	if stated < 50 {
		t.Errorf("only %d int8 values carry the file's range", stated)
	}

	// The int8 logits against ONNX Runtime's on the golden inputs.
	in := golden.Tensor(t, filepath.Join(dir, "v2.input.npy"))
	ort := golden.Tensor(t, filepath.Join(dir, "v2.qdq.ort_logits.npy"))
	m, err := runtime.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	it, err := m.NewInterpreter()
	if err != nil {
		t.Fatal(err)
	}
	y, err := it.Run(runtime.Tensor{Shape: in.Shape, Data: in.F32})
	if err != nil {
		t.Fatal(err)
	}
	classes := ort.Shape[1]
	for i := range ort.Shape[0] {
		a, b := ort.F32[i*classes:(i+1)*classes], y.Data[i*classes:(i+1)*classes]
		var sig, noise float64
		top := func(x []float32) int {
			k := 0
			for j := range x {
				if x[j] > x[k] {
					k = j
				}
			}
			return k
		}
		for j := range a {
			sig += float64(a[j]) * float64(a[j])
			noise += float64(a[j]-b[j]) * float64(a[j]-b[j])
		}
		db := 10 * math.Log10(sig/noise)
		t.Logf("input %d: mnc int8 against ONNX Runtime int8: %.2f dB, top-1 %d / %d", i, db, top(b), top(a))
		// The same codes everywhere; the float sums of the last Gemm
		// (kept float: the file states no range for the logits) differ
		// in order only.
		if top(a) != top(b) || db < 80 {
			t.Errorf("input %d: top-1 %d against ORT's %d, %.2f dB (want >= 80)", i, top(b), top(a), db)
		}
	}

	// A float model states no ranges: no --calib is an error before any work.
	_, err = compile.Run(compile.Options{Model: filepath.Join(dir, "v2.opset17.onnx"), Quant: "int8"})
	if err == nil || !strings.Contains(err.Error(), "--calib DIR") {
		t.Errorf("float model without --calib: %v", err)
	}
	calib := filepath.Join(t.TempDir(), "calib")
	if err := demo.WriteDataset(calib, 1, 1, 72); err != nil {
		t.Fatal(err)
	}
	_, err = compile.Run(compile.Options{Model: filepath.Join(dir, "v2.opset17.onnx"), Quant: "int8", Calib: calib,
		QuantOptions: quant.Options{RangesFromModel: true}})
	if err == nil || !strings.Contains(err.Error(), "states no activation ranges") {
		t.Errorf("--calib-from-model on a float model: %v", err)
	}
}
