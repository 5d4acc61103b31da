package mobilenet

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// TestSpecRoundTrip: every built-in table written as JSON and read back
// builds the identical graph.
func TestSpecRoundTrip(t *testing.T) {
	for _, arch := range Arches() {
		spec, err := SpecFor(arch)
		if err != nil {
			t.Fatal(err)
		}
		data := spec.IndentedJSON()
		if compact, err := json.Marshal(spec); err != nil {
			t.Fatal(err)
		} else if s2, err := ParseSpec(compact); err != nil || !reflect.DeepEqual(s2, spec) {
			t.Errorf("%s: compact JSON round trip: %v", arch, err)
		}
		path := filepath.Join(t.TempDir(), arch+".json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		loaded, err := LoadSpec(path)
		if err != nil {
			t.Fatalf("%s: %v\n%s", arch, err, data)
		}
		for _, cfg := range []Config{{Width: 1}, {Width: 0.5, Classes: 10, Resolution: 97}, {Width: 0.75, ReducedTail: true}} {
			if cfg.ReducedTail && loaded.Family != FamilyV3 {
				continue
			}
			want := cfg
			want.Arch = arch
			g1, err := Build(want)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Spec = loaded
			cfg.Arch = "v1" // ignored: the spec overrides it
			g2, err := Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if g1.String() != g2.String() {
				t.Errorf("%s %+v: graph from JSON differs from the built-in", arch, want)
			}
		}
	}
}

// TestSpecDefaults: omitted optional fields take the family defaults.
func TestSpecDefaults(t *testing.T) {
	js := `{"family": "mobilenet_v2", "name": "mobilenet_v2", "v2": {"input_channel": 32, "last_channel": 1280,
		"inverted_residual_setting": [[1,16,1,1],[6,24,2,2],[6,32,3,2],[6,64,4,2],[6,96,3,1],[6,160,3,2],[6,320,1,1]]}}`
	s, err := ParseSpec([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	g1, err := Build(Config{Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := Build(Config{Arch: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if g1.String() != g2.String() {
		t.Error("minimal V2 JSON differs from the built-in V2")
	}
}

func TestSpecVariants(t *testing.T) {
	s, err := LoadSpec("testdata/mobilenet_v3_large_minimalistic.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{{Spec: s}, {Spec: s, Width: 0.5, ReducedTail: true, Resolution: 97, Classes: 10}} {
		g, err := Build(cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkGraph(t, g, max(cfg.Classes, 1000*btoi(cfg.Classes == 0)), max(cfg.Resolution, 224*btoi(cfg.Resolution == 0)))
		st := ir.ComputeStats(g)
		t.Logf("%s %+v: %d params, %d MACs", g.Name, cfg, st.Params, st.MACs)
		if st.OpCounts[ir.Mul] != 0 || st.OpCounts[ir.HardSigmoid] != 0 {
			t.Error("minimalistic variant has squeeze-and-excitation")
		}
		if st.OpCounts[ir.HardSwish] != 3 { // stem, last conv, classifier
			t.Errorf("%d HardSwish nodes, want 3", st.OpCounts[ir.HardSwish])
		}
	}
	// A V2 and a V1 variant given as Go values.
	v2 := &Spec{Name: "v2_t4", Family: FamilyV2, V2: &V2Spec{InputChannel: 16, LastChannel: 640,
		Setting: []V2Stage{{1, 8, 1, 1}, {4, 16, 2, 2}, {4, 24, 2, 2}, {4, 32, 3, 2}, {4, 64, 2, 2}}}}
	v1 := &Spec{Name: "v1_short", Family: FamilyV1, V1: &V1Spec{StemChannels: 16,
		Blocks: []V1Block{{32, 2}, {64, 2}, {64, 1}, {128, 2}, {256, 2}}}}
	for _, s := range []*Spec{v2, v1} {
		g, err := Build(Config{Spec: s, Resolution: 80, Classes: 5})
		if err != nil {
			t.Fatal(err)
		}
		checkGraph(t, g, 5, 80)
		if g.Name != s.Name {
			t.Errorf("graph name %q, want %q", g.Name, s.Name)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestDocExample: the JSON example in the package doc parses and builds.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var js []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		body, ok := strings.CutPrefix(line, "//\t")
		switch {
		case ok && body == "{":
			in = true
			js = append(js, body)
		case in && ok:
			js = append(js, body)
			in = body != "}"
		case in:
			in = false
		}
	}
	if len(js) < 3 {
		t.Fatal("no JSON example in doc.go")
	}
	s, err := ParseSpec([]byte(strings.Join(js, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []bool{false, true} {
		g, err := Build(Config{Spec: s, ReducedTail: rt, Width: 0.5, Resolution: 72, Classes: 10})
		if err != nil {
			t.Fatal(err)
		}
		checkGraph(t, g, 10, 72)
	}
}

func TestSpecErrors(t *testing.T) {
	const v3ok = `[16, 3, 16, 16, false, "RE", 1], [16, 3, 64, 24, true, "HS", 2]`
	v3 := func(rows string, extra string) string {
		return `{"family": "mobilenet_v3", "v3": {"last_channel": 1024` + extra + `, "inverted_residual_setting": [` + rows + `]}}`
	}
	const v2rows = `[[1,16,1,1],[6,24,2,2]]`
	for _, tc := range []struct{ js, want string }{
		{``, "empty spec"},
		{`{`, "unexpected end"},
		{`{"family": "mobilenet_v3",}`, "invalid JSON at byte"},
		{`[]`, "spec: want a JSON object, got array"},
		{`{"family": "mobilenet_v2", "v2": {}} {}`, "trailing data"},
		{`{"family": "mobilenet_v2", "colour": 1}`, `unknown field "colour"`},
		{v3(v3ok, `, "bogus": 1`), `v3: unknown field "bogus" (known: last_channel,`},
		{`{"Family": "mobilenet_v2"}`, `unknown field "Family"`},
		{`{"v2": {}}`, "family: missing"},
		{`{"family": "mobilenet_v4"}`, `family: unknown family "mobilenet_v4"`},
		{`{"family": "mobilenet_v2"}`, "v2: missing"},
		{`{"family": "mobilenet_v2", "v2": {"input_channel": 32, "last_channel": 1280, "inverted_residual_setting": ` + v2rows + `}, "v3": {}}`,
			"v3: given for family mobilenet_v2"},
		{`{"family": "mobilenet_v2", "round_nearest": "8"}`, "round_nearest: want an integer, got string"},
		{`{"family": "mobilenet_v2", "round_nearest": 0}`, "round_nearest: 0 is not in [1, 1024]"},
		{`{"family": "mobilenet_v2", "bn_eps": 0}`, "bn_eps: 0 is not in (0, 1)"},
		{`{"family": "mobilenet_v2", "bn_eps": 2, "v2": {"input_channel": 32, "last_channel": 1280, "inverted_residual_setting": ` + v2rows + `}}`,
			"bn_eps: 2 is not in (0, 1)"},
		{`{"family": "mobilenet_v2", "v2": {"input_channel": 32, "last_channel": 1280, "inverted_residual_setting": []}}`,
			"v2.inverted_residual_setting: empty table"},
		{`{"family": "mobilenet_v2", "v2": {"input_channel": 32, "last_channel": 1280, "inverted_residual_setting": [[1,16,1]]}}`,
			"v2.inverted_residual_setting[0]: has 3 columns, want 4 [t, c, n, s]"},
		{`{"family": "mobilenet_v2", "v2": {"input_channel": 32, "last_channel": 1280, "inverted_residual_setting": [[1,16,1,1],[6,24,2,3]]}}`,
			"v2.inverted_residual_setting[1].s: 3 is not in [1, 2]"},
		{`{"family": "mobilenet_v2", "v2": {"input_channel": 32, "last_channel": 1280, "inverted_residual_setting": [[1,16.5,1,1]]}}`,
			"v2.inverted_residual_setting[0].c: want an integer, got 16.5"},
		{`{"family": "mobilenet_v2", "v2": {"input_channel": -32, "last_channel": 1280, "inverted_residual_setting": ` + v2rows + `}}`,
			"v2.input_channel: -32 is not in [1, 65536]"},
		{`{"family": "mobilenet_v2", "v2": {"input_channel": 32, "last_channel": 1280, "inverted_residual_setting": {"t": 1}}}`,
			"v2.inverted_residual_setting: want an array, got object"},
		{`{"family": "mobilenet_v1", "v1": {"stem_channels": 32, "blocks": [[64, 1], 7]}}`, "v1.blocks[1]: want an array [out, stride], got 7"},
		{`{"family": "mobilenet_v1", "v1": {"stem_channels": 0, "blocks": [[64, 1]]}}`, "v1.stem_channels: 0 is not in"},
		{`{"family": "mobilenet_v1", "v1": {"stem_channels": 32, "blocks": []}}`, "v1.blocks: empty table"},
		{v3(`[16, 3, 16, 16, false, "RE", 1], [16, 3, 64, 24, true, "relu", 2]`, ""),
			`v3.inverted_residual_setting[1].activation: unknown activation "relu" (want "RE" for ReLU or "HS" for Hardswish)`},
		{v3(`[16, 3, 16, 16, false, "RE"]`, ""), "v3.inverted_residual_setting[0]: has 6 columns, want 7"},
		{v3(`[16, 3, 16, 16, 0, "RE", 1]`, ""), "v3.inverted_residual_setting[0].use_se: want true or false, got 0"},
		{v3(`[16, 3, 16, 16, false, 1, 1]`, ""), "v3.inverted_residual_setting[0].activation: want a string, got 1"},
		{v3(`[16, 3, 16, 16, false, "RE", 1], [24, 3, 64, 24, true, "HS", 2]`, ""),
			"v3.inverted_residual_setting[1].input_c: 24 does not match the previous row's out_c 16"},
		{v3(`[16, 0, 16, 16, false, "RE", 1]`, ""), "v3.inverted_residual_setting[0].kernel: 0 is not in [1, 15]"},
		{v3(`[16, 3, 16, 16, false, "RE", 4]`, ""), "v3.inverted_residual_setting[0].stride: 4 is not in [1, 2]"},
		{v3(v3ok, `, "reduced_tail_from": 2`), "v3.reduced_tail_from: 2 is not a row index in [0, 2)"},
		{v3(v3ok, `, "se_divisor": -1`), "v3.se_divisor: -1 is not in"},
		{`{"family": "mobilenet_v3", "v3": {"inverted_residual_setting": [` + v3ok + `]}}`, "v3.last_channel: 0 is not in"},
		// Read strictly: a key given twice is refused, naming it and its object.
		{`{"family": "mobilenet_v1", "family": "mobilenet_v2"}`, `duplicate key "family"`},
		{v3(v3ok, `, "last_channel": 1280`), `v3: duplicate key "last_channel"`},
		{`{"family": "mobilenet_v1", "v1": {"stem_channels": 32, "blocks": [[64, 1], {"a": 1, "a": 2}]}}`, `v1.blocks[1]: duplicate key "a"`},
		{`{"comment": {"x": [{"\u001b": 1, "\u001b": 2}]}, "family": "mobilenet_v1"}`, `comment.x[0]: duplicate key "\x1b"`},
		// Names reach messages and model files.
		{`{"name": "a\u001b[2Jb", "family": "mobilenet_v1", "v1": {"stem_channels": 32, "blocks": [[64, 1]]}}`,
			`name: "a\x1b[2Jb" holds a control or non-printable character`},
		{`{"name": "` + strings.Repeat("n", 257) + `", "family": "mobilenet_v1", "v1": {"stem_channels": 32, "blocks": [[64, 1]]}}`,
			"name: 257 bytes; the limit is 256"},
		// Block counts are bounded before anything is built.
		{`{"family": "mobilenet_v1", "v1": {"stem_channels": 32, "blocks": [` + strings.Repeat(`[8, 1], `, 1024) + `[8, 1]]}}`,
			"v1.blocks: 1025 blocks; the limit is 1024"},
		{`{"family": "mobilenet_v2", "v2": {"input_channel": 32, "last_channel": 1280, "inverted_residual_setting": [` +
			strings.Repeat(`[1, 8, 64, 1], `, 16) + `[1, 8, 1, 1]]}}`,
			"v2.inverted_residual_setting: 1025 blocks (the rows' repeats n added up); the limit is 1024"},
		{v3(strings.Repeat(`[16, 3, 16, 16, false, "RE", 1], `, 1024)+`[16, 3, 16, 16, false, "RE", 1]`, ""),
			"v3.inverted_residual_setting: 1025 blocks; the limit is 1024"},
	} {
		_, err := ParseSpec([]byte(tc.js))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n  error %v\n  want it to contain %q", tc.js, err, tc.want)
		}
	}
}

// TestSpecBudget: a small spec asking for huge layers is refused from its
// shapes, before any weight is allocated (Build), and Shapes describes the
// same graph as Build without allocating the weights.
func TestSpecBudget(t *testing.T) {
	s, err := ParseSpec([]byte(`{"family": "mobilenet_v1", "v1": {"stem_channels": 65536, "blocks": [[65536, 1]]}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, build := range []func(Config) (*ir.Graph, error){Build, Shapes} {
		if _, err := build(Config{Spec: s}); err == nil || !strings.Contains(err.Error(), "the model's weights need 16.3 GiB; the limit is 1 GiB") {
			t.Errorf("65536 channels: %v", err)
		}
	}
	if _, err := Build(Config{Arch: "v2", Width: 4, Classes: 1 << 20}); err == nil ||
		!strings.Contains(err.Error(), "build mobilenet_v2 width 4.0: the model's weights need 20.1 GiB; the limit is 1 GiB") {
		t.Errorf("2^20 classes at width 4: %v", err)
	}
	if _, err := Build(Config{Arch: "v1", Resolution: 1 << 14}); err == nil ||
		!strings.Contains(err.Error(), "the model's activations need 304.5 GiB at batch 1; the limit is 4 GiB") {
		t.Errorf("resolution 16384: %v", err)
	}
	for _, arch := range Arches() {
		cfg := Config{Arch: arch, Width: 0.75, Resolution: 160}
		g, err := Build(cfg)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Shapes(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if shapes(g) != shapes(d) {
			t.Errorf("%s: Shapes and Build differ", arch)
		}
		for _, c := range d.Consts {
			if c.Const.Len() != 0 {
				t.Fatalf("%s: Shapes allocated %s", arch, c.Name)
			}
		}
	}
}

// shapes lists g's values with their types and its nodes.
func shapes(g *ir.Graph) string {
	var b strings.Builder
	for _, c := range g.Consts {
		fmt.Fprintf(&b, "const %s %v\n", c.Name, c.Type)
	}
	for _, n := range g.Nodes {
		fmt.Fprintf(&b, "%v %v -> %v %v\n", n, n.Inputs, n.Outputs, n.Output().Type)
	}
	return b.String()
}

// TestLoadSpecLimit: a spec file over limits.ArchSpecFile is refused
// before it is read (a sparse file: nothing of its size is written).
func TestLoadSpecLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 8<<30); err != nil {
		t.Skip(err)
	}
	if _, err := LoadSpec(path); err == nil || !strings.Contains(err.Error(), "is 8 GiB; the limit is 1 MiB") {
		t.Errorf("8 GiB spec: %v", err)
	}
}

func TestLoadSpecErrors(t *testing.T) {
	if _, err := LoadSpec("testdata/no_such.json"); err == nil || !strings.Contains(err.Error(), "no_such.json") {
		t.Errorf("missing file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(path, []byte(`{"family": "mobilenet_v3", "v3": {"last_channel": 1024, "inverted_residual_setting": [[16, 3, 16, 16, false, "XX", 1]]}}`), 0o644)
	_, err := LoadSpec(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `activation: unknown activation "XX"`) {
		t.Errorf("bad activation: %v", err)
	}
	// reduced_tail needs a tail.
	s, err := ParseSpec([]byte(`{"family": "mobilenet_v3", "v3": {"last_channel": 1024, "inverted_residual_setting": [[16, 3, 16, 16, false, "RE", 1]]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(Config{Spec: s, ReducedTail: true}); err == nil || !strings.Contains(err.Error(), "no reducible tail") {
		t.Errorf("reduced_tail without a tail: %v", err)
	}
	// Halving a 1-channel tail is impossible.
	s, err = ParseSpec([]byte(`{"family": "mobilenet_v3", "v3": {"last_channel": 1024, "reduced_tail_from": 1,
		"inverted_residual_setting": [[16, 3, 16, 1, false, "RE", 1], [1, 3, 1, 1, false, "RE", 1]]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(Config{Spec: s, ReducedTail: true}); err == nil || !strings.Contains(err.Error(), "v3.inverted_residual_setting[1] has fewer than 2 channels") {
		t.Errorf("halving 1 channel: %v", err)
	}
	// A Go-built spec is validated too.
	bad := &Spec{Family: FamilyV2, V2: &V2Spec{InputChannel: 32, LastChannel: 1280, Setting: []V2Stage{{6, 24, 0, 2}}}}
	if _, err := Build(Config{Spec: bad}); err == nil || !strings.Contains(err.Error(), "v2.inverted_residual_setting[0].n: 0") {
		t.Errorf("n = 0: %v", err)
	}
}
