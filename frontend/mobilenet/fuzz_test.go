package mobilenet

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/runtime/limits"
)

// FuzzArchSpec fuzzes the arch spec JSON reader and the build behind it: a
// spec is read strictly or refused with a one-line error; one that is read
// writes back to the same spec; its graph is built from shapes within the
// budget (ir.CheckBudget) or refused, and small ones build with their
// weights and verify.
func FuzzArchSpec(f *testing.F) {
	for _, arch := range Arches() {
		s, err := SpecFor(arch)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s.IndentedJSON())
	}
	if data, err := os.ReadFile("testdata/mobilenet_v3_large_minimalistic.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"family":"mobilenet_v1","v1":{"stem_channels":65536,"blocks":[[65536,1]]}}`))
	f.Add([]byte(`{"family":"mobilenet_v1","family":"mobilenet_v2"}`))
	f.Add([]byte(`{"family":"mobilenet_v2","v2":{"input_channel":32,"last_channel":1280,"inverted_residual_setting":[[1,8,64,1],[6,8,64,2]]}}`))
	f.Add([]byte(`{"comment":[{"a":[1,{"b":2}]}],"name":"x","family":"mobilenet_v3","v3":{"last_channel":16,"inverted_residual_setting":[[16,3,16,16,true,"HS",2]]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > limits.ArchSpecFile {
			return
		}
		s, err := ParseSpec(data)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r\x1b") || len(msg) > 1000 {
				t.Fatalf("error %q is not one short line", msg)
			}
			return
		}
		again, err := ParseSpec(s.IndentedJSON())
		if err != nil {
			t.Fatalf("written spec does not read back: %v\n%s", err, s.IndentedJSON())
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip changed the spec: %+v -> %+v", s, again)
		}
		for _, cfg := range []Config{{Spec: s, Resolution: 32}, {Spec: s, Resolution: 32, Width: 0.5, ReducedTail: s.V3 != nil && s.V3.ReducedTailFrom > 0}} {
			g, err := Shapes(cfg)
			if err != nil {
				if msg := err.Error(); strings.ContainsAny(msg, "\n\r\x1b") || len(msg) > 1000 {
					t.Fatalf("error %q is not one short line", msg)
				}
				continue
			}
			if err := ir.CheckBudget(g); err != nil {
				t.Fatalf("Shapes returned a graph over the budget: %v", err)
			}
			if ir.FootprintOf(g).Weights > 16<<20 {
				continue // building the weights costs more than the fuzzer should spend
			}
			if _, err := Build(cfg); err != nil {
				t.Fatalf("Shapes succeeded, Build failed: %v", err)
			}
		}
	})
}
