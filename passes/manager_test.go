package passes

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
)

func TestPipelineTable(t *testing.T) {
	if err := CheckOrder(Pipeline, Constraints); err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(Pipeline), LowerHardActivations)
	if err := CheckOrder(all, Constraints); err != nil {
		t.Fatal(err)
	}
	for _, c := range Constraints {
		for _, name := range []string{c.Before, c.After} {
			if _, ok := FindPass(all, name); !ok {
				t.Errorf("constraint %s -> %s names unknown pass %q", c.Before, c.After, name)
			}
		}
		if c.Why == "" {
			t.Errorf("constraint %s -> %s has no reason", c.Before, c.After)
		}
	}
	for _, name := range []string{"canonicalize", "fold-batchnorm", "layout-nhwc"} {
		if p, _ := FindPass(Pipeline, name); !p.Required {
			t.Errorf("%s is not required", name)
		}
	}
	var b strings.Builder
	if err := WriteTable(&b, Pipeline); err != nil || !strings.Contains(b.String(), "fold-batchnorm before fuse-activations") {
		t.Errorf("WriteTable: %v\n%s", err, b.String())
	}
}

// TestOrderingConstraints swaps the two passes of every constraint in a copy
// of the table and checks that CheckOrder (and so RunPasses) rejects it.
func TestOrderingConstraints(t *testing.T) {
	for _, c := range Constraints {
		i := slices.IndexFunc(Pipeline, func(p Pass) bool { return p.Name == c.Before })
		j := slices.IndexFunc(Pipeline, func(p Pass) bool { return p.Name == c.After })
		if i < 0 || j < 0 {
			continue
		}
		broken := slices.Clone(Pipeline)
		broken[i], broken[j] = broken[j], broken[i]
		err := CheckOrder(broken, Constraints)
		if err == nil {
			t.Errorf("swapping %s and %s: CheckOrder accepts the table", c.Before, c.After)
			continue
		}
		want := `pass "` + c.Before + `" must run before "` + c.After + `"`
		if !strings.Contains(err.Error(), want) {
			t.Errorf("swapping %s and %s: error %q lacks %q", c.Before, c.After, err, want)
		}
		if _, err := RunPasses(newGB(t).tiny(), broken, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("RunPasses with %s and %s swapped: %v", c.Before, c.After, err)
		}
	}
	// The concrete case the issue asks to show.
	broken := slices.Clone(Pipeline)
	i := slices.IndexFunc(broken, func(p Pass) bool { return p.Name == "fold-batchnorm" })
	j := slices.IndexFunc(broken, func(p Pass) bool { return p.Name == "fuse-activations" })
	broken[i], broken[j] = broken[j], broken[i]
	if err := CheckOrder(broken, Constraints); err == nil || !strings.Contains(err.Error(), `"fold-batchnorm" must run before "fuse-activations"`) {
		t.Errorf("fold-batchnorm after fuse-activations: %v", err)
	}
}

func TestCheckOrderTable(t *testing.T) {
	noop := func(*State) error { return nil }
	cases := []struct {
		list []Pass
		want string
	}{
		{[]Pass{{"a", noop, false, "a"}, {"a", noop, false, "a"}}, `pass "a" appears twice`},
		{[]Pass{{"", noop, false, "a"}}, "has no name"},
		{[]Pass{{"a", nil, false, "a"}}, "has no function"},
		{[]Pass{{"a", noop, false, ""}}, "has no doc"},
	}
	for _, c := range cases {
		if err := CheckOrder(c.list, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckOrder = %v, want %q", err, c.want)
		}
	}
	// Only constraints whose passes are both present apply.
	if err := CheckOrder([]Pass{{"b", noop, false, "b"}}, []Constraint{{"a", "b", "x"}}); err != nil {
		t.Error(err)
	}
}

// tiny is x -> Conv -> BatchNorm -> Relu -> GAP -> Flatten -> Gemm.
func (b *gb) tiny() *ir.Graph {
	x := b.input(-1, 3, 8, 8)
	y := b.add(ir.Relu, "relu", nil, b.bn("bn", b.conv("conv", x, 4, 3, false)))
	y = b.add(ir.GlobalAveragePool, "gap", nil, y)
	y = b.add(ir.Flatten, "flat", &ir.FlattenAttrs{Axis: 1}, y)
	y = b.add(ir.Gemm, "fc", &ir.GemmAttrs{Alpha: 1, Beta: 1, TransB: true}, y, b.w("fc.weight", 5, 4), b.w("fc.bias", 5))
	return b.output(y)
}

func TestRunReportAndDump(t *testing.T) {
	g := newGB(t).tiny()
	var dump bytes.Buffer
	rep, err := Run(g, Options{Check: true, DumpAfter: []string{"fold-batchnorm", "layout-nhwc"}, Dump: &dump})
	if err != nil {
		t.Fatal(err)
	}
	d := dump.String()
	if strings.Count(d, "// after ") != 2 || !strings.Contains(d, "// after fold-batchnorm\ngraph \"t\"") ||
		!strings.Contains(d, "layout=NHWC") {
		t.Errorf("dump:\n%s", d)
	}
	if len(rep.Passes) != len(Pipeline) {
		t.Fatalf("%d pass reports", len(rep.Passes))
	}
	fb := rep.Passes[2]
	if fb.Name != "fold-batchnorm" || fb.Rewrites["BatchNorm into Conv"] != 1 || fb.Duration <= 0 {
		t.Errorf("fold-batchnorm report %+v", fb)
	}
	if got := rep.Summary.FusedActivations["relu"]; !slices.Equal(got, []string{"conv"}) {
		t.Errorf("fused relu %v", got)
	}
	if rep.OpsBefore["BatchNorm"] != 1 || rep.Summary.Ops["BatchNorm"] != 0 || rep.Summary.Ops["Transpose"] != 1 {
		t.Errorf("ops before %v after %v", rep.OpsBefore, rep.Summary.Ops)
	}
	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fold-batchnorm     yes", "BatchNorm into Conv=1", "relu (1): conv", "unfolded BatchNorms (0): none"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Summary.Ops["Conv"] != 1 || back.Passes[2].Rewrites["BatchNorm into Conv"] != 1 {
		t.Errorf("JSON round trip: %v %+v", err, back)
	}

	// Dump after every pass.
	dump.Reset()
	if _, err := Run(newGB(t).tiny(), Options{DumpAfter: []string{"all"}, Dump: &dump}); err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(dump.String(), "// after "); c != len(Pipeline) {
		t.Errorf("%d dumps, want %d", c, len(Pipeline))
	}
}

func TestRunOptionErrors(t *testing.T) {
	cases := []struct {
		opts Options
		want string
	}{
		{Options{DumpAfter: []string{"nope"}, Dump: &bytes.Buffer{}}, `dump after: unknown pass "nope"`},
		{Options{DumpAfter: []string{"canonicalize"}}, "needs a Dump writer"},
		{Options{Disable: []string{"layout-nhwc"}}, `pass "layout-nhwc" is required`},
		{Options{Disable: []string{"x"}}, `disable: unknown pass "x"`},
	}
	for _, c := range cases {
		if _, err := Run(newGB(t).tiny(), c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run(%+v) = %v, want %q", c.opts, err, c.want)
		}
	}
	g := newGB(t).tiny()
	rep, err := Run(g, Options{Check: true, Disable: []string{"fuse-activations", "squeeze-excite"}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passes[3].Skipped || node(g, ir.Relu) == nil {
		t.Errorf("fuse-activations ran though disabled:\n%s", g)
	}
}

func TestPassPanicAndVerify(t *testing.T) {
	boom := Pass{Name: "boom", Doc: "panics", Fn: func(s *State) error {
		var m map[string]int
		//lint:ignore SA5000 the pass must panic
		m["x"]++ // nil map write
		return nil
	}}
	_, err := RunPasses(newGB(t).tiny(), []Pass{Pipeline[0], boom}, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "pass boom: internal error: panic: assignment to entry in nil map") ||
		strings.Contains(err.Error(), "\n") {
		t.Errorf("panicking pass: %v", err)
	}
	var pe *PanicError
	if !errors.As(err, &pe) || !strings.Contains(string(pe.Stack), "TestPassPanicAndVerify") {
		t.Errorf("panic error keeps no stack: %#v", err)
	}
	fail := Pass{Name: "fail", Doc: "fails", Fn: func(s *State) error { return errors.New("no luck") }}
	if _, err := RunPasses(newGB(t).tiny(), []Pass{fail}, Options{}); err == nil || err.Error() != "pass fail: no luck" {
		t.Errorf("failing pass: %v", err)
	}
	breaks := Pass{Name: "breaks", Doc: "corrupts the graph", Fn: func(s *State) error {
		s.Graph.Nodes[0].Output().Type.Shape = ir.Shape{7}
		return nil
	}}
	if _, err := RunPasses(newGB(t).tiny(), []Pass{breaks}, Options{Check: true}); err == nil || !strings.Contains(err.Error(), "after pass breaks: verify") {
		t.Errorf("Check after a corrupting pass: %v", err)
	}
	if _, err := RunPasses(newGB(t).tiny(), []Pass{breaks}, Options{}); err != nil {
		t.Errorf("without Check: %v", err)
	}
}
