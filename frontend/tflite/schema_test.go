package tflite

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSchemaAgrees checks the slots and enum values of schema.go against
// flatc: the test files (and ../shared's MobileNetV1 when present) are
// decoded by flatc with testdata/tflite.fbs, a schema written from TFLite's
// field order, and every field compared with what the reader decodes.
func TestSchemaAgrees(t *testing.T) {
	flatc, err := exec.LookPath("flatc")
	if err != nil {
		t.Skip("flatc not installed (Debian: apt-get install flatbuffers-compiler): the schema cross-check needs it")
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.tflite"))
	shared := filepath.Join("..", "..", "..", "shared", "models", "tflite", "mobilenet_v1_0.25_128_quant.tflite")
	if _, err := os.Stat(shared); err == nil {
		files = append(files, shared)
	}
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	schema, _ := filepath.Abs(filepath.Join("testdata", "tflite.fbs"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dir := t.TempDir()
			out, err := exec.Command(flatc, "--json", "--strict-json", "--raw-binary", "--defaults-json", "-o", dir, schema, "--", f).CombinedOutput()
			if err != nil {
				t.Fatalf("flatc: %v\n%s", err, out)
			}
			js, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(filepath.Base(f), ".tflite")+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var j fbModel
			if err := json.Unmarshal(js, &j); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := decodeModel(b)
			if err != nil {
				t.Fatal(err)
			}
			compareModel(t, &j, m)
		})
	}
}

type fbModel struct {
	Version       int
	OperatorCodes []struct {
		DeprecatedBuiltinCode int   `json:"deprecated_builtin_code"`
		BuiltinCode           int32 `json:"builtin_code"`
	} `json:"operator_codes"`
	Subgraphs []struct {
		Tensors []struct {
			Shape        []int
			Type         int8
			Buffer       int
			Name         string
			Quantization *struct {
				Scale     []float64
				ZeroPoint []int64 `json:"zero_point"`
				Dim       int     `json:"quantized_dimension"`
			}
		}
		Inputs, Outputs []int
		Operators       []struct {
			OpcodeIndex int            `json:"opcode_index"`
			Inputs      []int          `json:"inputs"`
			Outputs     []int          `json:"outputs"`
			OptionsType string         `json:"builtin_options_type"`
			Options     map[string]any `json:"builtin_options"`
		}
	}
	Buffers []struct{ Data []byte }
}

// optionValues are the union members' values in testdata/tflite.fbs, and
// optionFields the reader's slot of each of their fields.
var optionValues = map[string]uint8{"NONE": 0, "Conv2DOptions": optConv2D, "DepthwiseConv2DOptions": optDepthwiseConv,
	"Pool2DOptions": optPool2D, "FullyConnectedOptions": optFullyConnected, "SoftmaxOptions": optSoftmax,
	"ConcatenationOptions": optConcatenation, "AddOptions": optAdd, "ResizeBilinearOptions": optResizeBilinear,
	"ReshapeOptions": optReshape, "MulOptions": optMul, "PadOptions": optPad, "ReducerOptions": optReducer,
	"SqueezeOptions": optSqueeze, "DequantizeOptions": optDequantize, "ArgMaxOptions": optArgMax,
	"QuantizeOptions": optQuantize, "HardSwishOptions": optHardSwish, "SubOptions": optSub, "DivOptions": optDiv,
	"PadV2Options": optPadV2}

type slotOf struct {
	slot int
	kind byte // 'i' int32, 'b' int8, 'f' float32, 'z' bool, 'v' [int]
	def  int32
}

var optionFields = map[string]map[string]slotOf{
	"Conv2DOptions": {"padding": {convPadding, 'b', 0}, "stride_w": {convStrideW, 'i', 0}, "stride_h": {convStrideH, 'i', 0},
		"fused_activation_function": {convAct, 'b', 0}, "dilation_w_factor": {convDilW, 'i', 1}, "dilation_h_factor": {convDilH, 'i', 1}},
	"DepthwiseConv2DOptions": {"padding": {dwPadding, 'b', 0}, "stride_w": {dwStrideW, 'i', 0}, "stride_h": {dwStrideH, 'i', 0},
		"depth_multiplier": {dwMultiplier, 'i', 0}, "fused_activation_function": {dwAct, 'b', 0},
		"dilation_w_factor": {dwDilW, 'i', 1}, "dilation_h_factor": {dwDilH, 'i', 1}},
	"Pool2DOptions": {"padding": {poolPadding, 'b', 0}, "stride_w": {poolStrideW, 'i', 0}, "stride_h": {poolStrideH, 'i', 0},
		"filter_width": {poolFilterW, 'i', 0}, "filter_height": {poolFilterH, 'i', 0}, "fused_activation_function": {poolAct, 'b', 0}},
	"FullyConnectedOptions": {"fused_activation_function": {fcAct, 'b', 0}, "weights_format": {fcWeightsFormat, 'b', 0},
		"keep_num_dims": {fcKeepNumDims, 'z', 0}},
	"SoftmaxOptions":       {"beta": {softmaxBeta, 'f', 0}},
	"ConcatenationOptions": {"axis": {concatAxis, 'i', 0}, "fused_activation_function": {concatAct, 'b', 0}},
	"AddOptions":           {"fused_activation_function": {eltwiseAct, 'b', 0}},
	"MulOptions":           {"fused_activation_function": {eltwiseAct, 'b', 0}},
	"SubOptions":           {"fused_activation_function": {eltwiseAct, 'b', 0}},
	"DivOptions":           {"fused_activation_function": {eltwiseAct, 'b', 0}},
	"ReshapeOptions":       {"new_shape": {reshapeNewShape, 'v', 0}},
	"ReducerOptions":       {"keep_dims": {reducerKeepDims, 'z', 0}},
	"SqueezeOptions":       {"squeeze_dims": {squeezeDims, 'v', 0}},
	"ArgMaxOptions":        {"output_type": {argMaxOutputType, 'b', 0}},
}

func compareModel(t *testing.T, j *fbModel, m *model) {
	if j.Version != 3 || len(j.Subgraphs) == 0 {
		t.Fatalf("flatc: version %d, %d subgraphs", j.Version, len(j.Subgraphs))
	}
	sg := j.Subgraphs[0]
	if len(sg.Tensors) != len(m.tensors) || len(sg.Operators) != len(m.ops) {
		t.Fatalf("flatc: %d tensors and %d operators, the reader %d and %d", len(sg.Tensors), len(sg.Operators), len(m.tensors), len(m.ops))
	}
	for i, jt := range sg.Tensors {
		rt := &m.tensors[i]
		name, _, _ := strings.Cut(jt.Name, ";")
		if name != rt.name || jt.Type != rt.dtype || !equalInts(jt.Shape, rt.shape) || len(j.Buffers[jt.Buffer].Data) != len(rt.data) {
			t.Errorf("tensor %d: flatc %q %d %v buffer %d, the reader %q %d %v with %d bytes", i, jt.Name, jt.Type, jt.Shape,
				jt.Buffer, rt.name, rt.dtype, rt.shape, len(rt.data))
		}
		if q := jt.Quantization; q != nil && len(q.Scale) > 0 {
			if rt.q == nil || len(rt.q.scale) != len(q.Scale) || (len(q.Scale) > 1 && rt.q.dim != q.Dim) {
				t.Errorf("tensor %d: flatc quantization %+v, the reader %+v", i, q, rt.q)
				continue
			}
			for k, s := range q.Scale {
				if math.Abs(float64(rt.q.scale[k])-s) > 1e-6+1e-6*math.Abs(s) || // flatc prints 6 decimals
					rt.q.zero[k] != q.ZeroPoint[k] {
					t.Errorf("tensor %d: flatc scale %g zero %d, the reader %g %d", i, s, q.ZeroPoint[k], rt.q.scale[k], rt.q.zero[k])
				}
			}
		}
	}
	for i, jo := range sg.Operators {
		ro := &m.ops[i]
		c := j.OperatorCodes[jo.OpcodeIndex]
		if code := max(int32(c.DeprecatedBuiltinCode), c.BuiltinCode); code != ro.code || !equalInts(jo.Inputs, ro.inputs) || !equalInts(jo.Outputs, ro.outputs) {
			t.Errorf("operator %d: flatc code %d %v -> %v, the reader %d %v -> %v", i, code, jo.Inputs, jo.Outputs, ro.code, ro.inputs, ro.outputs)
		}
		if jo.OptionsType == "" {
			jo.OptionsType = "NONE"
		}
		v, ok := optionValues[jo.OptionsType]
		if !ok || v != ro.optType {
			t.Errorf("operator %d: flatc options %s, the reader %d", i, jo.OptionsType, ro.optType)
			continue
		}
		for name, want := range jo.Options {
			s, ok := optionFields[jo.OptionsType][name]
			if !ok {
				t.Errorf("operator %d: %s.%s has no slot in the test's table", i, jo.OptionsType, name)
				continue
			}
			if got := readField(t, ro.opts, s); !sameValue(got, want) {
				t.Errorf("operator %d: %s.%s = %v by flatc, %v by the reader", i, jo.OptionsType, name, want, got)
			}
		}
	}
}

func readField(t *testing.T, o table, s slotOf) any {
	var v any
	var err error
	switch s.kind {
	case 'i':
		v, err = o.int32(s.slot, s.def, "f")
	case 'b':
		v, err = o.int8(s.slot, int8(s.def), "f")
	case 'f':
		v, err = o.float32(s.slot, 0, "f")
	case 'z':
		v, err = o.bool(s.slot, "f")
	case 'v':
		var vec vector
		vec, err = o.vector(s.slot, 4, "f")
		v = vec.ints()
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sameValue compares a field the reader decoded with flatc's JSON value.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case float64:
		switch g := got.(type) {
		case int32:
			return float64(g) == w
		case int8:
			return float64(g) == w
		case float32:
			return math.Abs(float64(g)-w) <= 1e-6+1e-6*math.Abs(w)
		}
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case []any:
		g, ok := got.([]int32)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range g {
			if f, ok := w[i].(float64); !ok || float64(g[i]) != f {
				return false
			}
		}
		return true
	}
	return false
}

func equalInts(a []int, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
