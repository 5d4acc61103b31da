package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/mncdev/mnc/internal/demo"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// Cases of the runtime's readers: .mnc files (the verifier, the loader),
// images (decoded-memory limit, FIFOs, sizes) and the runtime's limits as
// the compiler checks them.
func init() {
	onnx := func(t *testing.T) string { return goldenFile(t, "mobilenet_v3_small", "onnx_opset17") }
	runImage := func(t *testing.T, img string) []string {
		return []string{"run", onnx(t), "--preprocess", "tf", img}
	}
	mncCase := func(name, want string, change func(t *testing.T, b []byte) []byte) hostileCase {
		return hostileCase{
			name: name,
			setup: func(t *testing.T, dir string) []string {
				p := writeFile(t, dir, "model.mnc", change(t, compiledModel(t)))
				img := writeFile(t, dir, "photo.png", tinyPNG(t))
				return []string{"run", p, img}
			},
			want: want,
		}
	}
	hostileCases = append(hostileCases,
		hostileCase{
			// The red team's case: 350 KB of PNG (8-bit RGB, zero rows)
			// announcing 11000x11000 pixels, under the pixel limit; it
			// exhausted a 3 GB address space.
			name: "runtime-png-11000x11000",
			setup: func(t *testing.T, dir string) []string {
				return runImage(t, writeFile(t, dir, "big.png", zeroPNG(t, 11000, 11000)))
			},
			want: "the 11000x11000 PNG image needs 1.4 GiB to decode and preprocess; the limit is 1 GiB",
		},
		hostileCase{
			// A progressive 4:4:4 JPEG header of 12000x11000: its
			// coefficients alone would take 1.5 GiB.
			name: "runtime-jpeg-progressive-coefficients",
			setup: func(t *testing.T, dir string) []string {
				hdr := []byte{0xff, 0xd8, 0xff, 0xc2, 0, 17, 8, 0x2a, 0xf8, 0x2e, 0xe0, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0,
					0xff, 0xda, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 0, 0}
				return runImage(t, writeFile(t, dir, "big.jpg", hdr))
			},
			want: "the 12000x11000 JPEG image needs 2.1 GiB to decode and preprocess; the limit is 1 GiB",
		},
		hostileCase{
			name: "runtime-image-sparse-1GiB",
			setup: func(t *testing.T, dir string) []string {
				return runImage(t, sparseFile(t, dir, "huge.jpg", []byte{0xff, 0xd8}, 1<<30))
			},
			want: "is 1 GiB; the limit is 512 MiB",
		},
		hostileCase{
			name: "runtime-image-fifo-mnc",
			setup: func(t *testing.T, dir string) []string {
				p := writeFile(t, dir, "model.mnc", compiledModel(t))
				fifo := filepath.Join(dir, "photo.jpg")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Skip(err)
				}
				return []string{"run", p, fifo}
			},
			want: "is a named pipe (FIFO), not a regular file",
		},
		hostileCase{
			name: "runtime-model-fifo",
			setup: func(t *testing.T, dir string) []string {
				fifo := filepath.Join(dir, "model.mnc")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Skip(err)
				}
				return []string{"run", fifo, writeFile(t, dir, "photo.png", tinyPNG(t))}
			},
			// The runtime's IsModelFile no longer blocks on it; the CLI
			// then finds no model format.
			want: "unknown model format",
		},
		hostileCase{
			name: "runtime-model-sparse-3GiB",
			setup: func(t *testing.T, dir string) []string {
				head := compiledModel(t)[:64]
				return []string{"run", sparseFile(t, dir, "model.mnc", head, 3<<30), writeFile(t, dir, "photo.png", tinyPNG(t))}
			},
			want: "is 3 GiB; the limit is 2 GiB",
		},
		mncCase("runtime-mnc-trailing-bytes", "bytes follow the model's FlatBuffer", func(t *testing.T, b []byte) []byte {
			return append(b, "#!/bin/sh appended\n"...)
		}),
		mncCase("runtime-mnc-precision-contradicts-tensors", "the file's precision is float32, but tensor", func(t *testing.T, b []byte) []byte {
			if !mncfb.GetRootAsModel(b, 0).MutatePrecision(mncfb.PrecisionFLOAT32) {
				t.Fatal("no precision field to change")
			}
			return b
		}),
		hostileCase{
			// Two 3x3 convolutions of a 4000x4000 input into 8 channels:
			// every tensor is within the readers' budget (488 MiB at most,
			// 1.2 GiB in all), but the two outputs live at once, so the
			// runtime's arena would need 976 MiB.
			name: "runtime-compile-activations-over-limit",
			setup: func(t *testing.T, dir string) []string {
				return []string{"compile", writeFile(t, dir, "big.onnx", twoConvModel(4000)), "--quant", "float32", "-o", filepath.Join(dir, "big.mnc")}
			},
			want: "the model's activations need 976.6 MiB (its arena); the runtime's limit is 512 MiB",
		},
	)
}

var (
	compiledOnce sync.Once
	compiled     []byte
	compiledErr  error
)

// compiledModel is an int8 .mnc file of the golden MobileNetV3-Small,
// compiled once by the binary under test (a copy each call).
func compiledModel(t *testing.T) []byte {
	t.Helper()
	src := goldenFile(t, "mobilenet_v3_small", "onnx_opset17")
	compiledOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hostile-mnc-")
		if err != nil {
			compiledErr = err
			return
		}
		defer os.RemoveAll(dir)
		out, calib := filepath.Join(dir, "m.mnc"), filepath.Join(dir, "calib")
		if compiledErr = demo.WriteDataset(calib, 4, 7, 80); compiledErr != nil {
			return
		}
		if b, err := exec.Command(mncBin, "compile", src, "--quant", "int8", "--calib", calib, "--preprocess", "tf", "-o", out).CombinedOutput(); err != nil {
			compiledErr = &exec.ExitError{Stderr: b}
			return
		}
		compiled, compiledErr = os.ReadFile(out)
	})
	if compiledErr != nil {
		t.Fatalf("compile: %v", compiledErr)
	}
	return append([]byte(nil), compiled...)
}

// zeroPNG is an 8-bit RGB PNG of w x h black pixels (rows of zeros, which
// deflate compresses about 1000:1).
func zeroPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		out.Write(n[:])
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.BigEndian.PutUint32(n[:], crc.Sum32())
		out.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]byte, 1+3*w) // filter type 0, zeros
	for range h {
		zw.Write(row)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// twoConvModel is an ONNX model of two 3x3 convolutions (padding 1) of a
// 1 x 3 x size x size input into 8 channels each.
func twoConvModel(size int64) []byte {
	weights := func(name string, o, i int64) []byte {
		raw := make([]byte, o*i*3*3*4)
		for k := 0; k < len(raw); k += 4 {
			binary.LittleEndian.PutUint32(raw[k:], math.Float32bits(0.01))
		}
		return rdBytes(5, rdVarint(1, o), rdVarint(1, i), rdVarint(1, 3), rdVarint(1, 3), rdVarint(2, 1), rdBytes(8, []byte(name)), rdBytes(9, raw))
	}
	pads := rdAttrInts("pads", 1, 1, 1, 1)
	return rdModel(rdInput("x", 1, 3, size, size), weights("W1", 8, 3), weights("W2", 8, 8),
		rdNode("Conv", []string{"x", "W1"}, []string{"y1"}, pads),
		rdNode("Conv", []string{"y1", "W2"}, []string{"y2"}, pads), rdOutput("y2"))
}
