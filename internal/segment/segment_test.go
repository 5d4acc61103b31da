package segment

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// The palette is VOC's colormap: the values of classes 0 to 3, 15 (person)
// and 255 (void) as VOC's SegmentationClass PNGs have them.
func TestPalette(t *testing.T) {
	for c, want := range map[uint8]color.RGBA{
		0: {0, 0, 0, 255}, 1: {128, 0, 0, 255}, 2: {0, 128, 0, 255}, 3: {128, 128, 0, 255},
		12: {64, 0, 128, 255}, 15: {192, 128, 128, 255}, 20: {0, 64, 128, 255}, 255: {224, 224, 192, 255},
	} {
		if got := Color(c); got != want {
			t.Errorf("class %d: %v, want %v", c, got, want)
		}
	}
	p := Palette()
	if len(p) != 256 || p[15] != Color(15) {
		t.Errorf("palette of %d colours, [15] %v", len(p), p[15])
	}
}

func TestIsOutput(t *testing.T) {
	for _, tc := range []struct {
		s    ir.Shape
		dt   ir.DType
		want bool
	}{
		{ir.Shape{1, 513, 513}, ir.Int64, true},
		{ir.Shape{1, 513, 513}, ir.InvalidDType, true},
		{ir.Shape{1, 21, 65, 65}, ir.Float32, true},
		{ir.Shape{-1, 21, 65, 65}, ir.InvalidDType, true},
		{ir.Shape{1, 1000}, ir.Float32, false},
		{ir.Shape{1, 1000, 1, 1}, ir.Float32, false}, // a classifier without its flatten
		{ir.Shape{1, 21, 65, 65}, ir.Int64, false},
	} {
		if got := IsOutput(tc.s, tc.dt); got != tc.want {
			t.Errorf("IsOutput(%v, %v) = %v", tc.s, tc.dt, got)
		}
	}
}

// Class maps of every integer type read as they are; logits [N,C,H,W] by
// their argmax, the first index winning ties and NaN never winning.
func TestMaps(t *testing.T) {
	want := []uint8{0, 3, 20, 1, 0, 2}
	i64 := &ir.Tensor{DType: ir.Int64, Shape: ir.Shape{2, 1, 3}, I64: []int64{0, 3, 20, 1, 0, 2}}
	i32 := &ir.Tensor{DType: ir.Int32, Shape: ir.Shape{2, 1, 3}, I32: []int32{0, 3, 20, 1, 0, 2}}
	f32 := ir.NewFloat32(ir.Shape{2, 1, 3}, []float32{0, 3, 20, 1, 0, 2})
	for _, in := range []*ir.Tensor{i64, i32, f32} {
		maps, err := Maps(in)
		if err != nil {
			t.Fatalf("%v: %v", in.DType, err)
		}
		if len(maps) != 2 || maps[0].W != 3 || maps[0].H != 1 || !slices.Equal(append(maps[0].Pix, maps[1].Pix...), want) {
			t.Errorf("%v: %+v", in.DType, maps)
		}
	}
	nan := float32(math.NaN())
	// [1,3,1,5]: pixel 0 class 1; 1 a tie of 0 and 2 -> 0; 2 NaN first -> 2;
	// 3 all NaN -> 0; 4 -Inf and NaN -> 0 (the first number).
	logits := ir.NewFloat32(ir.Shape{1, 3, 1, 5}, []float32{
		0, 5, nan, nan, float32(math.Inf(-1)),
		1, 4, 1, nan, nan,
		0, 5, 2, nan, nan,
	})
	maps, err := Maps(logits)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(maps[0].Pix, []uint8{1, 0, 2, 0, 0}) {
		t.Errorf("argmax %v, want [1 0 2 0 0]", maps[0].Pix)
	}
	for _, bad := range []*ir.Tensor{
		{DType: ir.Int64, Shape: ir.Shape{1, 1, 2}, I64: []int64{0, 255}},
		{DType: ir.Int32, Shape: ir.Shape{1, 1, 2}, I32: []int32{-1, 0}},
		ir.NewFloat32(ir.Shape{1, 1, 2}, []float32{0.5, 1}),
		ir.NewFloat32(ir.Shape{1, 10}, nil),
		{DType: ir.Int64, Shape: ir.Shape{1, 2, 2}, I64: []int64{0}}, // short data
	} {
		if _, err := Maps(bad); err == nil {
			t.Errorf("%v%v %v: no error", bad.DType, bad.Shape, bad.Len())
		}
	}
}

// Project: the whole photo by the pixel-centre rule, a 2x larger photo, a
// region smaller than the photo (the edges unseen).
func TestProject(t *testing.T) {
	m := Map{W: 2, H: 2, Pix: []uint8{1, 2, 3, 4}}
	up := m.Project(Whole(4, 3), 4, 3, 4, 3) // rows: centres 0.5, 1.5, 2.5 of 3 -> input rows 0, 1, 1
	if !slices.Equal(up.Pix, []uint8{1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}) {
		t.Errorf("2x2 -> 4x3: %v", up.Pix)
	}
	down := Map{W: 5, H: 1, Pix: []uint8{0, 1, 2, 3, 4}}.Project(Whole(2, 1), 2, 1, 2, 1)
	if !slices.Equal(down.Pix, []uint8{1, 3}) { // centres 1.25 and 3.75
		t.Errorf("5 -> 2: %v", down.Pix)
	}
	// The input showed x in [1, 3) of a 4-wide photo.
	crop := m.Project(Region{1, 0, 3, 2}, 4, 2, 4, 2)
	if !slices.Equal(crop.Pix, []uint8{Unseen, 1, 2, Unseen, Unseen, 3, 4, Unseen}) {
		t.Errorf("cropped: %v", crop.Pix)
	}
	// The same onto an 8x4 mask grid over that photo.
	grid := m.Project(Region{1, 0, 3, 2}, 4, 2, 8, 4)
	if got := grid.Pix[:8]; !slices.Equal(got, []uint8{Unseen, Unseen, 1, 1, 2, 2, Unseen, Unseen}) {
		t.Errorf("on a finer grid: %v", got)
	}
}

func TestShares(t *testing.T) {
	m := Map{W: 3, H: 2, Pix: []uint8{3, 0, 3, 7, 0, Unseen}}
	s, unseen := Shares(m, []string{"background", "a", "b", "bird"})
	want := []Share{{0, "background", 2, 0.4}, {3, "bird", 2, 0.4}, {7, "", 1, 0.2}}
	if !slices.Equal(s, want) || unseen != 1 {
		t.Errorf("shares %v unseen %d, want %v and 1", s, unseen, want)
	}
}

func TestParseRemap(t *testing.T) {
	r, err := ParseRemap("0=12, 1=0,2=255")
	if err != nil {
		t.Fatal(err)
	}
	if r[0] != 12 || r[1] != 0 || r[2] != 255 || r[3] != 3 || r[255] != 255 {
		t.Errorf("remap %v", r[:4])
	}
	for _, bad := range []string{"0", "0=256", "a=1", "1=2,1=3", "-1=0"} {
		if _, err := ParseRemap(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// A class map saved as a paletted PNG reads back as the same classes; a
// greyscale mask and a grey RGB one read as their grey values, through a
// remap; a coloured image is refused.
func TestMaskFiles(t *testing.T) {
	dir := t.TempDir()
	m := Map{W: 3, H: 2, Pix: []uint8{0, 3, 15, 255, 1, 2}}
	b, err := EncodePNG(Image(m))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "pal.png")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMask(p, nil)
	if err != nil || !slices.Equal(got.Pix, m.Pix) || got.W != 3 {
		t.Fatalf("paletted round trip: %v %v", got, err)
	}
	img, _ := png.Decode(strings.NewReader(string(b)))
	if pi, ok := img.(*image.Paletted); !ok || pi.Palette[15] != Color(15) {
		t.Errorf("saved as %T, not paletted with the VOC colours", img)
	}
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix = []uint8{0, 2}
	rgb := image.NewRGBA(image.Rect(0, 0, 2, 1))
	rgb.SetRGBA(0, 0, color.RGBA{1, 1, 1, 255})
	rgb.SetRGBA(1, 0, color.RGBA{2, 2, 2, 255})
	colour := image.NewRGBA(image.Rect(0, 0, 1, 1))
	colour.SetRGBA(0, 0, color.RGBA{128, 0, 0, 255})
	pets, _ := ParseRemap("0=12,1=0,2=255")
	for name, c := range map[string]struct {
		img  image.Image
		want []uint8
	}{"gray.png": {gray, []uint8{12, 255}}, "rgb.png": {rgb, []uint8{0, 255}}, "colour.png": {colour, nil}} {
		f, _ := os.Create(filepath.Join(dir, name))
		if err := png.Encode(f, c.img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		got, err := ReadMask(filepath.Join(dir, name), pets)
		switch {
		case c.want == nil && (err == nil || !strings.Contains(err.Error(), "colour image")):
			t.Errorf("%s: %v, want a colour image error", name, err)
		case c.want != nil && (err != nil || !slices.Equal(got.Pix, c.want)):
			t.Errorf("%s: %v %v, want %v", name, got.Pix, err, c.want)
		}
	}
}

// Overlay blends at 50%, unseen pixels keep the photo.
func TestOverlay(t *testing.T) {
	photo := image.NewRGBA(image.Rect(0, 0, 2, 1))
	photo.SetRGBA(0, 0, color.RGBA{100, 200, 50, 255})
	photo.SetRGBA(1, 0, color.RGBA{100, 200, 50, 255})
	o, err := Overlay(Map{W: 2, H: 1, Pix: []uint8{15, Unseen}}, photo)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.NRGBAAt(0, 0); got != (color.NRGBA{146, 164, 89, 255}) { // (100+192+1)/2 ...
		t.Errorf("blended %v", got)
	}
	if got := o.NRGBAAt(1, 0); got != (color.NRGBA{100, 200, 50, 255}) {
		t.Errorf("unseen %v", got)
	}
	if _, err := Overlay(Map{W: 1, H: 1, Pix: []uint8{0}}, photo); err == nil {
		t.Error("sizes differ: no error")
	}
}

// The mask names cover ../shared/images/seg's: NAME_mask.EXT, and _mask
// before a trailing _NUMBER; masks among the photos are not photos.
func TestPairs(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"bird_segmentation.bmp", "bird_segmentation_mask.bmp", "dog_segmentation.bmp",
		"dog_segmentation_256.bmp", "dog_segmentation_mask.bmp", "dog_segmentation_mask_256.bmp", "README.md"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cat.jpg"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pairs, unmasked, err := Pairs(dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(unmasked) != 1 || filepath.Base(unmasked[0]) != "cat.jpg" {
		t.Errorf("without a mask: %v", unmasked)
	}
	var got []string
	for _, p := range pairs {
		got = append(got, filepath.Base(p.Image)+">"+filepath.Base(p.Mask))
	}
	want := []string{"bird_segmentation.bmp>bird_segmentation_mask.bmp", "dog_segmentation.bmp>dog_segmentation_mask.bmp",
		"dog_segmentation_256.bmp>dog_segmentation_mask_256.bmp"}
	if !slices.Equal(got, want) {
		t.Errorf("pairs %v, want %v", got, want)
	}
	// One photo; masks of the same base name in another directory.
	masks := t.TempDir()
	if err := os.WriteFile(filepath.Join(masks, "dog_segmentation.png"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pairs, _, err = Pairs(filepath.Join(dir, "dog_segmentation.bmp"), masks)
	if err != nil || len(pairs) != 1 || pairs[0].Mask != filepath.Join(masks, "dog_segmentation.png") {
		t.Errorf("same name: %v %v", pairs, err)
	}
	if _, _, err := Pairs(filepath.Join(dir, "bird_segmentation.bmp"), masks); err == nil || !strings.Contains(err.Error(), "bird_segmentation_mask.png") {
		t.Errorf("no mask: %v", err)
	}
}

// Score against hand counts: truth [0 0 3 3 255 3], prediction [0 3 3 3 0 0]
// (the 255 pixel left out): pixel accuracy 3/5; class 0 has TP 1, FN 1, FP 1:
// IoU 1/3; class 3 TP 2, FN 1, FP 1: 1/2; mIoU 5/12.
func TestScore(t *testing.T) {
	s, err := NewScore(21)
	if err != nil {
		t.Fatal(err)
	}
	truth := Map{W: 3, H: 2, Pix: []uint8{0, 0, 3, 3, Unseen, 3}}
	pred := Map{W: 3, H: 2, Pix: []uint8{0, 3, 3, 3, 0, 0}}
	if err := s.Add(pred, truth); err != nil {
		t.Fatal(err)
	}
	iou, miou := s.IoU()
	if s.PixelAccuracy() != 0.6 || s.Pixels() != 5 || math.Abs(iou[0]-1.0/3) > 1e-12 || iou[3] != 0.5 ||
		math.Abs(miou-5.0/12) > 1e-12 || !math.IsNaN(iou[1]) {
		t.Errorf("accuracy %v, IoU %v, mIoU %v", s.PixelAccuracy(), iou[:4], miou)
	}
	if tr, pr := s.Counts(3); tr != 3 || pr != 3 {
		t.Errorf("class 3: %d pixels in the mask, %d predicted; want 3 and 3", tr, pr)
	}
	if err := s.Add(pred, Map{W: 3, H: 2, Pix: []uint8{0, 0, 0, 0, 0, 30}}); err == nil || !strings.Contains(err.Error(), "class 30") {
		t.Errorf("a class beyond the 21: %v", err)
	}
}

func TestSavePaths(t *testing.T) {
	got, err := SavePaths("out/seg.png", []string{"a/bird.bmp", "b/dog.jpg"})
	if err != nil || !slices.Equal(got, []string{"out/seg_bird.png", "out/seg_dog.png"}) {
		t.Errorf("%v %v", got, err)
	}
	if got, err := SavePaths("seg.PNG", []string{"a/bird.bmp"}); err != nil || got[0] != "seg.PNG" {
		t.Errorf("one image: %v %v", got, err)
	}
	if _, err := SavePaths("seg.jpg", []string{"x.bmp"}); err == nil {
		t.Error("a .jpg: no error")
	}
	if _, err := SavePaths("seg.png", []string{"a/x.bmp", "b/x.png"}); err == nil {
		t.Error("two photos named x: no error")
	}
}
