package quant

import (
	"github.com/mncdev/mnc/ir"
)

// correctBias returns the float bias of Conv or Gemm n corrected for the
// expected error of its quantized weights (Nagel et al. 2019, section 4.2,
// with the input means measured during calibration): the quantized layer
// computes E[(W_q - W) x] = (W_q - W) E[x] more per output channel than the
// float one, so that much is subtracted. Padding is ignored (the mean of an
// input channel stands for every tap). Without statistics of the input's
// channel means the bias is returned unchanged.
func (qz *quantizer) correctBias(n *ir.Node, fb []float32, wq *ir.Tensor, sw []float32) []float32 {
	ts := qz.st.Tensors[n.Inputs[0].Name]
	mean := ts.ChanMean()
	if mean == nil {
		return fb
	}
	w := n.Inputs[1].Const.F32
	if n.Op == ir.Gemm {
		// The canonical Gemm (see qz.gemm): W [N,K], alpha 1.
		nOut, k := wq.Shape[0], wq.Shape[1]
		if len(mean) != k {
			return fb
		}
		out := append([]float32(nil), fb...)
		for o := range nOut {
			var d float64
			for j := range k {
				d += float64((float64(float64(wq.I8[o*k+j])*float64(sw[o])) - float64(w[o*k+j])) * mean[j])
			}
			out[o] = float32(float64(out[o]) - d)
		}
		return out
	}
	a := n.Attrs.(*ir.ConvAttrs)
	ws := n.Inputs[1].Const.Shape // O, C/g, KH, KW
	o, cpg, kk := ws[0], ws[1], ws[2]*ws[3]
	opg := o / a.Groups()
	if len(mean) != cpg*a.Groups() {
		return fb
	}
	out := append([]float32(nil), fb...)
	for oc := range o {
		c0 := (oc / opg) * cpg
		var d float64
		for ci := range cpg {
			for k := range kk {
				i := (oc*cpg+ci)*kk + k
				d += float64((float64(float64(wq.I8[i])*float64(sw[oc])) - float64(w[i])) * mean[c0+ci])
			}
		}
		out[oc] = float32(float64(out[oc]) - d)
	}
	return out
}
