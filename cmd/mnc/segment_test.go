package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
	"github.com/mncdev/mnc/internal/segment"
)

// segModels are frontend/tflite's 16x16 four-class segmenters: a 1x1
// convolution to logits (background 0 a constant 0.9; 1, 2, 3 the red,
// green and blue values), and the same with DeepLab's final ARG_MAX.
func segModels(t *testing.T) (argmax, logits string) {
	dir := filepath.Join(golden.RepoRoot(t), "frontend", "tflite", "testdata")
	return filepath.Join(dir, "seg_argmax.tflite"), filepath.Join(dir, "seg_logits.tflite")
}

// segPhoto is a 16x16 photo scaled by k: the top half black (class 0),
// the bottom left quarter red (1), then a blue (3) and a white (1: a tie
// of red, green and blue) eighth.
func segPhoto(k int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 16*k, 16*k))
	for y := range 16 * k {
		for x := range 16 * k {
			c := color.RGBA{0, 0, 0, 255}
			switch {
			case y < 8*k:
			case x < 8*k:
				c = color.RGBA{255, 0, 0, 255}
			case x < 12*k:
				c = color.RGBA{0, 0, 255, 255}
			default:
				c = color.RGBA{255, 255, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func writePNG(t *testing.T, path string, img image.Image) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// segRunJSON is mnc run --json on a segmenter.
type segRunJSON []struct {
	Input   string
	Width   int
	Height  int
	Classes []struct {
		Index  int
		Label  string
		Pixels int
		Share  float64
	}
	Saved string `json:"saved_image"`
}

// mnc run on a segmenter, whether it ends in an ArgMax class map or in
// logits: the classes by pixel share (text and JSON), --save-image (one
// file per photo, at the photo's size, VOC colours, reading back as the
// class map), --overlay, --save-output, --tensor; classifiers refuse
// --save-image.
func TestRunSegmentation(t *testing.T) {
	argmax, logits := segModels(t)
	dir := t.TempDir()
	photo := writePNG(t, filepath.Join(dir, "photo.png"), segPhoto(1))
	big := writePNG(t, filepath.Join(dir, "big.png"), segPhoto(2))
	labels := filepath.Join(dir, "labels.txt")
	// A note after a blank line, as Coral's VOC labels file has, is not a class.
	if err := os.WriteFile(labels, []byte("background\nred\ngreen\nblue\n\n255 is ignore\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "photo.png (16x16, 3 classes)\n" +
		"      0   50.00%  background\n" +
		"      1   37.50%  red\n" +
		"      3   12.50%  blue\n"
	for _, model := range []string{argmax, logits} {
		stdout, stderr, code := mnc(t, "run", model, photo, "--labels", labels)
		if code != 0 || stdout != want {
			t.Errorf("%s: exit %d, printed:\n%s%s\nwant:\n%s", filepath.Base(model), code, stdout, stderr, want)
		}
	}
	stdout, stderr, code := mnc(t, "run", argmax, photo, "--top", "1")
	if code != 0 || !strings.HasSuffix(stdout, "      0   50.00%  -\n  ... 2 more\n") {
		t.Errorf("--top 1: exit %d:\n%s%s", code, stdout, stderr)
	}

	out := filepath.Join(dir, "seg.png")
	stdout, stderr, code = mnc(t, "run", argmax, photo, big, "--json", "--save-image", out)
	if code != 0 {
		t.Fatalf("--json --save-image: exit %d: %s", code, stderr)
	}
	var res segRunJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if len(res) != 2 || res[0].Width != 16 || res[1].Height != 32 || len(res[0].Classes) != 3 ||
		res[0].Classes[1].Index != 1 || res[0].Classes[1].Pixels != 96 || res[0].Classes[1].Share != 0.375 ||
		res[0].Saved != filepath.Join(dir, "seg_photo.png") || res[1].Saved != filepath.Join(dir, "seg_big.png") {
		t.Fatalf("--json:\n%s", stdout)
	}
	// The big photo's class map, at 32x32, away from the edges the
	// downscaling blurs, is the photo's classes; the PNG is paletted in
	// VOC colours.
	img := readPNG(t, res[1].Saved)
	pal, ok := img.(*image.Paletted)
	if !ok || img.Bounds().Dx() != 32 || img.Bounds().Dy() != 32 {
		t.Fatalf("saved a %T of %v, want a paletted 32x32 PNG", img, img.Bounds())
	}
	if pal.Palette[3] != segment.Color(3) {
		t.Errorf("palette[3] = %v, want VOC's %v", pal.Palette[3], segment.Color(3))
	}
	for _, p := range []struct{ x, y, class int }{{5, 5, 0}, {30, 12, 0}, {5, 25, 1}, {19, 28, 3}, {28, 20, 1}} {
		if c := pal.ColorIndexAt(p.x, p.y); int(c) != p.class {
			t.Errorf("saved class map at (%d,%d): %d, want %d", p.x, p.y, c, p.class)
		}
	}
	// The small photo's map reads back through the mask reader exactly.
	m, err := segment.ReadMask(res[0].Saved, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.At(0, 7) != 0 || m.At(7, 8) != 1 || m.At(8, 15) != 3 || m.At(15, 15) != 1 {
		t.Errorf("saved map: %v", m.Pix)
	}

	// --overlay: half photo, half colour: red over red (255+128+1)/2.
	ov := filepath.Join(dir, "ov.png")
	if _, stderr, code := mnc(t, "run", logits, photo, "--save-image", ov, "--overlay"); code != 0 {
		t.Fatalf("--overlay: exit %d: %s", code, stderr)
	}
	if got := color.NRGBAModel.Convert(readPNG(t, ov).At(0, 15)).(color.NRGBA); got != (color.NRGBA{192, 0, 0, 255}) {
		t.Errorf("overlay at a red pixel: %v", got)
	}

	// --save-output: the logits [1,4,16,16]; --tensor runs them back.
	npyOut := filepath.Join(dir, "out.npy")
	if _, stderr, code := mnc(t, "run", logits, photo, "--save-output", npyOut); code != 0 {
		t.Fatalf("--save-output: exit %d: %s", code, stderr)
	}
	a, err := npy.ReadFile(npyOut)
	if err != nil || len(a.Shape) != 4 || a.Shape[1] != 4 || a.Shape[2] != 16 {
		t.Fatalf("saved output %v: %v", a, err)
	}
	in := filepath.Join(dir, "in.npy")
	x := make([]float32, 3*256)
	for p := range 256 {
		x[p] = 1 // all red
		x[256+p], x[512+p] = -1, -1
	}
	if err := npy.WriteFile(in, &npy.Array{Shape: []int{1, 3, 16, 16}, Data: x}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = mnc(t, "run", argmax, "--tensor", in)
	if code != 0 || !strings.Contains(stdout, "in.npy[0] (16x16, 1 classes)\n      1  100.00%  -\n") {
		t.Errorf("--tensor: exit %d:\n%s%s", code, stdout, stderr)
	}

	// Refusals, one line each.
	classifier := filepath.Join(golden.RepoRoot(t), "frontend", "tflite", "testdata", "pool_mean_fc.tflite")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", classifier, photo, "--save-image", out}, 1, "--save-image is for segmentation models: " + classifier + " is a classifier"},
		{[]string{"run", argmax, photo, "--overlay"}, 2, "--overlay blends the image --save-image writes"},
		{[]string{"run", argmax, photo, "--save-image", filepath.Join(dir, "seg.jpg")}, 1, "give a file name ending in .png"},
		{[]string{"run", argmax, photo, filepath.Join(dir, "sub", "photo.png"), "--save-image", out}, 1, "would both be saved as"},
		{[]string{"run", argmax, "--tensor", in, "--save-image", out}, 1, "--save-image needs images"},
	} {
		_, stderr, code := mnc(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("mnc %s: exit %d, stderr %q; want %d and %q", strings.Join(c.args, " "), code, stderr, c.code, c.want)
		}
	}
}

// segEvalJSON is the part of mnc eval --masks --json the tests read.
type segEvalJSON struct {
	ImageCount int `json:"image_count"`
	Classes    int `json:"classes"`
	Models     []struct {
		Name          string
		Pixels        uint64
		PixelAccuracy float64 `json:"pixel_accuracy"`
		MIoU          float64 `json:"miou"`
		PerClass      []struct {
			Index      int
			Label      string
			IoU        float64
			MaskPixels uint64 `json:"mask_pixels"`
		} `json:"per_class"`
	}
	Agreement []struct {
		PixelAccuracy float64 `json:"pixel_accuracy"`
		MIoU          float64 `json:"miou"`
	}
	PerImage []struct {
		Mask string
	} `json:"per_image"`
	WithoutMask []string `json:"without_mask"`
}

// mnc eval --masks on the two tiny segmenters against a hand-made mask:
// the scores are those computed by hand; --mask-map changes them as
// expected; classifiers and segmenters are told apart.
func TestEvalSegmentation(t *testing.T) {
	argmax, logits := segModels(t)
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "photo.png"), segPhoto(1))
	writePNG(t, filepath.Join(dir, "other.png"), segPhoto(1)) // no mask: left out
	// The mask: the prediction, but row 7 (16 pixels) says red and the
	// white eighth (32 pixels) is ignored.
	mask := segment.NewMap(16, 16)
	for y := range 16 {
		for x := range 16 {
			c := uint8(0)
			switch {
			case y == 7:
				c = 1
			case y < 8:
			case x < 8:
				c = 1
			case x < 12:
				c = 3
			default:
				c = segment.Unseen
			}
			mask.Pix[y*16+x] = c
		}
	}
	writePNG(t, filepath.Join(dir, "photo_mask.png"), segment.Image(mask))
	// 224 pixels counted, 208 right; IoU of 0: 112/128, of 1: 64/80, of 3: 1.
	acc, miou := 208.0/224, (112.0/128+64.0/80+1)/3
	stdout, stderr, code := mnc(t, "eval", argmax, logits, "--images", dir, "--masks", dir, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var rep segEvalJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if rep.ImageCount != 1 || len(rep.WithoutMask) != 1 || rep.Classes != 4 || len(rep.Models) != 2 || len(rep.Agreement) != 1 {
		t.Fatalf("report:\n%s", stdout)
	}
	for _, m := range rep.Models {
		if m.Pixels != 224 || !near(m.PixelAccuracy, acc) || !near(m.MIoU, miou) || len(m.PerClass) != 3 ||
			m.PerClass[1].Index != 1 || !near(m.PerClass[1].IoU, 0.8) || m.PerClass[1].MaskPixels != 80 {
			t.Errorf("%s: %+v, want pixel accuracy %v, mIoU %v", m.Name, m, acc, miou)
		}
	}
	if a := rep.Agreement[0]; a.PixelAccuracy != 1 || a.MIoU != 1 {
		t.Errorf("the two models agree: %+v", a)
	}
	// The text report, with labels: the same figures.
	labels := filepath.Join(dir, "labels.txt")
	if err := os.WriteFile(labels, []byte("background\nred\ngreen\nblue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = mnc(t, "eval", argmax, "--images", filepath.Join(dir, "photo.png"), "--masks", dir, "--labels", labels)
	for _, want := range []string{"1 photo and its mask", "seg_argmax.tflite  float  tf 16x16     92.86%  0.8917", "1  red                 80       0.8000"} {
		if code != 0 || !strings.Contains(squashAll(stdout), squash(want)) {
			t.Errorf("text report: exit %d, no %q in:\n%s%s", code, want, stdout, stderr)
		}
	}
	// --mask-map 255=0: the white eighth counts, as background, all wrong.
	stdout, _, code = mnc(t, "eval", argmax, "--images", dir, "--masks", dir, "--mask-map", "255=0", "--json")
	rep = segEvalJSON{}
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil || !near(rep.Models[0].PixelAccuracy, 208.0/256) {
		t.Errorf("--mask-map 255=0: exit %d, %v:\n%s", code, err, stdout)
	}
	classifier := filepath.Join(golden.RepoRoot(t), "frontend", "tflite", "testdata", "pool_mean_fc.tflite")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval", classifier, "--images", dir, "--masks", dir}, 1, "is a classifier (output [1,"},
		{[]string{"eval", argmax, "--images", dir}, 1, "is a segmentation model (output [1,16,16]): give the masks"},
		{[]string{"eval", argmax, "--images", dir, "--masks", dir, "--csv"}, 2, "--csv and --min-top1 are for classifiers"},
		{[]string{"eval", argmax, "--images", dir, "--masks", dir, "--mask-map", "0=300"}, 2, `"300" is not a mask value`},
		{[]string{"eval", argmax, "--images", dir, "--mask-map", "0=1"}, 2, "give them with --masks DIR"},
		{[]string{"eval", argmax, "--images", dir, "--masks", dir, "--mask-map", "0=7"}, 1, "class 7 at pixel (0,0), but there are 4 classes"},
	} {
		_, stderr, code := mnc(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("mnc %s: exit %d, stderr %q; want %d and %q", strings.Join(c.args, " "), code, stderr, c.code, c.want)
		}
	}
}

// squashAll is squash on every line of s.
func squashAll(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = squash(l)
	}
	return strings.Join(lines, "\n")
}

// The ../shared DeepLabV3 file segments Coral's bird photo into background
// and bird, and scores on Coral's masks as frontend/tflite's
// TestSharedDeepLab measures (mIoU 0.949 on the bird with its outline
// values ignored, about 0.99 on the dogs' trimaps read as VOC).
func TestSharedDeepLabCLI(t *testing.T) {
	models := golden.Shared(t, "models", "tflite")
	images := golden.Shared(t, "images", "seg")
	model := filepath.Join(models, "deeplabv3_mnv2_pascal_quant.tflite")
	labels := filepath.Join(models, "pascal_voc_segmentation_labels.txt")
	bird := filepath.Join(images, "bird_segmentation.bmp")
	out := filepath.Join(t.TempDir(), "bird.png")
	stdout, stderr, code := mnc(t, "run", model, bird, "--labels", labels, "--save-image", out)
	want := "bird_segmentation.bmp (513x513, 2 classes)\n      0   78.73%  background\n      3   21.27%  bird\n"
	if code != 0 || !strings.HasPrefix(stdout, want) {
		t.Errorf("run: exit %d:\n%s%s\nwant:\n%s", code, stdout, stderr, want)
	}
	// The saved map is the mask up to the model's error.
	pred, err := segment.ReadMask(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	truth, err := segment.ReadMask(filepath.Join(images, "bird_segmentation_mask.bmp"), &segment.Remap{0: 0, 1: 255, 2: 255, 3: 3})
	if err != nil {
		t.Fatal(err)
	}
	s, err := segment.NewScore(21)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(pred, truth); err != nil {
		t.Fatal(err)
	}
	if _, miou := s.IoU(); miou < 0.93 {
		t.Errorf("saved map's mIoU %.4f", miou)
	}
	for _, c := range []struct {
		images, remap string
		miou          float64
	}{{bird, "1=255,2=255", 0.93}, {filepath.Join(images, "dog_segmentation_256.bmp"), "0=12,1=0,2=255", 0.97}} {
		stdout, stderr, code := mnc(t, "eval", model, "--images", c.images, "--masks", images, "--mask-map", c.remap, "--json")
		var rep segEvalJSON
		if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil || len(rep.Models) != 1 {
			t.Fatalf("eval %s: exit %d, %v: %s", c.images, code, err, stderr)
		}
		t.Logf("%s: pixel accuracy %.4f, mIoU %.4f", filepath.Base(c.images), rep.Models[0].PixelAccuracy, rep.Models[0].MIoU)
		if rep.Models[0].MIoU < c.miou {
			t.Errorf("%s: mIoU %.4f, want at least %.2f", c.images, rep.Models[0].MIoU, c.miou)
		}
	}
}
