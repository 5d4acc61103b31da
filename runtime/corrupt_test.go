package runtime_test

import (
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/mncdev/mnc/compile"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/mncfb"
	"github.com/mncdev/mnc/runtime/preprocess"
)

// mutate returns a copy of blob changed by f through the generated
// mutators.
func mutate(blob []byte, f func(m *mncfb.Model)) []byte {
	b := append([]byte(nil), blob...)
	f(mncfb.GetRootAsModel(b, 0))
	return b
}

func tensorAt(m *mncfb.Model, i int) *mncfb.Tensor {
	var t mncfb.Tensor
	m.Tensors(&t, i)
	return &t
}

// findTensor returns the index of the first activation tensor of rank 4
// after the input (an NHWC feature map).
func findTensor(m *mncfb.Model) int {
	for i := range m.TensorsLength() {
		t := tensorAt(m, i)
		if t.Buffer() == 0 && t.ShapeLength() == 4 && i != int(m.Inputs(0)) {
			return i
		}
	}
	return -1
}

func wantError(t *testing.T, data []byte, want string) {
	t.Helper()
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	m, err := runtime.Load(data)
	goruntime.ReadMemStats(&after)
	if err == nil {
		_ = m
		t.Fatalf("Load accepted the file; want an error mentioning %q", want)
	}
	if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "internal error") {
		t.Errorf("error %q does not mention %q", err, want)
	}
	// Refusing a file allocates no more than a small multiple of it.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(4*len(data)+1<<20) {
		t.Errorf("Load allocated %d bytes for a %d-byte file", grew, len(data))
	}
	t.Logf("%v", err)
}

// TestCorruptFiles: each kind of damage is a clear error, never a panic,
// and the verifier allocates nothing beyond the file's own bounds.
func TestCorruptFiles(t *testing.T) {
	tm := blobs(t)
	good := tm.int8
	if _, err := runtime.Load(good); err != nil {
		t.Fatal(err)
	}
	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{0, 3, 7, 8, 64, len(good) / 3, len(good) / 2, len(good) - 16, len(good) - 1} {
			wantError(t, good[:n], "")
		}
	})
	t.Run("wrong identifier", func(t *testing.T) {
		b := append([]byte(nil), good...)
		copy(b[4:8], "TFL3")
		wantError(t, b, "not an mnc model file")
	})
	t.Run("newer major version", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) { m.MutateFormatMajor(runtime.FormatMajor + 1) }), "newer")
	})
	t.Run("absurd shape", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			tt := tensorAt(m, findTensor(m))
			tt.MutateShape(1, 1<<30)
			tt.MutateShape(2, 1<<30)
		}), "elements")
	})
	t.Run("huge activation", func(t *testing.T) {
		// 1 x 20000 x 20000 x 1: 400 MB, within the element cap, larger
		// than the arena.
		wantError(t, mutate(good, func(m *mncfb.Model) {
			tt := tensorAt(m, findTensor(m))
			for i, d := range []int32{1, 20000, 20000, 1} {
				tt.MutateShape(i, d)
			}
		}), "arena")
	})
	t.Run("negative dimension", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) { tensorAt(m, findTensor(m)).MutateShape(1, -3) }), "dimension")
	})
	t.Run("shape inconsistent with the op", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			tt := tensorAt(m, findTensor(m))
			tt.MutateShape(1, tt.Shape(1)-1)
		}), "")
	})
	t.Run("buffer index", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			for i := range m.TensorsLength() {
				if tt := tensorAt(m, i); tt.Buffer() != 0 {
					tt.MutateBuffer(99999)
					return
				}
			}
		}), "buffer index")
	})
	t.Run("dtype", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) { tensorAt(m, findTensor(m)).MutateDtype(9) }), "dtype")
	})
	t.Run("op code", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			var c mncfb.OperatorCode
			m.OperatorCodes(&c, 0)
			c.MutateBuiltinCode(4242)
		}), "unknown operator code")
	})
	t.Run("op version", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			var c mncfb.OperatorCode
			m.OperatorCodes(&c, 1)
			c.MutateVersion(7)
		}), "version 7")
	})
	t.Run("tensor index", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			var o mncfb.Operator
			m.Operators(&o, 2)
			o.MutateInputs(0, 100000)
		}), "out of range")
	})
	t.Run("arena overlap", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			var a mncfb.ArenaPlan
			m.Arena(&a)
			// Put every activation at offset 0.
			for i := range a.OffsetsLength() {
				if a.Offsets(i) > 0 {
					a.MutateOffsets(i, 0)
				}
			}
		}), "overlap")
	})
	t.Run("arena too small", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			var a mncfb.ArenaPlan
			m.Arena(&a)
			a.MutateSize(a.Size() / 2)
		}), "arena")
	})
	t.Run("arena too large", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			var a mncfb.ArenaPlan
			m.Arena(&a)
			a.MutateSize(1 << 40)
		}), "limit")
	})
	t.Run("lower bound", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			var a mncfb.ArenaPlan
			m.Arena(&a)
			a.MutateLowerBound(a.LowerBound() - 1)
		}), "lower bound")
	})
	t.Run("scale", func(t *testing.T) {
		wantError(t, mutate(good, func(m *mncfb.Model) {
			var q mncfb.Quantization
			tensorAt(m, findTensor(m)).Quantization(&q)
			q.MutateScale(0, -1)
		}), "scale")
	})
	t.Run("vtable offset", func(t *testing.T) {
		b := append([]byte(nil), good...)
		root := int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24
		b[root], b[root+1], b[root+2], b[root+3] = 0xff, 0xff, 0xff, 0x7f
		wantError(t, b, "vtable")
	})
}

// TestRunInputErrors: a wrong input size, channel count or data length is
// an error naming what the model wants.
func TestRunInputErrors(t *testing.T) {
	tm := blobs(t)
	for _, blob := range [][]byte{tm.int8, tm.f32} {
		m, err := runtime.Load(blob)
		if err != nil {
			t.Fatal(err)
		}
		it, err := m.NewInterpreter()
		if err != nil {
			t.Fatal(err)
		}
		s := m.InputShape() // [1,3,H,W]
		h, w := s[2], s[3]
		for _, c := range []struct {
			shape []int
			n     int
			want  string
		}{
			{[]int{1, 4, h, w}, 4 * h * w, "4 channels"},
			{[]int{1, 1, h, w}, h * w, "1 channels"},
			{[]int{1, 3, h + 1, w}, 3 * (h + 1) * w, "shape"},
			{[]int{1, 3, h, w}, 3*h*w - 1, "values"},
			{[]int{3, h, w}, 3*h*w + 5, "values"},
			{[]int{0, 3, h, w}, 0, "batch"},
			{[]int{h, w}, h * w, "shape"},
		} {
			_, err := it.Run(runtime.Tensor{Shape: c.shape, Data: make([]float32, c.n)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("input %v with %d values: error %v, want one mentioning %q", c.shape, c.n, err, c.want)
			}
		}
		// A single item without the batch dimension is fine.
		out, err := it.Run(runtime.Tensor{Shape: []int{3, h, w}, Data: make([]float32, 3*h*w)})
		if err != nil || out.Shape[0] != 1 {
			t.Errorf("unbatched input: %v %v", out.Shape, err)
		}
	}
}

// TestInterpretersShareModel: interpreters over one model run in parallel
// goroutines and agree.
func TestInterpretersShareModel(t *testing.T) {
	tm := blobs(t)
	m, err := runtime.Load(tm.int8)
	if err != nil {
		t.Fatal(err)
	}
	in := runtime.Tensor{Shape: tm.input.Shape, Data: tm.input.F32}
	ref, _ := m.NewInterpreter()
	want, err := ref.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			it, err := m.NewInterpreter()
			if err != nil {
				errs <- err
				return
			}
			for range 20 {
				got, err := it.Run(in)
				if err != nil {
					errs <- err
					return
				}
				for i := range want.Data {
					if got.Data[i] != want.Data[i] {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// detBlob is the golden SSDLite320 compiled to float32: a model with two
// outputs (cls_logits, bbox_regression).
func detBlob(t testing.TB) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ssdlite.mnc")
	if _, err := compile.Run(compile.Options{Model: golden.LoadDet(t).Path("pth"), Output: out,
		Preprocess: preprocess.Spec{Preset: preprocess.Torchvision}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorruptOutputs: the graph outputs of a file (format 1.4: several)
// are checked each: in range, distinct, activations of a float32 (or
// int32) type that an operator writes, live until the end.
func TestCorruptOutputs(t *testing.T) {
	good := detBlob(t)
	m, err := runtime.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumOutputs() != 2 {
		t.Fatalf("%d outputs", m.NumOutputs())
	}
	second := func(f func(m *mncfb.Model) int32) []byte {
		return mutate(good, func(m *mncfb.Model) { m.MutateOutputs(1, f(m)) })
	}
	t.Run("index out of range", func(t *testing.T) {
		wantError(t, second(func(m *mncfb.Model) int32 { return int32(m.TensorsLength()) }), "graph output 1: tensor")
		wantError(t, second(func(m *mncfb.Model) int32 { return -1 }), "out of range")
	})
	t.Run("duplicate", func(t *testing.T) {
		wantError(t, second(func(m *mncfb.Model) int32 { return m.Outputs(0) }), "graph outputs 0 and 1 are the same tensor")
	})
	t.Run("constant", func(t *testing.T) {
		wantError(t, second(func(m *mncfb.Model) int32 {
			for i := range m.TensorsLength() {
				if tensorAt(m, i).Buffer() != 0 {
					return int32(i)
				}
			}
			t.Fatal("no constant")
			return 0
		}), "a constant")
	})
	t.Run("the input", func(t *testing.T) {
		wantError(t, second(func(m *mncfb.Model) int32 { return m.Inputs(0) }), "no operator writes the graph output")
	})
	t.Run("an intermediate", func(t *testing.T) {
		// Outputs live until the end: an intermediate feature map made an
		// output conflicts with the arena plan of its shorter life.
		wantError(t, second(func(m *mncfb.Model) int32 { return int32(findTensor(m)) }), "arena plan")
	})
	t.Run("int8", func(t *testing.T) {
		wantError(t, mutate(blobs(t).int8, func(m *mncfb.Model) {
			for i := range m.TensorsLength() {
				if tt := tensorAt(m, i); tt.Buffer() == 0 && tt.Dtype() == mncfb.DTypeINT8 {
					m.MutateOutputs(0, int32(i))
					return
				}
			}
		}), "must be a float32 or int32 activation")
	})
}
