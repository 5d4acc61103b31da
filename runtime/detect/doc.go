// Package detect is the float32 post-processing of torchvision's SSD and
// SSDLite detectors (ssdlite320_mobilenet_v3_large): default boxes
// (anchors), box decoding, softmax scores, per-class selection and
// class-wise non-maximum suppression, plus the evaluation helpers a
// detector and a segmenter are measured with (box files, VOC AP@0.5,
// mask mIoU).
//
// # Float semantics
//
// The aim is torchvision 0.14 / PyTorch 1.13 on x86-64 CPUs (AVX2 kernels)
// bit for bit, so every float32 operation is done in torchvision's order and
// rounded to float32 where PyTorch rounds (Go's float32() conversions keep the
// compiler from fusing a multiply and an add). Two PyTorch kernels are not
// plain IEEE operations and are reproduced:
//
//   - torch.exp on float32 is SLEEF's Sleef_expf8_u10 (AVX2, with FMA), not a
//     correctly rounded exp: it differs from float32(math.Exp) in about 10% of
//     inputs by one ulp. expf below is that algorithm (sleef's xexpf).
//   - softmax over the last dimension sums in 8 lanes (Vectorized<float>),
//     then across lanes, and multiplies by 1/sum.
//
// Ties: torchvision's CPU nms orders by a stable descending sort (ties keep
// input order). torch.topk orders ties by libstdc++'s nth_element and sort;
// SelectTopK reproduces those algorithms (stdsort.go) so tied scores come out
// in the same order.
//
// Postprocess's boxes are in the frame of the transformed input (320x320 for
// SSDLite); Rescale is GeneralizedRCNNTransform.postprocess's scaling back to
// the original image.
//
// The golden cases (testdata/ssd_golden.json, from testdata/gen/
// make_ssd_golden.py running torchvision itself) are compared bit for bit:
// anchors, softmax, and detections' count, order, labels, scores and boxes.
//
// # Evaluation
//
// Box files (boxfile.go: one per image, "class x0 y0 x1 y1" lines for the
// ground truth, "class x0 y0 x1 y1 score" for detections), VOC AP@0.5 with
// all-points interpolation (ap.go) and a confusion-matrix mIoU with label 255
// ignored (miou.go) are float64 and need no torchvision bits; they are
// checked against hand-computed cases and testdata/gen/make_eval_golden.py.
//
// # Limits
//
// Every entry point checks its counts against MaxAnchors, MaxClasses, MaxTopK
// and MaxCandidates before it allocates, and refuses larger inputs with an
// error. NaN, Inf, negative-size, zero-size and inverted anchors or boxes and
// NaN/Inf logits are not errors: they go through torchvision's float
// arithmetic as they would in torchvision (a NaN score never passes the
// threshold; a NaN box suppresses nothing), and never cause a panic.
package detect
