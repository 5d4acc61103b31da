package compile

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// compilePackages are the packages whose float arithmetic decides what a
// compile writes: the readers and definitions, the passes, calibration and
// quantization, and codegen.
var compilePackages = []string{
	"../frontend/...", "../ir", "../passes", "../quant", "../codegen", "../runtime/preprocess", ".",
}

// TestNoFusedMultiplyAdd: Go may fuse x*y + z into one instruction where the
// CPU has one (arm64 does, amd64 does not by default), which rounds once
// instead of twice; a product the compile's float64 arithmetic does not
// round explicitly (float64(x*y)) would then make an arm64 host write other
// bytes than an amd64 one. This builds those packages for linux/arm64 and
// fails on any fused instruction in them. (ir/interp, the oracle, and
// runtime/kernels, whose fused products are exact, are not in the list.)
func TestNoFusedMultiplyAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds for arm64; skipped with -short")
	}
	cmd := exec.Command("go", append([]string{"build", "-gcflags=-S"}, compilePackages...)...)
	cmd.Env = append(cmd.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fused := regexp.MustCompile(`\tF(N)?M(ADD|SUB)[DS]\t`)
	var bad []string
	for _, l := range strings.Split(string(out), "\n") {
		if fused.MatchString(l) {
			bad = append(bad, strings.TrimSpace(l))
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d fused multiply-adds in the compile's packages (round the product explicitly):\n%s", len(bad), strings.Join(bad, "\n"))
	}
	if !strings.Contains(string(out), "FMULD") {
		t.Errorf("no FMULD in the assembly listing at all: the check sees nothing")
	}
}
