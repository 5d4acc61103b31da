package runtime_test

import (
	"math"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/kernels"
)

// goldenFiles compiles every testdata/golden model to an int8 file (as
// codegen's round trip does) and a float32 one, with its golden input
// batch.
func goldenFiles(t *testing.T) (names []string, files [][]byte, inputs []*ir.Tensor) {
	t.Helper()
	dir := golden.Dir(t)
	for _, e := range golden.Manifest(t) {
		file := e.Files["onnx_opset17"]
		if file == "" {
			file = e.Files["onnx_opset11"]
		}
		if file == "" {
			continue
		}
		g, err := frontend.Load(filepath.Join(dir, file), frontend.Options{})
		if err != nil {
			t.Fatal(err)
		}
		in := golden.Tensor(t, filepath.Join(dir, e.Files["input"]))
		q, _, err := quant.CompileInputs(g, []*ir.Tensor{in}, nil, quant.Options{})
		if err != nil {
			t.Fatal(err)
		}
		blob, err := codegen.Build(q, codegen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		names, files, inputs = append(names, e.Name+"/int8"), append(files, blob), append(inputs, in)
		// Mixed: every third quantized op kept in float32.
		if g, err = frontend.Load(filepath.Join(dir, file), frontend.Options{}); err != nil {
			t.Fatal(err)
		}
		var keep []string
		if f, err := quant.Prepare(g); err != nil {
			t.Fatal(err)
		} else {
			for i, name := range quant.QuantizedOps(f) {
				if i%3 == 0 {
					keep = append(keep, name)
				}
			}
		}
		if q, _, err = quant.CompileInputs(g, []*ir.Tensor{in}, nil, quant.Options{KeepFloat: keep}); err != nil {
			t.Fatal(err)
		}
		if blob, err = codegen.Build(q, codegen.Options{}); err != nil {
			t.Fatal(err)
		}
		if m, err := runtime.Load(blob); err != nil {
			t.Fatal(err)
		} else if m.Info().Precision != "mixed" || len(m.Info().FloatOps) < len(keep) {
			t.Fatalf("%s mixed: precision %s, float ops %v", e.Name, m.Info().Precision, m.Info().FloatOps)
		}
		names, files, inputs = append(names, e.Name+"/mixed"), append(files, blob), append(inputs, in)
		if g, err = frontend.Load(filepath.Join(dir, file), frontend.Options{}); err != nil {
			t.Fatal(err)
		}
		if g, err = quant.Prepare(g); err != nil {
			t.Fatal(err)
		}
		if blob, err = codegen.Build(g, codegen.Options{}); err != nil {
			t.Fatal(err)
		}
		names, files, inputs = append(names, e.Name+"/float32"), append(files, blob), append(inputs, in)
	}
	if len(names) == 0 {
		t.Fatal("no golden models")
	}
	return names, files, inputs
}

// TestThreadsBitExact: every kernel variant this CPU runs, on 1, 2 and 3
// threads, gives the same logits bit for bit, on every golden model, int8
// and float32, with every splittable step split (and with the default
// threshold).
func TestThreadsBitExact(t *testing.T) {
	names, files, inputs := goldenFiles(t)
	for _, minMACs := range []int64{0, -1} {
		restore := func() {}
		if minMACs >= 0 {
			restore = runtime.SetMinParallelMACs(minMACs)
		}
		for k, name := range names {
			in := runtime.Tensor{Shape: inputs[k].Shape, Data: inputs[k].F32}
			var want []float32
			first := ""
			for _, variant := range kernels.Available() {
				m, err := runtime.LoadWith(files[k], runtime.Options{Kernels: variant})
				if err != nil {
					t.Fatal(err)
				}
				for _, threads := range []int{1, 2, 3} {
					it, err := m.NewInterpreterThreads(threads)
					if err != nil {
						t.Fatal(err)
					}
					if it.Threads() != threads {
						t.Fatalf("Threads() = %d, want %d", it.Threads(), threads)
					}
					out, err := it.Run(in)
					if err != nil {
						t.Fatal(err)
					}
					got := append([]float32(nil), out.Data...)
					it.Close()
					if want == nil {
						want, first = got, variant
						continue
					}
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s/%s, %d threads: logit %d is %v, %s on one thread gives %v", name, variant, threads, i, got[i], first, want[i])
						}
					}
				}
			}
		}
		restore()
	}
}

// TestThreadsAllocsAndClose: a 3-thread Run allocates nothing, profiling
// included, and Close stops the workers.
func TestThreadsAllocsAndClose(t *testing.T) {
	defer runtime.SetMinParallelMACs(0)()
	names, files, inputs := goldenFiles(t)
	before := goruntime.NumGoroutine()
	for k, name := range names {
		m, err := runtime.Load(files[k])
		if err != nil {
			t.Fatal(err)
		}
		it, err := m.NewInterpreterThreads(3)
		if err != nil {
			t.Fatal(err)
		}
		in := runtime.Tensor{Shape: inputs[k].Shape, Data: inputs[k].F32}
		for _, prof := range []bool{false, true} {
			it.SetProfile(prof)
			allocs := testing.AllocsPerRun(5, func() {
				if _, err := it.Run(in); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s: %.0f allocations per 3-thread Run (profile %v), want 0", name, allocs, prof)
			}
		}
		p := it.Profile()
		if len(p) == 0 || p[0].Runs == 0 {
			t.Errorf("%s: empty profile %v", name, p)
		}
		it.Close()
		if _, err := it.Run(in); err != nil { // still usable, on one thread
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for goruntime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := goruntime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before: the workers leak", n, before)
	}
}
