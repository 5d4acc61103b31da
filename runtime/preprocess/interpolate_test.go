package preprocess

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/npy"
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
	if want := []float32{-1, 1, -1, -1, 1, -1}; !slices.Equal(dst, want) {
		t.Errorf("equal sizes: %v, want %v", dst, want)
	}
	s.Width = 4 // 2 -> 4: sources 0, 0.25, 0.75, 1 (clamped at 0 and the last pixel)
	dst = make([]float32, 12)
	if err := s.Tensor(img, dst); err != nil {
		t.Fatal(err)
	}
	if want := []float32{-1, -0.5, 0.5, 1}; !slices.Equal(dst[:4], want) {
		t.Errorf("upsampled red %v, want %v", dst[:4], want)
	}
	s.Channels = BGR
	if err := s.Tensor(img, dst); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 0.5, -0.5, -1}; !slices.Equal(dst[:4], want) {
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

// TestInterpolateReference: the detection transform (Detection, the
// interpolate resize) is torchvision's GeneralizedRCNNTransform bit for
// bit, downsampling and upsampling, on the tensors torch 1.13 made
// (testdata/gen_interpolate.py).
func TestInterpolateReference(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.interp_*.npy"))
	if err != nil || len(files) < 4 {
		t.Fatalf("%d reference tensors (%v)", len(files), err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		var h, w int
		i := strings.Index(name, ".interp_")
		if _, err := fmt.Sscanf(name[i:], ".interp_%dx%d.npy", &h, &w); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := npy.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := Detection().AtSize(h, w)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, 3*h*w)
		if err := spec.File(filepath.Join("testdata", name[:i]), got); err != nil {
			t.Fatal(err)
		}
		if len(want.Data) != len(got) {
			t.Fatalf("%s: reference has shape %v", name, want.Shape)
		}
		diff := 0
		for j := range got {
			if got[j] != want.Data[j] {
				diff++
			}
		}
		if diff != 0 {
			t.Errorf("%s: %d of %d values differ from torch's", name, diff, len(got))
		}
	}
}
