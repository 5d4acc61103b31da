package interp

import (
	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/kernels"
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
// is input dim perm[i] (kernels.Permute); perm is a verified permutation.
func transpose(perm []int, x, out *ir.Tensor) {
	p, err := kernels.NewPermutation(x.Shape, perm)
	if err != nil {
		panic(err)
	}
	kernels.Permute(&p, x.F32, out.F32, 0, len(out.F32))
}
