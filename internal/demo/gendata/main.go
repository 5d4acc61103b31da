// Command gendata writes a demo dataset: the PNG images of
// demo.WriteDataset and labels.txt. testdata/gen/train_demo.py uses it so
// that the training images come from the same Go code as the ones `mnc
// demo` generates.
//
//	go run ./internal/demo/gendata -out DIR -n N -seed S -size PX
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mncdev/mnc/internal/demo"
)

func main() {
	out := flag.String("out", "", "output directory (created if needed)")
	n := flag.Int("n", 1000, "number of images")
	seed := flag.Uint64("seed", 1, "dataset seed")
	size := flag.Int("size", demo.ModelConfig.ImageSize, "image side in pixels")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gendata -out DIR [-n N] [-seed S] [-size PX]")
		os.Exit(2)
	}
	if err := demo.WriteDataset(*out, *n, *seed, *size); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}
