package onnx

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mncdev/mnc/ir"
	"github.com/mncdev/mnc/ir/interp"
	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX backend node tests (Debian's libonnx-testdata): every test of an
// op mnc imports is loaded, run through the float reference interpreter and
// compared with the expected outputs. Tests mnc cannot run are listed in
// nodeTestSkips with the reason; nothing is skipped silently.

// nodeTestPattern selects the tests of the ops mnc imports.
var nodeTestPattern = regexp.MustCompile(`^test_(conv|basic_conv|relu|clip|hardsigmoid|hardswish|sigmoid|add|sub|mul|div|` +
	`globalaveragepool|averagepool|flatten|reshape|gemm|matmul|identity|dropout|softmax|pad|constant_pad|edge_pad|reflect_pad|` +
	`concat|batchnorm|constant$)`)

// Tolerance of the comparison with the expected outputs:
// |got - want| <= nodeTestAtol + nodeTestRtol*|want|.
const (
	nodeTestRtol = 1e-5
	nodeTestAtol = 1e-6
)

type skipKind int

const (
	// refused: the importer must refuse the model (checked).
	refused skipKind = iota
	// notRunnable: the model imports, but the float interpreter cannot run it.
	notRunnable
)

type skipReason struct {
	kind skipKind
	why  string
}

var (
	skipOldOpset    = skipReason{refused, "opset below 7 (mnc reads opsets 7 to 21)"}
	skipNot2D       = skipReason{refused, "1-D or 3-D pooling (the ir is 2-D only)"}
	skipOtherOp     = skipReason{refused, "uses an op outside mnc's set"}
	skipExpanded    = skipReason{refused, "expanded function body uses ops outside mnc's set (ReduceMax, Exp, ReduceSum...)"}
	skipTraining    = skipReason{refused, "training-mode BatchNormalization (refused on purpose)"}
	skipMask        = skipReason{refused, "reads the Dropout mask output (refused on purpose)"}
	skipNonTensor   = skipReason{refused, "optional or sequence-typed input (tensors only)"}
	skipBatchedB    = skipReason{refused, "MatMul with a batched B (ir MatMul takes a 2-D B)"}
	skipAllowZero   = skipReason{refused, "Reshape allowzero=1 with a 0 in the shape (refused on purpose)"}
	skipIntegerData = skipReason{notRunnable, "integer-typed data (the reference interpreter runs f32 graphs only)"}
)

var nodeTestSkips = map[string]skipReason{
	"test_globalaveragepool":               skipOldOpset,
	"test_globalaveragepool_precomputed":   skipOldOpset,
	"test_hardsigmoid":                     skipOldOpset,
	"test_hardsigmoid_default":             skipOldOpset,
	"test_hardsigmoid_example":             skipOldOpset,
	"test_averagepool_1d_default":          skipNot2D,
	"test_averagepool_3d_default":          skipNot2D,
	"test_basic_convinteger":               skipOtherOp,
	"test_convinteger_with_padding":        skipOtherOp,
	"test_convinteger_without_padding":     skipOtherOp,
	"test_convtranspose":                   skipOtherOp,
	"test_convtranspose_1d":                skipOtherOp,
	"test_convtranspose_3d":                skipOtherOp,
	"test_convtranspose_autopad_same":      skipOtherOp,
	"test_convtranspose_dilations":         skipOtherOp,
	"test_convtranspose_kernel_shape":      skipOtherOp,
	"test_convtranspose_output_shape":      skipOtherOp,
	"test_convtranspose_pad":               skipOtherOp,
	"test_convtranspose_pads":              skipOtherOp,
	"test_convtranspose_with_kernel":       skipOtherOp,
	"test_matmulinteger":                   skipOtherOp,
	"test_softmax_axis_0_expanded":         skipExpanded,
	"test_softmax_axis_1_expanded":         skipExpanded,
	"test_softmax_axis_2_expanded":         skipExpanded,
	"test_softmax_default_axis_expanded":   skipExpanded,
	"test_softmax_example_expanded":        skipExpanded,
	"test_softmax_large_number_expanded":   skipExpanded,
	"test_softmax_negative_axis_expanded":  skipExpanded,
	"test_batchnorm_epsilon_training_mode": skipTraining,
	"test_batchnorm_example_training_mode": skipTraining,
	"test_dropout_default_mask":            skipMask,
	"test_dropout_default_mask_ratio":      skipMask,
	"test_identity_opt":                    skipNonTensor,
	"test_identity_sequence":               skipNonTensor,
	"test_matmul_3d":                       skipBatchedB,
	"test_matmul_4d":                       skipBatchedB,
	"test_reshape_allowzero_reordered":     skipAllowZero,
	"test_add_uint8":                       skipIntegerData,
	"test_sub_uint8":                       skipIntegerData,
	"test_mul_uint8":                       skipIntegerData,
	"test_div_uint8":                       skipIntegerData,
	"test_clip_default_int8_inbounds":      skipIntegerData,
	"test_clip_default_int8_max":           skipIntegerData,
	"test_clip_default_int8_min":           skipIntegerData,
	"test_edge_pad":                        skipIntegerData,
	"test_reflect_pad":                     skipIntegerData,
}

// constInputs lists, per op, the input positions mnc requires to be
// constant. The node tests feed them as graph inputs; the harness binds them
// as initializers (a graph input that is also an initializer is a constant).
var constInputs = map[string][]int{
	"Clip":    {1, 2},
	"Pad":     {1, 2, 3},
	"Reshape": {1},
	"Dropout": {1, 2},
}

// findNodeTestDir locates the node tests of libonnx-testdata.
func findNodeTestDir() string {
	if d := os.Getenv("MNC_ONNX_NODE_TESTS"); d != "" {
		return d
	}
	if out, err := exec.Command("dpkg", "-L", "libonnx-testdata").Output(); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if line := sc.Text(); strings.HasSuffix(line, "/data/node") {
				return line
			}
		}
	}
	for _, d := range []string{"/usr/share/libonnx-testdata/data/node", "/usr/share/onnx/data/node"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return ""
}

func TestONNXNodeTests(t *testing.T) {
	dir := findNodeTestDir()
	if dir == "" {
		t.Skip("ONNX backend node tests not found: install Debian's libonnx-testdata (or set MNC_ONNX_NODE_TESTS)")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && nodeTestPattern.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	for name := range nodeTestSkips {
		if !slices.Contains(names, name) {
			t.Errorf("skip table lists %s, which is not among the selected tests", name)
		}
	}
	passed, failed := 0, 0
	skipped := map[string][]string{}
	for _, name := range names {
		if reason, ok := nodeTestSkips[name]; ok {
			skipped[reason.why] = append(skipped[reason.why], name)
			t.Run(name, func(t *testing.T) {
				_, err := loadNodeTest(t, filepath.Join(dir, name), dataSets(t, filepath.Join(dir, name))[0])
				switch {
				case reason.kind == refused && err == nil:
					t.Errorf("skip table says the importer refuses it (%s), but it imports", reason.why)
				case reason.kind == refused:
					t.Logf("refused as expected: %v", err)
				case err != nil:
					t.Errorf("skip table says it imports but cannot run (%s), but import fails: %v", reason.why, err)
				}
				t.Skip(reason.why)
			})
			continue
		}
		if t.Run(name, func(t *testing.T) { runNodeTest(t, filepath.Join(dir, name)) }) {
			passed++
		} else {
			failed++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ONNX node tests in %s: %d selected, %d passed, %d failed, %d skipped\n", dir, len(names), passed, failed, len(names)-passed-failed)
	var reasons []string
	for r := range skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&b, "  skipped %2d: %s: %s\n", len(skipped[r]), r, strings.Join(skipped[r], " "))
	}
	t.Log(b.String())
}

// nodeTest is one data set of a node test, imported.
type nodeTest struct {
	g       *ir.Graph
	inputs  []*ir.Tensor // in g.Inputs order
	outputs int          // ONNX graph outputs
}

// loadNodeTest imports the model of a node test with the inputs mnc needs
// constant bound to the data set's values. A non-nil error is the
// importer's.
func loadNodeTest(t *testing.T, dir, set string) (*nodeTest, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeModel(data)
	if err != nil {
		return nil, err
	}
	gp, err := decodeGraph(m.graph)
	if err != nil {
		return nil, err
	}
	bind := map[string]bool{}
	for _, n := range gp.nodes {
		for _, i := range constInputs[n.opType] {
			if i < len(n.inputs) && n.inputs[i] != "" {
				bind[n.inputs[i]] = true
			}
		}
	}
	isInit := map[string]bool{}
	for _, tp := range gp.inits {
		isInit[tp.name] = true
	}
	raws := map[string][]byte{}
	var inits [][]byte
	i := 0
	for _, vi := range gp.inputs {
		if isInit[vi.name] {
			continue // data files cover the inputs without initializers
		}
		raw, err := os.ReadFile(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
		i++
		if err != nil {
			t.Fatal(err)
		}
		raws[vi.name] = raw
		if bind[vi.name] {
			// The stored tensor with its name set to the input's (the last
			// name field wins).
			inits = append(inits, append(slices.Clip(raw), fStr(8, vi.name)...))
		}
	}
	g, err := Decode(addInitializers(t, data, inits))
	if err != nil {
		return nil, err
	}
	nt := &nodeTest{g: g, outputs: len(gp.outputs)}
	for _, v := range g.Inputs {
		in, err := DecodeTensor(raws[v.Name])
		if err != nil {
			t.Fatalf("%s: input %s: %v", filepath.Base(set), v.Name, err)
		}
		nt.inputs = append(nt.inputs, in)
	}
	return nt, nil
}

func dataSets(t *testing.T, dir string) []string {
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		t.Fatal("no test data sets")
	}
	return sets
}

func runNodeTest(t *testing.T, dir string) {
	for _, set := range dataSets(t, dir) {
		nt, err := loadNodeTest(t, dir, set)
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if err := ir.Verify(nt.g); err != nil {
			t.Fatal(err)
		}
		got, err := interp.Run(nt.g, nt.inputs, nil)
		if err != nil {
			t.Fatalf("run: %v\n%v", err, nt.g)
		}
		for i := range nt.outputs {
			raw, err := os.ReadFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
			if err != nil {
				t.Fatal(err)
			}
			want, err := DecodeTensor(raw)
			if err != nil {
				t.Fatalf("output %d: %v", i, err)
			}
			if err := closeEnough(got[i], want, nodeTestRtol, nodeTestAtol); err != nil {
				t.Errorf("%s: output %d: %v\n%v", filepath.Base(set), i, err, nt.g)
			}
		}
	}
}

// addInitializers appends initializer fields to the model's graph.
func addInitializers(t *testing.T, model []byte, inits [][]byte) []byte {
	t.Helper()
	if len(inits) == 0 {
		return model
	}
	var out []byte
	b := model
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal("bad model")
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			t.Fatal("bad model")
		}
		if num == 7 && typ == protowire.BytesType {
			g, _ := protowire.ConsumeBytes(b[n:])
			g = slices.Clone(g)
			for _, init := range inits {
				g = append(g, initializer(init)...)
			}
			out = append(out, fBytes(7, g)...)
		} else {
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return out
}

// closeEnough compares float32 tensors elementwise.
func closeEnough(got, want *ir.Tensor, rtol, atol float64) error {
	if got.DType != want.DType || !got.Shape.Equal(want.Shape) {
		return fmt.Errorf("got %v%v, want %v%v", got.DType, got.Shape, want.DType, want.Shape)
	}
	if want.DType != ir.Float32 {
		return fmt.Errorf("cannot compare %v tensors", want.DType)
	}
	worst, at := 0.0, -1
	for i, w := range want.F32 {
		g := got.F32[i]
		if math.IsNaN(float64(w)) && math.IsNaN(float64(g)) {
			continue
		}
		d := math.Abs(float64(g) - float64(w))
		if math.IsNaN(d) || d > atol+rtol*math.Abs(float64(w)) {
			if at < 0 || d > worst || math.IsNaN(d) {
				worst, at = d, i
			}
		}
	}
	if at >= 0 {
		return fmt.Errorf("element %d: got %g, want %g (|diff| %g > %g + %g*|want|)", at, got.F32[at], want.F32[at], worst, atol, rtol)
	}
	return nil
}
