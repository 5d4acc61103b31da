package runtime_test

import (
	"slices"
	"testing"

	"github.com/mncdev/mnc/runtime"
)

// TestObserver: an observer sees each item's input, then every operator's
// output once, in plan order, by name; the last is the model's output and
// int8 tensors come with their codes and quantization.
func TestObserver(t *testing.T) {
	tm := blobs(t)
	for _, c := range []struct {
		name string
		data []byte
	}{{"float32", tm.f32}, {"int8", tm.int8}} {
		m, err := runtime.Load(c.data)
		if err != nil {
			t.Fatal(err)
		}
		it, err := m.NewInterpreterThreads(2)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		info := m.Info()
		var seen []int
		var last []float32
		int8s := 0
		it.SetObserver(func(o *runtime.Observation) {
			if o.Item != 0 {
				return
			}
			seen = append(seen, o.Op)
			want := info.Input
			if o.Op >= 0 {
				want = info.Tensors[info.Ops[o.Op].Outputs[0]]
			}
			if o.Tensor != want.Index || o.Name != want.Name || !slices.Equal(o.Shape, want.Shape) {
				t.Fatalf("%s: op %d observed tensor %d %q %v, want %d %q %v", c.name, o.Op, o.Tensor, o.Name, o.Shape, want.Index, want.Name, want.Shape)
			}
			switch want.DType {
			case "float32":
				if len(o.F32) != int(want.Bytes/4) || o.I8 != nil {
					t.Fatalf("%s: op %d: %d float32 values, %d codes", c.name, o.Op, len(o.F32), len(o.I8))
				}
				last = append(last[:0], o.F32...)
			case "int8":
				int8s++
				if len(o.I8) != int(want.Bytes) || o.F32 != nil || o.Scale != want.Scale[0] {
					t.Fatalf("%s: op %d: %d codes at scale %g, want %d at %g", c.name, o.Op, len(o.I8), o.Scale, want.Bytes, want.Scale[0])
				}
			}
		})
		in := runtime.Tensor{Shape: tm.input.Shape, Data: tm.input.F32}
		out, err := it.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != len(info.Ops)+1 || seen[0] != -1 || !slices.IsSorted(seen) {
			t.Fatalf("%s: observed ops %v for %d operators", c.name, seen, len(info.Ops))
		}
		if per := len(out.Data) / out.Shape[0]; !slices.Equal(last, out.Data[:per]) {
			t.Errorf("%s: the last observation is not the output", c.name)
		}
		if c.name == "int8" && int8s == 0 {
			t.Errorf("int8 model: no int8 tensor observed")
		}
		// Off again: the same results, nothing observed.
		first := append([]float32(nil), out.Data...)
		it.SetObserver(nil)
		n := len(seen)
		again, err := it.Run(in)
		if err != nil || !slices.Equal(again.Data, first) || len(seen) != n {
			t.Errorf("%s: without the observer: %v, results equal %v, %d more observations", c.name, err, slices.Equal(again.Data, first), len(seen)-n)
		}
	}
}
