package quant

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// sharedModel is a real model prepared, calibrated once on
// ../shared/images/calib with the tf preset, with its eval images and
// float logits.
type sharedModel struct {
	name      string
	f         *ir.Graph
	st        *Stats
	calibTime time.Duration
	eval      []*ir.Tensor
	evalNames []string
	floatOut  []*ir.Tensor
	err       error
}

var (
	sharedMu     sync.Mutex
	sharedModels = map[string]*sharedModel{}
)

func loadShared(t *testing.T, file string, opts frontend.Options, res int) *sharedModel {
	t.Helper()
	path := file // a path of the repository's (../testdata/...), or one under ../shared/models
	if !strings.HasPrefix(file, "../") {
		path = golden.Shared(t, "models", file)
	}
	calibDir := golden.Shared(t, "images", "calib")
	evalDir := golden.Shared(t, "images", "eval")
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if m, ok := sharedModels[file]; ok {
		if m.err != nil {
			t.Fatal(m.err)
		}
		return m
	}
	m := &sharedModel{name: file}
	sharedModels[file] = m
	m.err = func() error {
		g, err := frontend.Load(path, opts)
		if err != nil {
			return err
		}
		if m.f, err = Prepare(g); err != nil {
			return err
		}
		spec, err := preprocess.Default(preprocess.TF, res, res)
		if err != nil {
			return err
		}
		t0 := time.Now()
		if m.st, err = Calibrate(m.f, calibDir, Options{Preprocess: spec, Histograms: true}); err != nil {
			return err
		}
		m.calibTime = time.Since(t0)
		files, err := ListImages(evalDir)
		if err != nil {
			return err
		}
		if m.eval, m.evalNames, _, err = LoadImages(files, spec, 0, false, nil, nil); err != nil {
			return err
		}
		for _, in := range m.eval {
			out, err := interp.Run(m.f, []*ir.Tensor{in}, nil)
			if err != nil {
				return err
			}
			m.floatOut = append(m.floatOut, out[0])
		}
		return nil
	}()
	if m.err != nil {
		t.Fatal(m.err)
	}
	return m
}

// logitsOnly compares q's logits with the precomputed float ones: SQNR over
// all images, top-1 agreement, mean cosine.
func (m *sharedModel) logitsOnly(t *testing.T, q *ir.Graph) (sqnrDB float64, agree int, cos float64) {
	t.Helper()
	r, err := NewRunner(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sig, noise float64
	for i, in := range m.eval {
		out, err := r.Run(in, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, q := m.floatOut[i].F32, out[0].F32
		var dot, nf, nq float64
		for j := range f {
			x, y := float64(f[j]), float64(q[j])
			sig += x * x
			noise += (x - y) * (x - y)
			dot += x * y
			nf += x * x
			nq += y * y
		}
		cos += dot / math.Sqrt(nf*nq)
		if kernels.Argmax(f) == kernels.Argmax(q) {
			agree++
		}
	}
	return sqnr(sig, noise), agree, cos / float64(len(m.eval))
}

var v2ONNX = struct {
	file string
	opts frontend.Options
	res  int
}{"mobilenet_v2_1.0_224.onnx", frontend.Options{}, 224}

// TestSharedAcceptance is the acceptance on real models: calibrated
// on ../shared/images/calib with the tf preset and the default method,
// MobileNetV2 (ONNX and .pth) keeps the float top-1 on all 10 eval images
// with logits SQNR >= 18 dB, and the tiny MobileNetV1 0.25 agrees on >= 9.
func TestSharedAcceptance(t *testing.T) {
	cases := []struct {
		file      string
		opts      frontend.Options
		res       int
		minAgree  int
		minSQNRdB float64
	}{
		{v2ONNX.file, v2ONNX.opts, v2ONNX.res, 10, 18},
		{"mobilenet_v2_1.0_224_tv.pth", frontend.Options{Arch: "mobilenet_v2", Classes: 1001}, 224, 10, 18},
		{"mobilenet_v1_0.25_128.onnx", frontend.Options{}, 128, 9, 0},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			m := loadShared(t, c.file, c.opts, c.res)
			t.Logf("%s: calibration of %d images took %v on %d workers", c.file, m.st.Images, m.calibTime.Round(time.Millisecond), m.st.Workers)
			// The product's path (Compile's finish) with the default options;
			// the report covers the eval images and 2 calibration images.
			t0 := time.Now()
			q, rep, err := finish(m.f, m.st, m.eval, m.evalNames, Options{ReportImages: 2})
			if err != nil {
				t.Fatal(err)
			}
			tq := time.Since(t0)
			met := rep.Eval
			t.Logf("%s (quantization and report %v): eval logits SQNR %.2f dB, top-1 %d/%d, cosine %.4f; %s -> %s",
				c.file, tq.Round(time.Millisecond), met.LogitsSQNR, met.Top1Agree, met.Images, met.Cosine, mb(rep.FloatModelBytes), mb(rep.Int8ModelBytes))
			var b strings.Builder
			_ = rep.WriteText(&b, 8)
			t.Log("\n" + b.String())
			if met.Top1Agree < c.minAgree {
				t.Errorf("top-1 agreement %d/%d < %d", met.Top1Agree, met.Images, c.minAgree)
			}
			if met.LogitsSQNR < c.minSQNRdB {
				t.Errorf("logits SQNR %.2f dB < %g dB", met.LogitsSQNR, c.minSQNRdB)
			}
			// The preprocessing travels with the model.
			spec, ok, err := Preprocess(q)
			if err != nil || !ok || spec != m.st.Preprocess {
				t.Errorf("recorded preprocessing %+v %v %v, want %+v", spec, ok, err, m.st.Preprocess)
			}
		})
	}
}

// methodFigures are the eval logits SQNR (dB) and top-1 agreement (of 10)
// of every calibration method on the real models, as last measured by
// TestSharedMethods, by model, then "eq " (equalized) or "" and the method
// label. Entropy calibration is known to clip these models' ReLU6 outputs
// (an open issue); its figures record that state, so that its fix shows up
// here as a conscious change.
var methodFigures = map[string]map[string]struct {
	sqnr  float64
	agree int
}{
	"mobilenet_v2_1.0_224.onnx": {
		"minmax": {24.01, 10}, "minmax+biascorrect": {24.25, 10},
		"percentile:99.99": {20.78, 9}, "percentile:99.99+biascorrect": {20.60, 9},
		"entropy": {0.07, 1}, "entropy+biascorrect": {0.06, 1},
		"mse": {24.88, 9}, "mse+biascorrect": {24.76, 9},
		"auto": {25.01, 10}, "auto+biascorrect": {24.90, 10},
		// Equalization moves weights off their 8-bit grids, so that the
		// default weight rounding rounds them by output error (before it,
		// minmax 24.00 dB 10/10, percentile 20.67 9/10, mse 24.59 9/10,
		// auto 24.40 10/10).
		"eq minmax+biascorrect+outputrounding": {23.97, 10}, "eq percentile:99.99+biascorrect+outputrounding": {20.83, 9},
		"eq entropy+biascorrect+outputrounding": {0.06, 1}, "eq mse+biascorrect+outputrounding": {24.66, 10},
		"eq auto+biascorrect+outputrounding": {24.45, 10},
	},
	"mobilenet_v1_0.25_128.onnx": {
		"minmax": {25.29, 10}, "minmax+biascorrect": {25.31, 10},
		"percentile:99.99": {25.31, 9}, "percentile:99.99+biascorrect": {25.21, 9},
		"entropy": {4.01, 2}, "entropy+biascorrect": {3.99, 2},
		"mse": {25.27, 8}, "mse+biascorrect": {25.12, 9},
		"auto": {25.71, 9}, "auto+biascorrect": {25.53, 9},
		"eq minmax+biascorrect": {25.31, 10}, "eq percentile:99.99+biascorrect": {25.21, 9},
		"eq entropy+biascorrect": {3.99, 2}, "eq mse+biascorrect": {25.12, 9}, "eq auto+biascorrect": {25.53, 9},
	},
}

// methodMargin is how far (dB) a method's SQNR may move from its figure;
// its top-1 agreement may drop by one image at most.
const methodMargin = 1.5

// TestSharedMethods measures every calibration method with and without bias
// correction, and cross-layer equalization, on the real models, and holds
// each to its measured figures (methodFigures).
func TestSharedMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("method comparison skipped in -short mode")
	}
	models := []struct {
		file string
		opts frontend.Options
		res  int
	}{
		{v2ONNX.file, v2ONNX.opts, v2ONNX.res},
		{"mobilenet_v1_0.25_128.onnx", frontend.Options{}, 128},
	}
	for _, md := range models {
		m := loadShared(t, md.file, md.opts, md.res)
		var rows []string
		eqStats := map[bool]*Stats{false: m.st}
		eqGraph := map[bool]*ir.Graph{false: m.f}
		for _, eq := range []bool{false, true} {
			if eq {
				g := cloneGraph(m.f)
				n, err := Equalize(g)
				if err != nil {
					t.Fatal(err)
				}
				spec := m.st.Preprocess
				st, err := Calibrate(g, golden.Shared(t, "images", "calib"), Options{Preprocess: spec, Histograms: true})
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, fmt.Sprintf("equalize: %d layer pairs", n))
				eqStats[true], eqGraph[true] = st, g
			}
			for _, method := range Methods {
				for _, bc := range []bool{false, true} {
					if eq && !bc {
						continue // the paper's recipe: equalization with bias correction
					}
					g, st := eqGraph[eq], eqStats[eq]
					o := Options{Method: method, NoBiasCorrect: !bc}
					t0 := time.Now()
					if method == Auto {
						if err := chooseAuto(g, st, o); err != nil {
							t.Fatal(err)
						}
					}
					q, err := Quantize(g, st, o)
					if err != nil {
						t.Fatal(err)
					}
					s, agree, cos := m.logitsOnly(t, q)
					label := q.Meta[MetaMethod]
					rows = append(rows, fmt.Sprintf("%-28s %6.2f dB  top-1 %2d/%d  cos %.4f  (%v)", label, s, agree, len(m.eval), cos, time.Since(t0).Round(time.Millisecond)))
					if eq {
						label = "eq " + label
					}
					want, ok := methodFigures[md.file][label]
					switch {
					case !ok:
						t.Errorf("%s %s: no measured figures in methodFigures", md.file, label)
					case math.Abs(s-want.sqnr) > methodMargin || agree < want.agree-1:
						t.Errorf("%s %s: %.2f dB, top-1 %d/%d; measured %.2f dB (within %g dB), %d/%d",
							md.file, label, s, agree, len(m.eval), want.sqnr, methodMargin, want.agree, len(m.eval))
					}
				}
			}
		}
		t.Logf("%s, calibrated on %d images (tf preset), eval on %d:\n  %s", md.file, m.st.Images, len(m.eval), strings.Join(rows, "\n  "))
	}
}
