package runtime

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Threads
//
// An Interpreter with more than one thread owns a pool of threads-1 worker
// goroutines, started by NewInterpreter and stopped by Interpreter.Close (or,
// if Close is never called, by a cleanup when the Interpreter becomes
// unreachable: the workers hold the pool, never the Interpreter). Run itself
// is the first thread. Steps split their output into one contiguous range
// per thread: convolutions and fully connected layers with several rows by
// rows or pixels, the batch-1 classifiers by blocks of channels (colsStep),
// adds and lookups by elements, channel multiplies and the scale of
// squeeze-excite units by positions (after the unit's gate, computed on the
// caller: prologuer); every output element is computed by the same kernel code whatever
// the split (runtime/kernels' contract), so the results are identical for
// every thread count. Steps below minParallelMACs run on the calling
// goroutine alone: waking the workers costs more than they would save.
// The hand-off (see pool) uses atomics and a parking channel, so Run still
// allocates nothing.

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
// task are written by the caller before it publishes the task's sequence
// number (an atomic store, so workers that load it see them) and read-only
// until every worker has reported the task done (an atomic store each,
// which the caller loads before it reads the outputs).
//
// Hand-off: a step lasts tens of microseconds, so parking and waking a
// goroutine per step (a channel operation, an OS thread wake-up) costs as
// much as the step saves. Workers therefore spin on the task number for a
// while before they park (spinFor: long enough to bridge the steps that run
// on the caller alone, and back-to-back inferences, as ONNX Runtime's
// spinning thread pool does; an idle interpreter's workers park after it),
// and the caller spins until the parts are done.
// Parking is lost-wakeup free: a worker announces it sleeps, then checks
// the task number again; the caller publishes the task, then checks whether
// the worker sleeps and, if so, leaves a token in its 1-slot wake channel.
// One of the two sees the other's store (Go's atomics are sequentially
// consistent); a stale token only causes a spurious wake-up, after which the
// worker checks again.
type pool struct {
	workers []worker
	stopO   sync.Once
	stopped atomic.Bool

	seq   uint64 // the last task published (caller only)
	s     splitter
	ar    []byte
	parts int
	fault []any // a panic of part i, re-raised by the caller
}

type worker struct {
	task     atomic.Uint64 // the last task published to this worker
	done     atomic.Uint64 // the last task this worker finished
	sleeping atomic.Bool
	wake     chan struct{} // capacity 1
	_        [64]byte      // keep workers on separate cache lines
}

// spinFor bounds how long a worker polls for the next task before it
// parks; every spinWait polls it yields its thread (and looks at the
// clock), and so does the caller while it waits for the parts.
const (
	spinFor  = 300 * time.Microsecond
	spinWait = 1 << 10
)

func newPool(threads int) *pool {
	p := &pool{workers: make([]worker, threads-1), fault: make([]any, threads)}
	for i := range p.workers {
		p.workers[i].wake = make(chan struct{}, 1)
		go p.worker(i + 1)
	}
	return p
}

func (p *pool) worker(i int) {
	w := &p.workers[i-1]
	var last uint64
	for {
		seq := w.task.Load()
		var since time.Time
		for spin := 1; seq == last && !p.stopped.Load(); spin++ {
			if spin%spinWait == 0 {
				if since.IsZero() {
					since = time.Now()
				} else if time.Since(since) > spinFor {
					break
				}
				goruntime.Gosched() // let the caller run if threads outnumber cores
			}
			seq = w.task.Load()
		}
		if p.stopped.Load() {
			return
		}
		if seq == last {
			w.sleeping.Store(true)
			if seq = w.task.Load(); seq == last && !p.stopped.Load() {
				<-w.wake
			}
			w.sleeping.Store(false)
			continue
		}
		last = seq
		p.part(i)
		w.done.Store(seq)
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
	p.seq++
	seq := p.seq
	for i := 1; i < parts; i++ {
		w := &p.workers[i-1]
		w.task.Store(seq)
		if w.sleeping.Load() {
			select {
			case w.wake <- struct{}{}:
			default: // a token is already waiting
			}
		}
	}
	p.part(0)
	for i := 1; i < parts; i++ {
		w := &p.workers[i-1]
		for spin := 0; w.done.Load() != seq; spin++ {
			if spin >= spinWait {
				goruntime.Gosched()
			}
		}
	}
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
		p.stopped.Store(true)
		for i := range p.workers {
			select {
			case p.workers[i].wake <- struct{}{}:
			default:
			}
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
		if pr, ok := it.split[i].(prologuer); ok {
			pr.prologue(ar)
		}
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

// Residual adds and lookup tables are elementwise: split over elements.
// Their work is counted as elemCost MACs per element, about what an
// element costs next to a multiply-accumulate of the GEMM kernels.
const elemCost = 16

func (s *addStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.a.i8(ar)[lo:hi], s.b.i8(ar)[lo:hi], s.y.i8(ar)[lo:hi])
}
func (s *addStep) extent() int { return s.y.n }
func (s *addStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *addStep) align() int  { return 64 }

// A channel multiply (the scale of a squeeze-excite unit) splits over
// positions; a squeeze-excite unit computes its gate first, on the caller
// (prologue), then splits its scale.
func (s *chanMulStep) runRange(ar []byte, lo, hi int) {
	s.fn(&s.p, s.x.i8(ar), s.g.i8(ar), s.y.i8(ar), lo, hi)
}
func (s *chanMulStep) extent() int { return s.p.N * s.p.HW }
func (s *chanMulStep) work() int64 { return elemCost * int64(s.y.n) }
func (s *chanMulStep) align() int  { return 8 }

func (s *seStep) runRange(ar []byte, lo, hi int) { s.scale.runRange(ar, lo, hi) }
func (s *seStep) extent() int                    { return s.scale.extent() }
func (s *seStep) work() int64                    { return s.scale.work() }
func (s *seStep) align() int                     { return s.scale.align() }

// prologuer is a splitter with a part that runs on the caller alone, before
// the split.
type prologuer interface{ prologue(ar []byte) }

func (s *lutStep) runRange(ar []byte, lo, hi int) { s.fn(&s.t, s.x.i8(ar)[lo:hi], s.y.i8(ar)[lo:hi]) }
func (s *lutStep) extent() int                    { return s.y.n }
func (s *lutStep) work() int64                    { return elemCost * int64(s.y.n) }
func (s *lutStep) align() int                     { return 64 }
