package targets

import (
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/runtime/kernels"
)

func TestLookup(t *testing.T) {
	for alias, want := range map[string]string{"rpi3": "arm64", "RPI4": "arm64", "rpi5": "arm64-dotprod", "": "generic", "armv7": "armv7"} {
		got, err := Lookup(alias)
		if err != nil || got.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", alias, got.Name, err, want)
		}
	}
	if _, err := Lookup("rpi9"); err == nil || !strings.Contains(err.Error(), "rpi4") {
		t.Errorf("Lookup(rpi9): %v", err)
	}
	a, _ := Lookup("armv7")
	if a.Platform() != "linux/arm/v7" || !slices.Contains(a.Env(), "GOARM=7") || !slices.Contains(a.Env(), "CGO_ENABLED=0") {
		t.Errorf("armv7: %s %v", a.Platform(), a.Env())
	}
}

// TestKernels: every target names a kernel variant the runtime knows, and
// Select either returns it (this binary and CPU run it) or fails with a
// message saying why; it never hands out a Set the CPU cannot run.
func TestKernels(t *testing.T) {
	avail := kernels.Available()
	for _, tg := range All() {
		if !slices.Contains(kernels.Names(), tg.Kernels) {
			t.Errorf("%s: kernels %q unknown to runtime/kernels (%v)", tg.Name, tg.Kernels, kernels.Names())
		}
		s, err := kernels.Select(tg.Kernels)
		switch {
		case slices.Contains(avail, tg.Kernels):
			if err != nil || s.Name != tg.Kernels {
				t.Errorf("%s: Select(%q) = %v, %v", tg.Name, tg.Kernels, s, err)
			}
		case err == nil:
			t.Errorf("%s: Select(%q) succeeded but the variant is not available here (%v)", tg.Name, tg.Kernels, avail)
		case !strings.Contains(err.Error(), "not compiled") && !strings.Contains(err.Error(), "lacks"):
			t.Errorf("%s: Select(%q): unclear error %v", tg.Name, tg.Kernels, err)
		default:
			t.Logf("%s: %v", tg.Name, err)
		}
	}
}

// TestForcedMissingVariant: where the x86 assembly is not compiled in
// (-tags purego, or not amd64), forcing it is a clear error, never a crash.
func TestForcedMissingVariant(t *testing.T) {
	if slices.Contains(kernels.Available(), "vnni") {
		t.Skip("this build and CPU run vnni; run with -tags purego (or on a CPU without AVX-512 VNNI) to test the error")
	}
	_, err := kernels.Select("vnni")
	if err == nil {
		t.Fatal("Select(vnni) succeeded on a build or CPU without it")
	}
	msg := err.Error()
	if !strings.Contains(msg, `"vnni"`) || !strings.Contains(msg, "available: ") {
		t.Errorf("unclear error: %v", err)
	}
	t.Log(msg)
}
