package eval

import (
	"io"
	"sync"
	"sync/atomic"

	"github.com/mncdev/mnc/internal/progress"
	"github.com/mncdev/mnc/ir"
)

// forEachImage calls run(w, bufs, i) for every image i < n on workers
// goroutines (worker w, its own output buffers bufs, one per model), with a
// progress bar on prog. After an image fails, later images are skipped;
// the error returned is the one of the lowest failing image, so it does
// not depend on the scheduling.
func forEachImage(n, workers, models int, prog io.Writer, run func(w int, bufs []*ir.Tensor, i int) error) error {
	errs := make([]error, n)
	var firstErr atomic.Int64 // lowest failed index; later images are skipped
	firstErr.Store(int64(n))
	bar := progress.Bar(prog, n, "evaluating")
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			bufs := make([]*ir.Tensor, models)
			for i := range next {
				if int64(i) > firstErr.Load() {
					continue
				}
				if errs[i] = run(w, bufs, i); errs[i] != nil {
					for {
						cur := firstErr.Load()
						if int64(i) >= cur || firstErr.CompareAndSwap(cur, int64(i)) {
							break
						}
					}
				}
				if bar != nil {
					_ = bar.Add(1)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
	}
	if i := firstErr.Load(); i < int64(n) {
		return errs[i]
	}
	return nil
}
