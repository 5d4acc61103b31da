package preprocess

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"
)

// fuzzBudget is the budget of FuzzImage: small, so that the fuzzer
// explores the checks instead of decoding large images.
var fuzzBudget = budget{pixels: 1 << 16, memory: 1 << 22}

// FuzzImage feeds every format (JPEG, PNG, BMP, WebP; seeded with the
// test images and headers of each) to decode, LoadImage's decoder, with a
// small budget: never a panic, and an image that decodes stays within the
// budget's pixels and converts to RGB; decoding it and the RGB copy
// allocate no more than the budget's memory allows (checkMemory's
// accounting is sound), give or take the decoders' tables and buffers
// and copies of the input.
//
//	go test -fuzz=FuzzImage -fuzztime=10m ./runtime/preprocess/
func FuzzImage(f *testing.F) {
	for _, pat := range []string{"testdata/*.jpg", "testdata/*.png", "testdata/*.bmp", "testdata/*.webp", "testdata/jpeg/*.jpg"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add(jpegHeader(300, 300, 3, 0x22, true, true))
	f.Add(webpHeader("VP8L", 300, 200))
	f.Add(webpHeader("VP8X-alpha", 300, 200))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		img, err := decode(bytes.NewReader(data), fuzzBudget)
		if err != nil {
			return
		}
		toRGB(img)
		goruntime.ReadMemStats(&after)
		if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > fuzzBudget.memory+8*int64(len(data))+2<<20 {
			t.Fatalf("decoding a %v image allocated %d bytes, beyond its budget of %d", img.Bounds(), grew, fuzzBudget.memory)
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || int64(b.Dx())*int64(b.Dy()) > fuzzBudget.pixels {
			t.Fatalf("decoded bounds %v beyond the budget", b)
		}
		if r := toRGB(img); r.Rect != image.Rect(0, 0, b.Dx(), b.Dy()) {
			t.Fatalf("toRGB: %v for %v", r.Rect, b)
		}
	})
}
