package runtime

import (
	goruntime "runtime"
	"sync"
	"time"

	"github.com/mncdev/mnc/runtime/kernels"
)

// Threads
//
// An Interpreter with more than one thread owns a pool of threads-1 worker
// goroutines, started by NewInterpreter and stopped by Interpreter.Close (or,
// if Close is never called, by a cleanup when the Interpreter becomes
// unreachable: the workers hold the pool, never the Interpreter). Run itself
// is the first thread. The steps that dominate the time (convolutions,
// pointwise and depthwise convolutions, fully connected layers with several
// rows) split their output rows or pixels into one contiguous range per
// thread; every output element is computed by the same kernel code whatever
// the split (runtime/kernels' contract), so the results are identical for
// every thread count. Steps below minParallelMACs run on the calling
// goroutine alone: waking the workers costs more than they would save.
// Dispatch uses channels and a WaitGroup, so Run still allocates nothing.

// splitter is a step whose work splits over a range [0, extent()) of
// output rows or pixels.
type splitter interface {
	step
	runRange(ar []byte, lo, hi int)
	extent() int
	work() int64 // multiply-accumulates, to decide whether splitting pays
	align() int  // preferred multiple for range bounds
}

// minParallelMACs is the smallest step (in MACs) split over threads.
var minParallelMACs int64 = 1 << 17

func (s *convStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.i8(ar), s.w, s.b, s.y.i8(ar), lo, hi)
}
func (s *convStep) extent() int { return s.n }
func (s *convStep) work() int64 {
	p := &s.p
	return int64(p.N) * int64(p.OH) * int64(p.OW) * int64(p.O) * int64(p.KH) * int64(p.KW) * int64(p.C/max(p.Groups, 1))
}
func (s *convStep) align() int {
	if s.n == s.p.Pixels() && s.n != s.p.Rows() {
		return 8 // pixels: keep the GEMM's row blocks whole
	}
	return 1
}

func (s *gemmStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.i8(ar), s.w, s.b, s.y.i8(ar), lo, hi)
}
func (s *gemmStep) extent() int { return s.p.M }
func (s *gemmStep) work() int64 { return int64(s.p.M) * int64(s.p.N) * int64(s.p.K) }
func (s *gemmStep) align() int  { return 1 }

// pool is an Interpreter's worker goroutines. The fields of the current
// task are written by the caller before it wakes the workers (a channel
// send, so they see them) and read-only until wg.Wait returns.
type pool struct {
	wake  []chan struct{} // one per worker
	wg    sync.WaitGroup
	stopO sync.Once

	s     splitter
	ar    []byte
	parts int
	fault []any // a panic of worker i, re-raised by the caller
}

func newPool(threads int) *pool {
	p := &pool{wake: make([]chan struct{}, threads-1), fault: make([]any, threads)}
	for i := range p.wake {
		p.wake[i] = make(chan struct{})
		go p.worker(i + 1)
	}
	return p
}

func (p *pool) worker(i int) {
	for range p.wake[i-1] {
		p.part(i)
		p.wg.Done()
	}
}

// part runs range i of the current task, catching a panic for the caller.
func (p *pool) part(i int) {
	defer func() {
		if r := recover(); r != nil {
			p.fault[i] = r
		}
	}()
	lo, hi := bounds(p.s, p.parts, i)
	p.s.runRange(p.ar, lo, hi)
}

// bounds is range i of parts over s's extent, aligned.
func bounds(s splitter, parts, i int) (int, int) {
	n, a := s.extent(), s.align()
	at := func(k int) int {
		if k >= parts {
			return n
		}
		return n * k / parts / a * a
	}
	return at(i), at(i + 1)
}

// run splits s into parts ranges and runs them, part 0 on the caller.
func (p *pool) run(s splitter, ar []byte, parts int) {
	p.s, p.ar, p.parts = s, ar, parts
	p.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		p.wake[i-1] <- struct{}{}
	}
	p.part(0)
	p.wg.Wait()
	p.s, p.ar = nil, nil
	for i, f := range p.fault[:parts] {
		if f != nil {
			p.fault[i] = nil
			panic(f)
		}
	}
}

func (p *pool) stop() {
	p.stopO.Do(func() {
		for _, c := range p.wake {
			close(c)
		}
	})
}

// planThreads prepares an interpreter for threads threads (< 1: GOMAXPROCS).
func (it *Interpreter) planThreads(threads int) {
	if threads < 1 {
		threads = goruntime.GOMAXPROCS(0)
	}
	it.threads = threads
	if threads == 1 {
		return
	}
	it.split = make([]splitter, len(it.m.steps))
	it.parts = make([]int, len(it.m.steps))
	any := false
	for i, s := range it.m.steps {
		sp, ok := s.(splitter)
		if !ok || sp.work() < minParallelMACs {
			continue
		}
		parts := min(threads, sp.extent()/sp.align())
		if parts < 2 {
			continue
		}
		it.split[i], it.parts[i], any = sp, parts, true
	}
	if !any {
		it.split, it.parts = nil, nil
		return
	}
	it.pool = newPool(threads)
	goruntime.AddCleanup(it, func(p *pool) { p.stop() }, it.pool)
}

// Threads returns the number of threads the interpreter runs on (the
// calling goroutine and its workers).
func (it *Interpreter) Threads() int { return it.threads }

// Close stops the interpreter's worker goroutines. The interpreter may still
// be used afterwards, on one thread. Close of a single-threaded interpreter
// does nothing; it always returns nil.
func (it *Interpreter) Close() error {
	if it.pool != nil {
		it.pool.stop()
		it.pool, it.split, it.parts = nil, nil, nil
	}
	return nil
}

// exec runs step i, split over the pool when it pays.
func (it *Interpreter) exec(i int, s step, ar []byte) {
	if it.split != nil && it.split[i] != nil {
		it.pool.run(it.split[i], ar, it.parts[i])
		return
	}
	s.run(ar)
}

// StepTime is the time spent in one step (operator) of the plan while
// profiling was on.
type StepTime struct {
	Index int           // operator index
	Op    string        // operator type
	Name  string        // operator name
	MACs  int64         // multiply-accumulates per item
	Total time.Duration // summed over Runs items
	Runs  int           // items run (a batch counts each item)
}

// SetProfile turns per-step timing on (and clears the times collected so
// far) or off. When off, Run measures nothing: one nil test per step.
func (it *Interpreter) SetProfile(on bool) {
	if !on {
		it.prof = nil
		return
	}
	it.prof = make([]time.Duration, len(it.m.steps))
	it.profRuns = 0
}

// Profile returns the per-step times collected since SetProfile(true), in
// plan order (nil if profiling is off).
func (it *Interpreter) Profile() []StepTime {
	if it.prof == nil {
		return nil
	}
	ops := it.m.info.Ops
	out := make([]StepTime, len(it.prof))
	for i, d := range it.prof {
		out[i] = StepTime{Index: i, Total: d, Runs: it.profRuns}
		if i < len(ops) {
			out[i].Op, out[i].Name, out[i].MACs = ops[i].Op, ops[i].Name, ops[i].MACs
		}
	}
	return out
}

// The input's quantize and NCHW->NHWC transpose are elementwise: split
// over output elements, identical by construction.

func (s *quantizeStep) runRange(ar []byte, lo, hi int) {
	_ = kernels.Quantize(s.x.f32(ar)[lo:hi], s.scale, s.zero, s.y.i8(ar)[lo:hi])
}
func (s *quantizeStep) extent() int { return s.x.n }
func (s *quantizeStep) work() int64 { return 4 * int64(s.x.n) }
func (s *quantizeStep) align() int  { return 64 }

func (s *transposeStep) runRange(ar []byte, lo, hi int) {
	if s.size == 1 {
		transposeRange(s, s.x.i8(ar), s.y.i8(ar), lo, hi)
	} else {
		transposeRange(s, s.x.f32(ar), s.y.f32(ar), lo, hi)
	}
}
func (s *transposeStep) extent() int { return s.y.n }
func (s *transposeStep) work() int64 { return 2 * int64(s.y.n) }
func (s *transposeStep) align() int  { return 64 }

// transposeRange is transposeT over output elements [lo, hi).
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
