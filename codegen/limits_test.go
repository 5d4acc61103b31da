package codegen_test

import (
	"strings"
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/internal/golden"
	"github.com/mncdev/mnc/passes"
	"github.com/mncdev/mnc/runtime/limits"
)

// TestRuntimeLimits: a valid graph whose activations exceed the runtime's
// limits is refused before it is written, naming the tensor and the limit
// (it used to be written and then fail as "does not verify (a bug)").
func TestRuntimeLimits(t *testing.T) {
	var e golden.Model
	for _, m := range golden.Manifest(t) {
		if _, ok := m.Files["pth"]; ok && !m.ReducedTail {
			e = m
			break
		}
	}
	// The architecture from the checkpoint at a resolution whose float32
	// input alone takes 768 MiB.
	e.Files = map[string]string{"pth": e.Files["pth"]}
	e.Resolution = 8192
	g := loadGolden(t, e)
	if _, err := passes.Run(g, passes.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := codegen.Build(g, codegen.Options{})
	want := "the runtime's limit on activation memory is " + limits.Bytes(limits.ModelArena)
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "a bug") {
		t.Fatalf("got %v, want an error saying %q", err, want)
	}
	t.Log(err)
}
