package detect

import (
	"fmt"
	"math"
)

// Ignore is the label of pixels left out of segmentation scores (VOC's
// border and void pixels).
const Ignore = 255

// Confusion accumulates a segmentation confusion matrix over images, as
// torchvision's references/segmentation ConfusionMatrix: rows are
// ground-truth classes, columns predictions; ground-truth pixels labelled
// Ignore are skipped, and a predicted label >= the class count (Ignore
// included) counts as a miss of the true class that no class predicted.
type Confusion struct {
	n int
	m []uint64 // n*n, [truth*n + pred], then n counts of misses by a label >= n
}

// NewConfusion returns an empty matrix for labels 0..classes-1 (at most 255).
func NewConfusion(classes int) (*Confusion, error) {
	if classes <= 0 || classes > Ignore {
		return nil, fmt.Errorf("detect: %d segmentation classes: want 1 to %d", classes, Ignore)
	}
	return &Confusion{n: classes, m: make([]uint64, classes*classes)}, nil
}

// Add counts one mask pair of equal size (row-major labels).
func (c *Confusion) Add(pred, truth []uint8) error {
	if len(pred) != len(truth) {
		return fmt.Errorf("detect: predicted mask has %d pixels, ground truth %d", len(pred), len(truth))
	}
	for i, t := range truth {
		if t == Ignore {
			continue
		}
		if int(t) >= c.n {
			return fmt.Errorf("detect: ground-truth pixel %d has label %d of %d classes", i, t, c.n)
		}
		if p := int(pred[i]); p < c.n {
			c.m[int(t)*c.n+p]++
		} else {
			c.miss(int(t)) // a false negative of t only
		}
	}
	return nil
}

// miss counts a ground-truth pixel of class t predicted as no class.
func (c *Confusion) miss(t int) {
	if len(c.m) == c.n*c.n {
		c.m = append(c.m, make([]uint64, c.n)...)
	}
	c.m[c.n*c.n+t]++
}

// IoU returns each class's TP / (TP + FP + FN), NaN for a class neither in
// the ground truth nor predicted, and the mean over the other classes (NaN
// if there is none).
func (c *Confusion) IoU() ([]float64, float64) {
	iou := make([]float64, c.n)
	sum, k := 0.0, 0
	for i := 0; i < c.n; i++ {
		tp := c.m[i*c.n+i]
		var fp, fn uint64
		for j := 0; j < c.n; j++ {
			if j != i {
				fn += c.m[i*c.n+j]
				fp += c.m[j*c.n+i]
			}
		}
		if len(c.m) > c.n*c.n {
			fn += c.m[c.n*c.n+i]
		}
		if d := tp + fp + fn; d > 0 {
			iou[i] = float64(tp) / float64(d)
			sum += iou[i]
			k++
		} else {
			iou[i] = math.NaN()
		}
	}
	if k == 0 {
		return iou, math.NaN()
	}
	return iou, sum / float64(k)
}
