package preprocess

import (
	"image"
	"image/color"
	"testing"
)

// TestInterpolate: the detection transform on small images: equal sizes
// copy the normalized pixels, upsampling a 2x1 image interpolates between
// its two values with torch's half-pixel weights, BGR swaps the channels,
// and Region is the whole (cropped) image, as for Stretch.
func TestInterpolate(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.SetRGBA(0, 0, color.RGBA{0, 0, 255, 255})
	img.SetRGBA(1, 0, color.RGBA{255, 0, 0, 255})
	s := Detection()
	s.Height, s.Width = 1, 2
	dst := make([]float32, 6)
	if err := s.Tensor(img, dst); err != nil {
		t.Fatal(err)
	}
	if want := []float32{-1, 1, -1, -1, 1, -1}; !equal(dst, want) {
		t.Errorf("equal sizes: %v, want %v", dst, want)
	}
	s.Width = 4 // 2 -> 4: sources 0, 0.25, 0.75, 1 (clamped at 0 and the last pixel)
	dst = make([]float32, 12)
	if err := s.Tensor(img, dst); err != nil {
		t.Fatal(err)
	}
	if want := []float32{-1, -0.5, 0.5, 1}; !equal(dst[:4], want) {
		t.Errorf("upsampled red %v, want %v", dst[:4], want)
	}
	s.Channels = BGR
	if err := s.Tensor(img, dst); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 0.5, -0.5, -1}; !equal(dst[:4], want) {
		t.Errorf("BGR: channel 0 %v, want %v (blue)", dst[:4], want)
	}
	if x0, y0, x1, y1, err := s.Region(640, 480); err != nil || x0 != 0 || y0 != 0 || x1 != 640 || y1 != 480 {
		t.Errorf("Region %v %v %v %v %v", x0, y0, x1, y1, err)
	}
	bad := s
	bad.ResizeTo = 100
	if err := bad.Check(); err == nil {
		t.Error("interpolate with a shorter-side size passed Check")
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
