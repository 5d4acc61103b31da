package segment

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/runtime/detect"
)

// Score accumulates, over images, the confusion matrix of predicted class
// maps against ground truth (runtime/detect.Confusion) and their pixel
// accuracy; ground-truth pixels that are Unseen (255) are left out of both,
// and a predicted Unseen pixel is wrong.
type Score struct {
	classes        int
	c              *detect.Confusion
	right, counted uint64
	truth, pred    [256]uint64 // counted pixels per class, in the masks and predicted
}

// NewScore returns an empty score over classes 0 to classes-1 (at most
// MaxClasses).
func NewScore(classes int) (*Score, error) {
	c, err := detect.NewConfusion(classes)
	if err != nil {
		return nil, err
	}
	return &Score{classes: classes, c: c}, nil
}

// Add counts pred against truth, two maps of the same size.
func (s *Score) Add(pred, truth Map) error {
	if pred.W != truth.W || pred.H != truth.H {
		return fmt.Errorf("segment: a %dx%d prediction against a %dx%d mask", pred.W, pred.H, truth.W, truth.H)
	}
	for i, t := range truth.Pix {
		if t != Unseen && int(t) >= s.classes {
			return fmt.Errorf("class %d at pixel (%d,%d), but there are %d classes (0 to %d; 255 is ignore)", t, i%truth.W, i/truth.W, s.classes, s.classes-1)
		}
	}
	if err := s.c.Add(pred.Pix, truth.Pix); err != nil {
		return err
	}
	for i, t := range truth.Pix {
		if t != Unseen {
			s.counted++
			s.truth[t]++
			s.pred[pred.Pix[i]]++
			if pred.Pix[i] == t {
				s.right++
			}
		}
	}
	return nil
}

// Counts returns the counted pixels of class c in the ground truth and in
// the prediction.
func (s *Score) Counts(c int) (truth, pred uint64) {
	if c < 0 || c > 255 {
		return 0, 0
	}
	return s.truth[c], s.pred[c]
}

// Pixels is the number of pixels counted (not ignored).
func (s *Score) Pixels() uint64 { return s.counted }

// PixelAccuracy is the fraction of counted pixels predicted right (NaN if
// none was counted).
func (s *Score) PixelAccuracy() float64 {
	if s.counted == 0 {
		return math.NaN()
	}
	return float64(s.right) / float64(s.counted)
}

// IoU returns each class's intersection over union, NaN for a class
// neither in the ground truth nor predicted, and their mean over the other
// classes (mIoU; NaN if none).
func (s *Score) IoU() ([]float64, float64) { return s.c.IoU() }
