package preprocess

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// Region: hand-computed rectangles for each resize mode, a central crop
// and a padding center crop.
func TestRegion(t *testing.T) {
	tf513, _ := Default(TF, 513, 513)
	tv224, _ := Default(Torchvision, 224, 224)
	crop := tf513
	crop.Crop = 0.875 // offset int(1/0.0625) = 16: 100/16 = 6 pixels off each side
	pad := tv224
	pad.ResizeTo = 200 // 400x200 stays 400x200; the 224-high crop pads 12 rows above
	for _, tc := range []struct {
		name string
		spec Spec
		w, h int
		want [4]float64
	}{
		{"tf whole", tf513, 640, 480, [4]float64{0, 0, 640, 480}},
		{"tf central crop", crop, 100, 100, [4]float64{6, 6, 94, 94}},
		// 640x480 -> 341x256, crop 224x224 at left round(58.5) = 58, top 16.
		{"torchvision", tv224, 640, 480, [4]float64{58 * 640.0 / 341, 30, 58*640.0/341 + 224*640.0/341, 450}},
		{"torchvision padded", pad, 400, 200, [4]float64{88, -12, 312, 212}},
	} {
		x0, y0, x1, y1, err := tc.spec.Region(tc.w, tc.h)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := [4]float64{x0, y0, x1, y1}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9 {
				t.Errorf("%s: region %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
	if _, _, _, _, err := tf513.Region(0, 5); err == nil {
		t.Error("an empty image has a region")
	}
}

// Region agrees with Tensor: a vertical edge of the image at x = 320 lands
// in the torchvision input where the region puts it.
func TestRegionMatchesTensor(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 320 {
			img.SetRGBA(x, y, color.RGBA{255, 255, 255, 255})
		}
	}
	spec, _ := Default(Torchvision, 224, 224)
	x0, _, x1, _, err := spec.Region(640, 480)
	if err != nil {
		t.Fatal(err)
	}
	edge := (320 - x0) / (x1 - x0) * 224 // 112.5
	dst := make([]float32, 3*224*224)
	if err := spec.Tensor(img, dst); err != nil {
		t.Fatal(err)
	}
	row := dst[100*224 : 101*224] // red channel, row 100
	for x := range 224 {
		white := row[x] > 0 // the normalized black is about -2.1, white +2.2
		if d := float64(x) + 0.5 - edge; (d < -1 && !white) || (d > 1 && white) {
			t.Fatalf("input column %d is white=%v; the region puts the edge at %.2f", x, white, edge)
		}
	}
}
