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
	out    view
	sample int // input elements per batch item
	per    int // output elements per batch item
	result []float32
	res32  []int32 // the result of an int32 output
	shape  []int
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

// NewInterpreter returns an interpreter for m, running on the number of
// threads of the model's Options.Threads (0: runtime.GOMAXPROCS). An
// interpreter with more than one thread owns worker goroutines: Close
// stops them (see threads.go).
func (m *Model) NewInterpreter() (*Interpreter, error) { return m.NewInterpreterThreads(m.threads) }

// NewInterpreterThreads returns an interpreter for m that splits the large
// steps of every Run over threads goroutines (< 1: runtime.GOMAXPROCS(0)).
// The results are the same, bit for bit, for every thread count.
func (m *Model) NewInterpreterThreads(threads int) (*Interpreter, error) {
	it := &Interpreter{m: m, in: m.viewOf(m.input), out: m.viewOf(m.output)}
	it.sample, it.per = it.in.n, it.out.n
	it.arena = alignedBytes(m.arena, 64)
	it.shape = append([]int(nil), m.tensors[m.output].shape...)
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
// is owned by the interpreter and valid until its next Run.
func (it *Interpreter) Run(in Tensor) (out Tensor, err error) {
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
			out = Tensor{}
		}
	}()
	n, err := it.batch(in)
	if err != nil {
		return Tensor{}, err
	}
	out32 := it.m.tensors[it.m.output].dtype == mncfb.DTypeINT32
	need := n * it.per
	switch {
	case out32 && cap(it.res32) < need:
		it.res32 = make([]int32, need)
	case !out32 && cap(it.result) < need:
		it.result = make([]float32, need)
	}
	var res []float32
	var res32 []int32
	if out32 {
		res32 = it.res32[:need]
	} else {
		res = it.result[:need]
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
		if out32 {
			copy(res32[b*it.per:(b+1)*it.per], it.out.i32(ar))
		} else {
			copy(res[b*it.per:(b+1)*it.per], it.out.f32(ar))
		}
	}
	it.shape[0] = n
	return Tensor{Shape: it.shape, Data: res, I32: res32}, nil
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
