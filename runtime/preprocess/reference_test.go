package preprocess

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/internal/npy"
)

type diffStats struct {
	max, mean float64
	over      int // values differing by more than the given step
	n         int
}

func compare(got, want []float32, step float64) diffStats {
	var s diffStats
	s.n = len(got)
	sum := 0.0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		sum += d
		s.max = max(s.max, d)
		if d > step*1.0001 {
			s.over++
		}
	}
	s.mean = sum / float64(len(got))
	return s
}

// TestSharedReference compares the TF preset at 224x224 against the inputs
// the reference logits were computed from (PIL bilinear resize to 224x224,
// x/127.5 - 1, NCHW float32).
func TestSharedReference(t *testing.T) {
	shared := golden.Shared(t)
	spec, err := Default(TF, 224, 224)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		image, ref string
		tol        float64
	}{
		// Lossless source: only resampling arithmetic can differ.
		{"grace_hopper.bmp", "mobilenet_v2_1.0_224.grace_hopper.input.npy", 1.0001 / 127.5},
		// JPEG: decoded like libjpeg, so the tensors are identical.
		{"parrot.jpg", "mobilenet_v2_1.0_224.parrot.input.npy", 0},
	} {
		ref, err := npy.ReadFile(filepath.Join(shared, "models", "reference", tc.ref))
		if err != nil {
			t.Skipf("../shared not found: %v", err)
		}
		got := make([]float32, 3*224*224)
		if err := spec.File(filepath.Join(shared, "images", "eval", tc.image), got); err != nil {
			t.Fatal(err)
		}
		if len(ref.Data) != len(got) {
			t.Fatalf("%s: reference shape %v", tc.ref, ref.Shape)
		}
		s := compare(got, ref.Data, 1/127.5)
		t.Logf("%s vs %s: max abs diff %.6f (%.2f levels), mean abs diff %.6f, %d of %d values differ by more than one 8-bit level",
			tc.image, tc.ref, s.max, s.max*127.5, s.mean, s.over, s.n)
		if s.max > tc.tol {
			t.Errorf("%s: max abs diff %.6f exceeds %.6f", tc.image, s.max, tc.tol)
		}
	}
}

// BenchmarkFileShared decodes and preprocesses ../shared's calibration
// photos (JPEG, PNG, BMP of assorted sizes) to 224x224, as calibration
// does: one image per iteration, in turn. Calibration decodes on every
// core while the interpreters run, so this is the rate to compare with an
// inference's time.
func BenchmarkFileShared(b *testing.B) {
	dir := golden.Shared(b, "images", "calib")
	files, err := filepath.Glob(filepath.Join(dir, "*.*"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no images in %s: %v", dir, err)
	}
	for _, p := range []Preset{TF, Torchvision} {
		b.Run(string(p), func(b *testing.B) {
			spec, err := Default(p, 224, 224)
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]float32, 3*224*224)
			i := 0
			for b.Loop() {
				if err := spec.File(files[i%len(files)], dst); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkDecodeJPEGShared decodes ../shared's JPEG photos to RGB, with
// this package's libjpeg-exact decoder and, for comparison, with
// image/jpeg (the same RGB conversion follows both).
func BenchmarkDecodeJPEGShared(b *testing.B) {
	var data [][]byte
	for _, set := range []string{"calib", "eval"} {
		files, _ := filepath.Glob(filepath.Join(golden.Shared(b, "images", set), "*.jpg"))
		for _, f := range files {
			d, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			data = append(data, d)
		}
	}
	if len(data) == 0 {
		b.Skip("no JPEGs in ../shared/images")
	}
	for _, dec := range []struct {
		name string
		fn   func([]byte) (image.Image, error)
	}{
		{"mnc", decodeJPEG},
		{"image-jpeg", func(d []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(d)) }},
	} {
		b.Run(dec.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				img, err := dec.fn(data[i%len(data)])
				if err != nil {
					b.Fatal(err)
				}
				toRGB(img)
				i++
			}
		})
	}
}
