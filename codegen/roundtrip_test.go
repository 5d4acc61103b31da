package codegen_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/inspect"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// modelFile picks one file of a golden model: an ONNX export if there is
// one, else the checkpoint.
func loadGolden(t *testing.T, e golden.Model) *ir.Graph {
	t.Helper()
	for _, k := range []string{"onnx_opset17", "onnx_opset11", "pth", "safetensors"} {
		if f, ok := e.Files[k]; ok {
			g, err := frontend.Load(filepath.Join(golden.Dir(t), f), frontend.Options{Arch: e.Arch, Width: e.Width,
				Classes: e.Classes, Resolution: e.Resolution, ReducedTail: e.ReducedTail})
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
	}
	t.Fatalf("%s: no model file in the manifest", e.Name)
	return nil
}

func load(t *testing.T, blob []byte) (*runtime.Model, *runtime.Interpreter) {
	t.Helper()
	return loadWith(t, blob, "")
}

// loadWith loads blob with a forced kernel variant ("" for the default).
func loadWith(t *testing.T, blob []byte, variant string) (*runtime.Model, *runtime.Interpreter) {
	t.Helper()
	m, err := runtime.LoadWith(blob, runtime.Options{Kernels: variant})
	if err != nil {
		t.Fatal(err)
	}
	it, err := m.NewInterpreter()
	if err != nil {
		t.Fatal(err)
	}
	return m, it
}

func run(t *testing.T, it *runtime.Interpreter, in *ir.Tensor) []float32 {
	t.Helper()
	out, err := it.Run(runtime.Tensor{Shape: in.Shape, Data: in.F32})
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out.Data...)
}

// sameBits checks the runtime's int8 logits against quant.Run's, bit for
// bit.
func sameBits(t *testing.T, got []float32, want *ir.Tensor) {
	t.Helper()
	if len(got) != len(want.F32) {
		t.Fatalf("%d logits, want %d", len(got), len(want.F32))
	}
	for i, w := range want.F32 {
		if math.Float32bits(got[i]) != math.Float32bits(w) {
			t.Fatalf("logit %d: %v, the int8 reference interpreter gives %v", i, got[i], w)
		}
	}
}

// closeTo checks float logits against the float interpreter's: max |diff|
// within tol of max |want|.
func closeTo(t *testing.T, got []float32, want *ir.Tensor, tol float64) float64 {
	t.Helper()
	var d, m float64
	for i, w := range want.F32 {
		d = max(d, math.Abs(float64(got[i]-w)))
		m = max(m, math.Abs(float64(w)))
	}
	if d > tol*m {
		t.Errorf("max |diff| %.3g is more than %g of max |logit| %.3g", d, tol, m)
	}
	return d / m
}

// TestGoldenRoundTrip: every testdata model compiles to an int8 and a
// float32 file; the int8 file's logits equal the int8 reference
// interpreter's bit for bit (for every kernel variant this CPU runs, and
// the whole input batch), and so does the same file with its depthwise
// weights stored [KH][KW][O] (WeightLayoutHWO, which earlier versions could
// write and the runtime still reads); the float file's match the float
// interpreter within 1e-5.
func TestGoldenRoundTrip(t *testing.T) {
	for _, e := range golden.Manifest(t) {
		t.Run(e.Name, func(t *testing.T) {
			g := loadGolden(t, e)
			in := golden.Tensor(t, filepath.Join(golden.Dir(t), e.Files["input"]))
			q, _, err := quant.CompileInputs(g, []*ir.Tensor{in}, nil, quant.Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := quant.Run(q, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, hwo := range []bool{false, true} {
				opts := codegen.Options{}
				if hwo {
					opts = codegen.DepthwiseHWO(opts)
				}
				blob, err := codegen.Build(q, opts)
				if err != nil {
					t.Fatal(err)
				}
				checkDepthwiseLayout(t, blob, hwo)
				for _, variant := range kernels.Available() {
					_, it := loadWith(t, blob, variant)
					sameBits(t, run(t, it, in), want)
				}
			}
			// CompileInputs ran the passes on g in place: g is the float graph.
			blob, err := codegen.Build(g, codegen.Options{})
			if err != nil {
				t.Fatal(err)
			}
			fwant, err := interp.Run(g, []*ir.Tensor{in}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, it := load(t, blob)
			rel := closeTo(t, run(t, it, in), fwant[0], 1e-5)
			t.Logf("%s: int8 bit-exact; float32 max rel diff %.2e", e.Name, rel)
		})
	}
}

// checkDepthwiseLayout checks that the file stores its depthwise weights
// [O][KH][KW][1] (OHWI), or with hwo [KH][KW][O] (HWO).
func checkDepthwiseLayout(t *testing.T, blob []byte, hwo bool) {
	t.Helper()
	want := "weights=OHWI"
	if hwo {
		want = "weights=HWO"
	}
	m, _ := load(t, blob)
	found := false
	for _, op := range m.Info().Ops {
		if op.Op == "CONV_2D" && strings.Contains(op.Attrs, "groups=") {
			found = true
			if !strings.Contains(op.Attrs, want) {
				t.Fatalf("depthwise %s: %s, want %s", op.Name, op.Attrs, want)
			}
		}
	}
	if !found {
		t.Fatal("no depthwise convolution in the file")
	}
}

// sharedDir is ../shared next to the repository, or the test skips.
func sharedDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join("..", "..", "shared")
	if _, err := os.Stat(filepath.Join(d, "models")); err != nil {
		t.Skipf("../shared not found (%v): the real-model round trips need it; CI has it", err)
	}
	return d
}

// sharedModel is one real model compiled once (int8 calibrated on up to
// sharedCalibImages images of ../shared/images/calib with the tf preset,
// and float32) and shared by the subtests.
type sharedModel struct {
	once      sync.Once
	err       error
	f, q      *ir.Graph
	rep       *quant.Report
	int8, f32 []byte
}

const sharedCalibImages = 6

var sharedModels = map[string]*sharedModel{}
var sharedMu sync.Mutex

func compileShared(t *testing.T, file string, opts frontend.Options, res int) *sharedModel {
	t.Helper()
	dir := sharedDir(t)
	sharedMu.Lock()
	sm := sharedModels[file]
	if sm == nil {
		sm = &sharedModel{}
		sharedModels[file] = sm
	}
	sharedMu.Unlock()
	sm.once.Do(func() {
		sm.err = func() error {
			g, err := frontend.Load(filepath.Join(dir, "models", file), opts)
			if err != nil {
				return err
			}
			if sm.f, err = quant.Prepare(g); err != nil {
				return err
			}
			spec, err := preprocess.Default(preprocess.TF, res, res)
			if err != nil {
				return err
			}
			calib := filepath.Join(dir, "images", "calib")
			sm.q, sm.rep, err = quant.CompilePrepared(sm.f, calib, quant.Options{Images: sharedCalibImages, ReportImages: 1, Preprocess: spec})
			if err != nil {
				return err
			}
			rec := sm.rep.Record()
			labels, err := os.ReadFile(filepath.Join(dir, "models", "imagenet_labels.txt"))
			if err != nil {
				return err
			}
			names := splitLines(string(labels))
			if sm.int8, err = codegen.Build(sm.q, codegen.Options{Producer: "test", Labels: names, Calibration: rec}); err != nil {
				return err
			}
			sm.f32, err = codegen.Build(sm.f, codegen.Options{Producer: "test", Preprocess: &spec})
			return err
		}()
	})
	if sm.err != nil {
		t.Fatal(sm.err)
	}
	return sm
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

var sharedCases = []struct {
	file, ref string
	opts      frontend.Options
	res       int
}{
	{"mobilenet_v1_0.25_128.onnx", "mobilenet_v1_0.25_128", frontend.Options{}, 128},
	{"mobilenet_v2_1.0_224.onnx", "mobilenet_v2_1.0_224", frontend.Options{}, 224},
	{"mobilenet_v2_1.0_224_tv.pth", "mobilenet_v2_1.0_224", frontend.Options{Arch: "mobilenet_v2", Classes: 1001, Width: 1, Resolution: 224}, 224},
}

// TestSharedRoundTrip: the real models of ../shared, compiled to int8 and
// float32 files, give the int8 reference interpreter's logits bit for bit
// and the float interpreter's within 1e-5, on the reference inputs.
func TestSharedRoundTrip(t *testing.T) {
	dir := sharedDir(t)
	for _, c := range sharedCases {
		t.Run(c.file, func(t *testing.T) {
			sm := compileShared(t, c.file, c.opts, c.res)
			var its []*runtime.Interpreter // one per kernel variant this CPU runs
			for _, variant := range kernels.Available() {
				_, it := loadWith(t, sm.int8, variant)
				its = append(its, it)
			}
			_, itf := load(t, sm.f32)
			for _, img := range []string{"grace_hopper", "parrot"} {
				in := golden.Tensor(t, filepath.Join(dir, "models", "reference", c.ref+"."+img+".input.npy"))
				want, err := quant.Run(sm.q, in)
				if err != nil {
					t.Fatal(err)
				}
				var got []float32
				for _, it := range its {
					got = run(t, it, in)
					sameBits(t, got, want)
				}
				fwant, err := interp.Run(sm.f, []*ir.Tensor{in}, nil)
				if err != nil {
					t.Fatal(err)
				}
				rel := closeTo(t, run(t, itf, in), fwant[0], 1e-5)
				t.Logf("%s on %s: int8 bit-exact (top-1 %d), float32 max rel diff %.2e", c.file, img, kernels.Argmax(got), rel)
			}
		})
	}
}

// TestSharedV2Figures: the int8 MobileNetV2 file weighs at most 1.02 x
// (int8 weights + int32 biases) + 64 KiB, labels included, and its arena
// is within 1.10 x the lower bound; the figures are printed.
func TestSharedV2Figures(t *testing.T) {
	sm := compileShared(t, "mobilenet_v2_1.0_224.onnx", frontend.Options{}, 224)
	m, _ := load(t, sm.int8)
	info := m.Info()
	bound := inspect.SizeBound(info)
	t.Logf("int8 MobileNetV2: file %d bytes, int8 weights %d + int32 biases %d, bound %d (%.1f%%); arena %d, lower bound %d (%.3fx)",
		info.FileBytes, info.Const.Int8, info.Const.Int32, bound, 100*float64(info.FileBytes)/float64(bound),
		info.Arena.Bytes, info.Arena.LowerBound, float64(info.Arena.Bytes)/float64(info.Arena.LowerBound))
	if info.FileBytes > bound {
		t.Errorf("file of %d bytes exceeds the bound %d", info.FileBytes, bound)
	}
	if float64(info.Arena.Bytes) > 1.10*float64(info.Arena.LowerBound) {
		t.Errorf("arena %d is more than 1.10 x the lower bound %d", info.Arena.Bytes, info.Arena.LowerBound)
	}
	if len(info.Labels) != 1001 || info.Labels[89] != "macaw" {
		t.Errorf("labels: %d, [89] = %q", len(info.Labels), info.Labels[89])
	}
	c := info.Calibration
	if c == nil || c.Images != sharedCalibImages || len(c.ImageListSHA256) != 64 || c.Calib == nil || c.Method == "" {
		t.Fatalf("calibration record %+v", c)
	}
	if q, rep := c.Calib, sm.rep.Calib; q.MedianSQNR == nil || q.WorstSQNR == nil || *q.MedianSQNR != rep.MedianSQNR || *q.WorstSQNR != rep.WorstSQNR {
		t.Errorf("the record's median/worst SQNR %v/%v, the report's %v/%v", q.MedianSQNR, q.WorstSQNR, rep.MedianSQNR, rep.WorstSQNR)
	}
	// A file without the appended figures (format 1.0) reads them as absent.
	rec := sm.rep.Record()
	rec.Calib.MedianSQNR, rec.Calib.WorstSQNR = nil, nil
	old, err := codegen.Build(sm.q, codegen.Options{Producer: "test", Calibration: rec})
	if err != nil {
		t.Fatal(err)
	}
	if om, _ := load(t, old); om.Info().Calibration.Calib.MedianSQNR != nil {
		t.Error("a record without the median reads one")
	}
	fm, _ := load(t, sm.f32)
	fi := fm.Info()
	t.Logf("float32 MobileNetV2: file %d bytes, arena %d, lower bound %d", fi.FileBytes, fi.Arena.Bytes, fi.Arena.LowerBound)
}

// TestAllocs: Run allocates nothing after the first call, for int8 and
// float32 files, single inputs and batches.
func TestAllocs(t *testing.T) {
	var cases []struct {
		name string
		blob []byte
		in   *ir.Tensor
	}
	for _, e := range golden.Manifest(t) {
		if e.Name != "v3s" && e.Name != "v2" {
			continue
		}
		g := loadGolden(t, e)
		in := golden.Tensor(t, filepath.Join(golden.Dir(t), e.Files["input"]))
		q, _, err := quant.CompileInputs(g, []*ir.Tensor{in}, nil, quant.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b8, err := codegen.Build(q, codegen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		bf, err := codegen.Build(g, codegen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name string
			blob []byte
			in   *ir.Tensor
		}{e.Name + "/int8", b8, in}, struct {
			name string
			blob []byte
			in   *ir.Tensor
		}{e.Name + "/float32", bf, in})
	}
	for _, c := range cases {
		_, it := load(t, c.blob)
		input := runtime.Tensor{Shape: c.in.Shape, Data: c.in.F32}
		allocs := testing.AllocsPerRun(5, func() {
			if _, err := it.Run(input); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %.0f allocations per Run (batch %d)", c.name, allocs, c.in.Shape[0])
		if allocs != 0 {
			t.Errorf("%s: %.0f allocations per Run, want 0", c.name, allocs)
		}
	}
}
