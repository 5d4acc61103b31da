package kernels

import "fmt"

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
	if o < 0 || i < 0 || kh < 0 || kw < 0 || len(w) != o*i*kh*kw {
		panic(fmt.Sprintf("kernels.OHWI: %d weights for [%d][%d][%d][%d]", len(w), o, i, kh, kw))
	}
	out := make([]T, len(w))
	for oc := range o {
		for c := range i {
			for y := range kh {
				for x := range kw {
					out[((oc*kh+y)*kw+x)*i+c] = w[((oc*i+c)*kh+y)*kw+x]
				}
			}
		}
	}
	return out
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
	if rows < 0 || cols < 0 || len(w) != rows*cols {
		panic(fmt.Sprintf("kernels.Transpose2D: %d elements for [%d][%d]", len(w), rows, cols))
	}
	out := make([]T, len(w))
	for r := range rows {
		for c := range cols {
			out[c*rows+r] = w[r*cols+c]
		}
	}
	return out
}
