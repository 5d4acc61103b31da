package preprocess

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/mncdev/mnc/runtime/limits"
)

// pngHeader is a PNG of img (1x1) whose IHDR announces w x h (and Adam7
// interlacing if interlaced): only its header is valid.
func pngHeader(t testing.TB, img image.Image, w, h int, interlaced bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	if interlaced {
		b[28] = 1
	}
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// bmpHeader is a BMP of img (1x1) whose header announces w x h.
func bmpHeader(t testing.TB, img image.Image, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bmp.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	binary.LittleEndian.PutUint32(b[18:], uint32(w))
	binary.LittleEndian.PutUint32(b[22:], uint32(h))
	return b
}

// webpHeader is the start of a WebP file of w x h: lossless (VP8L), lossy
// (VP8) or extended (VP8X, with alpha or not).
func webpHeader(kind string, w, h int) []byte {
	var chunk []byte
	switch kind {
	case "VP8L":
		v := uint32(w-1) | uint32(h-1)<<14
		chunk = []byte{'V', 'P', '8', 'L', 5, 0, 0, 0, 0x2f, byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), 0}
	case "VP8":
		chunk = []byte{'V', 'P', '8', ' ', 10, 0, 0, 0, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8)}
	case "VP8X", "VP8X-alpha":
		flags := byte(0)
		if kind == "VP8X-alpha" {
			flags = 1 << 4
		}
		chunk = []byte{'V', 'P', '8', 'X', 10, 0, 0, 0, flags, 0, 0, 0,
			byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	}
	b := append([]byte("RIFF\x00\x00\x00\x00WEBP"), chunk...)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8+1000))
	return b
}

// jpegHeader is SOI and a frame header (SOF0, or SOF2 if progressive) of
// w x h with nc components, the first sampled hv (e.g. 0x22 for 4:2:0),
// the others 1x1, and a JFIF marker when jfif (YCbCr; else three
// components named R, G, B are RGB).
func jpegHeader(w, h, nc int, hv byte, progressive, jfif bool) []byte {
	b := []byte{0xff, 0xd8}
	if jfif {
		b = append(b, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0)
	}
	sof := byte(0xc0)
	if progressive {
		sof = 0xc2
	}
	n := 8 + 3*nc
	b = append(b, 0xff, sof, byte(n>>8), byte(n), 8, byte(h>>8), byte(h), byte(w>>8), byte(w), byte(nc))
	for i := range nc {
		s := byte(0x11)
		if i == 0 {
			s = hv
		}
		b = append(b, "RGBK"[i], s, 0)
	}
	return b
}

// headerCheck is the check of decode for the header of an image file
// made of its header only (for JPEG, that of its first scan).
func headerCheck(t *testing.T, data []byte, bud budget) error {
	t.Helper()
	if data[0] == 0xff && data[1] == 0xd8 {
		d := &jpegDecoder{data: data, bud: bud}
		err := d.decode() // a header only: stops after the frame
		if !d.frame {
			return err
		}
		return d.allocateCheck()
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if err := bud.checkPixels(cfg.Width, cfg.Height); err != nil {
		return err
	}
	return bud.checkMemory(format, cfg.Width, cfg.Height, decoderBytes(format, cfg, data))
}

// allocateCheck is the check of allocate without the allocation.
func (d *jpegDecoder) allocateCheck() error {
	fallback := false
	if err := d.checkColor(); err != nil {
		fallback = true
	}
	return d.bud.checkMemory("JPEG", d.w, d.h, d.need(fallback))
}

// TestImageMemoryAdmits: a 50-megapixel photo (8160x6120) passes the
// memory limit in every common form; larger or heavier images do not.
func TestImageMemoryAdmits(t *testing.T) {
	const w, h = 8160, 6120
	nrgba64 := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	nrgba64.SetNRGBA64(0, 0, color.NRGBA64{1, 2, 3, 4})
	ok := map[string][]byte{
		"baseline 4:2:0 JPEG":    jpegHeader(w, h, 3, 0x22, false, true),
		"progressive 4:2:0 JPEG": jpegHeader(w, h, 3, 0x22, true, true),
		"progressive 4:4:4 JPEG": jpegHeader(w, h, 3, 0x11, true, true),
		"progressive gray JPEG":  jpegHeader(w, h, 1, 0x11, true, false),
		"RGB JPEG":               jpegHeader(w, h, 3, 0x11, false, false),
		"CMYK JPEG":              jpegHeader(w, h, 4, 0x11, false, false),
		"8-bit RGB PNG":          pngHeader(t, image.NewRGBA(image.Rect(0, 0, 1, 1)), w, h, false),
		"16-bit RGBA PNG":        pngHeader(t, nrgba64, w, h, false),
		"interlaced 8-bit PNG":   pngHeader(t, image.NewRGBA(image.Rect(0, 0, 1, 1)), w, h, true),
		"paletted PNG":           pngHeader(t, image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.Black}), w, h, false),
		"24-bit BMP":             bmpHeader(t, image.NewRGBA(image.Rect(0, 0, 1, 1)), w, h),
		"lossless WebP":          webpHeader("VP8L", w, h),
		"lossy WebP":             webpHeader("VP8", w, h),
		"extended WebP":          webpHeader("VP8X", w, h),
	}
	for name, data := range ok {
		if err := headerCheck(t, data, imageBudget); err != nil {
			t.Errorf("%s of %dx%d: %v", name, w, h, err)
		}
	}
	refused := map[string][]byte{
		// The red team's 350 KB PNG of 11000x11000 (under the pixel limit).
		"11000x11000 gray PNG":              pngHeader(t, image.NewGray(image.Rect(0, 0, 1, 1)), 11000, 11000, false),
		"11000x11000 baseline JPEG":         jpegHeader(11000, 11000, 3, 0x22, false, true),
		"interlaced 16-bit PNG of 50 MP":    pngHeader(t, nrgba64, w, h, true),
		"progressive CMYK JPEG of 50 MP":    jpegHeader(w, h, 4, 0x11, true, false),
		"WebP with alpha of 50 MP":          webpHeader("VP8X-alpha", w, h),
		"16383x8000 lossless WebP":          webpHeader("VP8L", 16383, 8000),
		"12000x11000 progressive 4:4:4":     jpegHeader(12000, 11000, 3, 0x11, true, true),
		"30000x30000 BMP (over the pixels)": bmpHeader(t, image.NewRGBA(image.Rect(0, 0, 1, 1)), 30000, 30000),
	}
	for name, data := range refused {
		err := headerCheck(t, data, imageBudget)
		if strconv.IntSize == 32 && errors.Is(err, bmp.ErrUnsupported) {
			// Where int has 32 bits, x/image/bmp itself refuses a BMP
			// whose 4-byte pixels overflow int (30000x30000 does).
			t.Logf("%s: %v (32-bit int)", name, err)
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "the limit is "+limits.Bytes(limits.ImageMemory)) && !strings.Contains(err.Error(), "pixels") {
			t.Errorf("%s: %v, want the memory or pixel limit", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestImageMemoryRefusedBeforeDecoding: LoadImage refuses an image whose
// header asks for more than the memory limit (a 11000x11000 PNG passes the
// pixel limit) without decoding it; a JPEG is refused at its first scan,
// also when image/jpeg would decode it; a real image decodes within a
// budget of exactly what it needs and not within one byte less.
func TestImageMemoryRefusedBeforeDecoding(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"big.png":  pngHeader(t, image.NewGray(image.Rect(0, 0, 1, 1)), 11000, 11000, false),
		"big.jpg":  append(jpegHeader(11000, 11000, 3, 0x22, true, true), 0xff, 0xda, 0, 12, 3, 'R', 0, 'G', 0, 'B', 0, 0, 0, 0),
		"cmyk.jpg": append(jpegHeader(8160, 6120, 4, 0x11, true, false), 0xff, 0xda, 0, 14, 4, 'R', 0, 'G', 0, 'B', 0, 'K', 0, 0, 0, 0),
		"sub.jpg":  append(jpegHeader(12000, 11000, 3, 0x21, true, false), 0xff, 0xda, 0, 12, 3, 'R', 0, 'G', 0, 'B', 0, 0, 0, 0),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadImage(p)
		if err == nil || !strings.Contains(err.Error(), "to decode and preprocess; the limit is 1 GiB") {
			t.Errorf("%s: %v", name, err)
		} else {
			t.Log(err)
		}
	}

	for _, file := range []string{"img_61x47.jpg", "img_61x47_422.jpg", "img_61x47.webp", "img_61x47_lossy.webp", "img_61x47_p.png", "img_47x61.bmp"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		var need int64
		for lo, hi := int64(0), int64(1<<24); lo < hi; {
			mid := (lo + hi) / 2
			if _, err := decode(bytes.NewReader(data), budget{pixels: 1 << 20, memory: mid}); err != nil {
				if !strings.Contains(err.Error(), "the limit is") {
					t.Fatalf("%s: %v", file, err)
				}
				lo = mid + 1
			} else {
				hi = mid
			}
			need = lo
		}
		if _, err := decode(bytes.NewReader(data), budget{pixels: 1 << 20, memory: need}); err != nil {
			t.Errorf("%s: %v within %d bytes", file, err, need)
		}
		// At least the decoded image and mnc's two copies.
		if need < 9*61*47 {
			t.Errorf("%s: needs %d bytes, fewer than its pixels' copies", file, need)
		}
		t.Logf("%s: %d bytes (%.1f a pixel)", file, need, float64(need)/(61*47))
	}
}

// TestLoadImage50MP decodes a real 50-megapixel JPEG (phone photo size).
func TestLoadImage50MP(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes a 50 MP image")
	}
	const w, h = 8160, 6120
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 251)
	}
	p := filepath.Join(t.TempDir(), "photo.jpg")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	ycc := image.NewYCbCr(img.Rect, image.YCbCrSubsampleRatio420)
	copy(ycc.Y, img.Pix)
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 128, uint8(i%200)
	}
	img = nil
	if err := jpeg.Encode(f, ycc, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ycc = nil
	got, err := LoadImage(p)
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("bounds %v", b)
	}
}

// TestLoadImageNotRegular: a FIFO is refused before it is opened (opening
// it for reading would block until a writer comes), and so is a directory.
func TestLoadImageNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "photo.jpg")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	if _, err := LoadImage(fifo); err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("FIFO: %v", err)
	}
	if _, err := LoadImage(dir); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("directory: %v", err)
	}
	// A name with control characters is printed escaped.
	odd := filepath.Join(dir, "a\x1b[31mb.png")
	os.WriteFile(odd, []byte("not an image"), 0o644)
	if _, err := LoadImage(odd); err == nil || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("escaped name: %v", err)
	}
}
