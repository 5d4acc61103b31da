package preprocess

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/image/draw"

	"github.com/mncdev/mnc/internal/npy"
)

// TestAgainstPIL compares with tensors made by testdata/gen.py with PIL and
// torchvision. All must match bit for bit: JPEGs decode like libjpeg (the
// ISLOW IDCT, fancy upsampling and color tables), the resize replicates
// Pillow's fixed-point arithmetic, the normalization torchvision's float32
// operations, and the RGB conversions PIL's.
func TestAgainstPIL(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.npy"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no reference tensors in testdata (run gen.py): %v", err)
	}
	for _, file := range files {
		if strings.Contains(file, ".custom_") || strings.Contains(file, ".interp_") {
			continue // TestCustomAgainstPIL's, TestInterpolateReference's
		}
		// <image>.<preset>_<H>x<W>.npy
		base := strings.TrimSuffix(filepath.Base(file), ".npy")
		dot := strings.LastIndexByte(base, '.')
		imgName, variant := base[:dot], base[dot+1:]
		var presetName string
		var h, w int
		if _, err := fmt.Sscanf(strings.Replace(variant, "_", " ", 1), "%s %dx%d", &presetName, &h, &w); err != nil {
			t.Fatalf("%s: bad name: %v", file, err)
		}
		preset := map[string]Preset{"tv": Torchvision, "tf": TF}[presetName]
		t.Run(base, func(t *testing.T) {
			want, err := npy.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := Default(preset, h, w)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, 3*h*w)
			if err := spec.File(filepath.Join("testdata", imgName), got); err != nil {
				t.Fatal(err)
			}
			if len(want.Data) != len(got) {
				t.Fatalf("reference has shape %v", want.Shape)
			}
			// Differences in 8-bit levels: one level is 1/(255*std) for
			// torchvision and 1/127.5 for tf.
			maxAbs, maxLevels, over := 0.0, 0.0, 0
			for i := range got {
				d := math.Abs(float64(got[i]) - float64(want.Data[i]))
				scale := 127.5
				if preset == Torchvision {
					scale = 255 * float64(spec.Std[i/(h*w)])
				}
				maxAbs = max(maxAbs, d)
				maxLevels = max(maxLevels, d*scale)
				if d*scale > 1.001 {
					over++
				}
			}
			t.Logf("max abs diff %.6f (%.2f levels of 1/255), %d of %d values differ by more than 1/255", maxAbs, maxLevels, over, len(got))
			if maxAbs != 0 {
				t.Errorf("max diff %.3f levels, want 0", maxLevels)
			}
		})
	}
}

// TestCustomAgainstPIL compares custom preprocessing (Scale, Resize,
// ResizeTo, Crop, Channels) with the tensors testdata/gen_custom.py made the
// way torchvision, PIL, numpy and TensorFlow's central_crop compute them:
// bit for bit. The table mirrors gen_custom.py's CASES.
func TestCustomAgainstPIL(t *testing.T) {
	caffeMean, caffeStd := [3]float32{103.94, 116.78, 123.68}, [3]float32{57.375, 57.12, 58.395}
	for _, tc := range []struct {
		file string
		spec Spec
	}{
		{"img_61x47.jpg.custom_caffe_32x32.npy", Spec{Preset: Torchvision, Height: 32, Width: 32, Mean: caffeMean, Std: caffeStd, Scale: 1, ResizeTo: 36, Channels: BGR}},
		{"img_47x61.bmp.custom_fraction_32x32.npy", Spec{Preset: TF, Height: 32, Width: 32, Crop: 0.875}},
		{"img_61x47.jpg.custom_tvstretch_24x40.npy", Spec{Preset: Torchvision, Height: 24, Width: 40, Mean: ImageNetMean, Std: ImageNetStd, Resize: Stretch}},
		{"img_61x47_rgba.png.custom_tfshorter_32x32.npy", Spec{Preset: TF, Height: 32, Width: 32, Resize: Shorter, ResizeTo: 40}},
		{"img_61x47_lossy.webp.custom_mixed_24x40.npy", Spec{Preset: Torchvision, Height: 24, Width: 40, Mean: [3]float32{0.5, 0.4, 0.3}, Std: [3]float32{0.9, 1.1, 1.3}, Scale: 100, ResizeTo: 30, Crop: 0.8, Channels: BGR}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want, err := npy.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			// Through AtSize, as the CLI builds it: the spec is canonical
			// and keeps every custom field.
			spec, err := tc.spec.AtSize(tc.spec.Height, tc.spec.Width)
			if err != nil {
				t.Fatal(err)
			}
			if !spec.Custom() {
				t.Errorf("%v: not custom", spec)
			}
			img := tc.file[:strings.Index(tc.file, ".custom_")]
			got := make([]float32, 3*spec.Height*spec.Width)
			if err := spec.File(filepath.Join("testdata", img), got); err != nil {
				t.Fatal(err)
			}
			if len(want.Data) != len(got) {
				t.Fatalf("reference has shape %v", want.Shape)
			}
			diff := 0
			for i := range got {
				if got[i] != want.Data[i] {
					diff++
				}
			}
			if diff != 0 {
				t.Errorf("%v: %d of %d values differ", spec, diff, len(got))
			}
		})
	}
}

// TestCustomPresetEquivalents: custom settings that spell out a preset's
// own steps compute its tensors exactly and are canonically the preset:
// the tf map as torchvision with scale 127.5, mean 1, std 1, stretched;
// torchvision's resize as --resize 256 at 224.
func TestCustomPresetEquivalents(t *testing.T) {
	img := filepath.Join("testdata", "img_61x47.jpg")
	tensor := func(s Spec) []float32 {
		t.Helper()
		out := make([]float32, 3*s.Height*s.Width)
		if err := s.File(img, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	tf, _ := Default(TF, 24, 40)
	asTV, err := Spec{Preset: Torchvision, Mean: [3]float32{1, 1, 1}, Std: [3]float32{1, 1, 1}, Scale: 127.5, Resize: Stretch}.AtSize(24, 40)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := tensor(tf), tensor(asTV); !slices.Equal(a, b) {
		t.Error("torchvision with scale 127.5, mean 1, std 1, stretch differs from tf")
	}
	tv, _ := Default(Torchvision, 224, 224)
	for _, s := range []Spec{
		{Preset: Torchvision, ResizeTo: 256},
		{Preset: Torchvision, Resize: Shorter, ResizeTo: 256, Scale: 255, Crop: 1, Channels: RGB},
		{Preset: Torchvision, Mean: ImageNetMean, Std: ImageNetStd},
	} {
		got, err := s.AtSize(224, 224)
		if err != nil || got != tv {
			t.Errorf("%+v at 224: %+v, %v; want the preset %+v", s, got, err, tv)
		}
	}
	if (Spec{Preset: TF}).Custom() || tf.Custom() || tv.Custom() {
		t.Error("a preset's Spec is custom")
	}
	for _, bad := range []Spec{
		{Preset: TF, Scale: 2},
		{Preset: Torchvision, Scale: -1},
		{Preset: Torchvision, Resize: "fit"},
		{Preset: Torchvision, Resize: Stretch, ResizeTo: 30},
		{Preset: Torchvision, ResizeTo: -3},
		{Preset: Torchvision, Crop: 1.5},
		{Preset: Torchvision, Crop: -0.5},
		{Preset: Torchvision, Channels: "rgba"},
	} {
		if s, err := bad.AtSize(24, 24); err == nil {
			t.Errorf("%+v accepted: %v", bad, s)
		}
	}
	// A crop fraction that leaves nothing (TensorFlow's arithmetic keeps
	// w mod 2 columns of a w-wide image below 1/3) is an error.
	s, err := Spec{Preset: TF, Crop: 0.01}.AtSize(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.File(filepath.Join("testdata", "img_62x48_lossy.webp"), make([]float32, 3*8*8)); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("crop 0.01 of 62x48: %v", err)
	}
}

// TestWebP checks the lossless WebP decodes to the same pixels as the PNG
// made from the same array.
func TestWebP(t *testing.T) {
	a, err := LoadImage(filepath.Join("testdata", "img_61x47.webp"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadImage(filepath.Join("testdata", "img_61x47_rgba.png"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(toRGB(a).Pix, toRGB(b).Pix) {
		t.Error("WebP and PNG pixels differ")
	}
}

func rgbAt(m *image.RGBA, x, y int) [3]uint8 {
	i := y*m.Stride + 4*x
	return [3]uint8{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}
}

func TestColorModels(t *testing.T) {
	r := image.Rect(0, 0, 3, 2)
	gray := image.NewGray(r)
	gray.SetGray(1, 0, color.Gray{77})
	gray16 := image.NewGray16(r)
	gray16.SetGray16(1, 0, color.Gray16{0xabff})
	nrgba := image.NewNRGBA(r)
	nrgba.SetNRGBA(1, 0, color.NRGBA{10, 200, 30, 0}) // transparent: color kept
	nrgba64 := image.NewNRGBA64(r)
	nrgba64.SetNRGBA64(1, 0, color.NRGBA64{0x1280, 0xc8ff, 0x1e00, 0})
	rgba := image.NewRGBA(r)
	rgba.SetRGBA(1, 0, color.RGBA{50, 100, 0, 200}) // premultiplied
	rgba64 := image.NewRGBA64(r)
	rgba64.SetRGBA64(1, 0, color.RGBA64{0x0aff, 0xc800, 0x1e7f, 0xffff})
	pal := image.NewPaletted(r, color.Palette{color.NRGBA{0, 0, 0, 255}, color.NRGBA{10, 200, 30, 0}})
	pal.SetColorIndex(1, 0, 1)
	cmyk := image.NewCMYK(r)
	cmyk.SetCMYK(1, 0, color.CMYK{10, 200, 30, 40})
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
	for i := range ycc.Y {
		ycc.Y[i], ycc.Cb[i], ycc.Cr[i] = 128, 128, 128
	}
	ycc.Y[1], ycc.Cb[1], ycc.Cr[1] = 100, 90, 200
	nycca := image.NewNYCbCrA(r, image.YCbCrSubsampleRatio444)
	copy(nycca.Y, ycc.Y)
	copy(nycca.Cb, ycc.Cb)
	copy(nycca.Cr, ycc.Cr)
	// The libjpeg conversion of (100, 90, 200), computed by hand:
	// R = 100 + round(1.402*72) = 201, B = 100 + round(1.772*-38) = 33,
	// G = 100 + floor(-0.34414*-38 - 0.71414*72 + 0.5) = 100 - 38 = 62.
	yccWant := [3]uint8{201, 62, 33}

	for _, tc := range []struct {
		name string
		img  image.Image
		want [3]uint8 // at (1, 0); elsewhere as zero value of the model
	}{
		{"Gray", gray, [3]uint8{77, 77, 77}},
		{"Gray16", gray16, [3]uint8{0xab, 0xab, 0xab}},
		{"NRGBA", nrgba, [3]uint8{10, 200, 30}},
		{"NRGBA64", nrgba64, [3]uint8{0x12, 0xc8, 0x1e}},
		{"RGBA", rgba, [3]uint8{63, 127, 0}}, // un-premultiplied: 50*255/200
		{"RGBA64", rgba64, [3]uint8{0x0a, 0xc8, 0x1e}},
		{"Paletted", pal, [3]uint8{10, 200, 30}},
		{"CMYK", cmyk, func() [3]uint8 { r, g, b := color.CMYKToRGB(10, 200, 30, 40); return [3]uint8{r, g, b} }()},
		{"YCbCr", ycc, yccWant},
		{"NYCbCrA", nycca, yccWant},
	} {
		m := toRGB(tc.img)
		if m.Rect != r {
			t.Errorf("%s: bounds %v", tc.name, m.Rect)
		}
		if got := rgbAt(m, 1, 0); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		for i := 3; i < len(m.Pix); i += 4 {
			if m.Pix[i] != 0xff {
				t.Errorf("%s: not opaque", tc.name)
				break
			}
		}
	}

	// Gray levels convert exactly, and the libjpeg tables stay within one
	// level of Go's color.YCbCrToRGB.
	for v := range 256 {
		if r, g, b := jpegYCbCrToRGB(uint8(v), 128, 128); r != uint8(v) || g != uint8(v) || b != uint8(v) {
			t.Fatalf("gray %d -> %d %d %d", v, r, g, b)
		}
	}
	for _, c := range [][3]uint8{{0, 0, 0}, {255, 255, 255}, {16, 240, 20}, {200, 30, 240}, {90, 128, 60}} {
		r1, g1, b1 := jpegYCbCrToRGB(c[0], c[1], c[2])
		r2, g2, b2 := color.YCbCrToRGB(c[0], c[1], c[2])
		for _, d := range []int{int(r1) - int(r2), int(g1) - int(g2), int(b1) - int(b2)} {
			if d < -1 || d > 1 {
				t.Errorf("YCbCr %v: libjpeg %v, Go %v", c, [3]uint8{r1, g1, b1}, [3]uint8{r2, g2, b2})
			}
		}
	}

	// Sub-image of a YCbCr image (not at the origin): replicated chroma.
	sub := ycc.SubImage(image.Rect(1, 0, 3, 2))
	if got := rgbAt(toRGB(sub), 0, 0); got != yccWant {
		t.Errorf("YCbCr sub-image: got %v, want %v", got, yccWant)
	}
}

// TestFancyUpsampling checks the chroma upsampling against values computed
// by hand from libjpeg's jdsample.c formulas.
func TestFancyUpsampling(t *testing.T) {
	// h2v1 of [0 40 100 20]: first copies, then (3*in + prev + 1)>>2 and
	// (3*in + next + 2)>>2, last copies.
	out := make([]uint8, 8)
	h2Fancy(out, []int32{0, 40, 100, 20}, 2, 1, 2)
	if want := []uint8{0, 10, 30, 55, 85, 80, 40, 20}; !bytes.Equal(out, want) {
		t.Errorf("h2v1: got %v, want %v", out, want)
	}
	// h2v2 with column sums (3*near + far): divides by 16.
	h2Fancy(out, []int32{0, 160, 400, 80}, 4, 8, 7)
	if want := []uint8{0, 10, 30, 55, 85, 80, 40, 20}; !bytes.Equal(out, want) {
		t.Errorf("h2v2: got %v, want %v", out, want)
	}

	// Constant chroma stays constant whatever the subsampling, and odd
	// sizes work.
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411} {
		m := image.NewYCbCr(image.Rect(0, 0, 7, 5), ratio)
		for i := range m.Y {
			m.Y[i] = uint8(20 * i)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = 90, 200
		}
		rgb := toRGB(m)
		for y := range 5 {
			for x := range 7 {
				r, g, b := jpegYCbCrToRGB(m.Y[m.YOffset(x, y)], 90, 200)
				if got := rgbAt(rgb, x, y); got != [3]uint8{r, g, b} {
					t.Fatalf("%v (%d,%d): got %v want %v", ratio, x, y, got, [3]uint8{r, g, b})
				}
			}
		}
	}

	// 4:4:0 (h1v2): rows are 3/4 nearest + 1/4 next nearest chroma row,
	// with bias 1 above and 2 below.
	m := image.NewYCbCr(image.Rect(0, 0, 1, 4), image.YCbCrSubsampleRatio440)
	for i := range m.Y {
		m.Y[i] = 128
	}
	m.Cb[0], m.Cb[m.CStride] = 128, 128
	m.Cr[0], m.Cr[m.CStride] = 100, 160
	rgb := toRGB(m)
	for y, cr := range []int32{100, (3*100 + 160 + 2) >> 2, (3*160 + 100 + 1) >> 2, 160} {
		r, _, _ := jpegYCbCrToRGB(128, 128, uint8(cr))
		if got := rgbAt(rgb, 0, y)[0]; got != r {
			t.Errorf("h1v2 row %d: R = %d, want %d (Cr %d)", y, got, r, cr)
		}
	}
}

func Test16BitPNG(t *testing.T) {
	m := image.NewRGBA64(image.Rect(0, 0, 2, 1))
	m.SetRGBA64(0, 0, color.RGBA64{0x12ff, 0x3400, 0xfe80, 0xffff})
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x16.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := LoadImage(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := rgbAt(toRGB(img), 0, 0); got != [3]uint8{0x12, 0x34, 0xfe} {
		t.Errorf("16-bit PNG: got %v", got)
	}
}

func TestNormalization(t *testing.T) {
	const h, w = 4, 6
	for _, v := range []uint8{0, 1, 127, 128, 254, 255} {
		img := image.NewGray(image.Rect(0, 0, 17, 9))
		for i := range img.Pix {
			img.Pix[i] = v
		}
		for _, p := range Presets {
			spec, err := Default(p, h, w)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, 3*h*w)
			if err := spec.Tensor(img, got); err != nil {
				t.Fatal(err)
			}
			for i, g := range got {
				c := i / (h * w)
				var want float32
				var exact float64
				if p == TF {
					want = float32(float32(v)/127.5) - 1
					exact = float64(v)/127.5 - 1
				} else {
					want = float32(float32(float32(v)/255)-ImageNetMean[c]) / ImageNetStd[c]
					exact = (float64(v)/255 - float64(ImageNetMean[c])) / float64(ImageNetStd[c])
				}
				if g != want {
					t.Fatalf("%s v=%d channel %d: got %v, want %v", p, v, c, g, want)
				}
				if math.Abs(float64(g)-exact) > 1e-6 {
					t.Fatalf("%s v=%d: %v is far from %v", p, v, g, exact)
				}
			}
		}
	}
	// Hand-checked anchors.
	spec, _ := Default(TF, 1, 1)
	out := make([]float32, 3)
	white := image.NewGray(image.Rect(0, 0, 1, 1))
	white.Pix[0] = 255
	if err := spec.Tensor(white, out); err != nil || out[0] != 1 {
		t.Errorf("tf white = %v, %v; want exactly 1", out, err)
	}
	spec, _ = Default(Torchvision, 1, 1)
	if err := spec.Tensor(white, out); err != nil || out[0] != float32((1-0.485)/0.229) {
		t.Errorf("torchvision white R = %v, want %v", out[0], float32((1-0.485)/0.229))
	}
}

func TestResizeGeometry(t *testing.T) {
	for _, tc := range []struct{ w, h, size, nw, nh int }{
		{512, 600, 224, 256, 300},
		{600, 512, 224, 300, 256},
		{512, 512, 224, 256, 256},
		{61, 47, 32, 46, 36}, // int(36*61/47) = int(46.72)
		{47, 61, 32, 36, 46}, // portrait
		{61, 47, 24, 35, 27}, // size 24 -> int(27.43) = 27
		{1, 1000, 224, 256, 256000},
	} {
		nw, nh := shorterSideSize(tc.w, tc.h, defaultResizeTo(tc.size, tc.size))
		if nw != tc.nw || nh != tc.nh {
			t.Errorf("resize %dx%d to %d: got %dx%d, want %dx%d", tc.w, tc.h, tc.size, nw, nh, tc.nw, tc.nh)
		}
	}
	for _, tc := range []struct{ w, h, cw, ch, top, left, padT, padL int }{
		{256, 300, 224, 224, 38, 16, 0, 0},
		{46, 36, 32, 32, 2, 7, 0, 0},
		{37, 32, 32, 32, 0, 2, 0, 0}, // round(2.5) = 2 (half to even)
		{39, 32, 32, 32, 0, 4, 0, 0}, // round(3.5) = 4
		{35, 27, 40, 24, 2, 0, 0, 2}, // round(1.5) = 2; pad (40-35)//2 = 2 left, 3 right
		{30, 20, 32, 25, 0, 0, 2, 1},
	} {
		top, left, padT, padL := centerCrop(tc.w, tc.h, tc.cw, tc.ch)
		if top != tc.top || left != tc.left || padT != tc.padT || padL != tc.padL {
			t.Errorf("crop %dx%d from %dx%d: got top %d left %d pad %d,%d; want %d %d %d,%d",
				tc.cw, tc.ch, tc.w, tc.h, top, left, padT, padL, tc.top, tc.left, tc.padT, tc.padL)
		}
	}

	// End to end: a 39x36 image is not resized for a 32x32 torchvision
	// input (short side already 36), so the crop is a pure offset:
	// top = round(4/2) = 2, left = round(7/2) = 4 (half to even).
	img := image.NewNRGBA(image.Rect(0, 0, 39, 36))
	for y := range 36 {
		for x := range 39 {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 7, 255})
		}
	}
	spec, err := Default(Torchvision, 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	spec.Mean, spec.Std = [3]float32{}, [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255}
	out := make([]float32, 3*32*32)
	if err := spec.Tensor(img, out); err != nil {
		t.Fatal(err)
	}
	for y := range 32 {
		for x := range 32 {
			if r, g := math.Round(float64(out[y*32+x])), math.Round(float64(out[1024+y*32+x])); r != float64(x+4) || g != float64(y+2) {
				t.Fatalf("crop pixel (%d,%d) came from (%v,%v), want (%d,%d)", x, y, r, g, x+4, y+2)
			}
		}
	}
	// Zero padding: an image already at the resize target for size 24
	// (35x27); a 40 wide crop pads 2 columns left and 3 right.
	img = image.NewNRGBA(image.Rect(0, 0, 35, 27))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	spec.Height, spec.Width = 24, 40
	out = make([]float32, 3*24*40)
	if err := spec.Tensor(img, out); err != nil {
		t.Fatal(err)
	}
	for x := range 40 {
		want := float32(255)
		if x < 2 || x >= 37 {
			want = 0
		}
		if got := float32(math.Round(float64(out[5*40+x]))); got != want {
			t.Errorf("padded row, x=%d: %v, want %v", x, got, want)
		}
	}
}

// TestResizeMatchesXImage cross-checks the Pillow-exact resampler against
// golang.org/x/image/draw's BiLinear kernel (same filter in float64, run one
// axis at a time into 16 bits and rounded): they must agree within one
// level, and exactly on uniform images.
func TestResizeMatchesXImage(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 61, 47))
	seed := uint32(1)
	for i := range src.Pix {
		seed = seed*1664525 + 1013904223
		src.Pix[i] = uint8(seed >> 24)
		if i%4 == 3 {
			src.Pix[i] = 255
		}
	}
	xresize := func(m *image.RGBA, w, h int) *image.RGBA {
		pass := func(m *image.RGBA, w, h int) *image.RGBA {
			tmp := image.NewRGBA64(image.Rect(0, 0, w, h))
			draw.BiLinear.Scale(tmp, tmp.Rect, m, m.Rect, draw.Src, nil)
			out := image.NewRGBA(tmp.Rect)
			for i := range out.Pix {
				v := uint32(tmp.Pix[2*i])<<8 | uint32(tmp.Pix[2*i+1])
				out.Pix[i] = uint8((2*v + 257) / 514)
			}
			return out
		}
		if m.Rect.Dx() != w {
			m = pass(m, w, m.Rect.Dy())
		}
		if m.Rect.Dy() != h {
			m = pass(m, w, h)
		}
		return m
	}
	for _, sz := range [][2]int{{32, 32}, {46, 36}, {7, 5}, {61, 47}, {100, 80}, {1, 1}, {61, 20}, {200, 13}} {
		a, b := resize(src, sz[0], sz[1]), xresize(src, sz[0], sz[1])
		diff := 0
		for i := range a.Pix {
			d := int(a.Pix[i]) - int(b.Pix[i])
			if d < -1 || d > 1 {
				t.Fatalf("%v: value %d: %d vs x/image %d", sz, i, a.Pix[i], b.Pix[i])
			}
			if d != 0 {
				diff++
			}
		}
		t.Logf("%dx%d: %d of %d values differ by one level from x/image/draw", sz[0], sz[1], diff, len(a.Pix))
	}
}

func TestErrors(t *testing.T) {
	if _, err := Default("caffe", 224, 224); err == nil || !strings.Contains(err.Error(), "torchvision, tf") {
		t.Errorf("unknown preset: %v", err)
	}
	for _, hw := range [][2]int{{0, 224}, {224, -1}, {1 << 20, 1}} {
		if _, err := Default(TF, hw[0], hw[1]); err == nil {
			t.Errorf("size %v accepted", hw)
		}
	}
	spec, _ := Default(TF, 8, 8)
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	if err := spec.Tensor(img, make([]float32, 10)); err == nil || !strings.Contains(err.Error(), "192") {
		t.Errorf("short dst: %v", err)
	}
	if err := spec.Tensor(image.NewGray(image.Rect(0, 0, 0, 3)), make([]float32, 192)); err == nil {
		t.Error("empty image accepted")
	}
	bad := Spec{Preset: Torchvision, Height: 2, Width: 2, Std: [3]float32{1, 0, 1}}
	if err := bad.Tensor(img, make([]float32, 12)); err == nil {
		t.Error("zero std accepted")
	}

	dir := t.TempDir()
	notImage := filepath.Join(dir, "notes.txt")
	os.WriteFile(notImage, []byte("hello, this is not an image at all"), 0o644)
	_, err := LoadImage(notImage)
	if err == nil || !strings.Contains(err.Error(), "decode image "+notImage) || !strings.Contains(err.Error(), "not a JPEG, PNG, BMP or WebP image") {
		t.Errorf("text file: %v", err)
	}
	if err := spec.File(notImage, make([]float32, 192)); err == nil {
		t.Error("File accepted a text file")
	}
	if _, err := LoadImage(filepath.Join(dir, "missing.png")); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing file: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "img_61x47.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.jpg")
	os.WriteFile(trunc, raw[:len(raw)/2], 0o644)
	if _, err := LoadImage(trunc); err == nil || !strings.Contains(err.Error(), trunc) {
		t.Errorf("truncated JPEG: %v", err)
	}
	// A PNG header announcing a gigantic image is refused before decoding.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	huge := buf.Bytes()
	copy(huge[16:24], []byte{0, 1, 0, 0, 0, 1, 0, 0}) // 65536 x 65536
	binary.BigEndian.PutUint32(huge[29:33], crc32.ChecksumIEEE(huge[12:29]))
	hugePath := filepath.Join(dir, "huge.png")
	os.WriteFile(hugePath, huge, 0o644)
	// (On 32-bit platforms image/png itself refuses the header first.)
	if _, err := LoadImage(hugePath); err == nil || !strings.Contains(err.Error(), "exceeds") &&
		!(strconv.IntSize == 32 && strings.Contains(err.Error(), "dimension overflow")) {
		t.Errorf("huge PNG: %v", err)
	}
	// An extreme aspect ratio would make the torchvision resize enormous.
	tv, _ := Default(Torchvision, 224, 224)
	if err := tv.Tensor(image.NewGray(image.Rect(0, 0, 1, 600000)), make([]float32, 3*224*224)); err == nil {
		t.Error("1x600000 image accepted")
	}
}

func TestAtSizeAndStats(t *testing.T) {
	s, err := Spec{Preset: Torchvision}.AtSize(32, 48)
	if err != nil || s.Mean != ImageNetMean || s.Std != ImageNetStd || s.Height != 32 || s.Width != 48 {
		t.Errorf("torchvision defaults: %+v %v", s, err)
	}
	mean, err1 := ParseStats("0.5, 0.5,0.5")
	std, err2 := ParseStats("0.25,0.25,0.25")
	if err1 != nil || err2 != nil || mean != [3]float32{0.5, 0.5, 0.5} {
		t.Fatalf("ParseStats: %v %v %v", mean, err1, err2)
	}
	if s, err := (Spec{Preset: Torchvision, Mean: mean, Std: std}).AtSize(8, 8); err != nil || s.Mean != mean || s.Std != std || s.Height != 8 {
		t.Errorf("custom statistics: %+v %v", s, err)
	}
	for _, bad := range []string{"", "1,2", "1,2,3,4", "a,b,c", "1,NaN,2", "1,Inf,2"} {
		if _, err := ParseStats(bad); err == nil {
			t.Errorf("ParseStats(%q) accepted", bad)
		}
	}
	if _, err := (Spec{Preset: TF, Mean: mean, Std: std}).AtSize(8, 8); err == nil {
		t.Error("custom statistics with the tf preset accepted")
	}
	if _, err := (Spec{Preset: Torchvision, Std: [3]float32{0, 1, 1}}).AtSize(8, 8); err == nil {
		t.Error("a zero std accepted")
	}
}
