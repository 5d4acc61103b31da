package runtime

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// The float boundary and the layout ops, for both precisions: QUANTIZE,
// DEQUANTIZE, TRANSPOSE, RESHAPE. The int8 input's quantize and NCHW->NHWC
// transpose are not split over threads: they take tens of microseconds on
// the caller, whose cache holds the input, and a worker reading half of it
// from the other core was slower (quantize 15 us on one thread, 41 us split
// in two). The float32 input's transpose is split over pixels
// (nhwcFStep): the stem convolution reads it, and its part on each thread
// then finds its rows in that thread's cache.

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
	x, y := p.arg(op, 0), p.out(op)
	if err := actsF32(x); err != nil {
		return nil, err
	}
	qy, err := act8(y)
	if err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	s := &quantizeStep{x: p.argView(op, 0), y: p.outView(op), scale: float32(qy.Scale), zero: qy.Zero, fn: p.k.QuantizeCodes}
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
	x, y := p.arg(op, 0), p.out(op)
	qx, err := act8(x)
	if err != nil {
		return nil, err
	}
	if err := actsF32(y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("input has %d elements, output %d", x.n, y.n)
	}
	return &dequantizeStep{x: p.argView(op, 0), y: p.outView(op), scale: float32(qx.Scale), zero: qx.Zero}, nil
}

// sameCodes checks that a code-preserving op keeps dtype and quantization.
func sameCodes(x, y *tensor) error {
	if x.dtype != y.dtype || y.isConst() {
		return fmt.Errorf("input is %v, output %v", x.dtype, y.dtype)
	}
	if x.dtype != mncfb.DTypeINT8 {
		return actsF32(x)
	}
	q, err := acts8(x, y)
	if err != nil {
		return err
	}
	if q[0] != q[1] {
		return errors.New("input and output quantization differ; this op does not requantize")
	}
	return nil
}

// transposeStep permutes the dimensions of a tensor (kernels.Permute).
type transposeStep struct {
	x, y view
	size int // element size in bytes
	perm kernels.Permutation
	// toNHWC is C for the int8 NCHW -> NHWC permutation (the model
	// input's), which runs a loop of its own (il3 for 3 channels); 0
	// otherwise.
	toNHWC, hw int
	il3        func(r, g, b, y []int8)
}

func (s *transposeStep) check([]byte) error { return nil }

func (s *transposeStep) run(ar []byte) {
	switch {
	case s.toNHWC > 0:
		toNHWC(s.x.i8(ar), s.y.i8(ar), s.toNHWC, s.hw, s.il3, 0, s.hw)
	case s.size == 1:
		kernels.Permute(&s.perm, s.x.i8(ar), s.y.i8(ar), 0, s.y.n)
	default:
		kernels.Permute(&s.perm, s.x.f32(ar), s.y.f32(ar), 0, s.y.n)
	}
}

func (p *planner) transpose(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsTransposeOptions); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), p.out(op)
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	if len(op.perm) != len(x.shape) || len(y.shape) != len(x.shape) {
		return nil, fmt.Errorf("permutation %v does not fit shapes %v -> %v", op.perm, x.shape, y.shape)
	}
	perm, err := kernels.NewPermutation(x.shape, op.perm)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(perm.Dims(), y.shape) {
		return nil, fmt.Errorf("output shape %v is not %v permuted by %v", y.shape, x.shape, op.perm)
	}
	s := &transposeStep{x: p.argView(op, 0), y: p.outView(op), size: elemSize(x.dtype), perm: perm}
	if len(x.shape) == 4 && slices.Equal(op.perm, []int{0, 2, 3, 1}) {
		c, hw := x.shape[1], x.shape[2]*x.shape[3]
		if s.size == 4 {
			return &nhwcFStep{x: s.x, y: s.y, c: c, hw: hw}, nil
		}
		s.toNHWC, s.hw, s.il3 = c, hw, p.k.Interleave3
	}
	return s, nil
}

// nhwcFStep is the float32 NCHW -> NHWC transpose, split over pixels.
type nhwcFStep struct {
	x, y  view
	c, hw int
}

func (s *nhwcFStep) run(ar []byte)      { s.runRange(ar, 0, s.hw) }
func (s *nhwcFStep) check([]byte) error { return nil }
func (s *nhwcFStep) runRange(ar []byte, lo, hi int) {
	toNHWC(s.x.f32(ar), s.y.f32(ar), s.c, s.hw, kernels.Interleave3[float32], lo, hi)
}
func (s *nhwcFStep) extent() int { return s.hw }
func (s *nhwcFStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *nhwcFStep) align() int  { return 16 }

// toNHWC writes pixels [lo, hi) of the NCHW -> NHWC permutation of x
// (batch items of c channels of hw pixels) into y, with il3
// (kernels.Interleave3 or a faster twin) for 3 channels.
func toNHWC[T any](x, y []T, c, hw int, il3 func(r, g, b, y []T), lo, hi int) {
	for off := 0; off+c*hw <= len(x); off += c * hw {
		src, dst := x[off:off+c*hw], y[off:off+c*hw]
		if c == 3 { // the image input
			il3(src[lo:hi], src[hw+lo:hw+hi], src[2*hw+lo:2*hw+hi], dst[3*lo:3*hi])
			continue
		}
		for i := lo; i < hi; i++ {
			for ch := range c {
				dst[i*c+ch] = src[ch*hw+i]
			}
		}
	}
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
	x, y := p.arg(op, 0), p.out(op)
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	if x.n != y.n {
		return nil, fmt.Errorf("reshape of %v into %v changes the element count", x.shape, y.shape)
	}
	return &copyStep{x: p.argView(op, 0), y: p.outView(op), size: elemSize(x.dtype)}, nil
}
