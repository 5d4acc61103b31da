package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/frontend"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/limits"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// Model maps a float32 input batch [N,C,H,W] to logits [N,classes].
type Model interface {
	// InputShape is the model's input shape; the batch dimension may be < 0
	// (any).
	InputShape() ir.Shape
	// Classes is the number of classes (the last dimension of the logits;
	// 0 if unknown).
	Classes() int
	Run(in *ir.Tensor) (*ir.Tensor, error)
}

// Graph adapts a float ir graph with one input and one output to Model,
// running it on the reference interpreter.
func Graph(g *ir.Graph) (Model, error) {
	if _, ok := g.Meta[ir.MetaDetection]; ok {
		return nil, fmt.Errorf("model %s is a detector: compile it (mnc compile MODEL -o model.mnc) and run the .mnc file, which holds its post-processing", esc.String(g.Name))
	}
	if len(g.Inputs) != 1 || len(g.Outputs) != 1 {
		return nil, fmt.Errorf("model %s has %d inputs and %d outputs; a classifier has one of each", g.Name, len(g.Inputs), len(g.Outputs))
	}
	return graphModel{g: g}, nil
}

type graphModel struct {
	g       *ir.Graph
	workers int // interp.Options.Workers (0: GOMAXPROCS)
}

func (m graphModel) InputShape() ir.Shape { return m.g.Inputs[0].Type.Shape }

func (m graphModel) Classes() int { return OutputClasses(m.g) }

// OutputClasses is the number of classes of a classifier graph: the last
// dimension of its first output (0 if unknown).
func OutputClasses(g *ir.Graph) int {
	if len(g.Outputs) == 0 {
		return 0
	}
	s := g.Outputs[0].Type.Shape
	if len(s) == 0 || s[len(s)-1] < 0 {
		return 0
	}
	return s[len(s)-1]
}

func (m graphModel) Run(in *ir.Tensor) (*ir.Tensor, error) {
	out, err := interp.Run(m.g, []*ir.Tensor{in}, &interp.Options{Workers: m.workers})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Result is the classification of one input.
type Result struct {
	Input string          `json:"input"`
	Top   []runtime.Class `json:"top"`
}

// ReadLabels reads one label per line (line i names class i); a file
// without labels is an error. Trailing blank lines are dropped. The file
// must be a regular file of at most limits.LabelsFile bytes naming at most
// limits.Classes classes.
func ReadLabels(path string) ([]string, error) {
	if path == "" {
		return nil, errors.New("read labels: the file name is empty")
	}
	f, st, err := limits.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read labels: %w", err)
	}
	defer f.Close()
	if st.Size() > limits.LabelsFile {
		return nil, fmt.Errorf("the labels file %s is %s; the limit is %s", path, limits.Bytes(st.Size()), limits.Bytes(limits.LabelsFile))
	}
	var labels []string
	sc := bufio.NewScanner(io.LimitReader(f, limits.LabelsFile))
	for sc.Scan() {
		if len(labels) == limits.Classes {
			return nil, fmt.Errorf("the labels file %s names more than %d classes (the limit)", path, limits.Classes)
		}
		labels = append(labels, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read labels %q: %w", path, err)
	}
	for len(labels) > 0 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1]
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("labels file %q has no labels (want one class name per line)", path)
	}
	return labels, nil
}

// CheckLabels checks that there is one label per class: a labels file of
// another length would name every class wrongly.
func CheckLabels(labels []string, classes int, path string) error {
	if classes <= 0 || len(labels) == classes {
		return nil
	}
	hint := ""
	if len(labels) == classes+1 {
		hint = " (one too many: a \"background\" class the model does not have?)"
	} else if len(labels)+1 == classes {
		hint = " (one too few: the model may have a \"background\" class 0)"
	}
	return fmt.Errorf("labels file %q has %d labels but the model has %d classes%s", path, len(labels), classes, hint)
}

// TensorShape reads the shape of an N x C x H x W .npy file from its
// header, which is checked against the file's size and the size limit
// without reading the data (see CheckInput, then ReadTensor).
func TensorShape(path string) (ir.Shape, error) {
	h, err := npy.ReadHeader(path)
	if err != nil {
		return nil, err
	}
	return ir.Shape(h.Shape), nil
}

// ReadTensor reads an N x C x H x W float32 .npy file (see CheckInput).
func ReadTensor(path string) (*ir.Tensor, error) {
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ir.NewFloat32(ir.Shape(a.Shape), a.Data), nil
}

// CheckInput checks the shape of a tensor file (path) against the model's
// input shape.
func CheckInput(shape ir.Shape, path string, want ir.Shape) error {
	if err := checkShape(shape, want); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func checkShape(got, want ir.Shape) error {
	if len(got) != len(want) {
		return fmt.Errorf("input has shape %v, the model wants %v", got, want)
	}
	for i := range got {
		if i == 0 && want[0] == 1 && got[0] >= 1 {
			continue // a fixed batch of 1 runs a batch item by item (RunTensor)
		}
		if want[i] >= 0 && got[i] != want[i] {
			return fmt.Errorf("input has shape %v, the model wants %v", got, want)
		}
	}
	return nil
}

// InputSize returns the model's input height and width, which must be known.
func InputSize(m Model) (h, w int, err error) {
	s := m.InputShape()
	if len(s) != 4 || s[1] != 3 || s[2] < 1 || s[3] < 1 {
		return 0, 0, fmt.Errorf("model input %v is not an RGB image batch [N,3,H,W] of known size", s)
	}
	return s[2], s[3], nil
}

// RunImages preprocesses each image, runs it and returns one result per
// image, plus the logits of all images as an [N,classes] tensor.
func RunImages(m Model, paths []string, spec preprocess.Spec, k int, labels []string) ([]Result, *ir.Tensor, error) {
	h, w, err := InputSize(m)
	if err != nil {
		return nil, nil, err
	}
	in := ir.NewFloat32(ir.Shape{1, 3, h, w}, nil)
	var all []float32
	var classes int
	results := make([]Result, 0, len(paths))
	for _, p := range paths {
		if err := spec.File(p, in.F32); err != nil {
			return nil, nil, err
		}
		out, err := m.Run(in)
		if err != nil {
			return nil, nil, fmt.Errorf("run %s: %w", p, err)
		}
		classes = out.Shape.NumElements()
		all = append(all, out.F32...)
		results = append(results, Result{Input: p, Top: runtime.TopK(out.F32, k, labels)})
	}
	return results, ir.NewFloat32(ir.Shape{len(paths), classes}, all), nil
}

// RunTensor runs a whole input batch and returns one result per row.
func RunTensor(m Model, in *ir.Tensor, name string, k int, labels []string) ([]Result, *ir.Tensor, error) {
	out, err := runBatch(m, in)
	if err != nil {
		return nil, nil, err
	}
	if len(out.Shape) != 2 {
		return nil, nil, fmt.Errorf("model output has shape %v, want [N,classes]", out.Shape)
	}
	n, c := out.Shape[0], out.Shape[1]
	results := make([]Result, n)
	for i := range n {
		results[i] = Result{Input: fmt.Sprintf("%s[%d]", name, i), Top: runtime.TopK(out.F32[i*c:(i+1)*c], k, labels)}
	}
	return results, out, nil
}

// runBatch runs in on m, item by item when m takes a fixed batch of one
// (an ONNX file exported with batch 1) and in has more.
func runBatch(m Model, in *ir.Tensor) (*ir.Tensor, error) {
	if s := m.InputShape(); len(s) == 0 || s[0] != 1 || len(in.Shape) == 0 || in.Shape[0] <= 1 {
		return m.Run(in)
	}
	n := in.Shape[0]
	per := len(in.F32) / n
	var out *ir.Tensor
	for i := range n {
		item := in.Shape.Clone()
		item[0] = 1
		o, err := m.Run(ir.NewFloat32(item, in.F32[i*per:(i+1)*per]))
		if err != nil {
			return nil, fmt.Errorf("batch item %d: %w", i, err)
		}
		if out == nil {
			s := o.Shape.Clone()
			s[0] = n
			out = ir.NewFloat32(s, make([]float32, 0, n*len(o.F32)))
		}
		out.F32 = append(out.F32, o.F32...)
	}
	return out, nil
}

// SaveOutput writes logits as a float32 .npy file, atomically and only
// over nothing or a regular file (see codegen.WriteFile; CheckOutput
// checks a path before the work).
func SaveOutput(path string, t *ir.Tensor) error {
	var b bytes.Buffer
	if err := npy.Write(&b, &npy.Array{Shape: t.Shape, Data: t.F32}); err != nil {
		return fmt.Errorf("write npy %s: %w", path, err)
	}
	return codegen.WriteFile(path, b.Bytes())
}

// Print writes results as text (one line per class) or as JSON.
func Print(w io.Writer, results []Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	for _, r := range results {
		fmt.Fprintf(w, "%s\n", esc.String(filepath.Base(r.Input)))
		for _, c := range r.Top {
			label := esc.String(c.Label)
			if label == "" {
				label = "-"
			}
			fmt.Fprintf(w, "  %5d  %6.2f%%  logit %8.4f  %s\n", c.Index, 100*c.Prob, c.Logit, label)
		}
	}
	return nil
}

// Recorded is what a compiled model file records for running it: the
// preprocessing it was calibrated with and its class names.
type Recorded struct {
	Spec   *preprocess.Spec
	Labels []string
	// Kind says what runs the model: "int8" or "float32" for a .mnc file
	// (its precision), "float" for a float model on the interpreter.
	Kind string
	// KernelsNote explains a kernel fallback of a .mnc file (see
	// runtime.Info.KernelsNote); "" if none.
	KernelsNote string
	// Default, for a float model whose format implies its preprocessing,
	// is that preprocessing at the model's input size: tf for TFLite files
	// (TensorFlow's models, whose quantized inputs stand for x/127.5 - 1).
	// Commands use it when no preprocessing flag is given; nil otherwise.
	Default *preprocess.Spec
}

// Open loads a model for classification: a compiled .mnc file (recognised
// by its identifier, whatever its name) runs on the runtime; anything else
// is read by the frontend (with opts) and runs on the float reference
// interpreter. Close the model when done if it is an io.Closer.
func Open(path string, opts frontend.Options) (Model, *Recorded, error) {
	return OpenWith(path, opts, runtime.Options{})
}

// OpenWith is Open with the runtime's options (kernel variant, threads)
// for .mnc files; float models ignore them.
func OpenWith(path string, opts frontend.Options, ropts runtime.Options) (Model, *Recorded, error) {
	if runtime.IsModelFile(path) {
		m, err := runtime.OpenWith(path, ropts)
		if err != nil {
			return nil, nil, err
		}
		if _, det := m.Detection(); det {
			m.Close()
			return nil, nil, fmt.Errorf("model %s is a detector: mnc run prints its boxes, mnc eval scores it against box files with --boxes DIR", esc.String(m.Info().Name))
		}
		if n := m.NumOutputs(); n != 1 { // as Graph (a detector's cls_logits and bbox_regression)
			m.Close()
			return nil, nil, fmt.Errorf("model %s has 1 inputs and %d outputs (%s); a classifier has one of each",
				esc.String(m.Info().Name), n, esc.String(strings.Join(m.OutputNames(), ", ")))
		}
		it, err := m.NewInterpreter()
		if err != nil {
			m.Close()
			return nil, nil, err
		}
		rec := &Recorded{Labels: m.Labels(), Kind: m.Info().Precision, KernelsNote: m.Info().KernelsNote}
		if s, ok := m.Preprocess(); ok {
			rec.Spec = &s
		}
		return &blobModel{m: m, it: it}, rec, nil
	}
	g, err := frontend.Load(path, opts)
	if err != nil {
		return nil, nil, err
	}
	m, err := Graph(g)
	if err != nil {
		return nil, nil, err
	}
	rec := &Recorded{Kind: "float"}
	if frontend.IsTFLite(path) {
		if h, w, err := InputSize(m); err == nil {
			if s, err := preprocess.Default(preprocess.TF, h, w); err == nil {
				rec.Default = &s
			}
		}
	}
	return m, rec, nil
}

// Replicas returns n models (n >= 1) computing what m computes, each on
// one thread, for inputs run in parallel: one goroutine may use each. They
// share m's weights; a .mnc model's replicas are interpreters of its loaded
// file. Close every replica that is an io.Closer before closing m. Models
// of other types than Open's are returned as n copies of m itself.
func Replicas(m Model, n int) ([]Model, error) {
	out := make([]Model, 0, max(n, 1))
	for range max(n, 1) {
		switch m := m.(type) {
		case graphModel:
			out = append(out, graphModel{g: m.g, workers: 1})
		case *blobModel:
			it, err := m.m.NewInterpreterThreads(1)
			if err != nil {
				for _, r := range out {
					r.(*blobReplica).Close()
				}
				return nil, err
			}
			out = append(out, &blobReplica{blobModel{m: m.m, it: it}})
		default:
			out = append(out, m)
		}
	}
	return out, nil
}

// blobReplica is a blobModel whose Close stops only its interpreter.
type blobReplica struct{ blobModel }

func (b *blobReplica) Close() error { b.it.Close(); return nil }

// blobModel runs a compiled model file.
type blobModel struct {
	m  *runtime.Model
	it *runtime.Interpreter
}

func (b *blobModel) InputShape() ir.Shape {
	s := ir.Shape(b.m.InputShape())
	s[0] = -1 // any batch
	return s
}

func (b *blobModel) Classes() int {
	if s := b.m.OutputShape(); len(s) > 0 {
		return s[len(s)-1]
	}
	return 0
}

// Run returns the model's output: float32 logits, or the i32 indices of a
// model whose output is an ARG_MAX's (a segmentation's class map).
func (b *blobModel) Run(in *ir.Tensor) (*ir.Tensor, error) {
	out, err := b.it.Run(runtime.Tensor{Shape: in.Shape, Data: in.F32})
	if err != nil {
		return nil, err
	}
	if out.I32 != nil {
		return &ir.Tensor{DType: ir.Int32, Shape: ir.Shape(out.Shape).Clone(), I32: append([]int32(nil), out.I32...)}, nil
	}
	return ir.NewFloat32(ir.Shape(out.Shape), append([]float32(nil), out.Data...)), nil
}

func (b *blobModel) Close() error { b.it.Close(); return b.m.Close() }
