package tflite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// fuzzSeeds are the committed test files (the models of the tests) and, when ../shared is there, the real MobileNetV1 with truncations.
func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob(filepath.Join("testdata", "*.tflite"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			seeds = append(seeds, b)
		}
	}
	if b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "models", "tflite", "mobilenet_v1_0.25_128_quant.tflite")); err == nil {
		seeds = append(seeds, b)
		for _, n := range []int{8, 64, 1000, len(b) / 2, len(b) - 1} {
			seeds = append(seeds, b[:n])
		}
	}
	n := len(seeds)
	for _, s := range seeds[:n] {
		if len(s) > 16 {
			seeds = append(seeds, s[:len(s)/3], s[:len(s)-3])
		}
	}
	return seeds
}

func FuzzTFLite(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := decode(data) // no recover: a panic is a finding
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if err := ir.Verify(g); err != nil {
			t.Fatalf("accepted a graph that fails verification: %v", err)
		}
	})
}
