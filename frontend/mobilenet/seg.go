package mobilenet

import (
	"strconv"

	"github.com/mncdev/mnc/ir"
)

// headBNEps is the eps of the segmentation heads' BatchNorm2d layers:
// PyTorch's default, where the MobileNetV3 backbone has 1e-3.
const headBNEps = 1e-5

// seg builds torchvision's segmentation model of spec.Seg on the dilated V3
// backbone: the head's logits resized to the input, output "out".
func (b *builder) seg(x *ir.Value, spec *Spec, c Config, ch func(float64) int) *ir.Value {
	rows, _, err := v3Rows(spec, c, ch)
	if err != nil {
		b.err = err
		return nil
	}
	in := x
	feats := b.v3Features(x, spec, rows, "backbone", spec.V3.ReducedTailFrom)
	if feats == nil {
		return nil
	}
	stages := segStages(spec.V3.Blocks) // validated: at least 4
	b.eps = headBNEps
	high := feats[stages[len(stages)-1]]
	switch spec.Seg.Head {
	case HeadLRASPP:
		low := feats[stages[len(stages)-4]]
		x = b.lraspp(low, high, spec.Seg.InterChannels, c.Classes)
	case HeadDeepLabV3:
		x = b.deeplabv3(high, spec.Seg.ASPPChannels, spec.Seg.AtrousRates, c.Classes)
	}
	return b.resizeLike(x, "out", in)
}

// resizeLike adds F.interpolate(x, size=like.shape[-2:], mode="bilinear",
// align_corners=False) as ResizeBilinear with half-pixel centers.
func (b *builder) resizeLike(x *ir.Value, name string, like *ir.Value) *ir.Value {
	if b.err != nil {
		return nil
	}
	s := like.Type.Shape
	return b.node(ir.ResizeBilinear, name, &ir.ResizeAttrs{Size: [2]int{s[2], s[3]}, HalfPixelCenters: true}, x)
}

// lraspp is torchvision's LRASPPHead at "classifier": cbr and scale on the
// high feature, their product resized to the low feature's size, then
// low_classifier(low) + high_classifier(x). The nodes that are no module
// are named classifier.mul and classifier.interpolate; the sum is the
// head's output, "classifier".
func (b *builder) lraspp(low, high *ir.Value, inter, classes int) *ir.Value {
	x := b.convBNAct(high, "classifier.cbr", inter, 1, 1, 1, ir.Relu)
	s := b.node(ir.GlobalAveragePool, "classifier.scale.0", nil, high)
	s = b.conv(s, "classifier.scale.1", inter, 1, 1, 1, false)
	s = b.act(s, "classifier.scale.2", ir.Sigmoid)
	x = b.node(ir.Mul, "classifier.mul", nil, x, s)
	x = b.resizeLike(x, "classifier.interpolate", low)
	l := b.conv(low, "classifier.low_classifier", classes, 1, 1, 1, true)
	h := b.conv(x, "classifier.high_classifier", classes, 1, 1, 1, true)
	return b.node(ir.Add, "classifier", nil, l, h)
}

// deeplabv3 is torchvision's DeepLabHead at "classifier": ASPP
// (classifier.0: a 1x1 branch, one dilated 3x3 branch per rate and the
// pooling branch resized back to the feature's size, concatenated as
// classifier.0.cat, then project with its Dropout), a 3x3 conv, BN and
// ReLU (classifier.1 to .3) and the 1x1 classifier (classifier.4).
func (b *builder) deeplabv3(x *ir.Value, aspp int, rates []int, classes int) *ir.Value {
	const p = "classifier.0"
	branch := func(i int) string { return p + ".convs." + strconv.Itoa(i) }
	outs := []*ir.Value{b.convBNAct(x, branch(0), aspp, 1, 1, 1, ir.Relu)}
	for i, r := range rates {
		outs = append(outs, b.convBNActDil(x, branch(i+1), aspp, 3, 1, r, 1, ir.Relu))
	}
	pool := branch(len(rates) + 1)
	y := b.node(ir.GlobalAveragePool, pool+".0", nil, x)
	y = b.conv(y, pool+".1", aspp, 1, 1, 1, false)
	y = b.bn(y, pool+".2")
	y = b.act(y, pool+".3", ir.Relu)
	outs = append(outs, b.resizeLike(y, pool, x))
	if b.err != nil {
		return nil
	}
	y = b.node(ir.Concat, p+".cat", &ir.ConcatAttrs{Axis: 1}, outs...)
	y = b.convBNAct(y, p+".project", aspp, 1, 1, 1, ir.Relu)
	y = b.node(ir.Dropout, p+".project.3", nil, y)
	y = b.conv(y, "classifier.1", aspp, 3, 1, 1, false)
	y = b.bn(y, "classifier.2")
	y = b.act(y, "classifier.3", ir.Relu)
	return b.conv(y, "classifier.4", classes, 1, 1, 1, true)
}
