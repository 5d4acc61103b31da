package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"image"
	"math"
	"testing"
)

func pixHash(img *image.RGBA) string {
	h := sha256.Sum256(img.Pix)
	return hex.EncodeToString(h[:8])
}

// TestGolden pins the pixels of a few images: a change in the generator
// (or in the PCG source) makes the committed model's training data differ
// from what `mnc demo` generates, so it must be deliberate.
func TestGolden(t *testing.T) {
	cases := []struct {
		class int
		seed  uint64
		size  int
		want  string
	}{
		{0, 1, 109, "0a53ff861817eca1"},
		{3, 42, 109, "e9093100a1e9c315"},
		{6, 7, 64, "e1d71b4dca5dcb8c"},
		{8, 1 << 63, 109, "b099243801e452ee"},
		{9, 12345, 32, "30abc17f3e7ead09"},
	}
	for _, c := range cases {
		if got := pixHash(Image(c.class, c.seed, c.size)); got != c.want {
			t.Errorf("Image(%d, %d, %d): pixel hash %s, want %s", c.class, c.seed, c.size, got, c.want)
		}
	}
	// Sample: the seed hashing and the class cycle.
	for _, c := range []struct {
		i    int
		seed uint64
		want string
	}{{0, 4, "3aa8940d2130cc12"}, {17, 4, "130adfdaf95b459e"}, {123456, 99, "edd2d64501335934"}} {
		img, class := Sample(c.i, c.seed, ModelConfig.ImageSize)
		if class != c.i%len(Classes) {
			t.Errorf("Sample(%d): class %d, want %d", c.i, class, c.i%len(Classes))
		}
		if got := pixHash(img); got != c.want {
			t.Errorf("Sample(%d, %d): pixel hash %s, want %s", c.i, c.seed, got, c.want)
		}
	}
	// The first 100 training images of train_demo.py (seed 1).
	h := sha256.New()
	for i := range 100 {
		img, _ := Sample(i, 1, ModelConfig.ImageSize)
		h.Write(img.Pix)
	}
	if got, want := hex.EncodeToString(h.Sum(nil)[:8]), "1edd673902e32cde"; got != want {
		t.Errorf("samples 0..99 of seed 1: pixel hash %s, want %s", got, want)
	}
}

func TestDeterministic(t *testing.T) {
	for class := range Classes {
		a := Image(class, 99, 109)
		b := Image(class, 99, 109)
		if pixHash(a) != pixHash(b) {
			t.Errorf("class %s: two calls differ", Classes[class])
		}
		if pixHash(a) == pixHash(Image(class, 100, 109)) {
			t.Errorf("class %s: seeds 99 and 100 give the same image", Classes[class])
		}
	}
}

// TestImages checks every class at several sizes: right bounds, opaque,
// not flat, and different classes with one seed differ.
func TestImages(t *testing.T) {
	for _, size := range []int{MinSize, 64, 109, 160} {
		seen := map[string]string{}
		for class, name := range Classes {
			for seed := range uint64(10) {
				img := Image(class, seed, size)
				if img.Rect != image.Rect(0, 0, size, size) {
					t.Fatalf("%s size %d: bounds %v", name, size, img.Rect)
				}
				lo, hi := 255, 0
				for i := 0; i < len(img.Pix); i += 4 {
					if img.Pix[i+3] != 255 {
						t.Fatalf("%s size %d seed %d: pixel %d not opaque", name, size, seed, i/4)
					}
					l := (77*int(img.Pix[i]) + 150*int(img.Pix[i+1]) + 29*int(img.Pix[i+2])) >> 8
					lo, hi = min(lo, l), max(hi, l)
				}
				if hi-lo < 60 && size >= 64 {
					t.Errorf("%s size %d seed %d: luma range %d..%d, want a visible object", name, size, seed, lo, hi)
				}
				if seed == 0 {
					h := pixHash(img)
					if other, ok := seen[h]; ok {
						t.Errorf("size %d: %s and %s render identically", size, other, name)
					}
					seen[h] = name
				}
			}
		}
	}
}

// TestObjectInCrop renders objects alone on a black canvas and checks that
// nothing is drawn outside the central 7/8 that the torchvision preset's
// center crop keeps (textures covering the whole image excepted), and that
// the object covers a reasonable part of it.
func TestObjectInCrop(t *testing.T) {
	const size = 109
	margin := size / 16
	for class, name := range Classes {
		for seed := range uint64(100) {
			r := &rng{}
			r.p.Seed(seed, 1)
			c := &canvas{size: size, img: image.NewRGBA(image.Rect(0, 0, size, size))}
			c.object(r, class, rgb{255, 255, 255})
			outside, inside := 0, 0
			for y := range size {
				for x := range size {
					if c.img.Pix[y*c.img.Stride+4*x] == 0 {
						continue
					}
					if x < margin || y < margin || x >= size-margin || y >= size-margin {
						outside++
					} else {
						inside++
					}
				}
			}
			full := outside > 0 && class >= clsHStripes
			if outside > 0 && !full {
				t.Errorf("%s seed %d: %d pixels outside the center crop", name, seed, outside)
			}
			if frac := float64(inside) / float64((size-2*margin)*(size-2*margin)); frac < 0.03 || frac > 0.8 {
				t.Errorf("%s seed %d: object covers %.1f%% of the crop", name, seed, 100*frac)
			}
		}
	}
}

func TestSinTable(t *testing.T) {
	for a := -720; a <= 720; a++ {
		want := math.Sin(float64(a) * math.Pi / 180)
		if got := float64(sinDeg(a)) / (1 << 14); math.Abs(got-want) > 0.6/(1<<14) {
			t.Errorf("sinDeg(%d) = %v, want %v", a, got, want)
		}
		wantC := math.Cos(float64(a) * math.Pi / 180)
		if got := float64(cosDeg(a)) / (1 << 14); math.Abs(got-wantC) > 0.6/(1<<14) {
			t.Errorf("cosDeg(%d) = %v, want %v", a, got, wantC)
		}
	}
}

func TestSampleClasses(t *testing.T) {
	counts := make([]int, len(Classes))
	for i := range 3 * len(Classes) {
		_, class := Sample(i, 5, MinSize)
		counts[class]++
	}
	for k, n := range counts {
		if n != 3 {
			t.Errorf("class %s: %d samples of %d, want 3", Classes[k], n, 3*len(Classes))
		}
	}
}

func TestPanics(t *testing.T) {
	for _, f := range []func(){
		func() { Image(-1, 0, 64) },
		func() { Image(len(Classes), 0, 64) },
		func() { Image(0, 0, MinSize-1) },
		func() { Image(0, 0, MaxSize+1) },
		func() { Sample(-1, 0, 64) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}
