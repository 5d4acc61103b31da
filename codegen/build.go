package codegen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/detect"
	"github.com/mncdev/mnc/runtime/mncfb"
	"github.com/mncdev/mnc/runtime/preprocess"
	"github.com/mncdev/mnc/targets"
)

// Options configures Build.
type Options struct {
	// Target names the machine the model is for: a target or an alias of
	// package targets (e.g. rpi4), "" meaning "generic". The file records
	// the target's name and, for the kernel variants other than generic,
	// its kernels (TargetKernelsKey). Every target uses the generic weight
	// layout (see the package documentation).
	Target string
	// Producer records what wrote the file, e.g. "mnc 0.1.0".
	Producer string
	// Labels are the class names (line i = class i), stored in the file.
	Labels []string
	// Preprocess is the image preprocessing to record. For an int8 graph
	// nil means the one recorded in its Meta (calibration's).
	Preprocess *preprocess.Spec
	// Calibration is the calibration record of an int8 model.
	Calibration *runtime.Calibration
	// Detection is a detector's post-processing (format 1.5); nil means
	// the one in the graph's Meta (ir.MetaDetection), if any.
	Detection *detect.Config
	// Extra holds free-form metadata.
	Extra map[string]string

	// depthwiseHWO stores int8 depthwise weights [KH][KW][O]
	// (WeightLayoutHWO) instead of [O][KH][KW][1]: no target does, but
	// files written before may, and the runtime reads both; set only by
	// the tests (export_test.go), which check that.
	depthwiseHWO bool
}

// TargetKernelsKey is the metadata key (Options.Extra) under which Build
// records the kernel variant of the target (targets.Target.Kernels); the
// runtime reads it as runtime.TargetKernelsKey.
const TargetKernelsKey = runtime.TargetKernelsKey

// ArenaAlignment is the alignment of every activation in the arena.
const ArenaAlignment = 64

// Build converts a graph into the bytes of a .mnc file: an int8 graph as
// made by quant.Quantize (Quantize -> int8 body -> Dequantize), or a float
// graph as left by the passes pipeline (NHWC). The batch dimension is
// fixed to 1 (the runtime runs batches item by item), which requires every
// op to treat batch items independently. The result is verified by
// loading it with the runtime.
func Build(g *ir.Graph, opts Options) ([]byte, error) {
	if g == nil {
		return nil, errors.New("codegen: nil graph")
	}
	target, err := targets.Lookup(opts.Target)
	if err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	if target.Kernels != "" && target.Kernels != "generic" {
		// The runtime compares the kernels the target implies with those
		// the CPU it loads on can run, and says so when it falls back.
		extra := map[string]string{TargetKernelsKey: target.Kernels}
		for k, v := range opts.Extra {
			extra[k] = v
		}
		opts.Extra = extra
	}
	b := &builder{g: g, opts: opts, target: target, tensorOf: map[*ir.Value]int{}}
	if err := b.build(); err != nil {
		return nil, fmt.Errorf("codegen: %s: %w", g.Name, err)
	}
	data := b.serialize()
	if _, err := runtime.Load(data); err != nil {
		return nil, fmt.Errorf("codegen: %s: the written file does not verify (a bug): %w", g.Name, err)
	}
	return data, nil
}

type builder struct {
	g        *ir.Graph
	opts     Options
	target   targets.Target
	int8     bool
	mixed    bool // int8 with some operators in float32 (runtime.OpPrecision)
	shapes   map[*ir.Value]ir.Shape
	tensors  []*tensorDef
	ops      []*opDef
	tensorOf map[*ir.Value]int
	input    int
	output   int   // the first graph output
	outputs  []int // every graph output, in the graph's order
	spec     *preprocess.Spec
	det      *detect.Config
	arena    int64
	lower    int64
}

func (b *builder) build() error {
	g := b.g
	if len(g.Inputs) != 1 || len(g.Outputs) < 1 || len(g.Outputs) > runtime.MaxOutputs {
		return fmt.Errorf("the graph has %d inputs and %d outputs; a model file holds one input and 1 to %d outputs", len(g.Inputs), len(g.Outputs), runtime.MaxOutputs)
	}
	for _, n := range g.Nodes {
		if n.Op == ir.Quantize {
			b.int8 = true
		}
	}
	// An int8 graph's int8 form is verified with the file written, by
	// the runtime's loader (Build's last step).
	if err := ir.Verify(g); err != nil {
		return err
	}
	if err := b.inferShapes(); err != nil {
		return err
	}
	if err := b.metadata(); err != nil {
		return err
	}
	in := g.Inputs[0]
	for _, gout := range g.Outputs {
		if in.Type.DType != ir.Float32 || (gout.Type.DType != ir.Float32 && !argMaxOutput(g, gout)) {
			return fmt.Errorf("the graph input and outputs must be float32 (or an output an ArgMax's indices), are %v and %v (output %q)", in.Type.DType, gout.Type.DType, gout.Name)
		}
	}
	b.input = b.activation(in)
	for _, n := range g.Nodes {
		if err := b.node(n); err != nil {
			return fmt.Errorf("%s %q: %w", n.Op, n.Name, err)
		}
	}
	for i, gout := range g.Outputs {
		out, ok := b.tensorOf[gout]
		if !ok || gout == in {
			return fmt.Errorf("the graph output %q is not computed by any node", gout.Name)
		}
		if slices.Contains(b.outputs, out) {
			return fmt.Errorf("the graph output %q is listed twice", gout.Name)
		}
		if i == 0 {
			b.output = out
		}
		b.outputs = append(b.outputs, out)
	}
	out := b.output
	if n := len(b.opts.Labels); n > 0 && b.det != nil {
		if n != b.det.Classes {
			return fmt.Errorf("%d labels for a detector of %d classes (background included; want one label per class)", n, b.det.Classes)
		}
	} else if n > 0 {
		if s := b.tensors[out].shape; len(s) != 2 || s[1] != n {
			return fmt.Errorf("%d labels for an output of shape %v (want one label per class)", n, s)
		}
	}
	if b.int8 {
		for _, o := range b.ops {
			b.mixed = b.mixed || b.opPrecision(o) == mncfb.PrecisionFLOAT32
		}
	}
	b.planArena()
	return b.checkLimits()
}

// argMaxOutput reports whether the graph output v is an ArgMax's indices
// (i32 or i64; the file stores them INT32).
func argMaxOutput(g *ir.Graph, v *ir.Value) bool {
	for _, n := range g.Nodes {
		if n.Op == ir.ArgMax && n.Output() == v {
			return true
		}
	}
	return false
}

// opPrecision is runtime.OpPrecision of o's activation tensors.
func (b *builder) opPrecision(o *opDef) mncfb.Precision {
	var ds []mncfb.DType
	for _, list := range [][]int{o.in, o.out, o.mid} {
		for _, x := range list {
			if x >= 0 && b.tensors[x].data == nil {
				ds = append(ds, b.tensors[x].dtype)
			}
		}
	}
	return runtime.OpPrecision(ds...)
}

// inferShapes derives every value's shape for batch 1, and checks with
// batch 2 that the batch is the first dimension of every value and that
// nothing else depends on it (items are independent).
func (b *builder) inferShapes() error {
	infer := func(batch int) (map[*ir.Value]ir.Shape, error) {
		shapes := map[*ir.Value]ir.Shape{}
		in := b.g.Inputs[0]
		s := in.Type.Shape.Clone()
		if len(s) == 0 || (s[0] >= 0 && s[0] != 1) {
			return nil, fmt.Errorf("input shape %v: the first dimension must be the batch", s)
		}
		fixedBatch := s[0] == 1
		s[0] = batch
		if !s.Known() {
			return nil, fmt.Errorf("input shape %v is not known apart from the batch", in.Type.Shape)
		}
		shapes[in] = s
		for _, n := range b.g.Nodes {
			types := make([]ir.TensorType, len(n.Inputs))
			for i, v := range n.Inputs {
				if v == nil {
					continue
				}
				if v.IsConst() {
					types[i] = v.Type
					continue
				}
				vs, ok := shapes[v]
				if !ok {
					return nil, fmt.Errorf("%s %q reads %s before it is computed", n.Op, n.Name, v)
				}
				types[i] = ir.TensorType{DType: v.Type.DType, Shape: vs}
			}
			probe := n
			if a, ok := n.Attrs.(*ir.ReshapeAttrs); ok && batch != 1 && fixedBatch && len(a.Shape) > 0 && a.Shape[0] == 1 &&
				len(types) > 0 && len(types[0].Shape) > 0 && types[0].Shape[0] == batch {
				// A file exported at batch 1 (SSD heads' Reshape to
				// [1,anchors,4,H,W]) states its batch as a literal 1:
				// for the probe it is the input's first dimension.
				c := *n
				c.Attrs = &ir.ReshapeAttrs{Shape: append([]int{0}, a.Shape[1:]...)}
				probe = &c
			}
			ts, err := ir.InferNode(probe, types)
			if err != nil {
				return nil, err
			}
			if len(n.Outputs) != 1 || !ts[0].Shape.Known() {
				return nil, fmt.Errorf("%s %q: output shape %v is not known", n.Op, n.Name, ts[0].Shape)
			}
			shapes[n.Output()] = ts[0].Shape
		}
		return shapes, nil
	}
	one, err := infer(1)
	if err != nil {
		return err
	}
	two, err := infer(2)
	if err != nil {
		return err
	}
	for v, s := range one {
		t := two[v]
		if len(s) == 0 || s[0] != 1 || len(t) != len(s) || t[0] != 2 || !s[1:].Equal(t[1:]) {
			return fmt.Errorf("value %s has shape %v for batch 1 and %v for batch 2: the model does not treat batch items independently", v, s, t)
		}
	}
	for _, n := range b.g.Nodes {
		switch a := n.Attrs.(type) {
		case *ir.TransposeAttrs:
			if len(a.Perm) == 0 || a.Perm[0] != 0 {
				return fmt.Errorf("%s %q moves the batch dimension", n.Op, n.Name)
			}
		case *ir.SoftmaxAttrs:
			r := len(one[n.Output()])
			if ax := a.Axis; ax == 0 || ax == -r {
				return fmt.Errorf("%s %q normalizes over the batch", n.Op, n.Name)
			}
		}
	}
	b.shapes = one
	return nil
}

func (b *builder) metadata() error {
	spec := b.opts.Preprocess
	if js, ok := b.g.Meta[ir.MetaPreprocess]; spec == nil && b.int8 && ok {
		s, err := preprocess.ParseSpec([]byte(js))
		if err != nil {
			return fmt.Errorf("model metadata %q: %w", ir.MetaPreprocess, err)
		}
		spec = &s
	}
	if spec != nil {
		s := b.g.Inputs[0].Type.Shape
		if len(s) != 4 || s[1] != 3 || s[2] != spec.Height || s[3] != spec.Width {
			return fmt.Errorf("preprocessing makes %dx%d RGB images but the model input is %v", spec.Height, spec.Width, s)
		}
	}
	b.spec = spec
	det := b.opts.Detection
	if js, ok := b.g.Meta[ir.MetaDetection]; det == nil && ok {
		var d detect.Config
		if err := json.Unmarshal([]byte(js), &d); err != nil {
			return fmt.Errorf("model metadata %q: %w", ir.MetaDetection, err)
		}
		det = &d
	}
	if det != nil {
		// The output shapes and anchors are checked by the runtime's
		// loader, Build's last step.
		if err := det.Check(len(b.g.Outputs)); err != nil {
			return err
		}
		for _, r := range det.Anchors.AspectRatios {
			for _, v := range r {
				if v > math.MaxInt32 {
					return fmt.Errorf("detection: aspect ratio %d", v)
				}
			}
		}
	}
	b.det = det
	return nil
}
