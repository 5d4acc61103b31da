package interp

import (
	"runtime/debug"
	"sync"
)

// workerPanic carries a panic out of a worker goroutine so that the caller's
// goroutine re-panics with it (and runNode recovers it as an error).
type workerPanic struct {
	value any
	stack []byte
}

// parallelFor calls body(lo, hi) over disjoint ranges covering [0, n), using
// at most workers goroutines (the caller's included). Ranges are contiguous
// and static; body must compute each index the same way whatever range it is
// in, so that results do not depend on the split.
func parallelFor(n, workers int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	w := min(max(workers, 1), n)
	if w == 1 {
		body(0, n)
		return
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		caught any
	)
	wg.Add(w - 1)
	run := func(k int) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				if caught == nil {
					if p, ok := r.(workerPanic); ok {
						caught = p
					} else {
						caught = workerPanic{value: r, stack: debug.Stack()}
					}
				}
				mu.Unlock()
			}
		}()
		body(k*n/w, (k+1)*n/w)
	}
	for k := 1; k < w; k++ {
		go func() {
			defer wg.Done()
			run(k)
		}()
	}
	run(0)
	wg.Wait()
	if caught != nil {
		panic(caught)
	}
}
