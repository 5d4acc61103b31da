package detect

import (
	"fmt"
	"math"
	"sort"
)

// Image is one image's ground truth and detections, as box files hold them.
type Image struct {
	Truth      []Labeled
	Detections []Labeled
}

// IoU is the intersection over union of two xyxy boxes in continuous
// coordinates (no +1 pixel convention); 0 when the union is empty.
func IoU(a, b [4]float64) float64 {
	w := math.Min(a[2], b[2]) - math.Max(a[0], b[0])
	h := math.Min(a[3], b[3]) - math.Max(a[1], b[1])
	if !(w > 0 && h > 0) {
		return 0
	}
	inter := w * h
	union := (a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - inter
	if !(union > 0) {
		return 0
	}
	return inter / union
}

// ClassAP is one class's result.
type ClassAP struct {
	Class      string  `json:"class"`
	AP         float64 `json:"ap50"`
	Truth      int     `json:"truth_boxes"` // ground-truth boxes
	Detections int     `json:"detections"`
	TruePos    int     `json:"true_positives"`
}

// APAt50 is PASCAL VOC's average precision at IoU 0.5 per class (the
// VOC2010+ devkit's voc_eval, without "difficult" flags): a class's
// detections over all images by decreasing score (equal scores in image
// order, then file order), each matched to the ground-truth box of its class
// and image with the largest IoU; it is a true positive if that IoU is > 0.5
// (strictly, as the devkit) and the box was not matched before, else a false
// positive. AP is the area under the precision/recall curve with all-points
// interpolation: precision made non-increasing from the right, summed over
// every recall step. Classes without ground truth are not reported (their
// recall is undefined); a class with ground truth and no detection has AP 0.
// The result is sorted by class; mAP is the mean of its APs.
func APAt50(images []Image) ([]ClassAP, float64, error) {
	type det struct {
		img, ord int
		score    float64
		box      [4]float64
	}
	dets := map[string][]det{}
	truth := map[string]int{}
	for i, im := range images {
		for _, t := range im.Truth {
			truth[t.Class]++
		}
		for j, d := range im.Detections {
			if math.IsNaN(d.Score) {
				return nil, 0, fmt.Errorf("detect: image %d detection %d: NaN score", i, j)
			}
			dets[d.Class] = append(dets[d.Class], det{i, j, d.Score, d.Box})
		}
	}
	var classes []string
	for c := range truth {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	var out []ClassAP
	sum := 0.0
	for _, c := range classes {
		ds := dets[c]
		sort.SliceStable(ds, func(a, b int) bool { return ds[a].score > ds[b].score })
		used := make([]map[int]bool, len(images))
		tp := make([]float64, len(ds))
		ntp := 0
		for k, d := range ds {
			best, bi := -1.0, -1
			for g, t := range images[d.img].Truth {
				if t.Class != c {
					continue
				}
				if o := IoU(d.box, t.Box); o > best {
					best, bi = o, g
				}
			}
			if best > 0.5 {
				if used[d.img] == nil {
					used[d.img] = map[int]bool{}
				}
				if !used[d.img][bi] {
					used[d.img][bi] = true
					tp[k] = 1
					ntp++
				}
			}
		}
		ap := allPointsAP(tp, truth[c])
		out = append(out, ClassAP{Class: c, AP: ap, Truth: truth[c], Detections: len(ds), TruePos: ntp})
		sum += ap
	}
	if len(out) == 0 {
		return nil, 0, fmt.Errorf("detect: no ground-truth boxes in %d images", len(images))
	}
	return out, sum / float64(len(out)), nil
}

// allPointsAP is the devkit's voc_ap(use_07_metric=False) for the
// true-positive flags of detections in score order and npos ground truths.
func allPointsAP(tp []float64, npos int) float64 {
	n := len(tp)
	rec := make([]float64, n+2)
	prec := make([]float64, n+2)
	ctp := 0.0
	for i, t := range tp {
		ctp += t
		rec[i+1] = ctp / float64(npos)
		prec[i+1] = ctp / float64(i+1)
	}
	rec[n+1] = 1
	for i := n; i >= 0; i-- {
		prec[i] = math.Max(prec[i], prec[i+1])
	}
	ap := 0.0
	for i := 1; i <= n+1; i++ {
		if rec[i] != rec[i-1] {
			ap += (rec[i] - rec[i-1]) * prec[i]
		}
	}
	return ap
}
