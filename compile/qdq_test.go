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
	"github.com/mncdev/mnc/runtime/preprocess"
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
	if stated := checkFileRanges(t, res); stated < 50 {
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

// checkFileRanges checks that every value of the prepared graph stating a
// range in the model file has an int8 twin whose codes span exactly that
// range, and returns how many do.
func checkFileRanges(t *testing.T, res *compile.Result) int {
	t.Helper()
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
	return stated
}

// TestTFLiteOwnRanges: the ../shared uint8 QAT MobileNetV2 compiles to
// int8 by its own activation ranges, without calibration images, every op
// int8, and keeps the float top-1 on ../shared/images/eval.
func TestTFLiteOwnRanges(t *testing.T) {
	shared := golden.Shared(t)
	res, err := compile.Run(compile.Options{Model: filepath.Join(shared, "models", "tflite", "mobilenet_v2_1.0_224_quant.tflite"),
		Quant: "int8", Preprocess: preprocess.Spec{Preset: "tf"}, QuantOptions: quant.Options{EvalDir: filepath.Join(shared, "images", "eval")}})
	if err != nil {
		t.Fatal(err)
	}
	if kept := quant.KeptFloat(res.Int8); len(kept) > 0 {
		t.Errorf("ops kept float: %v (the file states every range)", kept)
	}
	if stated := checkFileRanges(t, res); stated < 60 {
		t.Errorf("only %d int8 values carry the file's range", stated)
	}
	e := res.Quant.Eval
	t.Logf("own ranges, eval: %.2f dB median, %.2f pooled, top-1 %d/%d", e.MedianSQNR, e.LogitsSQNR, e.Top1Agree, e.Images)
	if e.Top1Agree != e.Images || e.MedianSQNR < 20 {
		t.Errorf("own ranges on eval: top-1 %d/%d, %.2f dB median", e.Top1Agree, e.Images, e.MedianSQNR)
	}
}
