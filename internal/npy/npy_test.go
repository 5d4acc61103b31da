package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// vals mirrors gen.py: 0.5*i - 3.
func vals(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)*0.5 - 3
	}
	return v
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestReadNumpyFixtures(t *testing.T) {
	for _, tc := range []struct {
		file  string
		shape []int
		data  []float32
	}{
		{"f4_2x3.npy", []int{2, 3}, vals(6)},
		{"f4_scalar.npy", []int{}, []float32{2.5}},
		{"f4_1x3x4x5.npy", []int{1, 3, 4, 5}, vals(60)},
		{"f4_5.npy", []int{5}, vals(5)},
		{"f4_0x3.npy", []int{0, 3}, []float32{}},
		{"f4_big_endian_2x3.npy", []int{2, 3}, vals(6)},
		{"f8_2x3.npy", []int{2, 3}, vals(6)},
		{"f4_v2_2x3.npy", []int{2, 3}, vals(6)},
		{"f4_long_header.npy", append(make([]int, 30), 2), vals(2)},
		{"f4_special.npy", []int{6}, []float32{
			float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
			float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if tc.file == "f4_long_header.npy" {
				for i := range 30 {
					tc.shape[i] = 1
				}
			}
			a, err := ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Shape) != len(tc.shape) || (len(tc.shape) > 0 && !reflect.DeepEqual(a.Shape, tc.shape)) {
				t.Errorf("shape = %v, want %v", a.Shape, tc.shape)
			}
			if len(tc.data) > 0 && math.IsNaN(float64(tc.data[0])) {
				// NaN payloads: numpy's NaN is the canonical quiet NaN.
				if !math.IsNaN(float64(a.Data[0])) {
					t.Errorf("data[0] = %v, want NaN", a.Data[0])
				}
				a.Data[0], tc.data[0] = 0, 0
			}
			if !sameBits(a.Data, tc.data) {
				t.Errorf("data = %v, want %v", a.Data, tc.data)
			}
		})
	}
}

// TestWriteMatchesNumpy checks Write is byte-identical to numpy.save for the
// '<f4' C-order fixtures.
func TestWriteMatchesNumpy(t *testing.T) {
	for _, file := range []string{"f4_2x3.npy", "f4_scalar.npy", "f4_1x3x4x5.npy", "f4_5.npy", "f4_0x3.npy", "f4_long_header.npy", "f4_special.npy"} {
		want, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		a, err := Read(bytes.NewReader(want))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: Write output differs from numpy.save:\n got %q\nwant %q", file, buf.Bytes(), want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{}, {0}, {1}, {7}, {2, 3}, {0, 5}, {1, 3, 224, 224}, {2, 1, 3, 1, 2}, {5000}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		a := &Array{Shape: shape, Data: vals(n)}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("%v: %v", shape, err)
		}
		if buf.Len()%64 != (4*n)%64 {
			t.Errorf("%v: header not 64-byte aligned", shape)
		}
		b, err := Read(&buf)
		if err != nil {
			t.Fatalf("%v: %v", shape, err)
		}
		if len(b.Shape) != len(shape) || (len(shape) > 0 && !reflect.DeepEqual(b.Shape, shape)) || !sameBits(a.Data, b.Data) {
			t.Errorf("%v: round trip gave shape %v, %d values", shape, b.Shape, len(b.Data))
		}
		if buf.Len() != 0 {
			t.Errorf("%v: Read left %d bytes unread", shape, buf.Len())
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	a := &Array{Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}
	if err := WriteFile(path, a); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(a.Data, b.Data) {
		t.Errorf("got %v", b.Data)
	}
	// A failing write (shape/data mismatch) leaves the old file and no temp.
	if err := WriteFile(path, &Array{Shape: []int{3}, Data: []float32{1}}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("mismatched write: err = %v", err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Errorf("old file damaged: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want 1 (temp file left behind?)", len(ents))
	}
	// Writing into a missing directory fails with the path in the message.
	bad := filepath.Join(dir, "missing", "y.npy")
	if err := WriteFile(bad, a); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("missing dir: err = %v", err)
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"f2_2x2.npy", "float16"},
		{"i8_3.npy", "int64"},
		{"f4_fortran_2x3.npy", "Fortran order"},
		{"f4_structured.npy", "unsupported"},
		{"f4_x2.npy", "trailing data"},
		{"f4.npz", "zip archive"},
		{"gen.py", "not a .npy file"},
		{"missing.npy", "no such file"},
	} {
		path := filepath.Join("testdata", tc.file)
		_, err := ReadFile(path)
		if err == nil {
			t.Errorf("%s: no error", tc.file)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "read npy "+path) {
			t.Errorf("%s: error %q does not mention %q and the path", tc.file, err, tc.want)
		}
	}
}

// TestConcatenated reads two arrays saved back to back with Read.
func TestConcatenated(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "f4_x2.npy"))
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(raw)
	a, err := Read(r)
	if err != nil || !reflect.DeepEqual(a.Shape, []int{2, 3}) {
		t.Fatalf("first: %v %v", a, err)
	}
	b, err := Read(r)
	if err != nil || !reflect.DeepEqual(b.Shape, []int{3}) || !sameBits(b.Data, vals(3)) {
		t.Fatalf("second: %v %v", b, err)
	}
}

func TestFortranOneDim(t *testing.T) {
	// Fortran order with at most one non-trivial axis is the same layout.
	raw := mkfile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3), }", le32(1, 2, 3))
	a, err := Read(bytes.NewReader(raw))
	if err != nil || !sameBits(a.Data, []float32{1, 2, 3}) {
		t.Fatalf("got %v, %v", a, err)
	}
}

// TestTruncated reads every proper prefix of valid files: all must fail
// cleanly.
func TestTruncated(t *testing.T) {
	for _, file := range []string{"f4_2x3.npy", "f4_scalar.npy", "f8_2x3.npy", "f4_v2_2x3.npy", "f4_1x3x4x5.npy"} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(raw) {
			if _, err := Read(bytes.NewReader(raw[:n])); err == nil {
				t.Errorf("%s: prefix of %d/%d bytes read without error", file, n, len(raw))
			}
		}
	}
}

func le32(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// mkfile builds a .npy file with an arbitrary header dictionary.
func mkfile(major byte, dict string, data []byte) []byte {
	b := append([]byte("\x93NUMPY"), major, 0)
	h := dict + "\n"
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
	}
	return append(append(b, h...), data...)
}

func TestHostileHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"huge shape", mkfile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 1000000), }", le32(1)), "truncated data"},
		{"overflow", mkfile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }", nil), "too large"},
		{"negative", mkfile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }", nil), "negative"},
		{"empty tuple parts", mkfile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (,,), }", nil), "malformed shape"},
		{"plus sign", mkfile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (+2,), }", le32(1, 2)), "malformed shape"},
		{"keys reordered", mkfile(1, "{'shape': (2,), 'fortran_order': False, 'descr': '<f4', }", le32(1, 2)), "malformed"},
		{"no newline", append([]byte("\x93NUMPY\x01\x00\x3a\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } "), le32(1)...), "newline"},
		{"bad order", mkfile(1, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", le32(1)), "fortran_order"},
		{"huge header v2", append([]byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"), "{"...), "header length"},
		{"version 3", mkfile(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", le32(1)), "version 3.0"},
		{"binary header", mkfile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\x00", le32(1)), "unexpected byte"},
		{"empty", nil, "empty input"},
		{"unicode dtype", mkfile(1, "{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", make([]byte, 12)), "unsupported dtype"},
	} {
		_, err := Read(bytes.NewReader(tc.raw))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	var buf bytes.Buffer
	for _, a := range []*Array{nil, {Shape: []int{2}, Data: []float32{1}}, {Shape: []int{-1}, Data: nil}, {Shape: nil, Data: nil}} {
		if err := Write(&buf, a); err == nil {
			t.Errorf("Write(%v): no error", a)
		}
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.np[yz]"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add(mkfile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3), }", le32(1, 2, 3)))
	f.Add(mkfile(2, "{'descr': '>f8', 'fortran_order': False, 'shape': (), }", make([]byte, 8)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := Read(bytes.NewReader(raw))
		if err != nil {
			if strings.Contains(err.Error(), recoveredPanic) {
				// The recover is a last defence; the pre-validation should
				// have caught this input.
				t.Fatalf("npyio panicked: %v", err)
			}
			return
		}
		n, err := numElems(a.Shape)
		if err != nil || n != len(a.Data) {
			t.Fatalf("shape %v with %d values (%v)", a.Shape, len(a.Data), err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("cannot write what was read: %v", err)
		}
		b, err := Read(&buf)
		if err != nil {
			t.Fatalf("cannot read what was written: %v", err)
		}
		if !reflect.DeepEqual(a.Shape, b.Shape) || !sameBits(a.Data, b.Data) {
			t.Fatalf("round trip changed the array")
		}
	})
}
