package runtime

import (
	goruntime "runtime"
	"runtime/debug"
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
// rows or pixels, the batch-1 classifiers by blocks of channels
// (classifierStep, colsFStep), the float32 input's transpose by pixels,
// adds and lookups by elements, channel multiplies and the
// scale of squeeze-excite units by positions (after the unit's gate,
// computed on the caller: prologuer); each family's file says how its steps
// split. Every output element is computed by the same kernel code whatever
// the split (runtime/kernels' contract), so the results are identical for
// every thread count. Steps below minParallelMACs run on the calling
// goroutine alone: waking the workers costs more than they would save.
// The hand-off (see pool) uses atomics and a parking channel, so Run still
// allocates nothing.

// splitter is a step whose work splits over a range [0, extent()) of
// output rows, pixels, elements or channel blocks.
type splitter interface {
	step
	runRange(ar []byte, lo, hi int)
	extent() int
	work() int64 // multiply-accumulates, to decide whether splitting pays
	align() int  // preferred multiple for range bounds
}

// minParallelMACs is the smallest step (in MACs) split over threads.
var minParallelMACs int64 = 1 << 17

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
	// Workers read the model's weights, which may be a mapped file
	// truncated under us: a fault is a panic that part recovers for Run
	// (faults.go).
	debug.SetPanicOnFault(true)
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
	lo, hi := partRange(p.s, p.parts, i)
	p.s.runRange(p.ar, lo, hi)
}

// partRange is range i of parts over s's extent, aligned.
func partRange(s splitter, parts, i int) (int, int) {
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
