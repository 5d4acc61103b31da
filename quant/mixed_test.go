package quant

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
)

// everyThird returns every third of the quantized ops of g, from the
// first: a spread of convolutions, adds, squeeze-excite units, hard
// activations and the classifier to keep in float32.
func everyThird(g *ir.Graph) []string {
	var keep []string
	for i, name := range QuantizedOps(g) {
		if i%3 == 0 {
			keep = append(keep, name)
		}
	}
	return keep
}

// TestKeepFloat: on every golden model, the ops named by KeepFloat are
// float32 nodes of the quantized graph, bridged by Quantize/Dequantize:
// with FloatWeights int8 their convolutions', Gemms' and squeeze-excite
// units' weights are the int8 codes times their scales (the codes'
// quantization as the weights' Quant), with float32 their own float
// weights, and nothing else is quantized; the graph passes Check; the runtime's model of it agrees with
// the reference interpreter to within float rounding; keeping every op
// with float32 weights gives the float model's logits (to 1e-5), with
// int8 weights a weight-only quantized model better than the int8 one,
// and keeping some never makes the logits worse by more than a little.
func TestKeepFloat(t *testing.T) {
	for _, e := range golden.Manifest(t) {
		file := e.Files["onnx_opset17"]
		if file == "" {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			in := golden.Tensor(t, filepath.Join(golden.Dir(t), e.Files["input"]))
			load := func() *ir.Graph {
				g, err := frontend.Load(filepath.Join(golden.Dir(t), file), frontend.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if g, err = Prepare(g); err != nil {
					t.Fatal(err)
				}
				return g
			}
			f := load()
			ref, err := interp.Run(f, []*ir.Tensor{in}, nil)
			if err != nil {
				t.Fatal(err)
			}
			all := QuantizedOps(f)
			type variant struct {
				keep    []string
				weights string
			}
			var int8SQNR float64
			for _, v := range []variant{{nil, ""}, {everyThird(f), ""}, {everyThird(f), FloatWeightsFloat32}, {all, FloatWeightsInt8}, {all, FloatWeightsFloat32}} {
				keep := v.keep
				q, rep, err := CompileInputs(load(), []*ir.Tensor{in}, []*ir.Tensor{in}, Options{KeepFloat: keep, FloatWeights: v.weights})
				if err != nil {
					t.Fatal(err)
				}
				if err := Check(q); err != nil {
					t.Fatal(err)
				}
				if got := KeptFloat(q); !slices.Equal(got, keep) {
					t.Fatalf("KeptFloat = %v, want %v", got, keep)
				}
				if len(keep) > 0 && q.Meta[MetaKeepFloat] != strings.Join(keep, ",") {
					t.Errorf("meta %q", q.Meta[MetaKeepFloat])
				}
				kept := map[string]bool{}
				for _, k := range keep {
					kept[k] = true
				}
				for _, n := range q.Nodes {
					if !kept[n.Name] {
						continue
					}
					for i, x := range append(n.Inputs, n.Outputs...) {
						if x.Type.DType != ir.Float32 {
							t.Errorf("kept %s %q has %v %v", n.Op, n.Name, x, x.Quant)
						}
						// A kept layer's weights are int8 codes times
						// their channel's scale, the codes' quantization
						// their Quant (storedWeights), unless float32
						// weights are asked for; nothing else is
						// quantized.
						weight := i == 1 && (n.Op == ir.Conv || n.Op == ir.Gemm) || (i == 1 || i == 3) && n.Op == ir.SqueezeExcite
						stored := weight && x.IsConst() && v.weights != FloatWeightsFloat32
						if stored != (x.Quant != nil) {
							t.Errorf("kept %s %q (weights %q) has %v %v", n.Op, n.Name, v.weights, x, x.Quant)
						} else if stored {
							checkStored(t, x)
						}
					}
				}
				want, err := Run(q, in)
				if err != nil {
					t.Fatal(err)
				}
				ex, err := compileGraph(q, 1)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ex.run(in, nil)
				ex.close()
				if err != nil {
					t.Fatal(err)
				}
				var sig, diff float64
				for i := range want.F32 {
					sig += float64(want.F32[i]) * float64(want.F32[i])
					d := float64(got.F32[i] - want.F32[i])
					diff += d * d
				}
				t.Logf("%s keep %d of %d (weights %q): SQNR %.2f dB %d/%d; runtime vs reference interpreter %.1f dB", e.Name, len(keep), len(all),
					v.weights, rep.Eval.LogitsSQNR, rep.Eval.Top1Agree, rep.Eval.Images, 10*math.Log10(sig/max(diff, 1e-30)))
				if diff > sig*1e-6 {
					t.Errorf("runtime and reference interpreter differ: %.1f dB", 10*math.Log10(sig/diff))
				}
				if keep == nil {
					int8SQNR = rep.Eval.LogitsSQNR
				}
				if len(keep) == len(all) && v.weights == FloatWeightsInt8 && !(rep.Eval.LogitsSQNR > int8SQNR+3) {
					t.Errorf("every op float with int8 weights: %.2f dB, the int8 model %.2f dB", rep.Eval.LogitsSQNR, int8SQNR)
				}
				if len(keep) == len(all) && v.weights == FloatWeightsFloat32 {
					for i := range ref[0].F32 {
						if d := math.Abs(float64(got.F32[i] - ref[0].F32[i])); d > 1e-5*max(1, math.Abs(float64(ref[0].F32[i]))) {
							t.Fatalf("all kept float: logit %d is %v, float %v", i, got.F32[i], ref[0].F32[i])
						}
					}
				}
			}
		})
	}
}

// TestKeepFloatNames: unknown, repeated and unquantized names are refused
// with a clear message.
func TestKeepFloatNames(t *testing.T) {
	e := golden.Manifest(t)[0]
	g, err := frontend.Load(filepath.Join(golden.Dir(t), e.Files["onnx_opset17"]), frontend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g, err = Prepare(g); err != nil {
		t.Fatal(err)
	}
	ops := QuantizedOps(g)
	var reshape string
	for _, n := range g.Nodes {
		if !Keepable(n.Op) {
			reshape = n.Name
		}
	}
	for _, c := range []struct {
		keep []string
		want string
	}{
		{[]string{ops[1] + "x"}, "did you mean \"" + ops[1] + "\""},
		{[]string{"zzzzzzzzzzzzzzzzz"}, "no op named \"zzzzzzzzzzzzzzzzz\" (mnc compile --sensitivity lists the ops)"},
		{[]string{ops[0], ops[0]}, "named twice"},
		{[]string{reshape}, "computes nothing int8 quantization changes"},
	} {
		err := CheckKeepFloat(g, c.keep)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.keep, err, c.want)
		}
	}
}

// TestSensitivityShared: the sensitivity analysis of the ../shared
// MobileNetV2 covers every quantized op, ranks them, and keeping its top
// op float does not make the model worse than all-int8 on those images.
func TestSensitivityShared(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 131 variants of a real MobileNetV2; skipped with -short")
	}
	m := loadShared(t, v2ONNX.file, v2ONNX.opts, v2ONNX.res)
	start := time.Now()
	s, err := Analyze(m.f, m.st, Options{Preprocess: m.st.Preprocess}, DefaultSensitivityImages, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d ops on %d images in %v; all int8: %v", len(s.Ops), s.Images, time.Since(start), s.Int8)
	for i, o := range s.Ops[:8] {
		t.Logf("%d. %s %s: only float %v; only int8 %v", i+1, o.Op, o.Name, o.OnlyFloat, *o.OnlyInt8)
	}
	if len(s.Ops) != len(QuantizedOps(m.f)) || s.Images != DefaultSensitivityImages {
		t.Fatalf("%d ops, %d images", len(s.Ops), s.Images)
	}
	if better(s.Int8, s.Ops[0].OnlyFloat) {
		t.Errorf("keeping the top op float (%v) is worse than all int8 (%v)", s.Ops[0].OnlyFloat, s.Int8)
	}
}

// TestTargetDeterministic: an accuracy target keeps the same ops and
// writes the same file whatever the number of workers (the choice depends
// on measured quality only, never on timings), and meets its target.
func TestTargetDeterministic(t *testing.T) {
	e := golden.Manifest(t)[0]
	for _, m := range golden.Manifest(t) {
		if m.Name == "v3s" {
			e = m
		}
	}
	in := golden.Tensor(t, filepath.Join(golden.Dir(t), e.Files["input"]))
	compile := func(o Options) (*ir.Graph, *Report) {
		g, err := frontend.Load(filepath.Join(golden.Dir(t), e.Files["onnx_opset17"]), frontend.Options{})
		if err != nil {
			t.Fatal(err)
		}
		q, rep, err := CompileInputs(g, []*ir.Tensor{in}, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		return q, rep
	}
	_, base := compile(Options{})
	target := base.Calib.MedianSQNR + 4
	var files [][]byte
	for _, workers := range []int{1, 2} {
		q, rep := compile(Options{TargetSQNR: target, Workers: workers})
		if x := rep.Mixed; x == nil || !x.Met || len(x.Kept) == 0 || rep.Calib.MedianSQNR < target {
			t.Fatalf("target %.2f dB: %+v, %.2f dB", target, rep.Mixed, rep.Calib.MedianSQNR)
		}
		data, err := codegen.Build(q, codegen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, data)
		t.Logf("%d workers: %d ops kept for %.2f dB: %.2f dB", workers, len(rep.Mixed.Kept), target, rep.Calib.MedianSQNR)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("the files differ with the number of workers")
	}
}

// checkStored checks that the float32 constant v holds int8 codes times its
// Quant's per-channel scales.
func checkStored(t *testing.T, v *ir.Value) {
	t.Helper()
	q, f := v.Quant, v.Const.F32
	if q.Axis != 0 || len(q.Scale) != v.Const.Shape[0] {
		t.Fatalf("%v: quantization %v for shape %v", v, q, v.Const.Shape)
	}
	per := len(f) / len(q.Scale)
	for i, x := range f {
		s := q.Scale[i/per]
		c := math.RoundToEven(float64(x) / float64(s))
		if math.Abs(c) > 127 || float32(int8(c))*s != x || q.ZeroPoint[i/per] != 0 {
			t.Fatalf("%v: value %d = %g is not a code times %g", v, i, x, s)
		}
	}
}
