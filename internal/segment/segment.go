// Package segment is the segmentation side of `mnc run` and `mnc eval`:
// it turns a semantic segmentation model's output into class maps, maps
// them back onto the photo, summarises, colours and saves them, reads
// ground-truth masks and scores class maps against them (pixel accuracy and
// mIoU, with runtime/detect's confusion matrix).
//
// # Outputs
//
// A model is a segmenter when its output is a class map [N,H,W] (rank 3:
// class indices, i32 or i64, as an ArgMax at the end of DeepLab gives; a
// float map of whole numbers is taken too) or float logits [N,C,H,W] with H
// and W above 1 (the class of a pixel is the first largest of its C
// logits). Classes are 0 to 254: 255 (Unseen, detect.Ignore) marks pixels
// without a class.
//
// # Sizes
//
// The model's class map has the model's input size. For a photo it is
// mapped back onto the photo's own size by nearest neighbour: each pixel of
// the photo takes the class of the input pixel under its centre, through
// the preprocessing's geometry (preprocess.Spec.Region: the tf preset
// stretches the whole photo, so every pixel has a class; torchvision's
// center crop leaves the photo's edges Unseen). Saved images, class shares
// and scores are at the photo's size; a mask of another size is compared
// with the class map mapped onto the mask's grid the same way.
//
// # Masks
//
// A ground-truth mask is a PNG or BMP of class indices, one per pixel: the
// palette index of a paletted image (PASCAL VOC's SegmentationClass PNGs),
// or the grey value of a greyscale one (an RGB image whose pixels are all
// grey is read as grey). 255 is ignore: those pixels are left out of every
// score. A Remap changes values as they are read ("0=12,1=0,2=255" reads
// an Oxford-IIIT Pets trimap as VOC's dog, background and ignore).
package segment

import (
	"fmt"
	"math"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/detect"
)

// Unseen is the class map value of a pixel without a class: outside the
// part of the photo the model saw, or ignored in a mask.
const Unseen = detect.Ignore

// MaxClasses is the most classes a class map holds (0 to MaxClasses-1).
const MaxClasses = Unseen

// Map is a class map: W x H class indices in row-major order.
type Map struct {
	W, H int
	Pix  []uint8
}

// NewMap returns a w x h map of class 0.
func NewMap(w, h int) Map { return Map{W: w, H: h, Pix: make([]uint8, w*h)} }

// At returns the class at (x, y).
func (m Map) At(x, y int) uint8 { return m.Pix[y*m.W+x] }

// IsOutput reports whether a model output of this shape and element type
// is a segmentation's (see the package comment); dt InvalidDType means the
// type is not known before running the model, and the shape decides.
// Negative (unknown) dimensions count as above 1.
func IsOutput(s ir.Shape, dt ir.DType) bool {
	switch len(s) {
	case 3:
		return true
	case 4:
		return (dt == ir.Float32 || dt == ir.InvalidDType) && s[2] != 1 && s[3] != 1 && s[2] != 0 && s[3] != 0
	}
	return false
}

// Classes returns the class count an output shape states: C of logits
// [N,C,H,W], 0 for a class map (its shape does not say).
func Classes(s ir.Shape) int {
	if len(s) == 4 && s[1] > 0 {
		return s[1]
	}
	return 0
}

// Maps returns the class maps of a segmentation output, one per batch item
// at the output's size: an integer class map [N,H,W] as it is (a float one
// must hold whole numbers), logits [N,C,H,W] by their argmax over C, the
// first index winning ties and NaN never winning (as ir.ArgMax). A class
// outside 0 to MaxClasses-1 is an error.
func Maps(out *ir.Tensor) ([]Map, error) {
	s := out.Shape
	if !(len(s) == 3 || len(s) == 4 && out.DType == ir.Float32) || s.NumElements() < 0 || out.Len() != s.NumElements() {
		return nil, fmt.Errorf("model output %v%v is not a segmentation's: want a class map [N,H,W] or float logits [N,C,H,W]", out.DType, s)
	}
	if len(s) == 4 {
		return argmax(out)
	}
	n, h, w := s[0], s[1], s[2]
	maps := make([]Map, n)
	for i := range n {
		m := NewMap(w, h)
		for p := range m.Pix {
			var c int64
			switch out.DType {
			case ir.Int32:
				c = int64(out.I32[i*w*h+p])
			case ir.Int64:
				c = out.I64[i*w*h+p]
			case ir.Float32:
				f := out.F32[i*w*h+p]
				if f != float32(math.Trunc(float64(f))) {
					return nil, fmt.Errorf("model output %v%v holds %v at item %d, pixel (%d,%d): a class map holds class indices", out.DType, s, f, i, p%w, p/w)
				}
				c = int64(max(min(f, 1<<20), -1))
			default:
				return nil, fmt.Errorf("model output %v%v: class maps of %v are not read", out.DType, s, out.DType)
			}
			if c < 0 || c >= MaxClasses {
				return nil, fmt.Errorf("model output %v%v has class %d at item %d, pixel (%d,%d): classes 0 to %d are supported", out.DType, s, c, i, p%w, p/w, MaxClasses-1)
			}
			m.Pix[p] = uint8(c)
		}
		maps[i] = m
	}
	return maps, nil
}

// argmax is Maps of float logits [N,C,H,W].
func argmax(out *ir.Tensor) ([]Map, error) {
	n, c, h, w := out.Shape[0], out.Shape[1], out.Shape[2], out.Shape[3]
	if c < 1 || c > MaxClasses {
		return nil, fmt.Errorf("model output %v%v has %d classes: 1 to %d are supported", out.DType, out.Shape, c, MaxClasses)
	}
	plane := h * w
	maps := make([]Map, n)
	for i := range n {
		m := NewMap(w, h)
		x := out.F32[i*c*plane : (i+1)*c*plane]
		best := make([]float32, plane)
		seen := make([]bool, plane) // a number was met: NaN is skipped
		for k := range c {
			for p, v := range x[k*plane : (k+1)*plane] {
				if v == v && (!seen[p] || v > best[p]) {
					best[p], seen[p], m.Pix[p] = v, true, uint8(k)
				}
			}
		}
		maps[i] = m
	}
	return maps, nil
}

// Region is the rectangle of a photo that the model's input showed, in
// the photo's pixel coordinates (pixel edges: the whole W x H photo is
// 0, 0, W, H), as preprocess.Spec.Region gives it.
type Region struct{ X0, Y0, X1, Y1 float64 }

// Whole is the region of a whole w x h photo.
func Whole(w, h int) Region { return Region{0, 0, float64(w), float64(h)} }

// Project returns m, the class map of a model's input that showed region r
// of an imgW x imgH photo, on a w x h grid over the photo (the photo's size,
// or a mask's): each pixel takes the class of the input pixel under its
// centre (nearest neighbour); pixels outside the region are Unseen. For the
// whole photo, pixel x takes input pixel (2x+1)*m.W / (2w) exactly.
func (m Map) Project(r Region, imgW, imgH, w, h int) Map {
	out := NewMap(w, h)
	whole := r == Whole(imgW, imgH)
	xs, ys := make([]int, w), make([]int, h)
	for x := range w {
		if whole {
			xs[x] = (2*x + 1) * m.W / (2 * w)
		} else {
			px := (float64(x) + 0.5) * float64(imgW) / float64(w)
			xs[x] = cell((px-r.X0)*float64(m.W)/(r.X1-r.X0), m.W)
		}
	}
	for y := range h {
		if whole {
			ys[y] = (2*y + 1) * m.H / (2 * h)
		} else {
			py := (float64(y) + 0.5) * float64(imgH) / float64(h)
			ys[y] = cell((py-r.Y0)*float64(m.H)/(r.Y1-r.Y0), m.H)
		}
	}
	for y, sy := range ys {
		for x, sx := range xs {
			c := uint8(Unseen)
			if sy >= 0 && sx >= 0 {
				c = m.Pix[sy*m.W+sx]
			}
			out.Pix[y*w+x] = c
		}
	}
	return out
}

// cell is the index of the cell of [0, n) under coordinate v, or -1.
func cell(v float64, n int) int {
	if !(v >= 0) || v >= float64(n) {
		return -1
	}
	return int(v)
}
