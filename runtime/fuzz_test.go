package runtime_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/mncdev/mnc/runtime"
	"github.com/mncdev/mnc/runtime/mncfb"
)

// FuzzLoad feeds random and mutated model files (seeded with real ones) to
// the verifier, and those it accepts to an interpreter: never a panic, a
// hang or an "internal error".
//
//	go test -fuzz=FuzzLoad -fuzztime=3m ./runtime/
func FuzzLoad(f *testing.F) {
	tm := blobs(f)
	det := detBlob(f)
	seeds := [][]byte{tm.int8, tm.f32, tm.int8[:len(tm.int8)/2], []byte("xxxxMNC1"), nil,
		// The checks of issue 14: trailing bytes, a bias's stated
		// quantization, the precision field.
		append(append([]byte(nil), tm.f32...), "appended"...),
		withBiasQuant(f, tm.int8, 1, 0), withBiasQuant(f, tm.int8, 1.5, 0),
		mutate(tm.int8, func(m *mncfb.Model) { m.MutatePrecision(mncfb.PrecisionFLOAT32) }),
		// Format 1.4's RESIZE_BILINEAR, CONCATENATION and ARG_MAX (an
		// INT32 output), in both precisions.
		segFile(f), segFile8(f),
		// Format 1.5's detection settings: a detector, and one whose
		// feature map no longer matches its outputs.
		det, detMeta(f, det, func(d *mncfb.Detection) { featureMap(d, 5).MutateWidth(2) }),
	}
	for _, b := range seeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := runtime.Load(data)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		info := m.Info()
		if info.Arena.Bytes > 16<<20 || info.MACs > 50e6 {
			return // valid but too big to run here
		}
		it, err := m.NewInterpreter()
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		s := m.InputShape()
		n := 1
		for _, d := range s {
			n *= d
		}
		in := make([]float32, n)
		for i := range in {
			in[i] = float32(i%7) - 3
		}
		if _, err := it.Run(runtime.Tensor{Shape: s, Data: in}); err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Detection(); ok {
			if _, err := it.Detect(runtime.Tensor{Shape: s, Data: in}, [][2]int{{7, 5}}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzPatch writes small integers at fuzzer-chosen places of a real model
// file (int8 or float32; kind 2 and 3: the float32 and int8 files of a
// small segmentation head, format 1.4's RESIZE_BILINEAR, CONCATENATION and
// ARG_MAX), so that most inputs stay well-formed FlatBuffers
// whose contents are wrong: shapes, strides, pads, indices, offsets,
// scales. The verifier must refuse them or the model must run.
//
//	go test -fuzz=FuzzPatch -fuzztime=3m ./runtime/
func FuzzPatch(f *testing.F) {
	tm := blobs(f)
	files := [][]byte{tm.int8, tm.f32, segFile(f), segFile8(f), tm.mixed} // mixed: float layers with int8-stored weights (format 1.6)
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), []byte{0, 1, 0, 0, 2, 0})
	f.Add(uint8(2), []byte{0, 1, 0, 0, 2, 0})
	f.Add(uint8(3), []byte{4, 1, 0, 0, 7, 0})
	f.Add(uint8(4), []byte{0, 2, 0, 0, 3, 0})
	f.Fuzz(func(t *testing.T, kind uint8, patch []byte) {
		base := files[int(kind)%len(files)]
		data := append([]byte(nil), base...)
		for i := 0; i+6 <= len(patch) && i < 6*16; i += 6 {
			off := int(binary.LittleEndian.Uint32(patch[i:])) % (len(data) - 4)
			off &^= 3
			v := int32(int16(binary.LittleEndian.Uint16(patch[i+4:])))
			binary.LittleEndian.PutUint32(data[off:], uint32(v))
		}
		m, err := runtime.Load(data)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		info := m.Info()
		if info.Arena.Bytes > 16<<20 || info.MACs > 50e6 {
			return
		}
		it, err := m.NewInterpreter()
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		s := m.InputShape()
		n := 1
		for _, d := range s {
			n *= d
		}
		if _, err := it.Run(runtime.Tensor{Shape: s, Data: make([]float32, n)}); err != nil {
			t.Fatal(err)
		}
	})
}
