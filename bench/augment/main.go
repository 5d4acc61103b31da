// Command augment writes N calibration images made from the images of a
// directory by random crops, flips and brightness changes (deterministic
// from -seed), as JPEG files: a calibration set of a practitioner's size
// (hundreds of images) from a few dozen photos, for measuring compiles.
//
//	go run ./bench/augment -in ../shared/images/calib -out /tmp/calib500 -n 500
package main

import (
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime/preprocess"
)

func main() {
	in := flag.String("in", "../shared/images/calib", "source images (a directory)")
	out := flag.String("out", "", "directory to write the images to (created)")
	n := flag.Int("n", 500, "images to write")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "augment: give -out DIR")
		os.Exit(2)
	}
	if err := run(*in, *out, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "augment:", err)
		os.Exit(1)
	}
}

func run(in, out string, n int, seed uint64) error {
	files, err := quant.ListImages(in)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no images under %s", in)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var srcs []image.Image
	for _, f := range files {
		img, err := preprocess.LoadImage(f)
		if err != nil {
			return err
		}
		srcs = append(srcs, img)
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for i := range n {
		img := augment(srcs[i%len(srcs)], r)
		f, err := os.Create(filepath.Join(out, fmt.Sprintf("aug%04d.jpg", i)))
		if err != nil {
			return err
		}
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 90})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// augment returns a random crop (40-100% of each side), mirrored half of
// the time, with a brightness factor in [0.8, 1.2].
func augment(src image.Image, r *rand.Rand) image.Image {
	b := src.Bounds()
	w := max(8, int(float64(b.Dx())*(0.4+0.6*r.Float64())))
	h := max(8, int(float64(b.Dy())*(0.4+0.6*r.Float64())))
	x0 := b.Min.X + r.IntN(max(1, b.Dx()-w+1))
	y0 := b.Min.Y + r.IntN(max(1, b.Dy()-h+1))
	flip := r.IntN(2) == 0
	gain := 0.8 + 0.4*r.Float64()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			sx := x0 + x
			if flip {
				sx = x0 + w - 1 - x
			}
			cr, cg, cb, _ := src.At(sx, y0+y).RGBA()
			o := dst.PixOffset(x, y)
			dst.Pix[o] = scale(cr, gain)
			dst.Pix[o+1] = scale(cg, gain)
			dst.Pix[o+2] = scale(cb, gain)
			dst.Pix[o+3] = 255
		}
	}
	return dst
}

func scale(c uint32, gain float64) uint8 { return uint8(min(255, float64(c>>8)*gain)) }
