package runtime

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// The segmentation head's operators (format 1.4), for both precisions:
// RESIZE_BILINEAR (split over output rows), CONCATENATION and ARG_MAX (with
// a fused resize, split over output rows too).
// Their kernels are generic Go in runtime/kernels (ResizeBilinearF32 and
// I8, ConcatF32 and I8, ArgMax), the same on every kernel Set, so int8
// results are identical everywhere and equal quant's reference
// interpreter, which calls the same functions.

func (v view) i32(ar []byte) []int32 {
	b := ar[v.off : v.off+4*v.n]
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(b))), v.n)
}

// resizeStep is a bilinear resize of a [1,H,W,C] tensor.
type resizeStep struct {
	p    kernels.ResizeParams
	x, y view
	int8 bool
}

func (s *resizeStep) run(ar []byte) { s.runRange(ar, 0, s.p.OH) }
func (s *resizeStep) check(ar []byte) error {
	return s.p.Validate(s.x.n, s.y.n)
}
func (s *resizeStep) runRange(ar []byte, lo, hi int) {
	if s.int8 {
		kernels.ResizeBilinearI8(&s.p, s.x.i8(ar), s.y.i8(ar), lo, hi)
		return
	}
	kernels.ResizeBilinearF32(&s.p, s.x.f32(ar), s.y.f32(ar), lo, hi)
}
func (s *resizeStep) extent() int { return s.p.OH }
func (s *resizeStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *resizeStep) align() int  { return 1 }

func (p *planner) resize(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsResizeBilinearOptions); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), p.out(op)
	if err := sameCodes(x, y); err != nil {
		return nil, err
	}
	o := op.resize
	rp, err := p.resizeParams(x, o)
	if err != nil {
		return nil, err
	}
	if c := rp.C; !slices.Equal(y.shape, []int{1, o.h, o.w, c}) {
		return nil, fmt.Errorf("output shape %v, want [1 %d %d %d] (input %v resized to %dx%d)", y.shape, o.h, o.w, c, x.shape, o.h, o.w)
	}
	return &resizeStep{p: rp, x: p.argView(op, 0), y: p.outView(op), int8: x.dtype == mncfb.DTypeINT8}, nil
}

// concatStep joins its inputs along an axis.
type concatStep struct {
	p    kernels.ConcatParams
	xs   []view
	y    view
	int8 bool
}

func (s *concatStep) run(ar []byte) {
	for k, x := range s.xs {
		if s.int8 {
			kernels.ConcatI8(&s.p, k, x.i8(ar), s.y.i8(ar))
		} else {
			kernels.ConcatF32(&s.p, k, x.f32(ar), s.y.f32(ar))
		}
	}
}

func (s *concatStep) check([]byte) error {
	lens := make([]int, len(s.xs))
	for k, x := range s.xs {
		lens[k] = x.n
	}
	return s.p.Validate(lens, s.y.n)
}

func (p *planner) concat(op *operator) (step, error) {
	if err := arity(op, 1, maxOpArgs, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsConcatenationOptions); err != nil {
		return nil, err
	}
	y := p.out(op)
	r := len(y.shape)
	ax := op.axis
	if ax < 0 || ax >= r {
		return nil, fmt.Errorf("axis %d outside [0, %d) of output %v", ax, r, y.shape)
	}
	int8 := y.dtype == mncfb.DTypeINT8
	var qy kernels.Quant
	var err error
	if int8 {
		if qy, err = act8(y); err != nil {
			return nil, err
		}
	} else if err := actsF32(y); err != nil {
		return nil, err
	}
	inner := 1
	for _, d := range y.shape[ax+1:] {
		inner *= d
	}
	s := &concatStep{p: kernels.ConcatParams{Outer: y.n / (y.shape[ax] * inner)}, y: p.outView(op), int8: int8}
	along := 0
	for k := range op.in {
		x := p.arg(op, k)
		if x == nil {
			return nil, fmt.Errorf("input %d is absent", k)
		}
		if x.isConst() || x.dtype != y.dtype {
			return nil, fmt.Errorf("input %d (%v) must be a %v activation like the output", k, x, y.dtype)
		}
		if len(x.shape) != r {
			return nil, fmt.Errorf("input %d has shape %v, the output %v", k, x.shape, y.shape)
		}
		for d := range r {
			if d != ax && x.shape[d] != y.shape[d] {
				return nil, fmt.Errorf("input %d has shape %v, the output %v: they differ outside axis %d", k, x.shape, y.shape, ax)
			}
		}
		along += x.shape[ax]
		s.p.Chunks = append(s.p.Chunks, x.shape[ax]*inner)
		s.xs = append(s.xs, p.argView(op, k))
		if int8 {
			qx, err := act8(x)
			if err != nil {
				return nil, err
			}
			rq, err := kernels.NewRequant(qx, qy)
			if err != nil {
				return nil, fmt.Errorf("input %d: %w", k, err)
			}
			s.p.Requant = append(s.p.Requant, rq)
		}
	}
	if along != y.shape[ax] {
		return nil, fmt.Errorf("inputs sum to %d along axis %d, the output %v has %d", along, ax, y.shape, y.shape[ax])
	}
	return s, nil
}

// argMaxStep writes the index of the largest element along an axis.
type argMaxStep struct {
	x, y              view
	outer, dim, inner int
	int8              bool
}

func (s *argMaxStep) check([]byte) error {
	if s.x.n != s.outer*s.dim*s.inner || s.y.n != s.outer*s.inner || s.dim < 1 {
		return errors.New("argmax geometry does not match its tensors")
	}
	return nil
}

func (s *argMaxStep) run(ar []byte) {
	switch {
	case s.inner == 1 && s.int8: // NHWC's channels
		kernels.ArgMaxLastI8(s.x.i8(ar), s.outer, s.dim, s.y.i32(ar))
		return
	case s.inner == 1:
		kernels.ArgMaxLastF32(s.x.f32(ar), s.outer, s.dim, s.y.i32(ar))
		return
	}
	if s.int8 {
		kernels.ArgMax(s.x.i8(ar), s.outer, s.dim, s.inner, s.y.i32(ar))
		return
	}
	kernels.ArgMax(s.x.f32(ar), s.outer, s.dim, s.inner, s.y.i32(ar))
}

func (p *planner) argMax(op *operator) (step, error) {
	if err := arity(op, 1, 1, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsArgMaxOptions); err != nil {
		return nil, err
	}
	x, y := p.arg(op, 0), p.out(op)
	int8 := x.dtype == mncfb.DTypeINT8
	if int8 {
		// One positive scale: the largest code is the largest value.
		if _, err := act8(x); err != nil {
			return nil, err
		}
	} else if err := actsF32(x); err != nil {
		return nil, err
	}
	if y.dtype != mncfb.DTypeINT32 || y.isConst() {
		return nil, fmt.Errorf("output %v must be an int32 activation, is %v", y, y.dtype)
	}
	r, ax := len(x.shape), op.axis
	if ax < 0 || ax >= r {
		return nil, fmt.Errorf("axis %d outside [0, %d) of input %v", ax, r, x.shape)
	}
	if o := op.argResize; o != nil {
		return p.resizeArgMax(op, *o, x, y, int8)
	}
	want := slices.Delete(slices.Clone(x.shape), ax, ax+1)
	if len(want) == 0 {
		want = []int{1}
	}
	if !slices.Equal(y.shape, want) {
		return nil, fmt.Errorf("output shape %v, want %v (input %v without axis %d)", y.shape, want, x.shape, ax)
	}
	s := &argMaxStep{x: p.argView(op, 0), y: p.outView(op), dim: x.shape[ax], inner: 1, int8: int8}
	for _, d := range x.shape[ax+1:] {
		s.inner *= d
	}
	s.outer = x.n / (s.dim * s.inner)
	return s, nil
}

// resizeArgMaxStep is an ARG_MAX with a fused resize: the ArgMax over the
// channels of the bilinear resize of a [1,H,W,C] tensor, split over output
// rows (kernels.ResizeArgMaxI8 and ResizeArgMaxF32).
type resizeArgMaxStep struct {
	p    kernels.ResizeParams
	x, y view
	int8 bool
}

func (s *resizeArgMaxStep) run(ar []byte) { s.runRange(ar, 0, s.p.OH) }
func (s *resizeArgMaxStep) check([]byte) error {
	return s.p.Validate(s.x.n, s.y.n*s.p.C)
}
func (s *resizeArgMaxStep) runRange(ar []byte, lo, hi int) {
	if s.int8 {
		kernels.ResizeArgMaxI8(&s.p, s.x.i8(ar), s.y.i32(ar), lo, hi)
		return
	}
	kernels.ResizeArgMaxF32(&s.p, s.x.f32(ar), s.y.i32(ar), lo, hi)
}
func (s *resizeArgMaxStep) extent() int { return s.p.OH }
func (s *resizeArgMaxStep) work() int64 { return elemCost * int64(s.y.n) * int64(s.p.C) }
func (s *resizeArgMaxStep) align() int  { return 1 }

func (p *planner) resizeArgMax(op *operator, o resizeOptions, x, y *tensor, int8 bool) (step, error) {
	if op.axis != 3 {
		return nil, fmt.Errorf("a fused resize needs axis 3 (the channels), not %d", op.axis)
	}
	rp, err := p.resizeParams(x, o)
	if err != nil {
		return nil, fmt.Errorf("fused resize: %w", err)
	}
	if !slices.Equal(y.shape, []int{1, o.h, o.w}) {
		return nil, fmt.Errorf("output shape %v, want [1 %d %d] (input %v resized to %dx%d, the channels reduced)", y.shape, o.h, o.w, x.shape, o.h, o.w)
	}
	return &resizeArgMaxStep{p: rp, x: p.argView(op, 0), y: p.outView(op), int8: int8}, nil
}

// resizeParams checks a resize of x ([1,H,W,C]) to o's size (positive, at
// most kernels.MaxResize a side), spends the budget of its taps and makes
// the kernels' parameters: RESIZE_BILINEAR's and a fused ARG_MAX's.
func (p *planner) resizeParams(x *tensor, o resizeOptions) (kernels.ResizeParams, error) {
	h, w, c, err := nhwc(x)
	if err != nil {
		return kernels.ResizeParams{}, err
	}
	if o.h < 1 || o.w < 1 || o.h > kernels.MaxResize || o.w > kernels.MaxResize {
		return kernels.ResizeParams{}, fmt.Errorf("output size %dx%d must be positive and at most %d a side", o.h, o.w, kernels.MaxResize)
	}
	// The taps of both axes, for both kernels.
	if err := p.bud.spend(int64(o.h+o.w)*2*int64(unsafe.Sizeof(struct{ a, b, c, d int64 }{})), "resize coordinates"); err != nil {
		return kernels.ResizeParams{}, err
	}
	return kernels.NewResizeParams(1, h, w, c, o.h, o.w, o.alignCorners, o.halfPixel)
}
