package kernels

import "fmt"

// Permutation permutes the dimensions of a row-major tensor: output
// dimension i is input dimension perm[i], so that
//
//	y[i_0, ..., i_{r-1}] = x[j]  with  j = Σ_i i_i x stride(perm[i])
//
// where stride(d) is the row-major stride of input dimension d. Permute
// copies any range of output elements; it is exact for every element type.
type Permutation struct {
	dims   []int // output dimensions
	stride []int // input stride of each output dimension
	n      int   // elements
}

// NewPermutation checks that perm permutes the axes of shape and returns
// the permutation.
func NewPermutation(shape, perm []int) (Permutation, error) {
	r := len(shape)
	if len(perm) != r {
		return Permutation{}, fmt.Errorf("kernels: %v is not a permutation of %d axes", perm, r)
	}
	in := make([]int, r)
	n := 1
	for i := r - 1; i >= 0; i-- {
		in[i] = n
		n *= shape[i]
	}
	p := Permutation{dims: make([]int, r), stride: make([]int, r), n: n}
	used := make([]bool, r)
	for i, a := range perm {
		if a < 0 || a >= r || used[a] {
			return Permutation{}, fmt.Errorf("kernels: %v is not a permutation of %d axes", perm, r)
		}
		used[a] = true
		p.dims[i], p.stride[i] = shape[a], in[a]
	}
	return p, nil
}

// Len returns the number of elements.
func (p *Permutation) Len() int { return p.n }

// Dims returns the output shape.
func (p *Permutation) Dims() []int { return p.dims }

// Permute writes output elements [lo, hi) of the permutation of x into y
// (y holds the whole output).
func Permute[T any](p *Permutation, x, y []T, lo, hi int) {
	r := len(p.dims)
	if lo >= hi {
		return
	}
	if r == 0 {
		copy(y[lo:hi], x[lo:hi])
		return
	}
	// An odometer over the output index, with the input offset it maps to.
	var buf [8]int
	idx := buf[:0]
	if r > len(buf) {
		idx = make([]int, 0, r)
	}
	idx = idx[:r]
	off, rest := 0, lo
	for i := r - 1; i >= 0; i-- {
		idx[i] = rest % p.dims[i]
		rest /= p.dims[i]
		off += idx[i] * p.stride[i]
	}
	last, sl := p.dims[r-1], p.stride[r-1]
	for o := lo; o < hi; {
		// The rest of this run along the last dimension.
		run := min(last-idx[r-1], hi-o)
		ys := y[o : o+run]
		for j := range ys {
			ys[j] = x[off+j*sl]
		}
		o += run
		off += run * sl
		idx[r-1] += run
		if idx[r-1] < last {
			break // hi reached inside the run
		}
		off -= sl * last
		idx[r-1] = 0
		for i := r - 2; i >= 0; i-- {
			idx[i]++
			off += p.stride[i]
			if idx[i] < p.dims[i] {
				break
			}
			off -= p.stride[i] * p.dims[i]
			idx[i] = 0
		}
	}
}
