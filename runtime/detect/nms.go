package detect

import (
	"fmt"
	"sort"
)

// NMS is torchvision's CPU nms kernel: boxes in order of decreasing score
// (a stable sort: equal scores keep their input order), each kept box
// suppressing the later ones whose IoU with it is > iouThresh. The IoU is
// float32 (inter / (area_i + area_j - inter)) compared in float64, as the
// kernel compares it with its double threshold. It returns the kept indices
// in that order. NaN coordinates give a NaN IoU, which suppresses nothing.
func NMS(boxes []Box, scores []float32, iouThresh float64) ([]int, error) {
	if len(boxes) != len(scores) {
		return nil, fmt.Errorf("detect: nms: %d boxes, %d scores", len(boxes), len(scores))
	}
	if len(boxes) > MaxCandidates {
		return nil, fmt.Errorf("detect: nms: %d boxes; the limit is %d", len(boxes), MaxCandidates)
	}
	return nms(boxes, scores, iouThresh), nil
}

func nms(boxes []Box, scores []float32, thr float64) []int {
	n := len(boxes)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return descLess(pair{v: scores[order[a]]}, pair{v: scores[order[b]]}) })
	areas := make([]float32, n)
	for i, b := range boxes {
		areas[i] = float32(b[2]-b[0]) * float32(b[3]-b[1])
	}
	suppressed := make([]bool, n)
	var keep []int
	for ii, i := range order {
		if suppressed[i] {
			continue
		}
		keep = append(keep, i)
		bi := boxes[i]
		for _, j := range order[ii+1:] {
			if suppressed[j] {
				continue
			}
			bj := boxes[j]
			xx1 := stdMax(bi[0], bj[0])
			yy1 := stdMax(bi[1], bj[1])
			xx2 := stdMin(bi[2], bj[2])
			yy2 := stdMin(bi[3], bj[3])
			w := stdMax(0, xx2-xx1)
			h := stdMax(0, yy2-yy1)
			inter := w * h
			ovr := inter / float32(float32(areas[i]+areas[j])-inter)
			if float64(ovr) > thr {
				suppressed[j] = true
			}
		}
	}
	return keep
}

// stdMax and stdMin are std::max and std::min (NaN handling included).
func stdMax(a, b float32) float32 {
	if a < b {
		return b
	}
	return a
}

func stdMin(a, b float32) float32 {
	if b < a {
		return b
	}
	return a
}

// BatchedNMS is torchvision's batched_nms: NMS within each label. Like
// torchvision on CPU it takes one of two routes, whose float results differ:
// up to 1000 boxes the "coordinate trick" (every box shifted by
// label * (max coordinate + 1), one NMS over all, so IoUs are computed on the
// shifted float32 coordinates; one NaN coordinate among the boxes makes every
// shift NaN, and then nothing is suppressed, as in torchvision), above 1000 one NMS per label, the kept indices
// then sorted by decreasing score with std::sort (libstdc++'s, so equal scores
// of different labels come out in torch's order).
func BatchedNMS(boxes []Box, scores []float32, labels []int, iouThresh float64) ([]int, error) {
	if len(boxes) != len(scores) || len(boxes) != len(labels) {
		return nil, fmt.Errorf("detect: batched nms: %d boxes, %d scores, %d labels", len(boxes), len(scores), len(labels))
	}
	if len(boxes) > MaxCandidates {
		return nil, fmt.Errorf("detect: batched nms: %d boxes; the limit is %d", len(boxes), MaxCandidates)
	}
	for i, l := range labels {
		if l < 0 || l >= MaxClasses {
			return nil, fmt.Errorf("detect: batched nms: box %d has label %d; want 0 to %d", i, l, MaxClasses-1)
		}
	}
	if len(boxes) == 0 {
		return nil, nil
	}
	if 4*len(boxes) <= 4000 {
		maxc := boxes[0][0]
		nan := false
		for _, b := range boxes {
			for _, v := range b {
				if v != v {
					nan = true
				} else if v > maxc {
					maxc = v
				}
			}
		}
		if nan || maxc != maxc {
			maxc = float32(nanf())
		}
		shifted := make([]Box, len(boxes))
		for i, b := range boxes {
			off := float32(labels[i]) * float32(maxc+1)
			shifted[i] = Box{b[0] + off, b[1] + off, b[2] + off, b[3] + off}
		}
		return nms(shifted, scores, iouThresh), nil
	}
	byLabel := map[int][]int{}
	for i, l := range labels {
		byLabel[l] = append(byLabel[l], i)
	}
	keepMask := make([]bool, len(boxes))
	for _, idx := range byLabel {
		b := make([]Box, len(idx))
		s := make([]float32, len(idx))
		for k, i := range idx {
			b[k], s[k] = boxes[i], scores[i]
		}
		for _, k := range nms(b, s, iouThresh) {
			keepMask[idx[k]] = true
		}
	}
	var kept []int
	for i, k := range keepMask {
		if k {
			kept = append(kept, i)
		}
	}
	q := make([]pair, len(kept))
	for k, i := range kept {
		q[k] = pair{scores[i], int64(k)}
	}
	stdSort(q, 0, len(q))
	out := make([]int, len(q))
	for k, p := range q {
		out[k] = kept[p.idx]
	}
	return out, nil
}
