package preprocess

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
)

// packedRGB returns m's pixels as tightly packed RGB bytes, PIL's tobytes().
func packedRGB(m *image.RGBA) []byte {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]byte, 0, 3*w*h)
	for y := range h {
		row := m.Pix[y*m.Stride:]
		for x := range w {
			out = append(out, row[4*x], row[4*x+1], row[4*x+2])
		}
	}
	return out
}

// rgbDiff counts the values of got that differ from want and the largest
// difference.
func rgbDiff(got, want []byte) (n, largest int) {
	for i := range got {
		d := int(got[i]) - int(want[i])
		if d != 0 {
			n++
			largest = max(largest, d, -d)
		}
	}
	return n, largest
}

// decodeFileRGB decodes a JPEG with decodeJPEG (no fallback) to packed RGB.
func decodeFileRGB(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := decodeJPEG(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return packedRGB(toRGB(img))
}

// TestJPEGAgainstPillow decodes the JPEGs of testdata/jpeg (made by
// testdata/gen_jpeg.py: every sampling, progressive and sequential codings,
// restart intervals, tiny and odd sizes) and requires the RGB of PIL's
// Image.open(f).convert("RGB") exactly.
func TestJPEGAgainstPillow(t *testing.T) {
	refs, err := filepath.Glob(filepath.Join("testdata", "jpeg", "*.jpg.*.rgb"))
	if err != nil || len(refs) < 20 {
		t.Fatalf("found %d references in testdata/jpeg (run gen_jpeg.py): %v", len(refs), err)
	}
	for _, ref := range refs {
		// <image>.jpg.<W>x<H>.rgb
		base := strings.TrimSuffix(filepath.Base(ref), ".rgb")
		dot := strings.LastIndexByte(base, '.')
		name, size := base[:dot], base[dot+1:]
		if strings.HasSuffix(name, ".fallback.jpg") {
			continue // TestJPEGFallback
		}
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "jpeg", name)
			got := decodeFileRGB(t, path)
			img, err := LoadImage(path)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); fmt.Sprintf("%dx%d", b.Dx(), b.Dy()) != size {
				t.Fatalf("decoded %v, PIL %s", b, size)
			}
			if len(got) != len(want) {
				t.Fatalf("%d RGB bytes, PIL %d", len(got), len(want))
			}
			if n, largest := rgbDiff(got, want); n > 0 {
				t.Errorf("%d of %d RGB values differ from PIL's, by up to %d", n, len(got), largest)
			}
		})
	}
}

// TestJPEGSharedAgainstPillow requires the RGB of every JPEG of
// ../shared/images/{calib,eval} to equal PIL's, through the SHA-256 digests
// that gen_jpeg.py recorded in testdata/jpeg/shared_rgb.sha256.
func TestJPEGSharedAgainstPillow(t *testing.T) {
	dir := golden.Shared(t, "images")
	f, err := os.Open(filepath.Join("testdata", "jpeg", "shared_rgb.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{} // set/name -> "WxH sha256"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		want[name] = rest
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, set := range []string{"calib", "eval"} {
		fs, _ := filepath.Glob(filepath.Join(dir, set, "*.jpg"))
		files = append(files, fs...)
	}
	if len(files) == 0 {
		t.Skipf("no JPEGs in %s", dir)
	}
	for _, path := range files {
		name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no PIL digest in testdata/jpeg/shared_rgb.sha256 (rerun gen_jpeg.py)", name)
			continue
		}
		img, err := LoadImage(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sum := sha256.Sum256(packedRGB(toRGB(img)))
		b := img.Bounds()
		if got := fmt.Sprintf("%dx%d %s", b.Dx(), b.Dy(), hex.EncodeToString(sum[:])); got != w {
			t.Errorf("%s: RGB differs from PIL's: got %s, want %s", name, got, w)
		}
	}
	t.Logf("%d JPEGs of %s decode to PIL's RGB", len(files), dir)
}

// TestJPEGErrors checks that malformed and unsupported JPEGs are refused
// with an error saying why, and that layouts left to image/jpeg still load.
func TestJPEGErrors(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "jpeg", "pil_420_q50.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	arith, err := os.ReadFile(filepath.Join("testdata", "jpeg", "cj_arithmetic.bad.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	// sof returns good with its SOF0 segment passed through edit.
	sof := func(edit func(seg []byte)) []byte {
		d := bytes.Clone(good)
		i := bytes.Index(d, []byte{0xff, 0xc0})
		edit(d[i+4:])
		return d
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a JPEG"},
		{"arithmetic", arith, "arithmetic"},
		{"truncated header", good[:40], "bad length"},
		{"truncated scan", good[:len(good)-200], "truncated"},
		{"no scan", append(bytes.Clone(good[:bytes.Index(good, []byte{0xff, 0xda})]), 0xff, 0xd9), "no image data"},
		{"12-bit", sof(func(s []byte) { s[0] = 12 }), "precision of 12 bits"},
		{"zero height", sof(func(s []byte) { s[1], s[2] = 0, 0 }), "empty image"},
		{"too large", sof(func(s []byte) { s[1], s[2], s[3], s[4] = 0xff, 0xff, 0xff, 0xff }), "exceeds the limit"},
		{"sampling 0", sof(func(s []byte) { s[7] = 0x01 }), "bad sampling factors"},
		{"sampling 5", sof(func(s []byte) { s[7] = 0x51 }), "bad sampling factors"},
		{"quant index", sof(func(s []byte) { s[8] = 7 }), "bad quantization table"},
		{"two components", sof(func(s []byte) { s[5] = 2 }), "does not fit"},
		{"duplicate id", sof(func(s []byte) { s[9] = s[6] }), "duplicate component"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeJPEG(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// A bad marker length inside the file, with the offset in the error.
	d := bytes.Clone(good)
	i := bytes.Index(d, []byte{0xff, 0xdb})
	d[i+2], d[i+3] = 0xff, 0xf0
	if _, err := decodeJPEG(d); err == nil || !strings.Contains(err.Error(), "bad length") || !strings.Contains(err.Error(), "offset") {
		t.Errorf("bad DQT length: got %v", err)
	}
}

// TestJPEGFallback checks that a JPEG whose Cb and Cr are sampled
// differently is left to image/jpeg, and reports what that gives.
func TestJPEGFallback(t *testing.T) {
	path := filepath.Join("testdata", "jpeg", "cj_mixed.fallback.jpg")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeJPEG(data); !errors.Is(err, errJPEGFallback) {
		t.Fatalf("decodeJPEG: got %v, want errJPEGFallback", err)
	}
	img, err := LoadImage(path)
	if err != nil {
		// image/jpeg knows no such layout either: a clear error.
		if !strings.Contains(err.Error(), "unsupported") {
			t.Errorf("LoadImage: %v", err)
		}
		t.Logf("image/jpeg refuses it: %v", err)
		return
	}
	want, err := os.ReadFile(path + ".61x47.rgb")
	if err != nil {
		t.Fatal(err)
	}
	got := packedRGB(toRGB(img))
	n, largest := rgbDiff(got, want)
	t.Logf("via image/jpeg: %d of %d RGB values differ from PIL's, by up to %d", n, len(got), largest)
}

// FuzzDecodeJPEG feeds mutated JPEGs to the decoder, which must return an
// image or an error, without panicking, within a small pixel limit.
func FuzzDecodeJPEG(f *testing.F) {
	for _, pat := range []string{"testdata/*.jpg", "testdata/jpeg/*.jpg"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := decodeJPEGBudget(data, budget{pixels: 1 << 16, memory: 1 << 22})
		if err != nil {
			return
		}
		b := img.Bounds()
		if b.Min != (image.Point{}) || b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > 1<<16 {
			t.Fatalf("bad bounds %v", b)
		}
		toRGB(img)
	})
}
