package quant

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"github.com/mncdev/mnc/runtime/preprocess"
)

func randTensor(r *rand.Rand, shape ir.Shape, scale float64) *ir.Tensor {
	t := ir.NewFloat32(shape, nil)
	for i := range t.F32 {
		t.F32[i] = float32(r.NormFloat64() * scale)
	}
	return t
}

// handBuilt is an NHWC float graph exercising every int8 op outside the
// passes pipeline's usual output: an unfused squeeze-excite (GlobalAveragePool,
// Conv with fused hardsigmoid, Mul), Add with a fused ReLU, standalone Clip
// and HardSwish, a Gemm (in the canonical form, B [N,K] with transB, that
// the passes pipeline gives every Gemm).
func handBuilt(t *testing.T, r *rand.Rand) *ir.Graph {
	t.Helper()
	g := ir.NewGraph("hand")
	must := func(n *ir.Node, err error) *ir.Value {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n.Output()
	}
	add := func(op ir.Op, name string, attrs ir.Attrs, layout ir.Layout, ins ...*ir.Value) *ir.Value {
		t.Helper()
		n := &ir.Node{Name: name, Op: op, Attrs: attrs, Inputs: ins, Layout: layout}
		types, err := ir.InferNode(n, inTypes(ins))
		if err != nil {
			return must(nil, err)
		}
		n.Outputs = []*ir.Value{g.NewValue(name, types[0])}
		g.Nodes = append(g.Nodes, n)
		return n.Output()
	}
	c := func(name string, scale float64, shape ...int) *ir.Value {
		return g.AddConst(name, randTensor(r, ir.Shape(shape), scale))
	}
	conv := func(k, stride, group int, act ir.Activation) *ir.ConvAttrs {
		p := (k - 1) / 2
		return &ir.ConvAttrs{Stride: [2]int{stride, stride}, Pads: [4]int{p, p, p, p}, Group: group, Act: act}
	}
	x := g.AddInput("input", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{-1, 3, 12, 12}})
	h := add(ir.Transpose, "input.nhwc", &ir.TransposeAttrs{Perm: []int{0, 2, 3, 1}}, ir.NCHW, x)
	h = add(ir.Conv, "stem", conv(3, 2, 1, ir.Activation{Kind: ir.ActRelu6}), ir.NHWC, h, c("stem.w", 0.3, 8, 3, 3, 3), c("stem.b", 0.1, 8))
	dw := add(ir.Conv, "dw", conv(3, 1, 8, ir.Activation{Kind: ir.ActRelu}), ir.NHWC, h, c("dw.w", 0.3, 8, 1, 3, 3), c("dw.b", 0.1, 8))
	p := add(ir.GlobalAveragePool, "se.pool", nil, ir.NHWC, dw)
	gate := add(ir.Conv, "se.fc", conv(1, 1, 1, ir.Activation{Kind: ir.ActHardSigmoid, Alpha: 1.0 / 6, Beta: 0.5}), ir.NHWC, p, c("se.w", 0.5, 8, 8, 1, 1), c("se.b", 0.5, 8))
	m := add(ir.Mul, "se.mul", nil, ir.NCHW, dw, gate)
	s := add(ir.Add, "res", &ir.EltwiseAttrs{Act: ir.Activation{Kind: ir.ActRelu}}, ir.NCHW, m, h)
	s = add(ir.Clip, "clip", &ir.ClipAttrs{Min: 0, Max: 3}, ir.NCHW, s)
	s = add(ir.Conv, "pw", conv(1, 1, 1, ir.Activation{}), ir.NHWC, s, c("pw.w", 0.4, 16, 8, 1, 1), c("pw.b", 0.1, 16))
	s = add(ir.HardSwish, "hs", nil, ir.NCHW, s)
	s = add(ir.GlobalAveragePool, "pool", nil, ir.NHWC, s)
	s = add(ir.Flatten, "flat", &ir.FlattenAttrs{Axis: 1}, ir.NCHW, s)
	y := add(ir.Gemm, "logits", &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, ir.NCHW, s, c("fc.w", 1, 5, 16), c("fc.b", 0.3, 5))
	g.Outputs = []*ir.Value{y}
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestInt8MatchesFloatOnSmallGraph(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	g := handBuilt(t, r)
	var calib []*ir.Tensor
	for range 8 {
		calib = append(calib, randTensor(r, ir.Shape{2, 3, 12, 12}, 1))
	}
	eval := []*ir.Tensor{randTensor(r, ir.Shape{4, 3, 12, 12}, 1)}
	for _, method := range Methods {
		o := Options{Method: method}
		st, err := CalibrateTensors(g, calib, o)
		if err != nil {
			t.Fatal(err)
		}
		if method == Auto {
			if err := chooseAuto(g, st, o); err != nil {
				t.Fatal(err)
			}
		}
		q, err := Quantize(g, st, o)
		if err != nil {
			t.Fatal(err)
		}
		assertInt8Body(t, q)
		ops := map[ir.Op]int{}
		for _, n := range q.Nodes {
			ops[n.Op]++
		}
		if ops[ir.Lookup] != 2 || ops[ir.Mul] != 1 || ops[ir.Quantize] != 1 || ops[ir.Dequantize] != 1 || ops[ir.Clip] != 1 {
			t.Errorf("%s: ops %v", method, ops)
		}
		m, err := Evaluate(g, q, eval, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-10s logits SQNR %.2f dB, top-1 %d/%d, %d layers, worst %s %.2f dB", method, m.LogitsSQNR, m.Top1Agree, m.Images, len(m.Layers), m.Layers[0].Name, m.Layers[0].SQNR)
		if m.LogitsSQNR < 25 && method != Entropy {
			t.Errorf("%s: logits SQNR %.2f dB < 25 dB", method, m.LogitsSQNR)
		}
		if m.Images != 4 || len(m.Layers) < 10 {
			t.Errorf("%s: %d images, %d layers", method, m.Images, len(m.Layers))
		}
		// Deterministic whatever the worker count, and batch-independent.
		r1, _ := NewRunner(q, 1)
		r4, _ := NewRunner(q, 4)
		a, err1 := r1.Run(eval[0], nil)
		b, err4 := r4.Run(eval[0], nil)
		if err1 != nil || err4 != nil || !slices.Equal(a[0].F32, b[0].F32) {
			t.Errorf("%s: results depend on the worker count (%v %v)", method, err1, err4)
		}
		one := ir.NewFloat32(ir.Shape{1, 3, 12, 12}, eval[0].F32[:3*12*12])
		c, err := Run(q, one)
		if err != nil || !slices.Equal(c.F32, a[0].F32[:5]) {
			t.Errorf("%s: batch of one differs from the batch's first row (%v)", method, err)
		}
	}
}

func TestQuantizeDequantizeRoundTrip(t *testing.T) {
	// A graph that only quantizes and dequantizes: every code survives.
	r := rand.New(rand.NewPCG(3, 3))
	g := ir.NewGraph("id")
	x := g.AddInput("x", ir.TensorType{DType: ir.Float32, Shape: ir.Shape{-1, 3, 4, 4}})
	y, err := g.Add(ir.Transpose, "t", &ir.TransposeAttrs{Perm: []int{0, 2, 3, 1}}, x)
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = []*ir.Value{y}
	in := randTensor(r, ir.Shape{2, 3, 4, 4}, 2)
	st, err := CalibrateTensors(g, []*ir.Tensor{in}, Options{Method: MinMax})
	if err != nil {
		t.Fatal(err)
	}
	q, err := Quantize(g, st, Options{Method: MinMax})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(q, in)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := interp.Run(g, []*ir.Tensor{in}, nil)
	s := float64(q.Nodes[0].Output().Quant.Scale[0])
	for i, v := range out.F32 {
		if d := math.Abs(float64(v - ref[0].F32[i])); d > s/2*1.0001 {
			t.Fatalf("element %d: %g vs %g (scale %g)", i, v, ref[0].F32[i], s)
		}
	}
	// Re-quantizing the dequantized output reproduces it exactly.
	out2, err := Run(q, transposeBack(out))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.F32, out2.F32) {
		t.Error("quantize(dequantize(q)) != q")
	}
}

// transposeBack turns an NHWC [N,H,W,C] tensor into NCHW.
func transposeBack(t *ir.Tensor) *ir.Tensor {
	n, h, w, c := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	out := ir.NewFloat32(ir.Shape{n, c, h, w}, nil)
	for i := range n {
		for y := range h {
			for x := range w {
				for k := range c {
					out.F32[((i*c+k)*h+y)*w+x] = t.F32[((i*h+y)*w+x)*c+k]
				}
			}
		}
	}
	return out
}

func TestRunErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	g := handBuilt(t, r)
	st, err := CalibrateTensors(g, []*ir.Tensor{randTensor(r, ir.Shape{1, 3, 12, 12}, 1)}, Options{Method: MinMax})
	if err != nil {
		t.Fatal(err)
	}
	q, err := Quantize(g, st, Options{Method: MinMax})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Quantize(g, st, Options{Method: Entropy}); err == nil || !strings.Contains(err.Error(), "histograms") {
		t.Errorf("entropy ranges from a MinMax calibration (no histograms): %v", err)
	}
	if _, err := Run(q, ir.NewFloat32(ir.Shape{1, 3, 10, 12}, nil)); err == nil {
		t.Error("wrong input shape accepted")
	}
	if _, err := Run(q, &ir.Tensor{DType: ir.Int8, Shape: ir.Shape{1, 3, 12, 12}, I8: make([]int8, 432)}); err == nil {
		t.Error("int8 input accepted")
	}
	if _, err := Run(nil, nil); err == nil {
		t.Error("nil graph accepted")
	}
	if err := Check(g); err == nil {
		t.Error("Check accepted a float graph")
	}
	// A corrupted quantized graph is refused, not run.
	for _, c := range q.Consts {
		if c.Type.DType == ir.Int8 {
			c.Quant.Scale = c.Quant.Scale[1:]
			break
		}
	}
	if err := Check(q); err == nil || !strings.Contains(err.Error(), "per-channel") {
		t.Errorf("Check of a broken weight: %v", err)
	}
	if _, err := Quantize(g, &Stats{}, Options{}); err == nil {
		t.Error("Quantize without statistics accepted")
	}
	if _, err := Quantize(g, st, Options{Method: "kl"}); err == nil {
		t.Error("unknown method accepted")
	}
}

func TestPreprocessMeta(t *testing.T) {
	g := ir.NewGraph("m")
	if _, ok, err := Preprocess(g); ok || err != nil {
		t.Errorf("empty meta: %v %v", ok, err)
	}
	spec, _ := preprocess.Default(preprocess.TF, 224, 224)
	if err := SetPreprocess(g, spec); err != nil {
		t.Fatal(err)
	}
	got, ok, err := Preprocess(g)
	if !ok || err != nil || got != spec {
		t.Errorf("round trip: %+v %v %v", got, ok, err)
	}
	g.Meta[MetaPreprocess] = `{"Preset":"nope","Height":1,"Width":1}`
	if _, _, err := Preprocess(g); err == nil {
		t.Error("bad preset accepted")
	}
	g.Meta[MetaPreprocess] = `{`
	if _, _, err := Preprocess(g); err == nil {
		t.Error("bad JSON accepted")
	}
}

func writeImage(t *testing.T, path string, w, h int, r *rand.Rand) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(r.IntN(256)), uint8(x * 255 / w), uint8(y * 255 / h), 255})
		}
	}
	var b bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".png") {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err == nil {
		err = os.WriteFile(path, b.Bytes(), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestCalibrateImages(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	g := handBuilt(t, r)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeImage(t, filepath.Join(dir, "a.png"), 20, 16, r)
	writeImage(t, filepath.Join(dir, "sub", "b.JPG"), 13, 17, r)
	writeImage(t, filepath.Join(dir, "c.jpeg"), 30, 30, r)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := ListImages(dir)
	if err != nil || len(files) != 3 {
		t.Fatalf("ListImages: %v %v", files, err)
	}
	spec, _ := preprocess.Default(preprocess.Torchvision, 12, 12)
	st, err := Calibrate(g, dir, Options{Preprocess: spec, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Images != 3 || len(st.Files) != 3 || st.Preprocess != spec || st.Tensors["input"].Count != 3*3*12*12 {
		t.Errorf("stats: %d images %v %+v", st.Images, st.Files, st.Preprocess)
	}
	// The cap.
	if st, err := Calibrate(g, dir, Options{Preprocess: spec, Images: 2}); err != nil || st.Images != 2 {
		t.Errorf("Images: 2: %v %v", st, err)
	}
	// A zero spec means torchvision at the model's size.
	if st, err := Calibrate(g, dir, Options{}); err != nil || st.Preprocess.Preset != preprocess.Torchvision || st.Preprocess.Height != 12 {
		t.Errorf("default spec: %v", err)
	}
	// A preset alone takes the model's size.
	if st, err := Calibrate(g, dir, Options{Preprocess: preprocess.Spec{Preset: preprocess.TF}}); err != nil || st.Preprocess.Preset != preprocess.TF || st.Preprocess.Width != 12 {
		t.Errorf("preset only: %v", err)
	}
	// A spec of the wrong size.
	bad, _ := preprocess.Default(preprocess.TF, 224, 224)
	if _, err := Calibrate(g, dir, Options{Preprocess: bad}); err == nil || !strings.Contains(err.Error(), "224x224") {
		t.Errorf("size mismatch: %v", err)
	}
	// An unreadable image is an error naming it, or a warning with SkipBad.
	broken := filepath.Join(dir, "sub", "broken.png")
	if err := os.WriteFile(broken, []byte("\x89PNG garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Calibrate(g, dir, Options{Preprocess: spec}); err == nil || !strings.Contains(err.Error(), "broken.png") || !strings.Contains(err.Error(), "--skip-bad-images") {
		t.Errorf("broken image: %v", err)
	}
	var warn bytes.Buffer
	st, err = Calibrate(g, dir, Options{Preprocess: spec, SkipBad: true, Warn: &warn})
	if err != nil || st.Images != 3 || len(st.Skipped) != 1 || !strings.Contains(warn.String(), "broken.png") {
		t.Errorf("skip bad: %v %v %q", st, err, warn.String())
	}
	// The record of the images used: the skipped one is not in it.
	if want := []string{"a.png", "c.jpeg", "sub/b.JPG"}; !slices.Equal(st.ImageList, want) {
		t.Errorf("image list %v, want %v", st.ImageList, want)
	}
	h := sha256.New()
	for _, f := range st.ImageList {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\x00%x\n", f, sha256.Sum256(data))
	}
	if want := hex.EncodeToString(h.Sum(nil)); st.ImageListSHA256 != want {
		t.Errorf("image list SHA-256 %s, want %s", st.ImageListSHA256, want)
	}
	// No usable images.
	empty := t.TempDir()
	if _, err := Calibrate(g, empty, Options{Preprocess: spec}); err == nil || !strings.Contains(err.Error(), "no JPEG") {
		t.Errorf("empty dir: %v", err)
	}
	only := t.TempDir()
	if err := os.WriteFile(filepath.Join(only, "x.jpg"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Calibrate(g, only, Options{Preprocess: spec, SkipBad: true}); err == nil || !strings.Contains(err.Error(), "no usable images") {
		t.Errorf("only bad images: %v", err)
	}
	if _, err := Calibrate(g, filepath.Join(dir, "missing"), Options{Preprocess: spec}); err == nil {
		t.Error("missing dir accepted")
	}
	// A progress writer that is not a terminal stays quiet.
	var progress bytes.Buffer
	if _, err := Calibrate(g, dir, Options{Preprocess: spec, SkipBad: true, Progress: &progress}); err != nil || progress.Len() != 0 {
		t.Errorf("progress on a buffer: %v %q", err, progress.String())
	}
}

func TestCompileAndReport(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	dir := t.TempDir()
	for i := range 4 {
		writeImage(t, filepath.Join(dir, "img"+string(rune('a'+i))+".png"), 24, 20, r)
	}
	g := handBuilt(t, r)
	spec, _ := preprocess.Default(preprocess.Torchvision, 12, 12)
	// Compile runs the passes pipeline first; the hand-built graph is
	// already NHWC, which the pipeline leaves as it is.
	q, rep, err := Compile(g, dir, Options{Preprocess: spec, EvalDir: dir, ReportImages: 2, Method: MinMax, Equalize: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := Preprocess(q); !ok || got != spec {
		t.Errorf("preprocess meta %+v", got)
	}
	if rep.CalibImages != 4 || rep.Calib.Images != 2 || rep.Eval == nil || rep.Eval.Images != 4 || len(rep.Calib.Layers) == 0 {
		t.Fatalf("report: %+v", rep)
	}
	if rep.Int8WeightBytes*4 > rep.FloatWeightBytes+64 || rep.Int8ModelBytes <= rep.Int8WeightBytes || rep.Method != "minmax+equalize+biascorrect+outputrounding" || rep.Rounding == nil || rep.Rounding.Chosen != RoundOutput {
		t.Errorf("sizes or method: %+v", rep)
	}
	for i := 1; i < len(rep.Calib.Layers); i++ {
		if rep.Calib.Layers[i].SQNR < rep.Calib.Layers[i-1].SQNR {
			t.Fatal("layers not sorted worst first")
		}
	}
	js, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"model", "method", "calib_images", "float_weight_bytes", "int8_model_bytes", "calib", "eval"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	calib := back["calib"].(map[string]any)
	for _, k := range []string{"logits_sqnr_db", "top1_agree", "cosine", "layers", "per_image"} {
		if _, ok := calib[k]; !ok {
			t.Errorf("JSON calib lacks %q", k)
		}
	}
	text := rep.String()
	for _, want := range []string{"logits SQNR", "top-1 agreement", "per-layer SQNR", "weights:", "eval images (4)"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	// Infinite SQNRs (exact layers) survive JSON.
	m := &Metrics{LogitsSQNR: math.Inf(1), Layers: []LayerReport{{Name: "x", SQNR: math.Inf(1)}}}
	if b, err := json.Marshal(m); err != nil || !strings.Contains(string(b), "999") {
		t.Errorf("JSON of an exact layer: %s %v", b, err)
	}
}

// Calibration and the report run inputs in parallel; their results must
// not depend on how many workers they use (the channel sums and the
// report's sums are added in input order).
func TestParallelResultsIndependentOfWorkers(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	g := handBuilt(t, r)
	var in []*ir.Tensor
	for i := range 7 {
		in = append(in, randTensor(r, ir.Shape{1 + i%2, 3, 12, 12}, 1+float64(i)))
	}
	var ref *Stats
	var refQ *ir.Graph
	var refM *Metrics
	for _, w := range []int{1, 2, 3, 16} {
		st, err := CalibrateTensors(g, in, Options{Workers: w, Histograms: true})
		if err != nil {
			t.Fatal(err)
		}
		if st.Workers != min(w, len(in)) {
			t.Errorf("workers %d: stats say %d", w, st.Workers)
		}
		if ref == nil {
			ref = st
			if refQ, err = Quantize(g, st, Options{}); err != nil {
				t.Fatal(err)
			}
		} else if !reflect.DeepEqual(st.Tensors, ref.Tensors) || !slices.Equal(st.Files, ref.Files) || st.Images != ref.Images {
			t.Errorf("workers %d: statistics differ from one worker's", w)
		}
		m, err := Evaluate(g, refQ, in, nil, w)
		if err != nil {
			t.Fatal(err)
		}
		m.Elapsed = 0
		if refM == nil {
			refM = m
		} else if !reflect.DeepEqual(m, refM) {
			t.Errorf("workers %d: metrics differ from one worker's:\n%+v\n%+v", w, m, refM)
		}
	}
	if len(ref.Tensors) == 0 || ref.Tensors["input"].Hist == nil {
		t.Fatal("no statistics or histograms collected")
	}
	chans := 0
	for _, ts := range ref.Tensors {
		if ts.ChanSum != nil {
			chans++
		}
	}
	if chans == 0 {
		t.Error("no channel sums collected (bias correction's input)")
	}
}
