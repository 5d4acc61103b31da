package preprocess

import "fmt"

// Region returns the rectangle of a w x h image that the network input
// shows, in the image's pixel coordinates (pixel edges, so the whole image
// is 0, 0, w, h): input pixel (ix, iy) of the Width x Height input covers
// the image's x0 + ix*(x1-x0)/Width to x0 + (ix+1)*(x1-x0)/Width, and
// likewise in y. It follows Tensor's steps: the central Crop, then either
// the whole (cropped) image stretched to the input (Stretch: the tf
// preset; Interpolate too) or its shorter side resized and the input center cropped from it
// (Shorter: torchvision), where the rectangle is smaller than the image,
// or larger where the crop pads. It maps a model's per-pixel output (a
// segmentation's class map) back onto the image.
func (s Spec) Region(w, h int) (x0, y0, x1, y1 float64, err error) {
	if err := s.validate(); err != nil {
		return 0, 0, 0, 0, err
	}
	if w < 1 || h < 1 {
		return 0, 0, 0, 0, fmt.Errorf("preprocess: empty image %dx%d", w, h)
	}
	cx, cy, cw, ch := 0, 0, w, h
	if s.Crop != 0 && s.Crop != 1 { // as centralCrop
		offset := int(1 / ((1 - s.Crop) / 2))
		cx, cy = w/offset, h/offset
		cw, ch = w-2*cx, h-2*cy
		if cw <= 0 || ch <= 0 {
			return 0, 0, 0, 0, fmt.Errorf("preprocess: the central %v of a %dx%d image is empty", s.Crop, w, h)
		}
	}
	if m := s.resizeMode(); m == Stretch || m == Interpolate { // the whole (cropped) image
		return float64(cx), float64(cy), float64(cx + cw), float64(cy + ch), nil
	}
	nw, nh := shorterSideSize(cw, ch, s.resizeTo())
	top, left, padT, padL := centerCrop(nw, nh, s.Width, s.Height)
	sx, sy := float64(cw)/float64(nw), float64(ch)/float64(nh) // image pixels per resized pixel
	x0 = float64(cx) + float64(float64(left-padL)*sx)          // products rounded: no fused multiply-add
	y0 = float64(cy) + float64(float64(top-padT)*sy)
	return x0, y0, x0 + float64(float64(s.Width)*sx), y0 + float64(float64(s.Height)*sy), nil
}
