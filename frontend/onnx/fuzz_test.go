package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mncdev/mnc/ir"
)

// fuzzSeeds are small valid models exercising most import paths.
func fuzzSeeds() [][]byte {
	w := initializer(tensorF("w", []int64{2, 1, 3, 3}, seq(18, -1, 0.1)...))
	return [][]byte{
		model(13,
			x4(-1, 2, 5, 5), w,
			initializer(tensorI64("p", []int64{8}, 0, 0, 1, 1, 0, 0, 1, 1)),
			initializer(tensorF("lo", nil, 0)), initializer(tensorF("hi", nil, 6)),
			node("Pad", []string{"x", "p"}, []string{"xp"}, aStr("mode", "reflect")),
			node("Conv", []string{"xp", "w"}, []string{"c"}, aInt("group", 2), aInts("strides", 2, 2)),
			node("Clip", []string{"c", "lo", "hi"}, []string{"r"}),
			node("AveragePool", []string{"r"}, []string{"ap"}, aInts("kernel_shape", 2, 2), aInt("ceil_mode", 1)),
			node("GlobalAveragePool", []string{"ap"}, []string{"g"}),
			node("Flatten", []string{"g"}, []string{"f"}),
			node("Softmax", []string{"f"}, []string{"y"}, aInt("axis", 1)),
			output("y")),
		model(9,
			x4(1, 2, 4, 4),
			initializer(tensorF("s", []int64{2}, 1, 2)), initializer(tensorF("b", []int64{2}, 0, 1)),
			initializer(tensorF("m", []int64{2}, 0, 0)), initializer(tensorFTyped("v", []int64{2}, 1, 1)),
			node("BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"bn"}, aFloat("epsilon", 1e-3)),
			node("Clip", []string{"bn"}, []string{"c"}, aFloat("min", 0), aFloat("max", 6)),
			node("HardSigmoid", []string{"c"}, []string{"h"}),
			node("Mul", []string{"c", "h"}, []string{"m2"}),
			node("Pad", []string{"m2"}, []string{"pd"}, aInts("pads", 0, 0, 1, 1, 0, 0, 1, 1)),
			node("Dropout", []string{"pd"}, []string{"y", "mask"}, aFloat("ratio", 0.1)),
			output("y")),
		model(14,
			x4(-1, 3, 2, 2),
			initializer(tensorI64("zero", nil, 0)), initializer(tensorI64("ax", []int64{1}, 0)),
			initializer(tensorF("fc", []int64{12, 4}, seq(48, 0, 0.5)...)), initializer(tensorF("fb", []int64{4}, 1, 2, 3, 4)),
			node("Shape", []string{"x"}, []string{"sh"}),
			node("Gather", []string{"sh", "zero"}, []string{"n"}),
			node("Unsqueeze", []string{"n", "ax"}, []string{"n1"}),
			node("Constant", nil, []string{"m1"}, aTensor("value", tensorI64("", []int64{1}, -1))),
			node("Concat", []string{"n1", "m1"}, []string{"t"}, aInt("axis", 0)),
			node("Reshape", []string{"x", "t"}, []string{"f"}),
			node("Gemm", []string{"f", "fc", "fb"}, []string{"gm"}, aFloat("alpha", 0.5)),
			node("MatMul", []string{"gm", "fc2"}, []string{"mm"}),
			initializer(tensorF("fc2", []int64{4, 2}, seq(8, 1, 1)...)),
			node("HardSwish", []string{"mm"}, []string{"hs"}),
			node("Sigmoid", []string{"hs"}, []string{"sg"}),
			node("Concat", []string{"sg", "hs"}, []string{"y"}, aInt("axis", 1)),
			node("Identity", []string{"y"}, []string{"out"}),
			output("out")),
		model(13, // QDQ: an activation pair, per-channel weights, an int32 bias
			x4(1, 2, 3, 3),
			initializer(tensorF("s", nil, 0.5)), initializer(tensorU8("z", nil, 10)),
			initializer(tensorI8("wq", []int64{2, 2, 1, 1}, 1, -2, 3, 127)),
			initializer(tensorF("ws", []int64{2}, 0.5, 0.25)), initializer(tensorI8("wz", []int64{2}, 0, 0)),
			initializer(tensorI32("bq", []int64{2}, 4, -8)), initializer(tensorF("bs", []int64{2}, 0.125, 0.5)),
			node("QuantizeLinear", []string{"x", "s", "z"}, []string{"q"}),
			node("DequantizeLinear", []string{"q", "s", "z"}, []string{"dq"}),
			node("DequantizeLinear", []string{"wq", "ws", "wz"}, []string{"w"}, aInt("axis", 0)),
			node("DequantizeLinear", []string{"bq", "bs"}, []string{"b"}, aInt("axis", 0)),
			node("Conv", []string{"dq", "w", "b"}, []string{"y"}),
			output("y")),
		model(13, // an SSD head's view, permute and reshape with the batch size folded
			x4(-1, 6, 2, 2),
			initializer(tensorI64("zero", nil, 0)), initializer(tensorI64("ax", []int64{1}, 0)),
			initializer(tensorI64("rest", []int64{4}, 2, 3, 2, 2)), initializer(tensorI64("tail", []int64{2}, -1, 3)),
			node("Shape", []string{"x"}, []string{"sh"}),
			node("Gather", []string{"sh", "zero"}, []string{"n"}, aInt("axis", 0)),
			node("Unsqueeze", []string{"n", "ax"}, []string{"n1"}),
			node("Concat", []string{"n1", "rest"}, []string{"s5"}, aInt("axis", 0)),
			node("Reshape", []string{"x", "s5"}, []string{"v"}),
			node("Transpose", []string{"v"}, []string{"p"}, aInts("perm", 0, 3, 4, 1, 2)),
			node("Concat", []string{"n1", "tail"}, []string{"s3"}, aInt("axis", 0)),
			node("Reshape", []string{"p", "s3"}, []string{"y"}),
			output("y")),
		tensorF("t", []int64{2, 2}, 1, 2, 3, 4),
		tensorI64("t", []int64{3}, 1, -1, 5),
	}
}

// FuzzDecode feeds arbitrary bytes to the model and tensor decoders. It
// calls the decoders without Decode's recover so that a panic is found, not
// hidden.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	if dir := findNodeTestDir(); dir != "" {
		for _, name := range []string{"test_conv_with_autopad_same", "test_averagepool_2d_same_lower", "test_batchnorm_example",
			"test_gemm_all_attributes", "test_pad", "test_constant_pad", "test_reshape_negative_dim", "test_clip_default_min",
			"test_softmax_axis_1_expanded", "test_dropout_default_mask_ratio", "test_identity_sequence"} {
			if data, err := os.ReadFile(filepath.Join(dir, name, "model.onnx")); err == nil {
				f.Add(data)
			}
			if data, err := os.ReadFile(filepath.Join(dir, name, "test_data_set_0", "input_0.pb")); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := decode(data)
		if err == nil {
			if g == nil {
				t.Fatal("nil graph without error")
			}
			if err := ir.Verify(g); err != nil {
				t.Fatalf("decoded graph fails Verify: %v", err)
			}
		}
		if tp, err := decodeTensorProto(data); err == nil {
			if tt, err := tp.toTensor(); err == nil {
				if err := tt.Check(); err != nil {
					t.Fatalf("decoded tensor fails Check: %v", err)
				}
			}
		}
	})
}

func TestFuzzSeedsDecode(t *testing.T) {
	for i, s := range fuzzSeeds()[:3] {
		if _, err := Decode(s); err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
	}
}
