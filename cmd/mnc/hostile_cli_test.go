package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mncdev/mnc/internal/golden"
)

// Cases of the command line (prefix cli-): outputs that are not regular
// files, flags that size allocations, explicit invalid values, strings
// from files on the terminal, and calibration on activations that
// overflow float32.
func init() {
	v3s := func(t *testing.T) string { return goldenFile(t, "mobilenet_v3_small", "onnx_opset17") }
	input := func(t *testing.T) string { return goldenFile(t, "mobilenet_v3_small", "input") }
	hostileCases = append(hostileCases,
		// 1. Outputs.
		hostileCase{
			name:  "cli-output-empty",
			setup: func(t *testing.T, dir string) []string { return []string{"compile", v3s(t), "-o", ""} },
			want:  "--output: the value is empty", code: exitUsage,
		},
		hostileCase{
			name: "cli-output-symlink",
			setup: func(t *testing.T, dir string) []string {
				return []string{"compile", v3s(t), "--preprocess", "tf", "-o", symlinkTo(t, dir, "model.mnc", "real.mnc")}
			},
			want: `output "model.mnc" is a symbolic link (to "real.mnc"); mnc does not write through links`,
		},
		hostileCase{
			name: "cli-output-device",
			setup: func(t *testing.T, dir string) []string {
				return []string{"compile", v3s(t), "--preprocess", "tf", "-o", deviceNode(t, dir, "model.mnc")}
			},
			want: `-o: output "model.mnc" is a character device, not a regular file; refusing to replace it`,
		},
		hostileCase{
			name: "cli-save-output-symlink",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", v3s(t), "--tensor", input(t), "--save-output", symlinkTo(t, dir, "out.npy", "real.npy")}
			},
			want: `--save-output: output "out.npy" is a symbolic link`,
		},
		hostileCase{
			name: "cli-save-output-device",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", v3s(t), "--tensor", input(t), "--save-output", deviceNode(t, dir, "out.npy")}
			},
			want: `--save-output: output "out.npy" is a character device`,
		},
		hostileCase{
			name: "cli-save-output-fifo",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", v3s(t), "--tensor", input(t), "--save-output", fifo(t, dir, "out.npy")}
			},
			want: `out.npy" is a named pipe (FIFO), not a regular file; refusing to replace it`,
		},
		hostileCase{
			name: "cli-report-html-symlink",
			setup: func(t *testing.T, dir string) []string {
				return []string{"compile", v3s(t), "--quant", "int8", "--calib", calibImages(t), "--preprocess", "tf",
					"--report-html", symlinkTo(t, dir, "report.html", "real.html")}
			},
			want: `--report-html: output "report.html" is a symbolic link`,
		},
		hostileCase{
			name: "cli-deploy-symlink-force",
			setup: func(t *testing.T, dir string) []string {
				if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
					t.Fatal(err)
				}
				link := filepath.Join(dir, "board")
				if err := os.Symlink("real", link); err != nil {
					t.Fatal(err)
				}
				return []string{"deploy", float32Model(t), "--target", "amd64-avx2", "-o", link, "--force"}
			},
			want: "is a symbolic link, not a folder; refusing to replace it",
		},
		hostileCase{
			name: "cli-demo-dir-symlink",
			setup: func(t *testing.T, dir string) []string {
				if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("real", filepath.Join(dir, "out")); err != nil {
					t.Fatal(err)
				}
				return []string{"demo", "--dir", "out", "--test-images", "10", "--calib-images", "4"}
			},
			want: `--dir "out" is a symbolic link, not a folder`,
		},
		// 2. Flags that size allocations.
		hostileCase{
			name: "cli-bench-threads-huge",
			setup: func(t *testing.T, dir string) []string {
				return []string{"bench", float32Model(t), "--threads", "1000000000", "--iters", "1"}
			},
			want: "--threads 1000000000: the limit is 1024", code: exitUsage,
		},
		hostileCase{
			name: "cli-bench-iters-huge",
			setup: func(t *testing.T, dir string) []string {
				return []string{"bench", float32Model(t), "--iters", "2000000000"}
			},
			want: "--iters 2000000000: the limit is 1048576", code: exitUsage,
		},
		hostileCase{
			name: "cli-bench-compare-threads-huge",
			setup: func(t *testing.T, dir string) []string {
				return []string{"bench", float32Model(t), "--compare-threads", "1,100000000", "--iters", "2"}
			},
			want: "--compare-threads 100000000: the limit is 1024", code: exitUsage,
		},
		hostileCase{
			name: "cli-run-threads-huge",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", float32Model(t), "--tensor", input(t), "--threads", "100000000"}
			},
			want: "--threads 100000000: the limit is 1024", code: exitUsage,
		},
		hostileCase{
			name: "cli-eval-workers-huge",
			setup: func(t *testing.T, dir string) []string {
				return []string{"eval", float32Model(t), "--images", imageList(t, dir), "--workers", "1000000000"}
			},
			want: "--workers 1000000000: the limit is 1024", code: exitUsage,
		},
		hostileCase{
			name: "cli-compile-threads-huge",
			setup: func(t *testing.T, dir string) []string {
				return []string{"compile", v3s(t), "--quant", "int8", "--calib", calibImages(t), "--preprocess", "tf", "--threads", "1000000000"}
			},
			want: "--threads 1000000000: the limit is 1024", code: exitUsage,
		},
		hostileCase{
			name:  "cli-demo-test-images-huge",
			setup: func(t *testing.T, dir string) []string { return []string{"demo", "--test-images", "1000000000000"} },
			want:  "--test-images 1000000000000: the limit is 20000", code: exitUsage,
		},
		hostileCase{
			name: "cli-labels-sparse",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", v3s(t), "--tensor", input(t), "--labels", sparseFile(t, dir, "labels.txt", []byte("cat\n"), 8<<30)}
			},
			want: "labels.txt is 8 GiB; the limit is 16 MiB",
		},
		hostileCase{
			name: "cli-labels-fifo",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", v3s(t), "--tensor", input(t), "--labels", fifo(t, dir, "labels.txt")}
			},
			want: "labels.txt is a named pipe (FIFO), not a regular file",
		},
		hostileCase{
			name: "cli-eval-list-fifo",
			setup: func(t *testing.T, dir string) []string {
				return []string{"eval", float32Model(t), "--images", fifo(t, dir, "list.csv")}
			},
			want: "list.csv is a named pipe (FIFO), not a regular file",
		},
		// 3. Output hygiene: the error printer's backstop.
		hostileCase{
			name: "cli-error-escapes",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", v3s(t), "--preprocess", "tf", "cat\n\x1b[2Jmnc: all is well.png"}
			},
			want: `cat\n\x1b[2Jmnc: all is well.png`,
		},
		// 4. Calibration on activations that overflow float32.
		hostileCase{
			name: "cli-calib-not-finite",
			setup: func(t *testing.T, dir string) []string {
				pth := scaledCheckpoint(t, goldenFile(t, "mobilenet_v1", "pth"), filepath.Join(dir, "huge.pth"), 1e15)
				return []string{"compile", pth, "--arch", "mobilenet_v1", "--width", "0.1", "--classes", "10",
					"--quant", "int8", "--calib", calibImages(t), "-o", filepath.Join(dir, "out.mnc")}
			},
			want: `the activations are not finite: the output of Conv "features.1.0", the first layer whose output is not`,
		},
		// 5. Explicit invalid values.
		hostileCase{
			name: "cli-run-threads-negative",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", float32Model(t), "--tensor", input(t), "--threads", "-1"}
			},
			want: "--threads -1: want 0 to 1024", code: exitUsage,
		},
		hostileCase{
			name:  "cli-demo-test-images-zero",
			setup: func(t *testing.T, dir string) []string { return []string{"demo", "--test-images", "0"} },
			want:  "--test-images 0: want 1 to 20000", code: exitUsage,
		},
		hostileCase{
			name: "cli-min-sqnr-nan",
			setup: func(t *testing.T, dir string) []string {
				return []string{"compile", v3s(t), "--quant", "int8", "--calib", calibImages(t), "--preprocess", "tf",
					"--min-sqnr", "NaN", "-o", filepath.Join(dir, "out.mnc")}
			},
			want: "--min-sqnr NaN: want a finite number", code: exitUsage,
		},
		hostileCase{
			name: "cli-labels-empty",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", v3s(t), "--tensor", input(t), "--labels", ""}
			},
			want: "--labels: the value is empty", code: exitUsage,
		},
		hostileCase{
			name: "cli-arch-unknown-onnx",
			setup: func(t *testing.T, dir string) []string {
				return []string{"run", v3s(t), "--tensor", input(t), "--arch", "mobilenet_v9"}
			},
			want: `--arch: unknown architecture "mobilenet_v9"`,
		},
		hostileCase{
			name:  "cli-image-arg-empty",
			setup: func(t *testing.T, dir string) []string { return []string{"run", v3s(t), "--preprocess", "tf", ""} },
			want:  "mnc run: argument 2 is empty", code: exitUsage,
		},
		hostileCase{
			name:  "cli-dump-after-empty",
			setup: func(t *testing.T, dir string) []string { return []string{"compile", v3s(t), "--dump-after", ""} },
			want:  "--dump-after: the list is empty", code: exitUsage,
		},
	)
}

// symlinkTo makes dir/name a symbolic link to the regular file dir/target
// and returns name (the cases run in dir).
func symlinkTo(t *testing.T, dir, name, target string) string {
	t.Helper()
	writeFile(t, dir, target, []byte("keep me"))
	if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	return name
}

// deviceNode makes dir/name a character device (/dev/null's numbers) and
// returns name; it skips the case where mknod is not allowed (not root).
func deviceNode(t *testing.T, dir, name string) string {
	t.Helper()
	if err := syscall.Mknod(filepath.Join(dir, name), syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod: %v", err)
	}
	return name
}

// fifo makes dir/name a named pipe and returns its path.
func fifo(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip(err)
	}
	return p
}

// float32Model compiles the golden MobileNetV3-Small into a float32 .mnc
// file outside the case's directory.
func float32Model(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "v3s.mnc")
	if _, stderr, code := mnc(t, "compile", goldenFile(t, "mobilenet_v3_small", "onnx_opset17"), "--quant", "float32", "--preprocess", "tf", "-o", out); code != 0 {
		t.Fatalf("compile: %s", stderr)
	}
	return out
}

// imageList writes a one-row labelled image list in dir.
func imageList(t *testing.T, dir string) string {
	t.Helper()
	writeFile(t, dir, "x.png", tinyPNG(t))
	return writeFile(t, dir, "list.csv", []byte("x.png,0\n"))
}

// scaledCheckpoint copies the PyTorch zip checkpoint from into to with
// every float32 storage multiplied by k (clamped to ±3e38 so that every
// weight stays finite): the activations then overflow float32 a few
// layers in.
func scaledCheckpoint(t *testing.T, from, to string, k float64) string {
	t.Helper()
	zr, err := zip.OpenReader(from)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(f.Name, "/data/") && len(data)%4 == 0 && len(data) > 8 {
			for i := 0; i < len(data); i += 4 {
				v := float64(math.Float32frombits(binary.LittleEndian.Uint32(data[i:])))
				v = max(min(v*k, 3e38), -3e38)
				binary.LittleEndian.PutUint32(data[i:], math.Float32bits(float32(v)))
			}
		}
		h := &zip.FileHeader{Name: f.Name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(data),
			CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data))}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Dir(to), filepath.Base(to), buf.Bytes())
}

// TestHostileOutputEscaped: labels holding terminal escapes and carriage
// returns, from a --labels file and from a .mnc file that recorded them,
// reach stdout escaped in mnc run, inspect and eval (the suite checks
// stderr; this checks what the commands print on success).
func TestHostileOutputEscaped(t *testing.T) {
	var classes int
	for _, m := range golden.Manifest(t) {
		if m.Arch == "mobilenet_v3_small" && !m.ReducedTail {
			classes = m.Classes
		}
	}
	dir := t.TempDir()
	names := []string{"\x1b[2Jcleared", "back\rspace", "tab\tbed", "ok"}
	for len(names) < classes {
		names = append(names, fmt.Sprintf("class %d", len(names)))
	}
	labels := writeFile(t, dir, "labels.txt", []byte(strings.Join(names, "\n")+"\n"))
	onnx := goldenFile(t, "mobilenet_v3_small", "onnx_opset17")
	model := filepath.Join(dir, "m.mnc")
	mustRun(t, "compile", onnx, "--quant", "float32", "--preprocess", "tf", "--labels", labels, "-o", model)
	png := writeFile(t, dir, "x.png", tinyPNG(t))
	list := writeFile(t, dir, "list.csv", []byte("x.png,0\n"))
	for _, args := range [][]string{
		{"run", onnx, "--preprocess", "tf", "--labels", labels, "--top", fmt.Sprint(classes), png},
		{"run", model, "--top", fmt.Sprint(classes), png},
		{"inspect", model},
		{"eval", model, "--images", list},
		{"eval", model, "--images", list, "--csv"},
	} {
		out := mustRun(t, args...)
		if strings.ContainsAny(out, "\x1b\r\t") {
			t.Errorf("mnc %s: control characters on stdout:\n%q", strings.Join(args, " "), out)
		}
		if !strings.Contains(out, `\x1b[2Jcleared`) {
			t.Errorf("mnc %s: the escaped label is missing:\n%s", strings.Join(args, " "), out)
		}
	}
}
