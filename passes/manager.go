package passes

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/mncdev/mnc/ir"
)

// A Pass is one step of a pipeline.
type Pass struct {
	Name string
	// Fn rewrites s.Graph in place, recording what it did through s.
	Fn func(s *State) error
	// Required passes cannot be disabled: later stages depend on their
	// result.
	Required bool
	Doc      string // one line
}

// A Constraint says that pass Before must run before pass After whenever a
// pipeline holds both.
type Constraint struct {
	Before, After string
	Why           string
}

// Pipeline is the target-independent pipeline, float in, float out, in
// order.
var Pipeline = []Pass{
	{"canonicalize", canonicalize, true,
		"drop Identity/Dropout; one Flatten/Reshape form; Clip as Relu/Relu6; exporter HardSwish/HardSigmoid forms; MatMul+Add as Gemm; zero Pad into Conv"},
	{"fold-constants", foldConstants, false,
		"evaluate nodes whose inputs are all constants"},
	{"fold-batchnorm", foldBatchNorm, true,
		"fold BatchNorm into the preceding Conv or Gemm (weights scaled per output channel, bias created if absent)"},
	{"fuse-activations", fuseActivations, false,
		"fuse Relu, Relu6, Clip, HardSigmoid, HardSwish into the producing Conv or Gemm, and Relu/Relu6/Clip into Add"},
	{"squeeze-excite", squeezeExcite, false,
		"turn GlobalAveragePool -> Conv(act) -> Conv(act=hardsigmoid) -> Mul into one SqueezeExcite node"},
	{"dead-values", deadValues, false,
		"remove nodes whose results nothing reads, and unused constants"},
	{"layout-nhwc", layoutNHWC, true,
		"run layout-sensitive ops in NHWC, the runtime's layout, with Transposes where a value changes layout"},
	{"fuse-resize-argmax", fuseResizeArgMax, false,
		"fuse an NHWC ResizeBilinear read only by an ArgMax over the channels into the ArgMax (segmentation heads)"},
}

// Constraints are the ordering rules of the passes (here and in the
// quantization pipeline). CheckOrder enforces them.
var Constraints = []Constraint{
	{"canonicalize", "fold-batchnorm", "an Identity or Dropout between a Conv and its BatchNorm, or a MatMul+Add not yet a Gemm, hides a foldable pair"},
	{"canonicalize", "fuse-activations", "Clip(0,6) and the decomposed HardSwish/HardSigmoid forms must be single activation ops before they can be fused"},
	{"canonicalize", "layout-nhwc", "the layout pass lets only canonical Flatten/Reshape of [N,C,1,1] consume NHWC values directly"},
	{"fold-constants", "fold-batchnorm", "BatchNorm parameters and weights computed by constant subgraphs must be constants to fold"},
	{"fold-batchnorm", "fuse-activations", "in Conv -> BatchNorm -> Relu the BatchNorm must be gone for the Relu to follow the Conv, and a Conv with a fused activation cannot absorb a BatchNorm"},
	{"fuse-activations", "squeeze-excite", "squeeze-excite units are recognised in fused form: Conv(act=relu) -> Conv(act=hardsigmoid)"},
	{"squeeze-excite", "layout-nhwc", "the squeeze-excite recogniser matches NCHW subgraphs"},
	{"layout-nhwc", "fuse-resize-argmax", "a fused resize is defined on an NHWC input, the ArgMax over its last axis"},
}

// CheckOrder reports an error if list breaks a constraint, names a pass
// twice, or holds a pass without a name, function or doc.
func CheckOrder(list []Pass, constraints []Constraint) error {
	pos := map[string]int{}
	for i, p := range list {
		switch {
		case p.Name == "":
			return fmt.Errorf("pass %d has no name", i)
		case p.Fn == nil:
			return fmt.Errorf("pass %q has no function", p.Name)
		case p.Doc == "":
			return fmt.Errorf("pass %q has no doc", p.Name)
		}
		if j, dup := pos[p.Name]; dup {
			return fmt.Errorf("pass %q appears twice (positions %d and %d)", p.Name, j, i)
		}
		pos[p.Name] = i
	}
	var errs []error
	for _, c := range constraints {
		b, okB := pos[c.Before]
		a, okA := pos[c.After]
		if okB && okA && b >= a {
			errs = append(errs, fmt.Errorf("pass %q must run before %q (%s), but runs after it", c.Before, c.After, c.Why))
		}
	}
	return errors.Join(errs...)
}

// Options configures Run.
type Options struct {
	// Check runs ir.Verify on the graph after every pass.
	Check bool
	// DumpAfter names passes after which the graph is printed to Dump;
	// "all" means every pass.
	DumpAfter []string
	Dump      io.Writer
	// Disable names optional passes to skip.
	Disable []string
}

// State is what a pass works on: the graph, and the record of the pass's
// rewrites and notes.
type State struct {
	Graph *ir.Graph
	rep   *PassReport
}

// Count records one rewrite of the given kind.
func (s *State) Count(kind string) { s.CountN(kind, 1) }

// CountN records n rewrites of the given kind.
func (s *State) CountN(kind string, n int) {
	if n == 0 {
		return
	}
	if s.rep.Rewrites == nil {
		s.rep.Rewrites = map[string]int{}
	}
	s.rep.Rewrites[kind] += n
}

// Notef records a remark about the graph (something left as it is, and why).
func (s *State) Notef(format string, args ...any) {
	s.rep.Notes = append(s.rep.Notes, fmt.Sprintf(format, args...))
}

// Run runs Pipeline on g; see RunPasses.
func Run(g *ir.Graph, opts Options) (*Report, error) { return RunPasses(g, Pipeline, opts) }

// RunPasses checks list against Constraints and runs it on g in place. On
// error the report covers the passes run so far and g may be partly
// rewritten.
func RunPasses(g *ir.Graph, list []Pass, opts Options) (*Report, error) {
	if g == nil {
		return nil, errors.New("passes: nil graph")
	}
	if err := CheckOrder(list, Constraints); err != nil {
		return nil, fmt.Errorf("pass table: %w", err)
	}
	names := make([]string, len(list))
	byName := map[string]Pass{}
	for i, p := range list {
		names[i] = p.Name
		byName[p.Name] = p
	}
	known := func(flag, n string) error {
		if _, ok := byName[n]; !ok {
			return fmt.Errorf("%s: unknown pass %q (passes: %s)", flag, n, strings.Join(names, ", "))
		}
		return nil
	}
	dump := map[string]bool{}
	for _, n := range opts.DumpAfter {
		if n == "all" {
			for _, m := range names {
				dump[m] = true
			}
			continue
		}
		if err := known("dump after", n); err != nil {
			return nil, err
		}
		dump[n] = true
	}
	if len(dump) > 0 && opts.Dump == nil {
		return nil, errors.New("DumpAfter needs a Dump writer")
	}
	skip := map[string]bool{}
	for _, n := range opts.Disable {
		if err := known("disable", n); err != nil {
			return nil, err
		}
		if byName[n].Required {
			return nil, fmt.Errorf("disable: pass %q is required", n)
		}
		skip[n] = true
	}

	rep := &Report{Graph: g.Name, OpsBefore: opCounts(g)}
	start := time.Now()
	defer func() {
		rep.Total = time.Since(start)
		rep.Summary = Summarize(g)
	}()
	for _, p := range list {
		pr := PassReport{Name: p.Name, Required: p.Required}
		if skip[p.Name] {
			pr.Skipped = true
			pr.Nodes = len(g.Nodes)
			rep.Passes = append(rep.Passes, pr)
			continue
		}
		s := &State{Graph: g, rep: &pr}
		t0 := time.Now()
		err := runProtected(p, s)
		pr.Duration = time.Since(t0)
		pr.Nodes = len(g.Nodes)
		rep.Passes = append(rep.Passes, pr)
		if err != nil {
			return rep, fmt.Errorf("pass %s: %w", p.Name, err)
		}
		if opts.Check {
			if err := ir.Verify(g); err != nil {
				return rep, fmt.Errorf("after pass %s: %w", p.Name, err)
			}
		}
		if dump[p.Name] {
			if _, err := fmt.Fprintf(opts.Dump, "// after %s\n%s\n", p.Name, g); err != nil {
				return rep, fmt.Errorf("dump after %s: %w", p.Name, err)
			}
		}
	}
	return rep, nil
}

// PanicError is a panic inside a pass (a compiler bug), recovered. Error is
// one line; Stack keeps the goroutine stack for a bug report.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("internal error: panic: %v (please report this bug with the model)", e.Value)
}

// runProtected runs the pass, turning a panic into a *PanicError.
func runProtected(p Pass, s *State) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return p.Fn(s)
}

// FindPass returns the pass of list with the given name.
func FindPass(list []Pass, name string) (Pass, bool) {
	i := slices.IndexFunc(list, func(p Pass) bool { return p.Name == name })
	if i < 0 {
		return Pass{}, false
	}
	return list[i], true
}

// WriteTable prints a pass table and the constraints that apply to it.
func WriteTable(w io.Writer, list []Pass) error {
	var b strings.Builder
	for _, p := range list {
		req := ""
		if p.Required {
			req = " (required)"
		}
		fmt.Fprintf(&b, "%-18s %s%s\n", p.Name, p.Doc, req)
	}
	b.WriteString("\nordering constraints:\n")
	for _, c := range Constraints {
		_, okB := FindPass(list, c.Before)
		_, okA := FindPass(list, c.After)
		if okA && okB {
			fmt.Fprintf(&b, "  %s before %s: %s\n", c.Before, c.After, c.Why)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
