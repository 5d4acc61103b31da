package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
)

// armMachines are the emulated ARM machines of TestARMRunBitExact.
var armMachines = []struct{ qemu, goarch, goarm, cpu string }{
	{"qemu-aarch64-static", "arm64", "", "cortex-a72"}, // Raspberry Pi 4: NEON, no dot product
	{"qemu-aarch64-static", "arm64", "", "max"},        // dot product (Raspberry Pi 5's SDOT)
	{"qemu-arm-static", "arm", "7", ""},                // 32-bit Pi OS
}

// TestARMRunBitExact: mnc cross-built for linux/arm64 and linux/arm
// (GOARM=7), run under qemu-user, prints the same classes and writes the
// same logits, byte for byte, as this machine's mnc for every testdata model
// compiled to int8, to mixed precision (every third quantized op float32)
// and to float32, run from its ONNX file on the float
// reference interpreter, and for ../shared's MobileNetV2 compiled to int8
// and to float32, and a detector's boxes (testdata/det). Each
// emulated CPU runs the best kernels it has (neon on the Cortex-A72,
// dotprod on max, neon32 on ARMv7), so this also checks the ARM
// kernels end to end against this machine's.
func TestARMRunBitExact(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles mnc and runs it under qemu; skipped with -short")
	}
	for _, m := range armMachines {
		if _, err := exec.LookPath(m.qemu); err != nil {
			t.Skipf("%s not found (apt-get install qemu-user-static): the ARM runs are not tested", m.qemu)
		}
	}
	dir, tmp := golden.Dir(t), t.TempDir()
	// A detector's job (det) compares every box it prints with --json
	// (float32 scores and corners, each exactly), having no --save-output.
	type job struct {
		name, model, input, image string
		det                       bool
	}
	var jobs []job
	calib := calibImages(t)
	for _, m := range golden.Manifest(t) {
		file := onnxFile(m)
		if file == "" {
			continue
		}
		out := filepath.Join(tmp, m.Name+".mnc")
		mustRun(t, "compile", filepath.Join(dir, file), "-o", out, "--quant", "int8", "--calib", calib, "--calib-images", "2", "--report-images", "1")
		in := filepath.Join(dir, m.Files["input"])
		jobs = append(jobs, job{name: m.Name, model: out, input: in})
		// Mixed: every third quantized op kept in float32.
		mixed := filepath.Join(tmp, m.Name+".mixed.mnc")
		mustRun(t, "compile", filepath.Join(dir, file), "-o", mixed, "--quant", "int8", "--calib", calib, "--calib-images", "2", "--report-images", "1",
			"--keep-float", strings.Join(everyThirdOp(t, filepath.Join(dir, file)), ","))
		jobs = append(jobs, job{name: m.Name + "-mixed", model: mixed, input: in})
		// Float: the float32 file on the runtime, and the ONNX file itself
		// on the float reference interpreter (ir/interp), whose sums a CPU
		// with fused multiply-add must not change (runtime/activation.go
		// states the rule).
		f32 := filepath.Join(tmp, m.Name+".f32.mnc")
		mustRun(t, "compile", filepath.Join(dir, file), "-o", f32, "--quant", "float32")
		jobs = append(jobs, job{name: m.Name + "-float32", model: f32, input: in},
			job{name: m.Name + "-reference", model: filepath.Join(dir, file), input: in})
	}
	args := func(j job, save string) []string {
		if j.det {
			return []string{"run", j.model, "--json", "--min-score", "0", "--top", "300", j.image}
		}
		if j.image != "" {
			return []string{"run", j.model, "--top", "3", "--save-output", save, j.image}
		}
		return []string{"run", j.model, "--top", "3", "--tensor", j.input, "--save-output", save}
	}

	bins := crossBuild(t, tmp)
	if t.Failed() {
		return
	}

	check := func(t *testing.T, j job) {
		want := filepath.Join(t.TempDir(), "native.npy")
		wantOut := mustRun(t, args(j, want)...)
		var wantBytes []byte
		if !j.det {
			var err error
			if wantBytes, err = os.ReadFile(want); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range armMachines {
			save := filepath.Join(t.TempDir(), "arm.npy")
			cmd := exec.Command(m.qemu, append([]string{bins[m.goarch+m.goarm]}, args(j, save)...)...)
			cmd.Env = os.Environ()
			if m.cpu != "" {
				cmd.Env = append(cmd.Env, "QEMU_CPU="+m.cpu)
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s %s: %v\n%s%s", m.qemu, strings.Join(cmd.Args[1:], " "), err, stdout.String(), stderr.String())
			}
			label := m.goarch + m.goarm + " " + m.cpu
			if stdout.String() != wantOut {
				t.Errorf("%s: printed classes differ:\n%s\nwant:\n%s", label, stdout.String(), wantOut)
			}
			if j.det {
				if !strings.Contains(wantOut, `"score"`) {
					t.Fatalf("the detector printed no box:\n%s", wantOut)
				}
				t.Logf("%s: the same %d bytes of boxes", label, len(wantOut))
				continue
			}
			got, err := os.ReadFile(save)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, wantBytes) {
				t.Errorf("%s: logits differ from this machine's", label)
				continue
			}
			t.Logf("%s: %d logit bytes identical", label, len(got))
		}
	}
	for _, j := range jobs {
		t.Run(j.name, func(t *testing.T) { check(t, j) })
	}
	t.Run("shared-v2", func(t *testing.T) {
		shared := golden.Shared(t)
		out := filepath.Join(tmp, "mobilenet_v2_1.0_224.mnc")
		mustRun(t, "compile", filepath.Join(shared, "models", "mobilenet_v2_1.0_224.onnx"), "-o", out, "--quant", "int8",
			"--calib", filepath.Join(shared, "images", "calib"), "--calib-images", "4", "--report-images", "1",
			"--preprocess", "tf", "--labels", filepath.Join(shared, "models", "imagenet_labels.txt"))
		check(t, job{name: "shared-v2", model: out, image: filepath.Join(shared, "images", "eval", "parrot.jpg")})
	})
	// Segmentation: Coral's DeepLabV3 (int8 by the file's own ranges, and
	// float32) and the LR-ASPP of testdata/seg (int8, Sigmoid as a table):
	// resize, concat, argmax and dilated depthwise on every ARM Set.
	t.Run("shared-deeplab", func(t *testing.T) {
		shared := golden.Shared(t)
		src := filepath.Join(shared, "models", "tflite", "deeplabv3_mnv2_dm05_pascal_quant.tflite")
		img := filepath.Join(shared, "images", "seg", "bird_segmentation.bmp")
		out := filepath.Join(tmp, "deeplab.mnc")
		mustRun(t, "compile", src, "-o", out, "--quant", "int8")
		check(t, job{name: "shared-deeplab", model: out, image: img})
		f32 := filepath.Join(tmp, "deeplab.f32.mnc")
		mustRun(t, "compile", src, "-o", f32, "--quant", "float32")
		check(t, job{name: "shared-deeplab-float32", model: f32, image: img})
	})
	t.Run("seg-lraspp", func(t *testing.T) {
		seg := filepath.Join(filepath.Dir(dir), "seg")
		out := filepath.Join(tmp, "lraspp.mnc")
		mustRun(t, "compile", filepath.Join(seg, "lraspp.pth"), "--resolution", "100", "-o", out, "--quant", "int8",
			"--calib", calib, "--calib-images", "2", "--report-images", "1")
		check(t, job{name: "seg-lraspp", model: out, input: filepath.Join(seg, "lraspp.input.npy")})
	})
	// Detection: testdata/det's SSDLite320 in int8 and float32, its boxes
	// (both outputs after the post-processing the file records).
	t.Run("det-ssdlite", func(t *testing.T) {
		det := filepath.Join(filepath.Dir(dir), "det")
		img := filepath.Join(golden.Shared(t), "images", "eval", "bird.bmp")
		out := filepath.Join(tmp, "ssdlite.mnc")
		mustRun(t, "compile", filepath.Join(det, "ssdlite.pth"), "-o", out, "--quant", "int8",
			"--calib", calib, "--calib-images", "2", "--report-images", "1")
		check(t, job{name: "det-ssdlite", model: out, image: img, det: true})
		f32 := filepath.Join(tmp, "ssdlite.f32.mnc")
		mustRun(t, "compile", filepath.Join(det, "ssdlite.pth"), "-o", f32, "--quant", "float32")
		check(t, job{name: "det-ssdlite-float32", model: f32, image: img, det: true})
	})
	t.Run("shared-v2-float32", func(t *testing.T) {
		shared := golden.Shared(t)
		out := filepath.Join(tmp, "mobilenet_v2_1.0_224.f32.mnc")
		mustRun(t, "compile", filepath.Join(shared, "models", "mobilenet_v2_1.0_224.onnx"), "-o", out, "--quant", "float32",
			"--preprocess", "tf", "--labels", filepath.Join(shared, "models", "imagenet_labels.txt"))
		check(t, job{name: "shared-v2-float32", model: out, image: filepath.Join(shared, "images", "eval", "parrot.jpg")})
	})
}

// crossBuild builds mnc for every platform of armMachines into dir, in
// parallel, and returns the binaries by GOARCH+GOARM.
func crossBuild(t *testing.T, dir string) map[string]string {
	t.Helper()
	bins := map[string]string{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, m := range armMachines {
		key := m.goarch + m.goarm
		if _, ok := bins[key]; ok {
			continue
		}
		bins[key] = ""
		wg.Add(1)
		go func() {
			defer wg.Done()
			bin := filepath.Join(dir, "mnc-"+key)
			cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+m.goarch, "GOARM="+m.goarm)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("build mnc for %s: %v\n%s", key, err, out)
				return
			}
			mu.Lock()
			bins[key] = bin
			mu.Unlock()
		}()
	}
	wg.Wait()
	return bins
}

// runARM runs mnc (args) on an emulated machine and returns its output.
func runARM(t *testing.T, m struct{ qemu, goarch, goarm, cpu string }, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(m.qemu, append([]string{bin}, args...)...)
	cmd.Env = os.Environ()
	if m.cpu != "" {
		cmd.Env = append(cmd.Env, "QEMU_CPU="+m.cpu)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", m.qemu, strings.Join(cmd.Args[1:], " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestARMCompileBitExact: mnc compile, run on emulated ARM machines
// (linux/arm64 as Cortex-A72 and as max, linux/arm GOARM=7), writes the
// same .mnc bytes as on this machine, for int8 with every calibration
// method (and equalization), calibrated on real photos, and for float32:
// calibration, Auto, bias correction and the quality report compute the
// same figures on every CPU.
func TestARMCompileBitExact(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles mnc and runs it under qemu; skipped with -short")
	}
	for _, m := range armMachines {
		if _, err := exec.LookPath(m.qemu); err != nil {
			t.Skipf("%s not found (apt-get install qemu-user-static): the ARM runs are not tested", m.qemu)
		}
	}
	calib := golden.Shared(t, "images", "calib")
	tmp := t.TempDir()
	bins := crossBuild(t, tmp)
	if t.Failed() {
		return
	}
	dir := golden.Dir(t)
	type job struct {
		name string
		args []string
	}
	var jobs []job
	methods := [][]string{{}, {"--calib-method", "entropy"}, {"--calib-method", "mse"}, {"--calib-method", "auto", "--equalize"},
		{"--calib-method", "percentile", "--no-bias-correct"}}
	for i, m := range golden.Manifest(t) {
		file := onnxFile(m)
		if file == "" {
			continue
		}
		model := filepath.Join(dir, file)
		jobs = append(jobs, job{m.Name + "-float32", []string{"compile", model, "--quant", "float32", "--preprocess", "tf"}})
		meth := methods[i%len(methods)]
		jobs = append(jobs, job{m.Name + "-int8" + strings.Join(meth, ""), append([]string{"compile", model, "--quant", "int8",
			"--calib", calib, "--calib-images", "6", "--report-images", "3", "--preprocess", "tf"}, meth...)})
	}
	for _, j := range jobs {
		t.Run(j.name, func(t *testing.T) {
			want := filepath.Join(t.TempDir(), "native.mnc")
			mustRun(t, append(j.args, "-o", want)...)
			wantBytes, err := os.ReadFile(want)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range armMachines {
				out := filepath.Join(t.TempDir(), "arm.mnc")
				runARM(t, m, bins[m.goarch+m.goarm], append(j.args, "-o", out)...)
				got, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				label := m.goarch + m.goarm + " " + m.cpu
				if !bytes.Equal(got, wantBytes) {
					t.Errorf("%s: the .mnc file differs from this machine's (%d bytes, want %d)", label, len(got), len(wantBytes))
					continue
				}
				t.Logf("%s: %d bytes identical", label, len(got))
			}
		})
	}
}
