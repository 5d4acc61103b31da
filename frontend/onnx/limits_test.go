package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBudget: graphs whose activations exceed the budget are refused from
// their shapes when imported, before anything runs or is allocated.
func TestBudget(t *testing.T) {
	w := initializer(tensorF("W", []int64{8, 3, 3, 3}, make([]float32, 8*27)...))
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"pads 100000", model(13, x4(1, 3, 224, 224), w,
			node("Conv", []string{"x", "W"}, []string{"y"}, aInts("pads", 100000, 100000, 100000, 100000)), output("y")),
			"the model's activations need 1.2 TiB at batch 1; the limit is 4 GiB"},
		{"input 16384x16384", model(13, x4(-1, 3, 16384, 16384), w,
			node("Conv", []string{"x", "W"}, []string{"y"}, aInts("pads", 1, 1, 1, 1)), output("y")),
			"the model's activations need 11 GiB at batch 1; the limit is 4 GiB"},
		{"one tensor", model(13, x4(1, 3, 8192, 8192), w,
			node("Conv", []string{"x", "W"}, []string{"y"}, aInts("pads", 1, 1, 1, 1)), output("y")),
			`the model's activation "y" needs 2 GiB at batch 1; the limit for one tensor is 512 MiB`},
	} {
		if _, err := Decode(c.data); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestControlCharacters: names with control characters are refused,
// escaped in the message.
func TestControlCharacters(t *testing.T) {
	data := model(13, x4(1, 3, 4, 4), node("Relu", []string{"x"}, []string{"y\x1b[2J"}), output("y\x1b[2J"))
	_, err := Decode(data)
	if err == nil || !strings.Contains(err.Error(), `field output (2) holds a control or non-printable character: "y\x1b[2J"`) {
		t.Errorf("got %v", err)
	}
}

// TestLoadFileLimit: a file over limits.ModelFile is refused before it is
// read (a sparse file).
func TestLoadFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.onnx")
	if err := os.WriteFile(path, []byte{8, 8}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 8<<30); err != nil {
		t.Skip(err)
	}
	if _, err := Load(path); err == nil || err.Error() != "the ONNX file "+path+" is 8 GiB; the limit is 2 GiB" {
		t.Errorf("8 GiB file: %v", err)
	}
}

// TestGraphElements: a graph of many cheap fields (an empty node is 2
// bytes, decoded into a struct) is refused before it is all decoded.
func TestGraphElements(t *testing.T) {
	data := model(13, bytes.Repeat([]byte{0x0a, 0x00}, 1<<17))
	if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), "the graph has more nodes, initializers, inputs, outputs and attributes than the limit of 65536") {
		t.Errorf("empty nodes: %v", err)
	}
	node := bytes.Repeat(fStr(1, "x"), 1<<17)
	if _, err := Decode(model(13, fBytes(1, node))); err == nil || !strings.Contains(err.Error(), "than the limit of 65536") {
		t.Errorf("node inputs: %v", err)
	}
}
