package runtime

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// --- boundary and layout ops (both precisions) ---

type quantizeStep struct {
	x, y  view
	scale float32
	zero  int32
	inv   float32 // kernels.QuantizeInv(scale)
	fn    func(x []float32, inv float32, zero int32, y []int8)
}

func (s *quantizeStep) run(ar []byte) { s.fn(s.x.f32(ar), s.inv, s.zero, s.y.i8(ar)) }

// check validates the parameters as kernels.Quantize does, then runs.
func (s *quantizeStep) check(ar []byte) error {
	if err := kernels.Quantize(nil, s.scale, s.zero, nil); err != nil {
		return err
	}
	s.run(ar)
	return nil
}

func (p *planner) quantize(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := actF32(x); err != nil {
		return nil, err
	}
	sy, zy, err := act8(y)
	if err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	s := &quantizeStep{x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), scale: float32(sy), zero: zy, fn: p.m.kern.quantize}
	if err := kernels.Quantize(nil, s.scale, s.zero, nil); err != nil {
		return nil, err
	}
	s.inv = kernels.QuantizeInv(s.scale)
	return s, nil
}

type dequantizeStep struct {
	x, y  view
	scale float32
	zero  int32
}

func (s *dequantizeStep) run(ar []byte) {
	_ = kernels.Dequantize(s.x.i8(ar), s.scale, s.zero, s.y.f32(ar))
}
func (s *dequantizeStep) check(ar []byte) error {
	return kernels.Dequantize(s.x.i8(ar), s.scale, s.zero, s.y.f32(ar))
}

func (p *planner) dequantize(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	sx, zx, err := act8(x)
	if err != nil {
		return nil, err
	}
	if err := actF32(y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	return &dequantizeStep{x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), scale: float32(sx), zero: zx}, nil
}

// sameCodes checks that a code-preserving op keeps dtype and quantization.
func sameCodes(x, y *tensor) error {
	if x.dtype != y.dtype || y.isConst() {
		return fmt.Errorf("input is %v, output %v", x.dtype, y.dtype)
	}
	if x.dtype == mncfb.DTypeINT8 {
		sx, zx, err := act8(x)
		if err != nil {
			return err
		}
		sy, zy, err := act8(y)
		if err != nil {
			return err
		}
		if sx != sy || zx != zy {
			return errors.New("input and output quantization differ; this op does not requantize")
		}
	} else if err := actF32(x); err != nil {
		return err
	}
	return nil
}

// transposeStep permutes the dimensions of a tensor of rank <= maxRank.
type transposeStep struct {
	x, y    view
	size    int // element size in bytes
	rank    int
	outDims [maxRank]int
	stride  [maxRank]int // input stride of output dimension i
	// toNHWC is C for the int8 NCHW -> NHWC permutation (the model
	// input's), which runs a loop of its own (il3 for 3 channels); 0
	// otherwise.
	toNHWC, hw int
	il3        func(r, g, b, y []int8)
}

func (s *transposeStep) check([]byte) error { return nil }

// run is runRange (threads.go) over every output element.
func (s *transposeStep) run(ar []byte) { s.runRange(ar, 0, s.y.n) }

func (p *planner) transpose(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsTransposeOptions); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	r := len(x.shape)
	if len(op.perm) != r || len(y.shape) != r {
		return nil, fmt.Errorf("permutation %v does not fit shapes %v -> %v", op.perm, x.shape, y.shape)
	}
	s := &transposeStep{x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), size: elemSize(x.dtype), rank: r}
	var inStride [maxRank]int
	st := 1
	for i := r - 1; i >= 0; i-- {
		inStride[i] = st
		st *= x.shape[i]
	}
	used := [maxRank]bool{}
	for i, a := range op.perm {
		if a < 0 || a >= r || used[a] {
			return nil, fmt.Errorf("%v is not a permutation of %d axes", op.perm, r)
		}
		used[a] = true
		if y.shape[i] != x.shape[a] {
			return nil, fmt.Errorf("output shape %v is not %v permuted by %v", y.shape, x.shape, op.perm)
		}
		s.outDims[i] = y.shape[i]
		s.stride[i] = inStride[a]
	}
	if r == 4 && s.size == 1 && slices.Equal(op.perm, []int{0, 2, 3, 1}) && x.shape[1] > 0 {
		s.toNHWC, s.hw, s.il3 = x.shape[1], x.shape[2]*x.shape[3], p.m.kern.interleave3
	}
	return s, nil
}

type copyStep struct {
	x, y view
	size int
}

func (s *copyStep) run(ar []byte)      { copy(s.y.bytes(ar, s.size), s.x.bytes(ar, s.size)) }
func (s *copyStep) check([]byte) error { return nil }

func (p *planner) reshape(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsReshapeOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), &p.m.tensors[op.out[0]]
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("reshape of %v into %v changes the element count", x.shape, y.shape)
	}
	return &copyStep{x: p.argView(op, 0), y: p.m.viewOf(op.out[0]), size: elemSize(x.dtype)}, nil
}

// The input's quantize and NCHW->NHWC transpose are not split: they take
// tens of microseconds on the caller, whose cache holds the input, and a
// worker reading half of it from the other core was slower (quantize 15 us
// on one thread, 41 us split in two).

// runRange copies output elements [lo, hi) of the permutation.
func (s *transposeStep) runRange(ar []byte, lo, hi int) {
	if s.toNHWC > 0 {
		toNHWC(s.x.i8(ar), s.y.i8(ar), s.toNHWC, s.hw, lo/s.toNHWC, hi/s.toNHWC, s.il3)
		return
	}
	if s.size == 1 {
		transposeRange(s, s.x.i8(ar), s.y.i8(ar), lo, hi)
	} else {
		transposeRange(s, s.x.f32(ar), s.y.f32(ar), lo, hi)
	}
}

// toNHWC copies output pixels [p0, p1) (batch items one after another) of
// the NCHW -> NHWC permutation of x (c channels of hw pixels per item),
// with il3 (kernels.Interleave3 or a faster twin) for 3 channels.
func toNHWC(x, y []int8, c, hw, p0, p1 int, il3 func(r, g, b, y []int8)) {
	for p0 < p1 {
		n, p := p0/hw, p0%hw
		end := min(p1-p0, hw-p) + p // pixels of this item
		src := x[n*c*hw : (n+1)*c*hw]
		dst := y[(n*hw+p)*c : (n*hw+end)*c]
		if c == 3 { // the image input
			il3(src[p:end], src[hw+p:hw+end], src[2*hw+p:2*hw+end], dst)
		} else {
			for i := range end - p {
				for ch := range c {
					dst[i*c+ch] = src[ch*hw+p+i]
				}
			}
		}
		p0 += end - p
	}
}

// transposeRange copies output elements [lo, hi) of the permutation.
func transposeRange[T int8 | float32](s *transposeStep, x, y []T, lo, hi int) {
	var idx [maxRank]int
	r := s.rank
	off, rest := 0, lo
	for i := r - 1; i >= 0; i-- {
		idx[i] = rest % s.outDims[i]
		rest /= s.outDims[i]
		off += idx[i] * s.stride[i]
	}
	for o := lo; o < hi; o++ {
		y[o] = x[off]
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			off += s.stride[i]
			if idx[i] < s.outDims[i] {
				break
			}
			off -= s.stride[i] * idx[i]
			idx[i] = 0
		}
	}
}
