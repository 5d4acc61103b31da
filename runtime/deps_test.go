package runtime_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies: the runtime links none of the compiler (a board runner
// links runtime/ only).
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const mod = "github.com/mncdev/mnc/"
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, banned := range []string{"ir", "passes", "quant", "frontend", "codegen"} {
			if d == mod+banned || strings.HasPrefix(d, mod+banned+"/") {
				t.Errorf("runtime depends on %s", d)
			}
		}
	}
	if !strings.Contains(string(out), mod+"runtime/kernels") {
		t.Errorf("go list -deps does not list runtime/kernels:\n%s", out)
	}
	t.Logf("%d packages, of them mnc's: %s", len(deps), strings.Join(filter(deps, mod), " "))
}

func filter(s []string, prefix string) []string {
	var out []string
	for _, x := range s {
		if strings.HasPrefix(x, prefix) {
			out = append(out, strings.TrimPrefix(x, prefix))
		}
	}
	return out
}
