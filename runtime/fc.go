package runtime

import (
	"fmt"

	"github.com/mncdev/mnc/runtime/kernels"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// FULLY_CONNECTED (and the two layers of SQUEEZE_EXCITE): int8 layers run
// the kernel set's Gemm, split over rows; a layer of one row (a batch-1
// classifier) is a classifierStep, split over blocks of output channels.
// Float32 layers run GemmF32 the same way (fcFStep, colsFStep).

func (p *planner) fc(op *operator) (step, error) {
	if err := arity(op, 2, 3, 1, 0); err != nil {
		return nil, err
	}
	if err := wantOptions(op, mncfb.OpOptionsFullyConnectedOptions, mncfb.OpOptionsNONE); err != nil {
		return nil, err
	}
	if p.float(op) {
		return p.fcF(op)
	}
	return p.fc8(op)
}

// gemmShape checks a fully connected layer x[M,K] w[N,K] -> y[M,N].
func gemmShape(x, w, y *tensor) (m, k, n int, err error) {
	if len(x.shape) != 2 || len(w.shape) != 2 || len(y.shape) != 2 {
		return 0, 0, 0, fmt.Errorf("shapes %v x %v -> %v, want [M,K] x [N,K] -> [M,N]", x.shape, w.shape, y.shape)
	}
	m, k, n = x.shape[0], x.shape[1], w.shape[0]
	if w.shape[1] != k || y.shape[0] != m || y.shape[1] != n {
		return 0, 0, 0, fmt.Errorf("shapes %v x %v -> %v, want [M,K] x [N,K] -> [M,N]", x.shape, w.shape, y.shape)
	}
	return m, k, n, nil
}

func (p *planner) fc8(op *operator) (step, error) {
	x, w, y := p.arg(op, 0), p.arg(op, 1), p.out(op)
	q, err := acts8(x, y)
	if err != nil {
		return nil, err
	}
	m, k, n, err := gemmShape(x, w, y)
	if err != nil {
		return nil, err
	}
	sw, err := weights8(w, n, 0)
	if err != nil {
		return nil, err
	}
	b, err := bias32(p.arg(op, 2), n, q[0].Scale, sw)
	if err != nil {
		return nil, err
	}
	act, err := bounds(op.act)
	if err != nil {
		return nil, err
	}
	gp := kernels.GemmParams{M: m, K: k, N: n, AZero: q[0].Zero, YZero: q[1].Zero}
	if gp.Mult, gp.Out, err = kernels.Requantization(q[0], sw, q[1], act); err != nil {
		return nil, err
	}
	if err := kernels.ValidateAccumulator(k, kernels.MaxAbs(b)); err != nil {
		return nil, err
	}
	if err := p.bud.spend(int64(n)*8, "multipliers"); err != nil {
		return nil, err
	}
	return p.gemm8(p.argView(op, 0), int8s(w.data), b, p.outView(op), gp)
}

// gemm8 plans an int8 fully connected layer with the given parameters.
func (p *planner) gemm8(x view, w []int8, b []int32, y view, gp kernels.GemmParams) (splitter, error) {
	if gp.M == 1 && gp.N >= 2*colsMin {
		s, err := p.cols(x, y, w, b, gp.N, gp.K, func(o0, n int) channelBlock {
			q := gp
			q.N, q.Mult = n, gp.Mult[o0:o0+n]
			return channelBlock{gp: q}
		}, false)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	pw, err := p.pack(p.k.PackGemm(w, gp.N, gp.K))
	if err != nil {
		return nil, err
	}
	return &gemmStep{p: gp, x: x, y: y, w: pw, wv: w, b: b, fn: p.k.Gemm}, nil
}

// gemmStep is an int8 fully connected layer, split over rows.
type gemmStep struct {
	p    kernels.GemmParams
	x, y view
	w    []int8 // packed
	wv   []int8 // before packing, for Validate
	b    []int32
	fn   func(p *kernels.GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int)
}

func (s *gemmStep) run(ar []byte) { s.runRange(ar, 0, s.p.M) }
func (s *gemmStep) check(ar []byte) error {
	return s.p.Validate(s.x.i8(ar), s.wv, s.b, s.y.i8(ar))
}
func (s *gemmStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.i8(ar), s.w, s.b, s.y.i8(ar), lo, hi)
}
func (s *gemmStep) extent() int { return s.p.M }
func (s *gemmStep) macs() int64 { return s.p.MACs() }
func (s *gemmStep) work() int64 { return s.p.MACs() }
func (s *gemmStep) align() int  { return 1 }

// classifierStep computes a GEMM with a single row (a 1x1 convolution of
// one pixel, a fully connected layer of batch 1: the classifiers) as
// blocks of output channels, each with weights packed on their own, so
// that the threads can share a layer that has no rows to split. Every
// channel is computed by the same kernel code as in one call, so the bytes
// are the same.
type classifierStep struct {
	x, y      view
	blocks    []channelBlock
	pointwise func(p *kernels.ConvParams, x, w []int8, bias []int32, y []int8, lo, hi int) // the kernel of a 1x1 convolution
	gemm      func(p *kernels.GemmParams, a, w []int8, bias []int32, y []int8, lo, hi int) // or of a fully connected layer
	n         int64                                                                        // MACs
}

// channelBlock is output channels [o0, o0+n) of a classifierStep: the
// kernel's parameters (cp for a convolution, gp for a fully connected
// layer) restricted to them, and their weights packed (w) and not (wv, for
// validation).
type channelBlock struct {
	o0, n int
	cp    kernels.ConvParams
	gp    kernels.GemmParams
	w, wv []int8
	b     []int32
}

// colsMin is the smallest block of channels of a classifierStep.
const colsMin = 64

// colsBlock is the block size of a classifier of o channels: at most 8
// blocks of a multiple of 16 channels, at least colsMin each.
func colsBlock(o int) int { return max(colsMin, ((o+7)/8+15)&^15) }

func (s *classifierStep) run(ar []byte) { s.runRange(ar, 0, len(s.blocks)) }

func (s *classifierStep) runRange(ar []byte, lo, hi int) {
	x, y := s.x.i8(ar), s.y.i8(ar)
	for i := lo; i < hi; i++ {
		bl := &s.blocks[i]
		if s.pointwise != nil {
			s.pointwise(&bl.cp, x, bl.w, bl.b, y[bl.o0:bl.o0+bl.n], 0, 1)
		} else {
			s.gemm(&bl.gp, x, bl.w, bl.b, y[bl.o0:bl.o0+bl.n], 0, 1)
		}
	}
}

func (s *classifierStep) check(ar []byte) error {
	x, y := s.x.i8(ar), s.y.i8(ar)
	for i := range s.blocks {
		bl := &s.blocks[i]
		var err error
		if s.pointwise != nil {
			err = bl.cp.ValidatePointwise(x, bl.wv, bl.b, y[bl.o0:bl.o0+bl.n])
		} else {
			err = bl.gp.Validate(x, bl.wv, bl.b, y[bl.o0:bl.o0+bl.n])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *classifierStep) extent() int { return len(s.blocks) }
func (s *classifierStep) macs() int64 { return s.n }
func (s *classifierStep) work() int64 { return s.n }
func (s *classifierStep) align() int  { return 1 }

// cols builds a classifierStep over o output channels of k inputs, weights
// w [o][k] and bias b (or nil), in blocks of colsBlock(o) channels; block gives each block's kernel
// parameters, for the set's Pointwise (pointwise) or Gemm kernel.
func (p *planner) cols(x, y view, w []int8, b []int32, o, k int, block func(o0, n int) channelBlock, pointwise bool) (*classifierStep, error) {
	if len(w) < o*k || (b != nil && len(b) < o) {
		return nil, fmt.Errorf("weights of %d values for %d x %d", len(w), o, k)
	}
	bs := colsBlock(o)
	s := &classifierStep{x: x, y: y, n: int64(o) * int64(k)}
	if pointwise {
		s.pointwise = p.k.Pointwise
	} else {
		s.gemm = p.k.Gemm
	}
	for o0 := 0; o0 < o; o0 += bs {
		n := min(bs, o-o0)
		bl := block(o0, n)
		bl.o0, bl.n, bl.wv = o0, n, w[o0*k:(o0+n)*k]
		if b != nil {
			bl.b = b[o0 : o0+n]
		}
		var err error
		if pointwise {
			bl.w, err = p.pack(p.k.PackPointwise(bl.wv, n, k))
		} else {
			bl.w, err = p.pack(p.k.PackGemm(bl.wv, n, k))
		}
		if err != nil {
			return nil, err
		}
		s.blocks = append(s.blocks, bl)
	}
	return s, nil
}

// fcFStep is a float32 fully connected layer (the kernel set's GemmF32),
// split over rows (with one row, see colsFStep).
type fcFStep struct {
	p    kernels.GemmF32Params
	x, y view
	w    []float32 // packed
	wv   []float32 // before packing, for Validate
	b    []float32
	fn   func(p *kernels.GemmF32Params, a, w, bias, y []float32, lo, hi int)
}

func (s *fcFStep) run(ar []byte) { s.runRange(ar, 0, s.p.M) }
func (s *fcFStep) check(ar []byte) error {
	return s.p.Validate(s.x.f32(ar), s.wv, s.b, s.y.f32(ar))
}
func (s *fcFStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.f32(ar), s.w, s.b, s.y.f32(ar), lo, hi)
}
func (s *fcFStep) extent() int { return s.p.M }
func (s *fcFStep) macs() int64 { return s.p.MACs() }
func (s *fcFStep) work() int64 { return s.p.MACs() }
func (s *fcFStep) align() int  { return 1 }

func (p *planner) fcF(op *operator) (step, error) {
	x, w, y := p.arg(op, 0), p.arg(op, 1), p.out(op)
	if err := actsF32(x, y); err != nil {
		return nil, err
	}
	m, k, n, err := gemmShape(x, w, y)
	if err != nil {
		return nil, err
	}
	wt, err := p.weightsF(w, n, k)
	if err != nil {
		return nil, err
	}
	b, err := biasF(p.arg(op, 2), n)
	if err != nil {
		return nil, err
	}
	act, err := floatAct(op.act)
	if err != nil {
		return nil, err
	}
	return p.gemmF(p.argView(op, 0), wt, b, p.outView(op), kernels.GemmF32Params{M: m, K: k, N: n, Act: act})
}

// gemmF plans a float32 fully connected layer with the given parameters:
// one row and at least 2*colsMin channels make a colsFStep.
func (p *planner) gemmF(x view, w, b []float32, y view, gp kernels.GemmF32Params) (splitter, error) {
	if gp.M == 1 && gp.N >= 2*colsMin {
		return p.colsF(x, y, w, b, gp)
	}
	return p.gemmFBlock(x, w, b, y, gp)
}

func (p *planner) gemmFBlock(x view, w, b []float32, y view, gp kernels.GemmF32Params) (*fcFStep, error) {
	pw, err := p.packF32(p.k.PackGemmF32(w, gp.N, gp.K))
	if err != nil {
		return nil, err
	}
	return &fcFStep{p: gp, x: x, y: y, w: pw, wv: w, b: b, fn: p.k.GemmF32}, nil
}

// colsFStep is the float32 classifierStep: a GEMM of one row (a float32
// classifier, as a fully connected layer or a 1x1 convolution of one
// pixel; GemmF32 and PointwiseF32 compute the same chains) as blocks of
// output channels, each an fcFStep with its own packed weights that
// writes its slice of the output. (Splitting the channels of the 7x7
// pointwise layers too, whose weights outweigh their activations, was no
// faster than splitting their pixels: 2.76 ms against 2.72 ms for a
// two-thread MobileNetV2.)
type colsFStep struct {
	blocks []*fcFStep
	n      int64 // MACs
}

func (s *colsFStep) run(ar []byte) { s.runRange(ar, 0, len(s.blocks)) }
func (s *colsFStep) runRange(ar []byte, lo, hi int) {
	for _, b := range s.blocks[lo:hi] {
		b.run(ar)
	}
}
func (s *colsFStep) check(ar []byte) error {
	for _, b := range s.blocks {
		if err := b.check(ar); err != nil {
			return err
		}
	}
	return nil
}
func (s *colsFStep) extent() int { return len(s.blocks) }
func (s *colsFStep) macs() int64 { return s.n }
func (s *colsFStep) work() int64 { return s.n }
func (s *colsFStep) align() int  { return 1 }

// colsF builds a colsFStep of gp (M = 1) with weights w [N][K] and bias b
// (or nil), in blocks of colsBlock(N) channels.
func (p *planner) colsF(x, y view, w, b []float32, gp kernels.GemmF32Params) (*colsFStep, error) {
	o, k := gp.N, gp.K
	if gp.M != 1 || len(w) < o*k || (b != nil && len(b) < o) || y.n < o {
		return nil, fmt.Errorf("weights of %d values for %d x %d rows %d", len(w), o, k, gp.M)
	}
	s := &colsFStep{n: int64(o) * int64(k)}
	bs := colsBlock(o)
	for o0 := 0; o0 < o; o0 += bs {
		n := min(bs, o-o0)
		q := gp
		q.N = n
		var bb []float32
		if b != nil {
			bb = b[o0 : o0+n]
		}
		bl, err := p.gemmFBlock(x, w[o0*k:(o0+n)*k], bb, view{off: y.off + 4*o0, n: n}, q)
		if err != nil {
			return nil, err
		}
		s.blocks = append(s.blocks, bl)
	}
	return s, nil
}
