package targets_test

import (
	"testing"

	"github.com/mncdev/mnc/codegen"
	"github.com/mncdev/mnc/targets"
)

// TestCodegenLayouts: every target (and so every alias) has a weight layout
// in codegen, under its own name so that files record the target.
func TestCodegenLayouts(t *testing.T) {
	for _, tg := range targets.All() {
		l, ok := codegen.Targets[tg.Name]
		if !ok || l.Name != tg.Name {
			t.Errorf("codegen.Targets[%q] = %+v, %v", tg.Name, l, ok)
		}
		if _, ok := codegen.Targets[tg.Layout]; !ok {
			t.Errorf("%s: layout %q unknown to codegen", tg.Name, tg.Layout)
		}
	}
	for alias, name := range targets.Aliases {
		if _, err := targets.Lookup(name); err != nil {
			t.Errorf("alias %s -> %s: %v", alias, name, err)
		}
	}
}
