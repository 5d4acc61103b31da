package tflite

import (
	"encoding/binary"
	"math"
	"testing"
)

// Quantized files load as float: weights dequantized per tensor (uint8) and
// per axis (int8), INT32 biases with input scale x filter scale, FLOAT16
// constants widened, QUANTIZE/DEQUANTIZE passed through, and every
// quantized activation's range recorded.
func TestQuantized(t *testing.T) {
	m := &tModel{}
	const inScale, c1Scale = 1.0 / 128, 0.1
	x := m.add(tTensor{name: "x", typ: ttUint8, shape: []int32{1, 4, 4, 2}, scale: []float32{inScale}, zero: []int64{128}})
	wq := []byte{90, 110, 100, 120, 130, 80}
	w := m.add(tTensor{name: "w", typ: ttUint8, shape: []int32{3, 1, 1, 2}, data: wq, scale: []float32{0.05}, zero: []int64{100}})
	bq := []int32{1000, -2000, 300}
	b := m.i32("b", []int32{3}, bq...)
	m.tensors[b].scale, m.tensors[b].zero = []float32{inScale * 0.05}, []int64{0}
	c1 := m.add(tTensor{name: "c1", typ: ttUint8, shape: []int32{1, 4, 4, 3}, scale: []float32{c1Scale}, zero: []int64{0}})
	m.op(bConv2D, []int32{x, w, b}, c1, optConv2D, options(convPadding, int8(padValid), convStrideW, 1, convStrideH, 1, convAct, int8(actRelu)))
	dq := make([]byte, 27)
	for i := range dq {
		dq[i] = byte(int8(i*7%31 - 15))
	}
	dws := []float32{0.1, 0.2, 0.3}
	dw := m.add(tTensor{name: "dw", typ: ttInt8, shape: []int32{1, 3, 3, 3}, data: dq, scale: dws, zero: []int64{0, 0, 0}, qdim: 3})
	dbq := []int32{50, -60, 70}
	db := m.i32("db", []int32{3}, dbq...)
	m.tensors[db].scale, m.tensors[db].zero = []float32{c1Scale * 0.1, c1Scale * 0.2, c1Scale * 0.3}, []int64{0, 0, 0}
	d := m.add(tTensor{name: "d", typ: ttInt8, shape: []int32{1, 2, 2, 3}, scale: []float32{0.25}, zero: []int64{-10}})
	m.op(bDepthwiseConv2D, []int32{c1, dw, db}, d, optDepthwiseConv, options(dwPadding, int8(padValid), dwStrideW, 1, dwStrideH, 1, dwMultiplier, 1))
	df := m.act("df", 1, 2, 2, 3)
	m.op(bDequantize, []int32{d}, df, optNone, nil)
	h := make([]byte, 6) // FLOAT16 0.5, -2, 0.000061035 (the smallest normal)
	binary.LittleEndian.PutUint16(h, 0x3800)
	binary.LittleEndian.PutUint16(h[2:], 0xc000)
	binary.LittleEndian.PutUint16(h[4:], 0x0400)
	k16 := m.add(tTensor{name: "k16", typ: ttFloat16, shape: []int32{3}, data: h})
	k := m.act("k", 3)
	m.op(bDequantize, []int32{k16}, k, optNone, nil)
	y := m.act("y", 1, 2, 2, 3)
	m.op(bAdd, []int32{df, k}, y, optAdd, nil)
	m.inputs, m.outputs = []int32{x}, []int32{y}

	xv := make([]float32, 32)
	for i := range xv {
		xv[i] = float32((i*37)%256-128) * inScale
	}
	wf := func(o, _, _, i int) float32 { return float32(int(wq[o*2+i])-100) * 0.05 }
	bf := make([]float32, 3)
	for i, q := range bq {
		bf[i] = float32(float64(q) * inScale * 0.05)
	}
	c1v, s1 := convRef(xv, [4]int{1, 4, 4, 2}, wf, bf, 3, 1, 1, 1, false, 1, relu)
	df2 := func(o, i, j, _ int) float32 { return float32(int8(dq[(i*3+j)*3+o])) * dws[o] }
	dbf := make([]float32, 3)
	for i, q := range dbq {
		dbf[i] = float32(float64(q) * c1Scale * float64(dws[i]))
	}
	want, _ := convRef(c1v, s1, df2, dbf, 3, 3, 1, 1, false, 3, ident)
	for i := range want {
		want[i] += []float32{0.5, -2, float32(math.Ldexp(1, -14))}[i%3]
	}
	got, g := runNHWC(t, "quantized", m, xv)
	near(t, "quantized", got, want)
	ranges := map[string][2]float32{"x": {-1, 127.0 / 128}, "c1": {0, 25.5}, "d": {-118 * 0.25, 137 * 0.25}}
	found := 0
	for _, v := range append(g.Inputs, g.Nodes[0].Output(), g.Nodes[1].Output()) {
		want, ok := ranges[v.Name]
		if !ok {
			continue
		}
		found++
		if v.FileRange == nil || math.Abs(float64(v.FileRange[0]-want[0])) > 1e-6 || math.Abs(float64(v.FileRange[1]-want[1])) > 1e-6 {
			t.Errorf("%s: range %v, want %v", v.Name, v.FileRange, want)
		}
	}
	if found != 3 {
		t.Errorf("found %d of the 3 quantized values", found)
	}
	if r := g.Outputs[0].FileRange; r != nil {
		t.Errorf("the float output has range %v", r)
	}
}
