package detect

import (
	"fmt"
	"math"
)

func nanf() float64 { return math.NaN() }

// Params are SSD.postprocess_detections' settings.
type Params struct {
	ScoreThresh      float64 // keep scores > float32(ScoreThresh)
	NMSThresh        float64 // IoU above which a lower-scored box is dropped
	DetectionsPerImg int     // boxes kept after NMS
	TopKCandidates   int     // best boxes per class before NMS
}

// SSDLite320Params are ssdlite320_mobilenet_v3_large's defaults.
func SSDLite320Params() Params {
	return Params{ScoreThresh: 0.001, NMSThresh: 0.55, DetectionsPerImg: 300, TopKCandidates: 300}
}

// Detection is one output box: Label is the class index (1.. classes-1; 0 is
// the background and never reported).
type Detection struct {
	Box   Box
	Score float32
	Label int
}

// Postprocess is SSD.postprocess_detections for one image: softmax over
// each anchor's `classes` logits (logits is [anchors][classes] row-major),
// boxes decoded against the anchors and clipped to imageH x imageW, then
// for each class 1.. in turn the scores > ScoreThresh, their TopKCandidates
// best (torch.topk's order), batched NMS over all classes, and the first
// DetectionsPerImg. The result is torchvision's, bit for bit (see the
// package doc); image sizes are those of the transformed input (320x320).
func Postprocess(logits []float32, classes int, rel, anchors []Box, imageH, imageW int, p Params) ([]Detection, error) {
	if p.TopKCandidates < 0 || p.TopKCandidates > MaxTopK || p.DetectionsPerImg < 0 || p.DetectionsPerImg > MaxTopK {
		return nil, fmt.Errorf("detect: topk %d, detections %d: want 0 to %d", p.TopKCandidates, p.DetectionsPerImg, MaxTopK)
	}
	if math.IsNaN(p.ScoreThresh) || math.IsNaN(p.NMSThresh) {
		return nil, fmt.Errorf("detect: NaN threshold (score %v, nms %v)", p.ScoreThresh, p.NMSThresh)
	}
	if imageH <= 0 || imageW <= 0 || imageH > MaxFeatureMap || imageW > MaxFeatureMap {
		return nil, fmt.Errorf("detect: image %dx%d: want 1 to %d pixels a side", imageH, imageW, MaxFeatureMap)
	}
	if classes <= 0 || classes > MaxClasses {
		return nil, fmt.Errorf("detect: %d classes: want 1 to %d", classes, MaxClasses)
	}
	if len(logits) != len(anchors)*classes {
		return nil, fmt.Errorf("detect: %d logits for %d anchors of %d classes", len(logits), len(anchors), classes)
	}
	scores, err := Softmax(logits, classes)
	if err != nil {
		return nil, err
	}
	boxes, err := Decode(rel, anchors)
	if err != nil {
		return nil, err
	}
	ClipBoxes(boxes, imageH, imageW)
	return Select(scores, classes, boxes, p)
}

// Select is postprocess_detections after the softmax, decoding and clipping:
// scores is [anchors][classes] of probabilities.
func Select(scores []float32, classes int, boxes []Box, p Params) ([]Detection, error) {
	if classes <= 0 || classes > MaxClasses || len(scores) != len(boxes)*classes {
		return nil, fmt.Errorf("detect: %d scores for %d boxes of %d classes", len(scores), len(boxes), classes)
	}
	if len(boxes) > MaxAnchors {
		return nil, fmt.Errorf("detect: %d boxes; the limit is %d", len(boxes), MaxAnchors)
	}
	if p.TopKCandidates < 0 || p.TopKCandidates > MaxTopK || p.DetectionsPerImg < 0 || p.DetectionsPerImg > MaxTopK {
		return nil, fmt.Errorf("detect: topk %d, detections %d: want 0 to %d", p.TopKCandidates, p.DetectionsPerImg, MaxTopK)
	}
	if c := (classes - 1) * min(p.TopKCandidates, len(boxes)); c > MaxCandidates {
		return nil, fmt.Errorf("detect: up to %d NMS candidates (%d classes x topk %d); the limit is %d (MaxCandidates)", c, classes-1, p.TopKCandidates, MaxCandidates)
	}
	thr := float32(p.ScoreThresh)
	var cb []Box
	var cs []float32
	var cl []int
	idx := make([]int, 0, len(boxes))
	vals := make([]float32, 0, len(boxes))
	for label := 1; label < classes; label++ {
		idx, vals = idx[:0], vals[:0]
		for i := range boxes {
			if s := scores[i*classes+label]; s > thr {
				idx = append(idx, i)
				vals = append(vals, s)
			}
		}
		k := min(p.TopKCandidates, len(vals))
		for _, q := range topK(vals, k) {
			cb = append(cb, boxes[idx[q.idx]])
			cs = append(cs, q.v)
			cl = append(cl, label)
		}
	}
	keep, err := BatchedNMS(cb, cs, cl, p.NMSThresh)
	if err != nil {
		return nil, err
	}
	if len(keep) > p.DetectionsPerImg {
		keep = keep[:p.DetectionsPerImg]
	}
	out := make([]Detection, len(keep))
	for i, k := range keep {
		out[i] = Detection{cb[k], cs[k], cl[k]}
	}
	return out, nil
}

// Rescale is GeneralizedRCNNTransform.postprocess's resize_boxes: boxes of
// the fromH x fromW model input scaled to the toH x toW original image, by
// float32 ratios to/from (x by the widths', y by the heights'), in place.
func Rescale(d []Detection, fromH, fromW, toH, toW int) error {
	for _, v := range []int{fromH, fromW, toH, toW} {
		if v <= 0 || v > 1<<24 {
			return fmt.Errorf("detect: rescale %dx%d to %dx%d: sizes must be 1 to %d", fromH, fromW, toH, toW, 1<<24)
		}
	}
	rh := float32(toH) / float32(fromH)
	rw := float32(toW) / float32(fromW)
	for i := range d {
		b := &d[i].Box
		b[0] *= rw
		b[2] *= rw
		b[1] *= rh
		b[3] *= rh
	}
	return nil
}
