package detect

// libstdc++'s std::nth_element, std::sort and std::partial_sort (GCC 12's
// bits/stl_algo.h and stl_heap.h), step for step, on (score, index) pairs with
// torch.topk's comparator, so that equal scores come out in the order
// torch.topk gives them on Linux.

type pair struct {
	v   float32
	idx int64
}

// descLess is torch's "largest" comparator: NaN first, then greater values.
func descLess(x, y pair) bool {
	xn, yn := x.v != x.v, y.v != y.v
	return (xn && !yn) || x.v > y.v
}

func lg(n int) int {
	r := 0
	for n > 1 {
		n >>= 1
		r++
	}
	return r
}

func moveMedianToFirst(a []pair, result, x, y, z int) {
	switch {
	case descLess(a[x], a[y]):
		if descLess(a[y], a[z]) {
			a[result], a[y] = a[y], a[result]
		} else if descLess(a[x], a[z]) {
			a[result], a[z] = a[z], a[result]
		} else {
			a[result], a[x] = a[x], a[result]
		}
	case descLess(a[x], a[z]):
		a[result], a[x] = a[x], a[result]
	case descLess(a[y], a[z]):
		a[result], a[z] = a[z], a[result]
	default:
		a[result], a[y] = a[y], a[result]
	}
}

func unguardedPartition(a []pair, first, last, pivot int) int {
	for {
		for descLess(a[first], a[pivot]) {
			first++
		}
		last--
		for descLess(a[pivot], a[last]) {
			last--
		}
		if !(first < last) {
			return first
		}
		a[first], a[last] = a[last], a[first]
		first++
	}
}

func unguardedPartitionPivot(a []pair, first, last int) int {
	mid := first + (last-first)/2
	moveMedianToFirst(a, first, first+1, mid, last-1)
	return unguardedPartition(a, first+1, last, first)
}

func unguardedLinearInsert(a []pair, last int) {
	val := a[last]
	next := last - 1
	for descLess(val, a[next]) {
		a[last] = a[next]
		last = next
		next--
	}
	a[last] = val
}

func insertionSort(a []pair, first, last int) {
	if first == last {
		return
	}
	for i := first + 1; i != last; i++ {
		if descLess(a[i], a[first]) {
			val := a[i]
			copy(a[first+1:i+1], a[first:i])
			a[first] = val
		} else {
			unguardedLinearInsert(a, i)
		}
	}
}

func pushHeap(a []pair, first, hole, top int, val pair) {
	parent := (hole - 1) / 2
	for hole > top && descLess(a[first+parent], val) {
		a[first+hole] = a[first+parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	a[first+hole] = val
}

func adjustHeap(a []pair, first, hole, n int, val pair) {
	top := hole
	second := hole
	for second < (n-1)/2 {
		second = 2 * (second + 1)
		if descLess(a[first+second], a[first+second-1]) {
			second--
		}
		a[first+hole] = a[first+second]
		hole = second
	}
	if n&1 == 0 && second == (n-2)/2 {
		second = 2 * (second + 1)
		a[first+hole] = a[first+second-1]
		hole = second - 1
	}
	pushHeap(a, first, hole, top, val)
}

func makeHeap(a []pair, first, last int) {
	n := last - first
	if n < 2 {
		return
	}
	for parent := (n - 2) / 2; ; parent-- {
		adjustHeap(a, first, parent, n, a[first+parent])
		if parent == 0 {
			return
		}
	}
}

func popHeap(a []pair, first, last, result int) {
	val := a[result]
	a[result] = a[first]
	adjustHeap(a, first, 0, last-first, val)
}

func heapSelect(a []pair, first, middle, last int) {
	makeHeap(a, first, middle)
	for i := middle; i < last; i++ {
		if descLess(a[i], a[first]) {
			popHeap(a, first, middle, i)
		}
	}
}

func sortHeap(a []pair, first, last int) {
	for last-first > 1 {
		last--
		popHeap(a, first, last, last)
	}
}

func partialSort(a []pair, first, middle, last int) {
	heapSelect(a, first, middle, last)
	sortHeap(a, first, middle)
}

const sThreshold = 16

func introsortLoop(a []pair, first, last, depth int) {
	for last-first > sThreshold {
		if depth == 0 {
			partialSort(a, first, last, last)
			return
		}
		depth--
		cut := unguardedPartitionPivot(a, first, last)
		introsortLoop(a, cut, last, depth)
		last = cut
	}
}

// stdSort is std::sort(a[first:last]).
func stdSort(a []pair, first, last int) {
	if first == last {
		return
	}
	introsortLoop(a, first, last, lg(last-first)*2)
	if last-first > sThreshold {
		insertionSort(a, first, first+sThreshold)
		for i := first + sThreshold; i < last; i++ {
			unguardedLinearInsert(a, i)
		}
	} else {
		insertionSort(a, first, last)
	}
}

// nthElement is std::nth_element(a[first], a[nth], a[last]).
func nthElement(a []pair, first, nth, last int) {
	if first == last || nth == last {
		return
	}
	depth := lg(last-first) * 2
	for last-first > 3 {
		if depth == 0 {
			heapSelect(a, first, nth+1, last)
			a[first], a[nth] = a[nth], a[first]
			return
		}
		depth--
		cut := unguardedPartitionPivot(a, first, last)
		if cut <= nth {
			first = cut
		} else {
			last = cut
		}
	}
	insertionSort(a, first, last)
}

// topK is torch.topk(values, k) (largest, sorted) on CPU: it returns the
// (value, index) pairs in torch's order, ties included.
func topK(values []float32, k int) []pair {
	q := make([]pair, len(values))
	for j, v := range values {
		q[j] = pair{v, int64(j)}
	}
	if k <= 0 {
		return nil
	}
	if k*64 <= len(q) {
		partialSort(q, 0, k, len(q))
	} else {
		nthElement(q, 0, k-1, len(q))
		stdSort(q, 0, k-1)
	}
	return q[:k]
}
