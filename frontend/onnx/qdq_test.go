package onnx

import (
	"testing"

	"github.com/mncdev/mnc/ir"
)

// tensorU8 and tensorI8 encode UINT8 / INT8 tensors with raw_data, tensorI32
// an INT32 one with int32_data.
func tensorU8(name string, dims []int64, vals ...uint8) []byte {
	return cat(dimsField(dims), fVarint(2, tUint8), fStr(8, name), fBytes(9, vals))
}

func tensorI8(name string, dims []int64, vals ...int8) []byte {
	raw := make([]byte, len(vals))
	for i, v := range vals {
		raw[i] = byte(v)
	}
	return cat(dimsField(dims), fVarint(2, tInt8), fStr(8, name), fBytes(9, raw))
}

func tensorI32(name string, dims []int64, vals ...int64) []byte {
	return cat(dimsField(dims), fVarint(2, tInt32), fStr(8, name), packedVarints(5, vals...))
}

// TestQDQ: a QuantizeLinear -> DequantizeLinear pair on an activation
// becomes a Clip to the range of its codes, recorded on both values; a
// DequantizeLinear of constant codes (per channel too) becomes the float
// constant; everything else a QDQ file could say is refused by name.
func TestQDQ(t *testing.T) {
	params := cat(initializer(tensorF("s", nil, 0.5)), initializer(tensorU8("z", nil, 10)))
	pair := cat(node("QuantizeLinear", []string{"x", "s", "z"}, []string{"q"}),
		node("DequantizeLinear", []string{"q", "s", "z"}, []string{"y"}))
	g := mustDecode(t, model(13, x4(1, 3), params, pair, output("y")))
	c := only(t, g, ir.Clip)
	if a := c.Attrs.(*ir.ClipAttrs); a.Min != -5 || a.Max != 122.5 {
		t.Errorf("uint8 zero 10 scale 0.5: clip %v, want [-5, 122.5]", a)
	}
	for _, v := range []*ir.Value{g.Inputs[0], c.Output()} {
		if r := v.FileRange; r == nil || r[0] != -5 || r[1] != 122.5 {
			t.Errorf("%v: FileRange %v, want [-5, 122.5]", v, r)
		}
	}
	// int8 codes, no zero point given for the weights: 0 of their type.
	s8 := cat(initializer(tensorF("s", nil, 0.25)), initializer(tensorI8("z", nil, -128)))
	g = mustDecode(t, model(13, x4(1, 3), s8, pair, output("y")))
	if a := only(t, g, ir.Clip).Attrs.(*ir.ClipAttrs); a.Min != 0 || a.Max != 63.75 {
		t.Errorf("int8 zero -128 scale 0.25: clip %v, want [0, 63.75]", a)
	}

	// Weights per channel (axis 0) and an int32 bias without zero point.
	w := cat(initializer(tensorI8("wq", []int64{2, 3, 1, 1}, 1, -2, 3, 127, 0, -127)),
		initializer(tensorF("ws", []int64{2}, 0.5, 0.25)), initializer(tensorI8("wz", []int64{2}, 0, 0)),
		initializer(tensorI32("bq", []int64{2}, 4, -8)), initializer(tensorF("bs", []int64{2}, 0.125, 0.5)),
		node("DequantizeLinear", []string{"wq", "ws", "wz"}, []string{"w"}, aInt("axis", 0)),
		node("DequantizeLinear", []string{"bq", "bs"}, []string{"b"}, aInt("axis", 0)))
	g = mustDecode(t, model(13, x4(1, 3, 2, 2), w, node("Conv", []string{"x", "w", "b"}, []string{"y"}), output("y")))
	conv := only(t, g, ir.Conv)
	wantW := []float32{0.5, -1, 1.5, 31.75, 0, -31.75}
	for i, v := range conv.Inputs[1].Const.F32 {
		if v != wantW[i] {
			t.Fatalf("weights %v, want %v", conv.Inputs[1].Const.F32, wantW)
		}
	}
	if b := conv.Inputs[2].Const.F32; b[0] != 0.5 || b[1] != -4 {
		t.Errorf("bias %v, want [0.5 -4]", b)
	}

	// Refusals.
	wantErr(t, model(13, x4(1, 3), params, node("QuantizeLinear", []string{"x", "s", "z"}, []string{"q"}),
		node("Relu", []string{"q"}, []string{"y"}), output("y")), `"q" is a QuantizeLinear result`, "DequantizeLinear")
	other := cat(params, initializer(tensorF("s2", nil, 0.25)),
		node("QuantizeLinear", []string{"x", "s", "z"}, []string{"q"}),
		node("DequantizeLinear", []string{"q", "s2", "z"}, []string{"y"}))
	wantErr(t, model(13, x4(1, 3), other, output("y")), "other parameters than its QuantizeLinear's")
	perChan := cat(initializer(tensorF("s", []int64{3}, 1, 1, 1)), initializer(tensorU8("z", []int64{3}, 0, 0, 0)), pair)
	wantErr(t, model(13, x4(1, 3), perChan, output("y")), "per-channel quantization of an activation")
	for _, bad := range []float32{0, -1} {
		wantErr(t, model(13, x4(1, 3), initializer(tensorF("s", nil, bad)), initializer(tensorU8("z", nil, 0)), pair, output("y")),
			"is not a positive finite number")
	}
	wantErr(t, model(13, x4(1, 3), params, node("QuantizeLinear", []string{"x", "s", "z"}, []string{"y"}, aInt("block_size", 4)), output("y")),
		"blocked quantization")
	wantErr(t, model(13, x4(1, 3), initializer(tensorF("s", nil, 1)), initializer(tensorI64("z", nil, 0)), pair, output("y")),
		"zero point type INT64 is not supported")
	wantErr(t, model(13, x4(1, 3), initializer(tensorF("s", nil, 1)), initializer(tensorU8("z", []int64{2}, 0, 0)), pair, output("y")),
		"zero point has 2 values for 1 scales")
	wantErr(t, model(9, x4(1, 3), params, pair, output("y")), `unsupported op "QuantizeLinear"`)
	// A range that does not hold 0 (uint8 zero point 0 is [0, 255s]: fine; int32 activations are refused).
	wantErr(t, model(13, x4(1, 3), initializer(tensorF("s", nil, 1)), initializer(tensorI32("z", nil, 0)), pair, output("y")),
		"int32 activation")
}
