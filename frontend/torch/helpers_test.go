package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureNames(t testing.TB) []string {
	t.Helper()
	var names []string
	for _, pat := range []string{"*.pt", "*.safetensors"} {
		m, err := filepath.Glob(filepath.Join("testdata", pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			names = append(names, filepath.Base(p))
		}
	}
	if len(names) == 0 {
		t.Fatal("no fixtures")
	}
	return names
}

// panicOrigin returns the function that panicked, from a debug.Stack dump
// taken in the deferred recover.
func panicOrigin(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			for _, f := range lines[i+1:] {
				if f == "" || strings.HasPrefix(f, "\t") || strings.HasPrefix(f, "runtime.") {
					continue
				}
				return f
			}
		}
	}
	return "unknown"
}

// watchPanics installs panicHook for the duration of the test; at the end
// the test fails if any recovered panic came from this package rather than
// from inside gopickle (which is only guarded by the recover). It returns a
// function reporting every panic seen so far.
func watchPanics(t testing.TB) func() []string {
	var seen []string
	panicHook = func(r any, stack []byte) { seen = append(seen, panicOrigin(stack)) }
	t.Cleanup(func() {
		panicHook = nil
		for _, p := range seen {
			if !strings.Contains(p, "gopickle") {
				t.Errorf("recovered panic in %s", p)
			}
		}
	})
	return func() []string { return seen }
}

// zipEntry is one file for makeZip.
type zipEntry struct {
	name    string
	data    []byte
	deflate bool
}

func makeZip(t testing.TB, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		m := zip.Store
		if e.deflate {
			m = zip.Deflate
		}
		f, err := w.CreateHeader(&zip.FileHeader{Name: e.name, Method: m})
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

// unzip lists the entries of a fixture archive.
func unzip(t testing.TB, data []byte) []zipEntry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []zipEntry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		out = append(out, zipEntry{name: f.Name, data: b.Bytes()})
	}
	return out
}

// torchZip lays out a data.pkl and storages the way torch.save does.
func torchZip(t testing.TB, pkl []byte, storages map[string][]byte) []byte {
	t.Helper()
	entries := []zipEntry{{name: "archive/data.pkl", data: pkl}}
	for k, v := range storages {
		entries = append(entries, zipEntry{name: "archive/data/" + k, data: v})
	}
	entries = append(entries, zipEntry{name: "archive/version", data: []byte("3\n")})
	return makeZip(t, entries)
}

// pk is a tiny protocol-2 pickle writer for hand-made hostile checkpoints.
type pk struct{ bytes.Buffer }

func newPk() *pk {
	p := &pk{}
	p.WriteString("\x80\x02")
	return p
}

func (p *pk) op(s string) *pk { p.WriteString(s); return p }

func (p *pk) global(mod, name string) *pk { return p.op("c" + mod + "\n" + name + "\n") }

func (p *pk) str(s string) *pk {
	p.WriteByte('X')
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}

// int writes any int64 as LONG1 (8 bytes, two's complement).
func (p *pk) int(v int64) *pk {
	p.WriteString("\x8a\x08")
	binary.Write(&p.Buffer, binary.LittleEndian, v)
	return p
}

func (p *pk) tuple(vs []int64) *pk {
	p.op("(")
	for _, v := range vs {
		p.int(v)
	}
	return p.op("t")
}

type fakeTensor struct {
	key, storageType, storageKey string
	numel, offset                int64
	size, stride                 []int64
}

// stateDictPickle writes OrderedDict([(key, _rebuild_tensor_v2(...)), ...]).
func stateDictPickle(ts ...fakeTensor) []byte {
	p := newPk()
	p.global("collections", "OrderedDict").op(")R(")
	for _, ft := range ts {
		p.str(ft.key)
		p.global("torch._utils", "_rebuild_tensor_v2").op("((")
		p.str("storage").global("torch", ft.storageType).str(ft.storageKey).str("cpu").int(ft.numel).op("tQ")
		p.int(ft.offset).tuple(ft.size).tuple(ft.stride).op("\x89")
		p.global("collections", "OrderedDict").op(")R")
		p.op("tR")
	}
	return p.op("u.").Bytes()
}

func f32bytes(vs ...float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, vs)
	return b.Bytes()
}
