package detect

import (
	"fmt"
	"math"
)

// Limits on what the functions of this package accept; a larger input is an
// error before anything is allocated. They are far above SSDLite320's 3234
// anchors, 91 classes and 300 candidates per class.
const (
	MaxAnchors    = 1 << 20 // default boxes per image
	MaxClasses    = 1 << 12 // classes, background included
	MaxTopK       = 1 << 12 // TopKCandidates and DetectionsPerImg
	MaxFeatureMap = 1 << 12 // height or width of one feature map, and of the image
	MaxCandidates = 1 << 20 // boxes entering NMS: (classes-1) * TopKCandidates at most
)

// Box is [x0, y0, x1, y1] in pixels, as torchvision's xyxy boxes.
type Box [4]float32

// AnchorConfig is torchvision's DefaultBoxGenerator with steps=None (the only
// configuration SSDLite uses): scales from MinRatio to MaxRatio, then 1.
type AnchorConfig struct {
	AspectRatios [][]int // per feature map
	MinRatio     float64
	MaxRatio     float64
	Clip         bool // clamp the (w, h) pairs to [0, 1]
}

// SSDLite320 is ssdlite320_mobilenet_v3_large's anchor generator:
// DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95).
func SSDLite320() AnchorConfig {
	ar := make([][]int, 6)
	for i := range ar {
		ar[i] = []int{2, 3}
	}
	return AnchorConfig{AspectRatios: ar, MinRatio: 0.2, MaxRatio: 0.95, Clip: true}
}

// whPairs is _generate_wh_pairs: float64 arithmetic (Python floats), then
// rounded to float32 as torch.as_tensor does.
func (c AnchorConfig) whPairs() ([][][2]float32, error) {
	n := len(c.AspectRatios)
	if n == 0 || n > 64 {
		return nil, fmt.Errorf("detect: %d feature maps in the anchor config; want 1 to 64", n)
	}
	if !(c.MinRatio >= 0 && c.MaxRatio >= 0 && c.MinRatio < math.Inf(1) && c.MaxRatio < math.Inf(1)) {
		return nil, fmt.Errorf("detect: anchor ratios %v, %v: want finite and not negative", c.MinRatio, c.MaxRatio)
	}
	var scales []float64
	if n > 1 {
		r := c.MaxRatio - c.MinRatio
		for k := 0; k < n; k++ {
			scales = append(scales, c.MinRatio+r*float64(k)/(float64(n)-1.0))
		}
		scales = append(scales, 1.0)
	} else {
		scales = []float64{c.MinRatio, c.MaxRatio}
	}
	out := make([][][2]float32, n)
	for k := 0; k < n; k++ {
		if len(c.AspectRatios[k]) > 16 {
			return nil, fmt.Errorf("detect: feature map %d has %d aspect ratios; the limit is 16", k, len(c.AspectRatios[k]))
		}
		sk := scales[k]
		sp := math.Sqrt(scales[k] * scales[k+1])
		p := [][2]float32{{float32(sk), float32(sk)}, {float32(sp), float32(sp)}}
		for _, ar := range c.AspectRatios[k] {
			if ar <= 0 {
				return nil, fmt.Errorf("detect: feature map %d: aspect ratio %d; want > 0", k, ar)
			}
			sq := math.Sqrt(float64(ar))
			w, h := float32(scales[k]*sq), float32(scales[k]/sq)
			p = append(p, [2]float32{w, h}, [2]float32{h, w})
		}
		if c.Clip {
			for i := range p {
				p[i][0] = clamp01(p[i][0])
				p[i][1] = clamp01(p[i][1])
			}
		}
		out[k] = p
	}
	return out, nil
}

func clamp01(x float32) float32 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// Anchors returns the default boxes of DefaultBoxGenerator.forward for an
// image of imageH x imageW pixels (the transformed, 320x320 input for SSDLite)
// and feature maps of the given [height, width]: per map, per location (rows,
// then columns), per (w, h) pair, in xyxy pixels. The arithmetic is
// torchvision's in float32: cx = (i + 0.5) / f, x0 = (cx - 0.5*w) * W.
func Anchors(c AnchorConfig, featureMaps [][2]int, imageH, imageW int) ([]Box, error) {
	wh, err := c.whPairs()
	if err != nil {
		return nil, err
	}
	if len(featureMaps) != len(wh) {
		return nil, fmt.Errorf("detect: %d feature maps for an anchor config of %d", len(featureMaps), len(wh))
	}
	if imageH <= 0 || imageW <= 0 || imageH > MaxFeatureMap || imageW > MaxFeatureMap {
		return nil, fmt.Errorf("detect: image %dx%d: want 1 to %d pixels a side", imageH, imageW, MaxFeatureMap)
	}
	total := 0
	for k, f := range featureMaps {
		if f[0] <= 0 || f[1] <= 0 || f[0] > MaxFeatureMap || f[1] > MaxFeatureMap {
			return nil, fmt.Errorf("detect: feature map %d is %dx%d: want 1 to %d a side", k, f[0], f[1], MaxFeatureMap)
		}
		total += f[0] * f[1] * len(wh[k])
		if total > MaxAnchors {
			return nil, fmt.Errorf("detect: more than %d anchors (MaxAnchors)", MaxAnchors)
		}
	}
	W, H := float32(imageW), float32(imageH)
	out := make([]Box, 0, total)
	for k, f := range featureMaps {
		fy, fx := float32(f[0]), float32(f[1])
		for i := 0; i < f[0]; i++ {
			cy := (float32(i) + 0.5) / fy
			for j := 0; j < f[1]; j++ {
				cx := (float32(j) + 0.5) / fx
				for _, p := range wh[k] {
					hw, hh := float32(0.5*p[0]), float32(0.5*p[1])
					out = append(out, Box{
						float32(cx-hw) * W, float32(cy-hh) * H,
						float32(cx+hw) * W, float32(cy+hh) * H,
					})
				}
			}
		}
	}
	return out, nil
}

// BoxXformClip is torchvision's bbox_xform_clip, log(1000/16), as float32
// (torch.clamp converts its bound to the tensor's type).
var BoxXformClip = float32(math.Log(1000.0 / 16))

// Decode is BoxCoder((10, 10, 5, 5)).decode_single: rel[i] = (dx, dy, dw, dh)
// against anchors[i]. Every step is torchvision's float32 operation, in its
// order; exp is torch's (expf). NaN and Inf pass through as IEEE arithmetic
// has them (and come out NaN or Inf, never a panic).
func Decode(rel, anchors []Box) ([]Box, error) {
	if len(rel) != len(anchors) {
		return nil, fmt.Errorf("detect: %d box regressions for %d anchors", len(rel), len(anchors))
	}
	if len(rel) > MaxAnchors {
		return nil, fmt.Errorf("detect: %d anchors; the limit is %d", len(rel), MaxAnchors)
	}
	out := make([]Box, len(rel))
	for i, a := range anchors {
		r := rel[i]
		w := a[2] - a[0]
		h := a[3] - a[1]
		cx := a[0] + float32(0.5*w)
		cy := a[1] + float32(0.5*h)
		dx := r[0] / 10
		dy := r[1] / 10
		dw := clampMax(r[2]/5, BoxXformClip)
		dh := clampMax(r[3]/5, BoxXformClip)
		pcx := float32(dx*w) + cx
		pcy := float32(dy*h) + cy
		pw := float32(expf(dw) * w)
		ph := float32(expf(dh) * h)
		hh := float32(0.5 * ph)
		hw := float32(0.5 * pw)
		out[i] = Box{pcx - hw, pcy - hh, pcx + hw, pcy + hh}
	}
	return out, nil
}

// clampMax is torch.clamp(x, max=m): NaN stays NaN.
func clampMax(x, m float32) float32 {
	if x > m {
		return m
	}
	return x
}

// ClipBoxes is clip_boxes_to_image: x into [0, width], y into [0, height];
// NaN stays NaN (torch.clamp propagates it), -0 stays -0.
func ClipBoxes(b []Box, height, width int) {
	W, H := float32(width), float32(height)
	for i := range b {
		for c := 0; c < 4; c++ {
			m := W
			if c&1 == 1 {
				m = H
			}
			x := b[i][c]
			if x < 0 {
				x = 0
			} else if x > m {
				x = m
			}
			b[i][c] = x
		}
	}
}

// Softmax is F.softmax(logits, dim=-1) on CPU for rows of `classes` values,
// as PyTorch's AVX2 kernel computes it: the row's max, e = exp(x - max) with
// torch's exp, a sum over 8 lanes (lane l adds elements l, l+8, ...), the
// lanes added pairwise ((0+4)+(2+6))+((1+5)+(3+7)), then e * (1/sum). A row
// of fewer than 8 values is summed in order.
func Softmax(logits []float32, classes int) ([]float32, error) {
	if classes <= 0 || classes > MaxClasses {
		return nil, fmt.Errorf("detect: %d classes: want 1 to %d", classes, MaxClasses)
	}
	if len(logits)%classes != 0 {
		return nil, fmt.Errorf("detect: %d logits is not a multiple of %d classes", len(logits), classes)
	}
	if len(logits)/classes > MaxAnchors {
		return nil, fmt.Errorf("detect: %d rows of logits; the limit is %d", len(logits)/classes, MaxAnchors)
	}
	out := make([]float32, len(logits))
	for r := 0; r < len(logits); r += classes {
		softmaxRow(out[r:r+classes], logits[r:r+classes])
	}
	return out, nil
}

func softmaxRow(out, x []float32) {
	m := x[0]
	for _, v := range x[1:] {
		if v != v || m != m {
			m = float32(math.NaN())
		} else if v > m {
			m = v
		}
	}
	for i, v := range x {
		out[i] = expf(v - m)
	}
	var acc [8]float32
	n := len(out)
	var sum float32
	if n < 8 {
		// Fewer than 8 values: vec_reduce_all adds the lanes in order.
		sum = out[0]
		for _, v := range out[1:] {
			sum += v
		}
	} else {
		copy(acc[:], out[:8])
		d := 8
		for ; d < n-n%8; d += 8 {
			for l := 0; l < 8; l++ {
				acc[l] += out[d+l]
			}
		}
		for l := 0; d+l < n; l++ {
			acc[l] += out[d+l]
		}
		sum = laneSum(acc)
	}
	inv := 1 / sum
	for i := range out {
		out[i] *= inv
	}
}

// laneSum is vec_reduce_all's shuffles for 8 float lanes.
func laneSum(a [8]float32) float32 {
	var b [8]float32
	for l := 0; l < 8; l++ {
		b[l] = a[l] + a[l^4]
	}
	for l := 0; l < 8; l++ {
		a[l] = b[l] + b[l^2]
	}
	return a[0] + a[1]
}
