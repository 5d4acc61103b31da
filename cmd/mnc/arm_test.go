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
// compiled to int8 and to float32, run from its ONNX file on the float
// reference interpreter, and for ../shared's MobileNetV2 compiled to int8. Each
// emulated CPU runs the best kernels it has (neon on the Cortex-A72,
// dotprod on max, the Go kernels on ARMv7), so this also checks the ARM
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
	type job struct{ name, model, input, image string }
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
		if j.image != "" {
			return []string{"run", j.model, "--top", "3", "--save-output", save, j.image}
		}
		return []string{"run", j.model, "--top", "3", "--tensor", j.input, "--save-output", save}
	}

	// Cross-build mnc once per platform, in parallel.
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
			bin := filepath.Join(tmp, "mnc-"+key)
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
	if t.Failed() {
		return
	}

	check := func(t *testing.T, j job) {
		want := filepath.Join(t.TempDir(), "native.npy")
		wantOut := mustRun(t, args(j, want)...)
		wantBytes, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
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
			got, err := os.ReadFile(save)
			if err != nil {
				t.Fatal(err)
			}
			label := m.goarch + m.goarm + " " + m.cpu
			if stdout.String() != wantOut {
				t.Errorf("%s: printed classes differ:\n%s\nwant:\n%s", label, stdout.String(), wantOut)
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
}
