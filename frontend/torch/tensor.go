package torch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
)

// dtype is the element type of stored tensor data (always little endian).
type dtype uint8

const (
	dtF32 dtype = iota
	dtF64
	dtF16
	dtBF16
	dtI64
	dtI32
	dtI16
	dtI8
	dtU8
	dtBool
)

func (d dtype) size() int {
	switch d {
	case dtF64, dtI64:
		return 8
	case dtF32, dtI32:
		return 4
	case dtF16, dtBF16, dtI16:
		return 2
	}
	return 1
}

func (d dtype) String() string {
	return [...]string{"float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"}[d]
}

// at decodes element i of raw (which must hold at least i+1 elements).
func (d dtype) at(raw []byte, i int) float32 {
	switch d {
	case dtF32:
		return math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	case dtF64:
		return float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
	case dtF16:
		return ir.Float16ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
	case dtBF16:
		return math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
	case dtI64:
		return float32(int64(binary.LittleEndian.Uint64(raw[8*i:])))
	case dtI32:
		return float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
	case dtI16:
		return float32(int16(binary.LittleEndian.Uint16(raw[2*i:])))
	case dtI8:
		return float32(int8(raw[i]))
	case dtU8:
		return float32(raw[i])
	case dtBool:
		if raw[i] != 0 {
			return 1
		}
		return 0
	}
	panic("unknown dtype")
}

// decode converts len(out) consecutive elements starting at element first.
func (d dtype) decode(out []float32, raw []byte, first int) {
	if d == dtF32 {
		b := raw[4*first : 4*(first+len(out))]
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return
	}
	for i := range out {
		out[i] = d.at(raw, first+i)
	}
}

// storage is one serialized storage: numel elements of dtype in data.
type storage struct {
	key    string
	dtype  dtype
	numel  int    // elements; in the legacy format fixed when the data is read
	data   []byte // numel*dtype.size() bytes, nil until known
	loaded bool
}

// storageRef is what a persistent id resolves to: a storage, or (legacy
// format only) a view of elements [offset, offset+numel) of one.
type storageRef struct {
	root          *storage
	offset, numel int
	whole         bool // the view is the whole root storage
}

// tensorRef is a tensor as described by the pickle, not yet materialized.
type tensorRef struct {
	st     *storageRef
	offset int
	size   []int
	stride []int
}

// materializer gathers tensors out of storages under an element budget, so
// that views sharing one storage (or stride-0 expansions) cannot blow up the
// output far beyond the input size.
type materializer struct {
	remaining int // elements still allowed
}

func newMaterializer(inputBytes int) *materializer {
	// Every stored element takes at least one byte, so a checkpoint without
	// aliasing fits in inputBytes elements; allow 2x for tied weights and
	// small expanded tensors.
	return &materializer{remaining: 2*inputBytes + 1<<16}
}

var errBudget = errors.New("tensors expand to far more elements than the file holds (shared or expanded storages); refusing to allocate")

// numel returns the product of size, erroring on negatives or when it would
// exceed limit.
func numel(size []int, limit int) (int, error) {
	n := 1
	zero := false
	for _, s := range size {
		if s < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", s, size)
		}
		if s == 0 {
			zero = true
			continue
		}
		if n > limit/s {
			n = limit + 1
			continue // keep checking for negatives and zeros
		}
		n *= s
	}
	if zero {
		return 0, nil
	}
	if n > limit {
		return 0, errBudget
	}
	return n, nil
}

func (m *materializer) tensor(t *tensorRef) (*Tensor, error) {
	if len(t.size) != len(t.stride) {
		return nil, fmt.Errorf("shape %v and stride %v differ in rank", t.size, t.stride)
	}
	if len(t.size) > 64 {
		return nil, fmt.Errorf("rank %d too large", len(t.size))
	}
	v := t.st
	root := v.root
	if !root.loaded {
		return nil, fmt.Errorf("storage %s has no data in the file", quote(root.key))
	}
	if v.whole {
		v = &storageRef{root: root, offset: 0, numel: root.numel}
	}
	if v.offset < 0 || v.numel < 0 || v.offset > root.numel-v.numel {
		return nil, fmt.Errorf("storage view [%d, +%d) outside storage %s of %d elements", v.offset, v.numel, quote(root.key), root.numel)
	}
	n, err := numel(t.size, m.remaining)
	if err != nil {
		return nil, err
	}
	if t.offset < 0 {
		return nil, fmt.Errorf("negative storage offset %d", t.offset)
	}
	if n > 0 {
		// Highest element index read, computed without overflow: every
		// partial sum is kept below v.numel.
		last := t.offset
		if last >= v.numel {
			return nil, fmt.Errorf("storage offset %d outside storage %s of %d elements", t.offset, quote(root.key), v.numel)
		}
		for i, s := range t.size {
			st := t.stride[i]
			if st < 0 {
				return nil, fmt.Errorf("negative stride in %v", t.stride)
			}
			if s <= 1 || st == 0 {
				continue
			}
			if st > (v.numel-1-last)/(s-1) {
				return nil, fmt.Errorf("shape %v with stride %v at offset %d reads past the end of storage %s (%d elements)", t.size, t.stride, t.offset, quote(root.key), v.numel)
			}
			last += (s - 1) * st
		}
	}
	m.remaining -= n
	out := &Tensor{Shape: append([]int{}, t.size...), Data: make([]float32, n)}
	if n > 0 {
		gather(out.Data, root.dtype, root.data, v.offset+t.offset, t.size, t.stride)
	}
	return out, nil
}

// gather copies the strided view (base, size, stride) of raw into out in C
// order. Bounds must have been checked by the caller.
func gather(out []float32, dt dtype, raw []byte, base int, size, stride []int) {
	nd := len(size)
	if nd == 0 {
		out[0] = dt.at(raw, base)
		return
	}
	contiguous := true
	want := 1
	for i := nd - 1; i >= 0; i-- {
		if size[i] != 1 && stride[i] != want {
			contiguous = false
			break
		}
		want *= size[i]
	}
	if contiguous {
		dt.decode(out, raw, base)
		return
	}
	idx := make([]int, nd-1)
	inner, innerStride := size[nd-1], stride[nd-1]
	off := base
	o := 0
	for {
		if innerStride == 1 {
			dt.decode(out[o:o+inner], raw, off)
			o += inner
		} else {
			for j := 0; j < inner; j++ {
				out[o] = dt.at(raw, off+j*innerStride)
				o++
			}
		}
		// Advance the outer multi-index (odometer).
		d := nd - 2
		for ; d >= 0; d-- {
			idx[d]++
			off += stride[d]
			if idx[d] < size[d] {
				break
			}
			off -= idx[d] * stride[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}
