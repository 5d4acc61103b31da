package interp

import (
	"github.com/mncdev/mnc/ir"
)

// Permutations between the 4-D layouts.
var (
	nhwcToNCHW = []int{0, 3, 1, 2}
	nchwToNHWC = []int{0, 2, 3, 1}
)

// nhwc runs a layout-sensitive node whose activations are NHWC: the input is
// transposed to NCHW, the NCHW kernel runs, and its result is transposed into
// out. Transposition only moves values, so the results are bit for bit those
// of the NCHW node.
func nhwc(n *ir.Node, in []*ir.Tensor, out *ir.Tensor, workers int) error {
	x := in[0]
	xc := ir.NewFloat32(permute(x.Shape, nhwcToNCHW), nil)
	transpose(nhwcToNCHW, x, xc)
	ins := append([]*ir.Tensor{xc}, in[1:]...)
	oc := ir.NewFloat32(permute(out.Shape, nhwcToNCHW), nil)
	nc := *n
	nc.Layout = ir.NCHW
	if err := kernel(&nc, ins, oc, workers); err != nil {
		return err
	}
	transpose(nchwToNHWC, oc, out)
	return nil
}

// permute returns the shape whose dim i is s[perm[i]].
func permute(s ir.Shape, perm []int) ir.Shape {
	p := make(ir.Shape, len(perm))
	for i, d := range perm {
		p[i] = s[d]
	}
	return p
}

// transpose sets out (of shape permute(x.Shape, perm)) so that output dim i
// is input dim perm[i].
func transpose(perm []int, x, out *ir.Tensor) {
	r := len(perm)
	if r == 0 {
		copy(out.F32, x.F32)
		return
	}
	if len(out.F32) == 0 {
		return
	}
	// st[i] is the input stride along output dim i.
	inStride := make([]int, r)
	acc := 1
	for d := r - 1; d >= 0; d-- {
		inStride[d] = acc
		acc *= x.Shape[d]
	}
	st := make([]int, r)
	for i, p := range perm {
		st[i] = inStride[p]
	}
	last, sl := out.Shape[r-1], st[r-1]
	idx := make([]int, r) // odometer over the outer output dims
	base := 0
	for off := 0; off < len(out.F32); off += last {
		y := out.F32[off : off+last]
		for j := range y {
			y[j] = x.F32[base+j*sl]
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			base += st[d]
			if idx[d] < out.Shape[d] {
				break
			}
			base -= st[d] * out.Shape[d]
			idx[d] = 0
		}
	}
}
