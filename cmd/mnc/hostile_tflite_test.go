package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
)

// Cases: the TFLite reader given files larger than any model, truncated,
// with a shape asking for terabytes, and TFLite bytes under another name.
func init() {
	model := func(t *testing.T) []byte {
		b, err := os.ReadFile(filepath.Join(golden.RepoRoot(t), "frontend", "tflite", "testdata", "squeeze_softmax.tflite"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hostileCases = append(hostileCases,
		hostileCase{
			name: "readers-tflite-8g-sparse",
			setup: func(t *testing.T, dir string) []string {
				return []string{"inspect", sparseFile(t, dir, "big.tflite", []byte("\x10\x00\x00\x00TFL3"), 8<<30)}
			},
			want: "is 8 GiB; the limit is 2 GiB",
		},
		hostileCase{
			name: "readers-tflite-truncated",
			setup: func(t *testing.T, dir string) []string {
				b := model(t)
				return []string{"inspect", writeFile(t, dir, "cut.tflite", b[:len(b)/2])}
			},
			want: "outside the file",
		},
		hostileCase{
			name: "readers-tflite-named-onnx",
			setup: func(t *testing.T, dir string) []string {
				return []string{"inspect", writeFile(t, dir, "model.onnx", []byte("\x10\x00\x00\x00TFL3\x00\x00\x00\x00"))}
			},
			want: "Model: table at 16 is outside the file (12 bytes)",
		},
		hostileCase{
			name: "readers-tflite-terabyte-shape",
			setup: func(t *testing.T, dir string) []string {
				// The input [1,1,1,5] of the model becomes [1,1,5,65536^2]:
				// its shape vector is found by its bytes.
				b := model(t)
				old := []byte{4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0}
				for i := 0; i+len(old) <= len(b); i++ {
					if string(b[i:i+len(old)]) == string(old) {
						binary.LittleEndian.PutUint32(b[i+12:], 1<<16)
						binary.LittleEndian.PutUint32(b[i+16:], 1<<16)
						return []string{"inspect", writeFile(t, dir, "huge.tflite", b)}
					}
				}
				t.Fatal("input shape not found")
				return nil
			},
			want: "holds more than 1073741824 elements",
		},
	)
}
