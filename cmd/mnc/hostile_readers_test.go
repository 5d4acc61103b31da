package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Cases: the model readers (checkpoints: zip container, pickle,
// safetensors; ONNX; arch specs; .npy tensors) given files that ask for
// more memory than they hold, that were tampered with, or that carry
// control characters into messages.
func init() {
	v3s := func(t *testing.T) string { return goldenFile(t, "mobilenet_v3_small", "onnx_opset17") }
	hostileCases = append(hostileCases,
		// Files far larger than any model, refused from their size.
		hostileCase{
			name: "readers-pth-8g-sparse",
			setup: func(t *testing.T, dir string) []string {
				return []string{"inspect", sparseFile(t, dir, "big.pth", []byte("PK\x03\x04"), 8<<30), "--arch", "v2"}
			},
			want: "is 8 GiB; the limit is 2 GiB",
		},
		hostileCase{
			name: "readers-safetensors-8g-sparse",
			setup: func(t *testing.T, dir string) []string {
				h := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
				head := append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...)
				return []string{"inspect", sparseFile(t, dir, "big.safetensors", head, 8<<30), "--arch", "v2"}
			},
			want: "is 8 GiB; the limit is 2 GiB",
		},
		hostileCase{
			name: "readers-onnx-8g-sparse",
			setup: func(t *testing.T, dir string) []string {
				return []string{"inspect", sparseFile(t, dir, "big.onnx", []byte{8, 8}, 8<<30)}
			},
			want: "is 8 GiB; the limit is 2 GiB",
		},
		hostileCase{
			name: "readers-archspec-8g-sparse",
			setup: func(t *testing.T, dir string) []string {
				return []string{"inspect", "--arch-spec", sparseFile(t, dir, "big.json", []byte("{"), 8<<30)}
			},
			want: "is 8 GiB; the limit is 1 MiB",
		},
		// Small inputs asking for huge graphs, refused from their shapes.
		hostileCase{
			name: "readers-onnx-pads-100000",
			setup: func(t *testing.T, dir string) []string {
				pads := rdAttrInts("pads", 100000, 100000, 100000, 100000)
				return []string{"inspect", writeFile(t, dir, "pads.onnx", rdConvModel(224, pads))}
			},
			want: "the model's activations need 1.2 TiB at batch 1; the limit is 4 GiB",
		},
		hostileCase{
			name: "readers-onnx-input-16384",
			setup: func(t *testing.T, dir string) []string {
				return []string{"inspect", writeFile(t, dir, "big-input.onnx", rdConvModel(16384, nil))}
			},
			want: "the model's activations need 11 GiB at batch 1; the limit is 4 GiB",
		},
		hostileCase{
			name: "readers-classes-1m-width-4",
			setup: func(t *testing.T, dir string) []string {
				return []string{"inspect", "--arch", "v2", "--classes", "1048576", "--width", "4"}
			},
			want: "the model's weights need 20.1 GiB; the limit is 1 GiB",
		},
		hostileCase{
			name: "readers-archspec-65536-channels",
			setup: func(t *testing.T, dir string) []string {
				js := `{"family":"mobilenet_v1","v1":{"stem_channels":65536,"blocks":[[65536,1]]}}`
				return []string{"inspect", "--arch-spec", writeFile(t, dir, "wide.json", []byte(js))}
			},
			want: "the model's weights need 16.3 GiB; the limit is 1 GiB",
		},
		hostileCase{
			name: "readers-archspec-1e6-blocks",
			setup: func(t *testing.T, dir string) []string {
				js := `{"family":"mobilenet_v2","v2":{"input_channel":32,"last_channel":1280,"inverted_residual_setting":[` +
					strings.Repeat(`[1,8,64,1],`, 15624) + `[1,8,64,1]]}}`
				return []string{"inspect", "--arch-spec", writeFile(t, dir, "deep.json", []byte(js))}
			},
			want: "v2.inverted_residual_setting: 1000000 blocks (the rows' repeats n added up); the limit is 1024",
		},
		// Read strictly.
		hostileCase{
			name: "readers-archspec-duplicate-key",
			setup: func(t *testing.T, dir string) []string {
				js := `{"family":"mobilenet_v1","v1":{"stem_channels":32,"blocks":[[64,1]],"stem_channels":8}}`
				return []string{"inspect", "--arch-spec", writeFile(t, dir, "dup.json", []byte(js))}
			},
			want: `v1: duplicate key "stem_channels"`,
		},
		hostileCase{
			name: "readers-archspec-name-escape",
			setup: func(t *testing.T, dir string) []string {
				js := `{"name":"\u001b[2J\u001b]0;pwned\u0007","family":"mobilenet_v1","v1":{"stem_channels":32,"blocks":[[64,1]]}}`
				return []string{"inspect", "--arch-spec", writeFile(t, dir, "name.json", []byte(js))}
			},
			want: `name: "\x1b[2J\x1b]0;pwned\a" holds a control or non-printable character`,
		},
		hostileCase{
			name: "readers-onnx-empty-nodes",
			setup: func(t *testing.T, dir string) []string {
				// 25 million empty nodes in 50 MB: each decodes to a struct.
				return []string{"inspect", writeFile(t, dir, "nodes.onnx", rdModel(bytes.Repeat([]byte{0x0a, 0x00}, 25<<20)))}
			},
			want: "the graph has more nodes, initializers, inputs, outputs and attributes than the limit of 65536",
		},
		hostileCase{
			name: "readers-onnx-name-escape",
			setup: func(t *testing.T, dir string) []string {
				return []string{"inspect", writeFile(t, dir, "name.onnx", rdModel(rdInput("x\x1b[2J", 1, 3, 8, 8),
					rdNode("Relu", []string{"x\x1b[2J"}, []string{"y"}), rdOutput("y")))}
			},
			want: `holds a control or non-printable character: "x\x1b[2J"`,
		},
		// The zip container.
		hostileCase{
			name: "readers-zip-crc-zero",
			setup: func(t *testing.T, dir string) []string {
				data := readGolden(t, "pth")
				rdPatchZip(t, data, "/data/0", func(central, local []byte) {
					binary.LittleEndian.PutUint32(central[16:], 0)
					binary.LittleEndian.PutUint32(local[14:], 0)
					off := 30 + int(binary.LittleEndian.Uint16(local[26:])) + int(binary.LittleEndian.Uint16(local[28:]))
					local[off] ^= 0x40 // the weights are overwritten
				})
				return []string{"inspect", writeFile(t, dir, "tampered.pth", data)}
			},
			want: "checksum mismatch",
		},
		hostileCase{
			name: "readers-zip-encrypted",
			setup: func(t *testing.T, dir string) []string {
				data := readGolden(t, "pth")
				rdPatchZip(t, data, "/data.pkl", func(central, local []byte) {
					central[8] |= 1
					local[6] |= 1
				})
				return []string{"inspect", writeFile(t, dir, "encrypted.pth", data)}
			},
			want: "/data.pkl\" is encrypted",
		},
		hostileCase{
			name: "readers-zip-many-entries",
			setup: func(t *testing.T, dir string) []string {
				var buf bytes.Buffer
				w := zip.NewWriter(&buf)
				for i := range 1 << 17 {
					if _, err := w.CreateHeader(&zip.FileHeader{Name: "archive/data/" + strconv.Itoa(i), Method: zip.Store}); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				return []string{"inspect", writeFile(t, dir, "entries.pth", buf.Bytes()), "--arch", "v2"}
			},
			want: "zip archive has up to 131072 entries; the limit is 65536",
		},
		hostileCase{
			name: "readers-pth-int-key",
			setup: func(t *testing.T, dir string) []string {
				return []string{"inspect", writeFile(t, dir, "intkey.pth", rdIntKeyCheckpoint(t)), "--arch", "v2"}
			},
			want: "state_dict key 5 is an int, not a str",
		},
		hostileCase{
			name: "readers-safetensors-long-entry",
			setup: func(t *testing.T, dir string) []string {
				h := `{"a":{"dtype":"F32","shape":[` + strings.Repeat("1,", 1<<20) + `1],"data_offsets":[0,4]}}`
				data := append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...)
				return []string{"inspect", writeFile(t, dir, "long.safetensors", append(data, 0, 0, 0, 0)), "--arch", "v2"}
			},
			want: `tensor "a": header entry of 2097200 bytes; the limit is 4096`,
		},
		// Tensors: the header is compared with the model before the data
		// is read.
		hostileCase{
			name: "readers-npy-3g",
			setup: func(t *testing.T, dir string) []string {
				p := sparseFile(t, dir, "big.npy", rdNpyHeader(t, "(1024, 3, 512, 512)"), 128+3<<30)
				return []string{"run", v3s(t), "--tensor", p}
			},
			want: "the (1024, 3, 512, 512) array needs 3 GiB as float32; the limit is 1 GiB",
		},
		hostileCase{
			name: "readers-npy-wrong-shape",
			setup: func(t *testing.T, dir string) []string {
				p := sparseFile(t, dir, "wrong.npy", rdNpyHeader(t, "(400, 3, 299, 299)"), 128+400*3*299*299*4)
				return []string{"run", v3s(t), "--tensor", p}
			},
			want: "input has shape [400,3,299,299], the model wants [N,3,80,80]",
		},
	)
}

// readGolden returns a copy of the mobilenet_v3_small golden file of kind.
func readGolden(t *testing.T, kind string) []byte {
	t.Helper()
	data, err := os.ReadFile(goldenFile(t, "mobilenet_v3_small", kind))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// rdPatchZip calls fn with the central directory record and the local
// header of the zip entry of data whose name ends with suffix (data is
// changed in place).
func rdPatchZip(t *testing.T, data []byte, suffix string, fn func(central, local []byte)) {
	t.Helper()
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("PK\x01\x02"))
		if j < 0 {
			t.Fatalf("no zip entry *%s", suffix)
		}
		c := data[i+j:]
		i += j + 4
		if len(c) < 46 {
			continue
		}
		n := int(binary.LittleEndian.Uint16(c[28:]))
		if len(c) >= 46+n && strings.HasSuffix(string(c[46:46+n]), suffix) {
			fn(c, data[binary.LittleEndian.Uint32(c[42:]):])
			return
		}
	}
}

// rdIntKeyCheckpoint is a torch.save archive whose state_dict holds a
// tensor under the str key "w" and one under the int key 5.
func rdIntKeyCheckpoint(t *testing.T) []byte {
	t.Helper()
	var p bytes.Buffer
	p.WriteString("\x80\x02ccollections\nOrderedDict\n)R(")
	tensor := func() {
		p.WriteString("ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n" +
			"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR")
	}
	p.WriteString("X\x01\x00\x00\x00w")
	tensor()
	p.WriteString("K\x05")
	tensor()
	p.WriteString("u.")
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range []struct {
		name string
		data []byte
	}{
		{"archive/data.pkl", p.Bytes()},
		{"archive/data/0", make([]byte, 8)},
		{"archive/version", []byte("3\n")},
	} {
		f, err := w.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rdNpyHeader is a 128-byte version 1.0 .npy header of a '<f4' array of
// the given shape (Python syntax).
func rdNpyHeader(t *testing.T, shape string) []byte {
	t.Helper()
	d := "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }"
	if len(d) > 128-11 {
		t.Fatal("shape too long")
	}
	h := append([]byte("\x93NUMPY\x01\x00\x76\x00"), d...)
	h = append(h, bytes.Repeat([]byte{' '}, 127-len(h))...)
	return append(h, '\n')
}

// A minimal ONNX encoder: each helper returns encoded protobuf fields.

func rdBytes(num protowire.Number, b ...[]byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), bytes.Join(b, nil))
}

func rdVarint(num protowire.Number, v int64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), uint64(v))
}

// rdModel is a ModelProto (IR 8, opset 13) around the graph fields.
func rdModel(graph ...[]byte) []byte {
	return bytes.Join([][]byte{rdVarint(1, 8), rdBytes(8, rdVarint(2, 13)), rdBytes(7, graph...)}, nil)
}

func rdNode(op string, ins, outs []string, attrs ...[]byte) []byte {
	var b [][]byte
	for _, in := range ins {
		b = append(b, rdBytes(1, []byte(in)))
	}
	for _, o := range outs {
		b = append(b, rdBytes(2, []byte(o)))
	}
	b = append(b, rdBytes(4, []byte(op)))
	return rdBytes(1, append(b, attrs...)...)
}

// rdInput is a FLOAT graph input of the given shape.
func rdInput(name string, dims ...int64) []byte {
	var shape [][]byte
	for _, d := range dims {
		shape = append(shape, rdBytes(1, rdVarint(1, d)))
	}
	tensorType := rdBytes(1, rdVarint(1, 1), rdBytes(2, shape...))
	return rdBytes(11, rdBytes(1, []byte(name)), rdBytes(2, tensorType))
}

func rdOutput(name string) []byte { return rdBytes(12, rdBytes(1, []byte(name))) }

func rdAttrInts(name string, vs ...int64) []byte {
	var packed []byte
	for _, v := range vs {
		packed = protowire.AppendVarint(packed, uint64(v))
	}
	return rdBytes(5, rdBytes(1, []byte(name)), rdVarint(20, 7), rdBytes(8, packed))
}

// rdConvModel is a 3x3 convolution of an input of 1 x 3 x size x size
// into 8 channels, with the given attributes.
func rdConvModel(size int64, attrs ...[]byte) []byte {
	raw := make([]byte, 8*3*3*3*4)
	for i := 0; i < len(raw); i += 4 {
		binary.LittleEndian.PutUint32(raw[i:], math.Float32bits(0.01))
	}
	w := rdBytes(5, rdVarint(1, 8), rdVarint(1, 3), rdVarint(1, 3), rdVarint(1, 3), rdVarint(2, 1), rdBytes(8, []byte("W")), rdBytes(9, raw))
	var nonNil [][]byte
	for _, a := range attrs {
		if a != nil {
			nonNil = append(nonNil, a)
		}
	}
	return rdModel(rdInput("x", 1, 3, size, size), w, rdNode("Conv", []string{"x", "W"}, []string{"y"}, nonNil...), rdOutput("y"))
}
