package runtime

import (
	"fmt"
	"image"
	"runtime/debug"
	"slices"
	"time"
	"unsafe"

	"github.com/mncdev/mnc/runtime/mncfb"
)

// Tensor is a float32 tensor: Data holds the product of Shape's dimensions
// in row-major order. A model whose output is int32 (format 1.4: an
// ARG_MAX's indices, a segmentation's class map) returns it in I32, Data
// being nil; every other tensor has I32 nil.
type Tensor struct {
	Shape []int
	Data  []float32
	I32   []int32
}

// Interpreter runs a Model. It owns the activation memory (one arena, as
// planned by the compiler) and its output buffer, so Run allocates nothing
// once the first Run of a batch size has sized the output. An Interpreter
// is for one goroutine at a time; NewInterpreter is cheap (it allocates
// the arena, checks the kernel parameters and, for more than one thread,
// starts the worker goroutines that Close stops), so make one per
// goroutine over the same Model, which is shared read-only.
type Interpreter struct {
	m      *Model
	arena  []byte
	in     view
	outs   []output // the graph outputs, outs[0] Run's
	res    []Tensor // their results (Run returns res[0], RunAll res)
	sample int      // input elements per batch item
	image  []float32

	threads int
	pool    *pool      // nil: one thread
	split   []splitter // per step: the splittable step, or nil to run it whole
	parts   []int      // per step: ranges to split into

	prof     []time.Duration // per step, while profiling (SetProfile)
	profRuns int

	observe func(*Observation) // SetObserver
	obs     Observation
}

// output is one graph output of an Interpreter: where it lives in the
// arena and the buffer its results are copied to.
type output struct {
	v      view
	per    int // elements per batch item
	i32    bool
	result []float32
	res32  []int32 // the result of an int32 output
	shape  []int
}

// NewInterpreter returns an interpreter for m, running on the number of
// threads of the model's Options.Threads (0: runtime.GOMAXPROCS). An
// interpreter with more than one thread owns worker goroutines: Close
// stops them (see threads.go).
func (m *Model) NewInterpreter() (*Interpreter, error) { return m.NewInterpreterThreads(m.threads) }

// NewInterpreterThreads returns an interpreter for m that splits the large
// steps of every Run over threads goroutines (< 1: runtime.GOMAXPROCS(0)).
// The results are the same, bit for bit, for every thread count.
func (m *Model) NewInterpreterThreads(threads int) (*Interpreter, error) {
	it := &Interpreter{m: m, in: m.viewOf(m.input)}
	it.sample = it.in.n
	it.arena = alignedBytes(m.arena, 64)
	it.outs = make([]output, len(m.outputs))
	it.res = make([]Tensor, len(m.outputs))
	for i, x := range m.outputs {
		v := m.viewOf(x)
		it.outs[i] = output{v: v, per: v.n, i32: m.tensors[x].dtype == mncfb.DTypeINT32, shape: append([]int(nil), m.tensors[x].shape...)}
	}
	for i, s := range m.steps {
		if err := s.check(it.arena); err != nil {
			op := &m.ops[i]
			return nil, fmt.Errorf("model: operator %d (%v %q): %w", i, op.code, op.name, err)
		}
	}
	it.planThreads(threads)
	return it, nil
}

// alignedBytes returns n zeroed bytes starting at a multiple of align.
func alignedBytes(n, align int) []byte {
	b := make([]byte, n+align)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) % uintptr(align)); r != 0 {
		off = align - r
	}
	return b[off : off+n : off+n]
}

// Model returns the interpreter's model.
func (it *Interpreter) Model() *Model { return it.m }

// Run runs the model on a float32 input: one preprocessed item in the
// model's input shape without its batch dimension (for an image model
// [3,H,W], NCHW), or a batch [N,3,H,W], which is run item by item. It
// returns the outputs as [N, ...] (N = 1 for a single item); the result
// is owned by the interpreter and valid until its next Run. A model with
// several outputs returns its first (RunAll returns them all).
func (it *Interpreter) Run(in Tensor) (Tensor, error) {
	outs, err := it.run(in, 1)
	if err != nil {
		return Tensor{}, err
	}
	return outs[0], nil
}

// RunAll is Run returning every graph output, in the model's order
// (Model.OutputNames, Model.OutputShapes): for SSDLite, cls_logits
// [N,anchors,classes] and bbox_regression [N,anchors,4]. The results are
// owned by the interpreter and valid until its next Run or RunAll.
func (it *Interpreter) RunAll(in Tensor) ([]Tensor, error) { return it.run(in, len(it.outs)) }

// run runs in and returns the first k outputs.
func (it *Interpreter) run(in Tensor, k int) (outs []Tensor, err error) {
	if it.m.unmap != nil {
		// A mapped file truncated under us faults: an error, not a crash
		// (faults.go).
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	}
	defer func() {
		if r := recover(); r != nil {
			if err = mappedFault(r, it.m.data, it.m.path); err == nil {
				err = fmt.Errorf("internal error while running the model (please report): %v", r)
			}
			outs = nil
		}
	}()
	n, err := it.batch(in)
	if err != nil {
		return nil, err
	}
	active := it.outs[:k]
	for i := range active {
		o := &active[i]
		need := n * o.per
		switch {
		case o.i32 && cap(o.res32) < need:
			o.res32 = make([]int32, need)
		case !o.i32 && cap(o.result) < need:
			o.result = make([]float32, need)
		}
	}
	ar := it.arena
	for b := range n {
		copy(it.in.f32(ar), in.Data[b*it.sample:(b+1)*it.sample])
		if it.observe != nil {
			it.runObserved(b, ar)
		} else if it.prof != nil {
			for i, s := range it.m.steps {
				t0 := time.Now()
				it.exec(i, s, ar)
				it.prof[i] += time.Since(t0)
			}
			it.profRuns++
		} else {
			for i, s := range it.m.steps {
				it.exec(i, s, ar)
			}
		}
		for i := range active {
			o := &active[i]
			if o.i32 {
				copy(o.res32[b*o.per:(b+1)*o.per], o.v.i32(ar))
			} else {
				copy(o.result[b*o.per:(b+1)*o.per], o.v.f32(ar))
			}
		}
	}
	outs = it.res[:k]
	for i := range active {
		o := &active[i]
		o.shape[0] = n
		outs[i] = Tensor{Shape: o.shape}
		if o.i32 {
			outs[i].I32 = o.res32[:n*o.per]
		} else {
			outs[i].Data = o.result[:n*o.per]
		}
	}
	return outs, nil
}

// batch checks an input against the model's input shape and returns the
// batch size.
func (it *Interpreter) batch(in Tensor) (int, error) {
	want := it.m.tensors[it.m.input].shape[1:]
	s := in.Shape
	n := 1
	switch len(s) {
	case len(want):
	case len(want) + 1:
		n = s[0]
		s = s[1:]
		if n < 1 {
			return 0, fmt.Errorf("input batch size %d", n)
		}
	default:
		return 0, fmt.Errorf("input has shape %v, the model wants %v or [N %v]", in.Shape, want, want)
	}
	if len(want) == 3 && len(s) == 3 && s[0] != want[0] {
		return 0, fmt.Errorf("input has %d channels, the model wants %d (input shape %v, model %v)", s[0], want[0], in.Shape, want)
	}
	if !slices.Equal(s, want) {
		return 0, fmt.Errorf("input has shape %v, the model wants %v or [N %v]", in.Shape, want, want)
	}
	if n > len(in.Data)/it.sample || len(in.Data) != n*it.sample {
		return 0, fmt.Errorf("input holds %d values; shape %v needs %d", len(in.Data), in.Shape, n*it.sample)
	}
	return n, nil
}

// RunImage preprocesses img as recorded in the model (the preprocessing
// the model was calibrated with) and runs it.
func (it *Interpreter) RunImage(img image.Image) (Tensor, error) {
	spec, ok := it.m.Preprocess()
	if !ok {
		return Tensor{}, fmt.Errorf("the model records no image preprocessing; run a preprocessed tensor instead")
	}
	if it.image == nil {
		it.image = make([]float32, it.sample)
	}
	if err := spec.Tensor(img, it.image); err != nil {
		return Tensor{}, err
	}
	return it.Run(Tensor{Shape: it.m.tensors[it.m.input].shape, Data: it.image})
}

// RunFile decodes an image file (JPEG, PNG, BMP, WebP) and runs it with
// RunImage.
func (it *Interpreter) RunFile(path string) (Tensor, error) {
	spec, ok := it.m.Preprocess()
	if !ok {
		return Tensor{}, fmt.Errorf("the model records no image preprocessing; run a preprocessed tensor instead")
	}
	if it.image == nil {
		it.image = make([]float32, it.sample)
	}
	if err := spec.File(path, it.image); err != nil {
		return Tensor{}, err
	}
	return it.Run(Tensor{Shape: it.m.tensors[it.m.input].shape, Data: it.image})
}

// Observation is what an observer (SetObserver) sees of a Run: the model's
// input, then each operator's output tensor, in the arena (valid only
// during the call; copy what you keep).
type Observation struct {
	Item   int    // batch item
	Op     int    // operator index; -1 for the model's input
	Tensor int    // the output's tensor index
	Name   string // the output's tensor name
	Shape  []int  // its shape (batch 1; do not modify)
	F32    []float32
	I8     []int8  // the codes of an int8 tensor, which Scale and Zero dequantize
	I32    []int32 // an int32 tensor (ARG_MAX's indices)
	Scale  float32 // real value = Scale x (code - Zero)
	Zero   int32
}

// SetObserver makes every following Run call f with each item's input and
// after each operator with its output (nil: no observer). The compiler
// calibrates and evaluates on it; it costs one nil test per Run when off.
func (it *Interpreter) SetObserver(f func(*Observation)) { it.observe = f }

func (it *Interpreter) runObserved(item int, ar []byte) {
	it.observeTensor(item, -1, it.m.input, ar)
	for i, s := range it.m.steps {
		it.exec(i, s, ar)
		it.observeTensor(item, i, it.m.ops[i].out[0], ar)
	}
}

func (it *Interpreter) observeTensor(item, op, x int, ar []byte) {
	o := &it.obs
	t := &it.m.tensors[x]
	*o = Observation{Item: item, Op: op, Tensor: x, Name: t.name, Shape: t.shape}
	v := it.m.viewOf(x)
	switch t.dtype {
	case mncfb.DTypeFLOAT32:
		o.F32 = v.f32(ar)
	case mncfb.DTypeINT8:
		o.I8 = v.i8(ar)
		o.Scale, o.Zero = t.scale[0], t.zeroAt(0)
	case mncfb.DTypeINT32:
		o.I32 = v.i32(ar)
	}
	it.observe(o)
}
