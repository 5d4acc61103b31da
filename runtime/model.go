package runtime

import (
	"fmt"
	"runtime/debug"
	"strings"
	"unsafe"

	"github.com/mncdev/mnc/runtime/esc"
	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/limits"
	"github.com/mncdev/mnc/runtime/mncfb"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// File format constants (see runtime/mncfb/mnc.fbs).
const (
	// FileIdentifier is the FlatBuffers file identifier of .mnc files
	// (bytes 4 to 8).
	FileIdentifier = "MNC1"
	// FormatMajor and FormatMinor are the version of the format this
	// package reads and codegen writes. Files of a newer major version are
	// refused; a newer minor version only adds fields, which are ignored.
	FormatMajor = 1
	FormatMinor = 6 // 1.1: QualityFigures.median_sqnr_db and worst_sqnr_db; 1.2: Preprocess.scale, resize, resize_to, crop, channels; 1.3: Precision MIXED, Operator.precision; 1.4: RESIZE_BILINEAR, ARG_MAX, CONCATENATION and their options, an INT32 graph output, several graph outputs; 1.5: Metadata.detection, Preprocess.resize "interpolate"; 1.6: a float32 layer's weights stored as int8 codes with per-channel scales
	// BufferAlignment is the alignment of every constant buffer's data in
	// the file.
	BufferAlignment = 16
	// MaxOutputs caps the graph outputs of a model (format 1.4: one or
	// more; Model.outputs lists them, the first being the one Run returns).
	MaxOutputs = 64
	// MaxArenaBytes caps the activation memory a model may ask for
	// (limits.ModelArena).
	MaxArenaBytes = limits.ModelArena
)

// Limits of the verifier: beyond them a file is refused before anything is
// allocated for it.
const (
	maxFileBytes = limits.ModelFile
	maxTensors   = limits.ModelTensors
	maxOps       = limits.ModelOps
	maxBuffers   = limits.ModelBuffers
	maxRank      = 8
	maxElements  = limits.ModelTensorElements
	maxOpArgs    = 8
)

// Model is a verified .mnc model, ready to run: its execution plan (one
// step per operator with every kernel parameter resolved) is built once by
// Open or Load and shared, read-only, by all its Interpreters.
type Model struct {
	data    []byte
	path    string // the file's, for errors ("" for Load)
	unmap   func() error
	info    Info
	tensors []tensor
	ops     []operator
	steps   []step
	input   int   // tensor index
	output  int   // the first graph output (outputs[0])
	outputs []int // every graph output, in the file's order
	arena   int   // bytes
	kern    *kernels.Set
	spec    *preprocess.Spec
	det     *detector // format 1.5's detection metadata, nil if none
	threads int       // Options.Threads
}

// Options configures how a model is loaded.
type Options struct {
	// Kernels forces a kernel variant: "generic", "avx2", "vnni", "vnni512", "amx", "neon",
	// "dotprod" or "neon32" (see kernels.Names). "" means the MNC_KERNELS
	// environment variable, else the fastest variant this CPU runs.
	// Kernels are chosen once, here.
	Kernels string
	// Threads is the number of threads of the model's interpreters
	// (NewInterpreter): 0 means runtime.GOMAXPROCS(0), 1 runs every step
	// on the caller's goroutine. NewInterpreterThreads overrides it.
	Threads int
}

// Open reads and verifies a model file. Where the platform allows it
// (Linux, macOS, the BSDs) the file is memory-mapped, so weights are used
// in place and shared between processes; Close unmaps it.
func Open(path string) (*Model, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, opts Options) (*Model, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	if unmap != nil {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	}
	m, err := load(data, path, opts)
	if err != nil {
		if unmap != nil {
			_ = unmap()
		}
		return nil, fmt.Errorf("model %s: %w", esc.String(path), err)
	}
	m.unmap = unmap
	return m, nil
}

// Load verifies a model held in memory. The model uses data in place (its
// weights are not copied), so data must not be modified afterwards.
func Load(data []byte) (*Model, error) { return LoadWith(data, Options{}) }

// LoadWith is Load with options.
func LoadWith(data []byte, opts Options) (*Model, error) {
	if len(data) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(data)))%BufferAlignment != 0 {
		// Constant buffers are aligned within the file; keep them
		// aligned in memory so that they can be used in place.
		if int64(len(data)) > maxFileBytes {
			return nil, fmt.Errorf("model: the model is %s; the limit is %s", limits.Bytes(int64(len(data))), limits.Bytes(maxFileBytes))
		}
		c := alignedBytes(len(data), 64)
		copy(c, data)
		data = c
	}
	m, err := load(data, "", opts)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return m, nil
}

// Close releases a memory-mapped file. The model and its Interpreters must
// not be used afterwards. Close of a Loaded model does nothing.
func (m *Model) Close() error {
	if m == nil || m.unmap == nil {
		return nil
	}
	err := m.unmap()
	m.unmap = nil
	return err
}

// Info describes the model (see Info).
func (m *Model) Info() *Info { return &m.info }

// Labels returns the class names stored in the model (nil if none).
func (m *Model) Labels() []string { return m.info.Labels }

// Preprocess returns the image preprocessing recorded in the model, and
// whether there is one.
func (m *Model) Preprocess() (preprocess.Spec, bool) {
	if m.spec == nil {
		return preprocess.Spec{}, false
	}
	return *m.spec, true
}

// InputShape returns the shape of one input (batch 1), e.g. [1 3 224 224].
func (m *Model) InputShape() []int { return append([]int(nil), m.tensors[m.input].shape...) }

// OutputShape returns the shape of one output (batch 1), e.g. [1 1000]:
// the first output of a model with several.
func (m *Model) OutputShape() []int { return append([]int(nil), m.tensors[m.output].shape...) }

// NumOutputs returns the number of graph outputs (1 for a classifier or a
// segmenter; 2 for SSDLite's cls_logits and bbox_regression).
func (m *Model) NumOutputs() int { return len(m.outputs) }

// OutputShapes returns the shape of every output (batch 1), in the order
// of RunAll's results; OutputShapes()[0] is OutputShape().
func (m *Model) OutputShapes() [][]int {
	s := make([][]int, len(m.outputs))
	for i, x := range m.outputs {
		s[i] = append([]int(nil), m.tensors[x].shape...)
	}
	return s
}

// OutputNames returns the tensor name of every output, in the order of
// RunAll's results (e.g. "cls_logits", "bbox_regression").
func (m *Model) OutputNames() []string {
	s := make([]string, len(m.outputs))
	for i, x := range m.outputs {
		s[i] = m.tensors[x].name
	}
	return s
}

// load verifies data, read from the file at path ("" for Load).
func load(data []byte, path string, opts Options) (m *Model, err error) {
	defer func() {
		// The verifier is meant to make this unreachable; a file must
		// never crash the program, whatever it holds.
		if r := recover(); r != nil {
			if err = mappedFault(r, data, path); err == nil {
				err = fmt.Errorf("internal error while verifying the file (please report): %v", r)
			}
			m = nil
		}
	}()
	if err := verifyStructure(data); err != nil {
		return nil, err
	}
	m = &Model{data: data, path: path}
	if err := m.read(mncfb.GetRootAsModel(data, 0)); err != nil {
		return nil, err
	}
	m.info.FileBytes = int64(len(data))
	if err := m.verifyGraph(); err != nil {
		return nil, err
	}
	if m.kern, err = kernels.Choose(opts.Kernels); err != nil {
		return nil, err
	}
	if err := m.buildPlan(); err != nil {
		return nil, err
	}
	if err := m.checkDetection(); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	m.describe()
	m.info.KernelsNote = kernelsNote(m.info.Target, m.info.Extra[TargetKernelsKey], m.kern.Name)
	m.threads = opts.Threads
	return m, nil
}

// IsModelFile reports whether the file at path starts like a .mnc model
// file (its FlatBuffers identifier), whatever its name.
func IsModelFile(path string) bool {
	head, ok := limits.Head(path, 8)
	return ok && string(head[4:8]) == FileIdentifier
}

// TargetKernelsKey is the metadata key under which the compiler records the
// kernel variant of the model's target (e.g. "dotprod" for arm64-dotprod).
const TargetKernelsKey = "target.kernels"

// kernelsNote explains a fallback: the model's target implies kernels want,
// which this binary has but this CPU cannot run (a Raspberry Pi 5 model on
// a Pi 4), so the runtime chose got. It returns "" when there is nothing to
// explain: no target kernels recorded, the same variant, want available, or
// want belonging to another architecture (models run anywhere).
func kernelsNote(target, want, got string) string {
	if want == "" || want == got {
		return ""
	}
	if lack := kernels.Lacking(want); len(lack) > 0 {
		return fmt.Sprintf("compiled for target %s, but this CPU lacks %s for its %s kernels: running the %s kernels (same results, slower)",
			esc.String(target), strings.Join(lack, ", "), want, got)
	}
	return ""
}
