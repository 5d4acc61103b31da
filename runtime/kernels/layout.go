package kernels

import (
	"fmt"
	"slices"
)

// Weight layout conversions, one generic version of each, shared by the
// compiler (codegen), the int8 reference interpreter (quant) and the
// runtime's planner.

// OHWI returns the convolution weights w, laid out [O][I][KH][KW] (OIHW,
// the ir's layout; I is the input channels per group), repacked as
// [O][KH][KW][I] (OHWI, the layout of Conv):
//
//	out[((oc*kh+y)*kw+x)*i+c] = w[((oc*i+c)*kh+y)*kw+x]
//
// It panics if len(w) != o*i*kh*kw.
func OHWI[T any](w []T, o, i, kh, kw int) []T {
	return permuted(w, []int{o, i, kh, kw}, []int{0, 2, 3, 1})
}

// Transpose2D returns the [rows][cols] matrix w transposed to [cols][rows]:
//
//	out[c*rows+r] = w[r*cols+c]
//
// Depthwise weights [O][KH*KW] (OHWI with one input channel per group)
// become [KH*KW][O] (HWO, the layout of Depthwise) with rows = O and
// cols = KH*KW, and back with rows = KH*KW and cols = O. It panics if
// len(w) != rows*cols.
func Transpose2D[T any](w []T, rows, cols int) []T {
	return permuted(w, []int{rows, cols}, []int{1, 0})
}

// permuted returns w of the given shape with its axes permuted (Permute).
func permuted[T any](w []T, shape, perm []int) []T {
	p, err := NewPermutation(shape, perm)
	if err != nil || slices.Min(shape) < 0 || len(w) != p.Len() {
		panic(fmt.Sprintf("kernels: %d elements for shape %v", len(w), shape))
	}
	out := make([]T, len(w))
	Permute(&p, w, out, 0, len(out))
	return out
}
