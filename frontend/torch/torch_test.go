package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"math/rand"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

type want struct {
	key   string
	shape []int
	data  []float32
}

// mainWant is what gen_fixtures.py's main_state_dict() holds.
var mainWant = []want{
	{"conv.weight", []int{2, 3, 1, 1}, []float32{-0.5, -0.25, 0, 0.25, 0.5, 0.75}},
	{"conv.bias", []int{2}, []float32{0.5, -1.5}},
	{"bn.weight", []int{2}, []float32{1, 2}},
	{"bn.bias", []int{2}, []float32{0.125, -0.125}},
	{"bn.running_mean", []int{2}, []float32{0.25, 0.75}},
	{"bn.running_var", []int{2}, []float32{1.5, 2.5}},
	{"bn.num_batches_tracked", []int{}, []float32{7}},
	{"half", []int{5}, []float32{-1, -0.5, 0, 0.5, 1}},
	{"bf16", []int{3}, []float32{1.5, -2, 3.25}},
	{"f64", []int{3}, []float32{0, 0.25, 0.5}},
	{"i32", []int{3}, []float32{1, -2, 3}},
	{"transposed", []int{3, 2}, []float32{0, 3, 1, 4, 2, 5}},
	{"shared.a", []int{4}, []float32{4, 6, 8, 10}},
	{"shared.b", []int{3}, []float32{10, 12, 14}},
	{"colslice", []int{3, 2}, []float32{1, 2, 5, 6, 9, 10}},
	{"expanded", []int{3, 2}, []float32{1, 2, 1, 2, 1, 2}},
	{"scalar", []int{}, []float32{3.5}},
	{"empty", []int{0, 3}, []float32{}},
	{"param", []int{2}, []float32{0.5, 1.5}},
}

var smallWant = []want{
	{"w", []int{3}, []float32{0, 1, 2}},
	{"b", []int{1}, []float32{-1}},
}

func check(t *testing.T, sd *StateDict, ws []want) {
	t.Helper()
	var keys []string
	for _, w := range ws {
		keys = append(keys, w.key)
	}
	if !reflect.DeepEqual(sd.Keys, keys) {
		t.Fatalf("keys = %q, want %q", sd.Keys, keys)
	}
	if len(sd.Tensors) != len(ws) {
		t.Fatalf("%d tensors, want %d", len(sd.Tensors), len(ws))
	}
	for _, w := range ws {
		got := sd.Tensors[w.key]
		if got == nil {
			t.Fatalf("missing %q", w.key)
		}
		if !reflect.DeepEqual(got.Shape, w.shape) || !reflect.DeepEqual(got.Data, w.data) {
			t.Errorf("%s = %v %v, want %v %v", w.key, got.Shape, got.Data, w.shape, w.data)
		}
	}
}

func TestFixtures(t *testing.T) {
	panics := watchPanics(t)
	for _, tc := range []struct {
		file string
		want []want
	}{
		{"state_dict_zip.pt", mainWant},
		{"state_dict_zip_p4.pt", mainWant},
		{"state_dict_legacy.pt", mainWant},
		{"plain_dict.pt", []want{{"w", []int{4}, []float32{0, 1, 2, 3}}, {"b", []int{2}, []float32{1, 2}}}},
		{"wrapped_state_dict.pt", smallWant},
		{"wrapped_model.pt", smallWant},
		{"module_prefix.pt", smallWant},
		{"model.safetensors", []want{
			{"a", []int{2, 3}, []float32{0, 0.5, 1, 1.5, 2, 2.5}},
			{"h", []int{5}, []float32{-1, -0.5, 0, 0.5, 1}},
			{"bf", []int{3}, []float32{1.5, -2, 3.25}},
			{"d", []int{3}, []float32{0, 0.25, 0.5}},
			{"n", []int{}, []float32{7}},
			{"e", []int{0, 4}, []float32{}},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sd, err := Load(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			check(t, sd, tc.want)
			// LoadBytes agrees, whatever the name.
			sd2, err := LoadBytes("x.bin", readFixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sd, sd2) {
				t.Error("LoadBytes differs from Load")
			}
		})
	}
	if p := panics(); len(p) > 0 {
		t.Errorf("panics: %q", p)
	}
}

func TestRefusesGlobals(t *testing.T) {
	watchPanics(t)
	for file, global := range map[string]string{
		"malicious_global.pt":       "os.system",
		"malicious_stack_global.pt": "os.system",
		"malicious_torch.pt":        "posix.system",
		"malicious_legacy.pt":       "posix.system",
		"whole_module.pt":           "torch.nn.modules.linear.Linear",
	} {
		_, err := Load(filepath.Join("testdata", file))
		wantMsg := `checkpoint asks for global "` + global + `": refused (only state_dict tensors are allowed)`
		if err == nil || !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("%s: err = %v, want %q", file, err, wantMsg)
			continue
		}
		if !strings.HasPrefix(err.Error(), "read checkpoint testdata/"+file+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error lacks context or is not one line: %q", file, err)
		}
	}
	// Globals gopickle resolves by itself are refused too.
	for _, g := range [][2]string{{"__builtin__", "object"}, {"copy_reg", "_reconstructor"}, {"builtins", "eval"}} {
		pkl := newPk().global(g[0], g[1]).op(".").Bytes()
		_, err := LoadBytes("x.pt", torchZip(t, pkl, nil))
		if err == nil || !strings.Contains(err.Error(), `global "`+g[0]+"."+g[1]+`": refused`) {
			t.Errorf("%s.%s: err = %v", g[0], g[1], err)
		}
	}
}

func TestZipVariants(t *testing.T) {
	watchPanics(t)
	orig := unzip(t, readFixture(t, "state_dict_zip.pt"))
	rename := func(prefix string) []zipEntry {
		var out []zipEntry
		for _, e := range orig {
			out = append(out, zipEntry{name: prefix + e.name[strings.IndexByte(e.name, '/'):], data: e.data})
		}
		return out
	}
	t.Run("folder name", func(t *testing.T) {
		sd, err := LoadBytes("x", makeZip(t, rename("mobilenet_v2-b0353104")))
		if err != nil {
			t.Fatal(err)
		}
		check(t, sd, mainWant)
	})
	t.Run("deflated", func(t *testing.T) {
		var es []zipEntry
		for _, e := range orig {
			e.deflate = true
			es = append(es, e)
		}
		sd, err := LoadBytes("x", makeZip(t, es))
		if err != nil {
			t.Fatal(err)
		}
		check(t, sd, mainWant)
	})
	t.Run("byteorder little", func(t *testing.T) {
		es := append(rename("archive"), zipEntry{name: "archive/byteorder", data: []byte("little")})
		sd, err := LoadBytes("x", makeZip(t, es))
		if err != nil {
			t.Fatal(err)
		}
		check(t, sd, mainWant)
	})
	t.Run("byteorder big", func(t *testing.T) {
		es := append(rename("archive"), zipEntry{name: "archive/byteorder", data: []byte("big")})
		_, err := LoadBytes("x", makeZip(t, es))
		if err == nil || !strings.Contains(err.Error(), "big-endian") {
			t.Fatalf("err = %v", err)
		}
	})
	errCase := func(name, wantErr string, es []zipEntry) {
		t.Run(name, func(t *testing.T) {
			_, err := LoadBytes("x", makeZip(t, es))
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("err = %v, want %q", err, wantErr)
			}
		})
	}
	var missing, short []zipEntry
	for _, e := range orig {
		if e.name == "archive/data/0" {
			short = append(short, zipEntry{name: e.name, data: e.data[:len(e.data)-1]})
			continue
		}
		missing = append(missing, e)
		short = append(short, e)
	}
	errCase("missing storage", "missing from the archive", missing)
	errCase("short storage", "do not fit", short)
	errCase("torchscript", "TorchScript", append(rename("archive"), zipEntry{name: "archive/constants.pkl", data: []byte("\x80\x02N.")}))
	errCase("no data.pkl", "no <folder>/data.pkl", []zipEntry{{name: "a/b", data: []byte("x")}})
	errCase("trailing pickle data", "trailing data", []zipEntry{{name: "a/data.pkl", data: []byte("\x80\x02N.N.")}})
	errCase("none", "holds None", []zipEntry{{name: "a/data.pkl", data: []byte("\x80\x02N.")}})
	errCase("no state_dict", `keys ["a"]`, []zipEntry{{name: "a/data.pkl", data: []byte("\x80\x02}X\x01\x00\x00\x00aK\x01s.")}})
	errCase("bytes under model", "no state_dict found", []zipEntry{{name: "a/data.pkl", data: []byte("\x80\x03}X\x05\x00\x00\x00modelC\x01as.")}})
	errCase("self-referencing wrapper", "no state_dict found", []zipEntry{{name: "a/data.pkl", data: []byte("\x80\x02}q\x00X\x05\x00\x00\x00modelh\x00s.")}})
	errCase("empty dict", "no state_dict found", []zipEntry{{name: "a/data.pkl", data: []byte("\x80\x02}.")}})

	t.Run("corrupt stored entry", func(t *testing.T) {
		data := append([]byte{}, readFixture(t, "state_dict_zip.pt")...)
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Name == "archive/data/0" {
				off, err := f.DataOffset()
				if err != nil {
					t.Fatal(err)
				}
				data[off+1] ^= 0x40
			}
		}
		if _, err := LoadBytes("x", data); err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestHostilePickles(t *testing.T) {
	panics := watchPanics(t)
	arange := f32bytes(0, 1, 2, 3)
	ok := fakeTensor{key: "w", storageType: "FloatStorage", storageKey: "0", numel: 4, size: []int64{2, 2}, stride: []int64{1, 2}}
	sd, err := LoadBytes("x", torchZip(t, stateDictPickle(ok), map[string][]byte{"0": arange}))
	if err != nil {
		t.Fatal(err)
	}
	check(t, sd, []want{{"w", []int{2, 2}, []float32{0, 2, 1, 3}}})

	for _, tc := range []struct {
		name    string
		mod     func(*fakeTensor)
		wantErr string
	}{
		{"huge expand", func(f *fakeTensor) { f.size, f.stride = []int64{1 << 40}, []int64{0} }, "refusing to allocate"},
		{"huge expand 2d", func(f *fakeTensor) { f.size, f.stride = []int64{1 << 32, 1 << 32}, []int64{0, 0} }, "refusing to allocate"},
		{"numel beyond entry", func(f *fakeTensor) { f.numel = 5 }, "do not fit"},
		{"numel huge", func(f *fakeTensor) { f.numel = 1 << 62 }, "do not fit"},
		{"numel negative", func(f *fakeTensor) { f.numel = -1 }, "bad element count"},
		{"stride past end", func(f *fakeTensor) { f.size, f.stride = []int64{3}, []int64{2} }, "past the end"},
		{"stride overflow", func(f *fakeTensor) { f.size, f.stride = []int64{2, 2}, []int64{1 << 62, 1} }, "past the end"},
		{"offset past end", func(f *fakeTensor) { f.offset = 4; f.size, f.stride = []int64{1}, []int64{1} }, "outside storage"},
		{"negative offset", func(f *fakeTensor) { f.offset = -1 }, "negative storage offset"},
		{"negative stride", func(f *fakeTensor) { f.offset = 3; f.stride = []int64{-1, 1} }, "negative stride"},
		{"negative size", func(f *fakeTensor) { f.size = []int64{-2, 2} }, "negative dimension"},
		{"rank mismatch", func(f *fakeTensor) { f.stride = []int64{1} }, "differ in rank"},
		{"unknown storage", func(f *fakeTensor) { f.storageType = "QInt8Storage" }, `"torch.QInt8Storage": refused`},
		{"missing entry", func(f *fakeTensor) { f.storageKey = "../../etc/passwd" }, "missing from the archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := ok
			tc.mod(&ft)
			_, err := LoadBytes("x", torchZip(t, stateDictPickle(ft), map[string][]byte{"0": arange}))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	// The same storage key reused with another dtype.
	a, b := ok, ok
	b.key, b.storageType, b.numel = "v", "HalfStorage", 8
	_, err = LoadBytes("x", torchZip(t, stateDictPickle(a, b), map[string][]byte{"0": arange}))
	if err == nil || !strings.Contains(err.Error(), "used both as") {
		t.Errorf("dtype reuse: err = %v", err)
	}
	// Many views of one storage: the element budget stops the blow-up.
	big := make([]byte, 4<<10)
	var many []fakeTensor
	for i := 0; i < 600; i++ {
		many = append(many, fakeTensor{key: "k" + string(rune('A'+i%26)) + strings.Repeat("x", i/26), storageType: "FloatStorage", storageKey: "0", numel: 1 << 10, size: []int64{1 << 10}, stride: []int64{1}})
	}
	_, err = LoadBytes("x", torchZip(t, stateDictPickle(many...), map[string][]byte{"0": big}))
	if err == nil || !strings.Contains(err.Error(), "refusing to allocate") {
		t.Errorf("aliasing blow-up: err = %v", err)
	}

	u64 := func(v uint64) string {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		return string(b[:])
	}
	for _, tc := range []struct {
		name, pkl, wantErr string
	}{
		{"binbytes8 huge", "\x80\x04\x8e" + u64(1<<62) + "abc.", "pickle truncated"},
		{"binunicode8 max", "\x80\x04\x8d" + u64(math.MaxUint64) + ".", "pickle truncated"},
		{"frame huge", "\x80\x04\x95" + u64(1<<40) + "N.", "pickle truncated"},
		{"binbytes negative-ish", "\x80\x03B\xff\xff\xff\xffab.", "pickle truncated"},
		{"binstring negative", "\x80\x02T\xff\xff\xff\xffab.", "negative length"},
		{"no stop", "\x80\x02N", "no STOP"},
		{"opcode 0xff", "\x80\x02\xff.", "unsupported pickle opcode 0xff"},
		{"ext1", "\x80\x02\x82\x01.", "unsupported pickle opcode 0x82"},
		{"proto 9", "\x80\x09N.", "unsupported pickle protocol 9"},
		{"empty long1", "\x80\x02\x8a\x00.", "empty LONG1"},
		{"long4 huge", "\x80\x02\x8b\x00\x00\x10\x00" + strings.Repeat("\x01", 1<<20) + ".", "LONG4"},
		{"long text huge", "\x80\x02L" + strings.Repeat("9", 5000) + "\n.", "too long"},
		{"mark bomb", "\x80\x02" + strings.Repeat("(", 1<<20) + ".", "too complex"},
		{"dict bomb", "\x80\x02" + strings.Repeat("}", 1<<20) + ".", "too complex"},
		{"odd setitems", "\x80\x02}(NNNu.", ""},
		{"unhashable key", "\x80\x02ccollections\nOrderedDict\n)RC\x01aNs.", ""},
		{"persid text", "\x80\x02Pfoo\n.", ""},
		{"persid not storage", "\x80\x02(X\x06\x00\x00\x00moduleNtQ.", "unsupported persistent id kind"},
		{"persid bad class", "\x80\x02(X\x07\x00\x00\x00storageNX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQ.", "not a torch storage class"},
		{"rebuild bad args", "\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(NNNNNNtR.", "not a storage"},
		{"stack empty", "\x80\x02R.", ""},
		{"long gopickle error", "\x80\x02(" + strings.Repeat("X\x01\x00\x00\x00\n", 5000) + "l)R.", "REDUCE requires a Callable"},
		{"hash work", "\x80\x02ccollections\nOrderedDict\n)RX\x00\x00\x10\x00" + strings.Repeat("a", 1<<20) + "q\x010" + strings.Repeat("h\x01Ns", 20000) + ".", "too complex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadBytes("x", torchZip(t, []byte(tc.pkl), nil))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if len(err.Error()) > 400 || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error too long or multi-line: %q", err)
			}
		})
	}
	t.Logf("recovered gopickle panics: %q", panics())
}

// TestAllocationBound checks that the scan's cost model is an upper bound on
// what gopickle really allocates for pickles made of costly opcodes.
func TestAllocationBound(t *testing.T) {
	const n = 50000
	for name, body := range map[string]string{
		"mark":        strings.Repeat("(", n),
		"empty dict":  strings.Repeat("}", n),
		"empty list":  strings.Repeat("]", n),
		"empty set":   strings.Repeat("\x8f", n),
		"empty tuple": strings.Repeat(")", n),
		"none":        strings.Repeat("N", n),
		"dup":         "N" + strings.Repeat("2", n),
		"memoize":     "N" + strings.Repeat("\x94", n),
		"short bytes": strings.Repeat("C\x00", n),
		"frozenset":   strings.Repeat("(\x91", n),
		"setitems":    "}" + strings.Repeat("(u", n),
		"odict":       "ccollections\nOrderedDict\nq\x00" + strings.Repeat("h\x00)R0", n/5),
		"append":      "]" + strings.Repeat("Na", n),
	} {
		pkl := []byte("\x80\x04" + body + ".")
		_, cost, err := scanPickleCost(pkl)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		unpickle(pkl, nil)
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > uint64(cost)+64<<10 {
			t.Errorf("%s: allocated %d bytes, cost model says %d", name, got, cost)
		}
	}
}

func TestTruncatedAndCorrupted(t *testing.T) {
	panics := watchPanics(t)
	rng := rand.New(rand.NewSource(1))
	for _, name := range fixtureNames(t) {
		data := readFixture(t, name)
		for n := 0; n < len(data); n++ {
			if _, err := LoadBytes(name, data[:n]); err == nil {
				t.Errorf("%s: prefix of %d/%d bytes loaded without error", name, n, len(data))
			}
		}
		for i := 0; i < 300; i++ {
			c := append([]byte{}, data...)
			for j := rng.Intn(4); j >= 0; j-- {
				c[rng.Intn(len(c))] = byte(rng.Intn(256))
			}
			if sd, err := LoadBytes(name, c); err == nil {
				checkInvariants(t, sd)
			}
		}
	}
	t.Logf("recovered gopickle panics: %d", len(panics()))
}

func checkInvariants(t testing.TB, sd *StateDict) {
	t.Helper()
	if len(sd.Keys) != len(sd.Tensors) || len(sd.Keys) == 0 {
		t.Fatalf("%d keys, %d tensors", len(sd.Keys), len(sd.Tensors))
	}
	for _, k := range sd.Keys {
		ts := sd.Tensors[k]
		if ts == nil {
			t.Fatalf("key %q has no tensor", k)
		}
		n := 1
		for _, d := range ts.Shape {
			if d < 0 {
				t.Fatalf("%q: negative dim", k)
			}
			n *= d
		}
		if len(ts.Data) != n {
			t.Fatalf("%q: %d values for shape %v", k, len(ts.Data), ts.Shape)
		}
	}
}

func TestGarbage(t *testing.T) {
	panics := watchPanics(t)
	u64 := func(v uint64) []byte {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		return b[:]
	}
	st := func(header string) []byte {
		return append(u64(uint64(len(header))), header...)
	}
	tar := make([]byte, 1024)
	copy(tar[257:], "ustar")
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "empty file"},
		{"text", []byte("hello world"), "unrecognized format"},
		{"zip magic only", []byte("PK\x03\x04"), "bad zip archive"},
		{"tar", tar, "tar checkpoint"},
		{"pickle not torch", []byte("\x80\x02N."), "magic number"},
		{"pickle garbage", []byte("\x80\x02\x00\x01"), "not a PyTorch checkpoint"},
		{"safetensors huge header len", append(u64(1<<62), '{'), "does not fit"},
		{"safetensors name, junk", []byte("12345678{}"), "header of"},
		{"safetensors empty", st("{}"), "no tensors"},
		{"safetensors huge shape", st(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`), "needs a different size"},
		{"safetensors negative shape", st(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`), "negative dimension"},
		{"safetensors offsets outside", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`), "outside"},
		{"safetensors offsets reversed", append(st(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`), 0, 0, 0, 0), "outside"},
		{"safetensors overlap", append(st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`), 0, 0, 0, 0), "overlap"},
		{"safetensors gap", append(st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`), 0, 0, 0, 0, 0, 0, 0, 0), "gap"},
		{"safetensors leftover", append(st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`), 0, 0, 0, 0, 0), "not used"},
		{"safetensors dtype", append(st(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`), 0), "unsupported dtype"},
		{"safetensors dup", append(st(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`), 0, 0), "duplicate"},
		{"safetensors bad json", st(`{"a":`), "bad header"},
		{"safetensors trailing", st(`{}{}`), "trailing"},
		{"safetensors metadata", st(`{"__metadata__":{"a":1}}`), "__metadata__"},
		{"safetensors deep", st(`{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), "bad header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "x.pt"
			if strings.HasPrefix(tc.name, "safetensors") {
				name = "x.safetensors"
			}
			_, err := LoadBytes(name, tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.Intn(600))
		rng.Read(b)
		if i%3 == 0 && len(b) > 2 {
			b[0], b[1] = 0x80, byte(2+i%4)
		}
		LoadBytes("x", b)
	}
	t.Logf("recovered gopickle panics: %d", len(panics()))
}

func TestSafetensorsBF16I64(t *testing.T) {
	watchPanics(t)
	hdr := `{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"y":{"dtype":"I64","shape":[1,1],"data_offsets":[4,12]},"z":{"dtype":"BOOL","shape":[2],"data_offsets":[12,14]}}`
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(hdr)))
	b.WriteString(hdr)
	binary.Write(&b, binary.LittleEndian, []uint16{0x3fc0, 0xc000}) // 1.5, -2
	binary.Write(&b, binary.LittleEndian, int64(-3))
	b.Write([]byte{1, 0})
	sd, err := LoadBytes("m.safetensors", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	check(t, sd, []want{{"x", []int{2}, []float32{1.5, -2}}, {"y", []int{1, 1}, []float32{-3}}, {"z", []int{2}, []float32{1, 0}}})
}

func TestModulePrefix(t *testing.T) {
	mk := func(keys ...string) *StateDict {
		var es []entry
		for _, k := range keys {
			es = append(es, entry{k, &Tensor{Data: []float32{1}}})
		}
		return newStateDict(es)
	}
	if got := mk("module.a", "module.b.c").Keys; !reflect.DeepEqual(got, []string{"a", "b.c"}) {
		t.Errorf("got %q", got)
	}
	if got := mk("module.a", "b").Keys; !reflect.DeepEqual(got, []string{"module.a", "b"}) {
		t.Errorf("got %q", got)
	}
}

func TestGatherStrided(t *testing.T) {
	// 2x3x4 arange viewed with permuted strides, checked against index math.
	raw := make([]float32, 24)
	for i := range raw {
		raw[i] = float32(i)
	}
	b := f32bytes(raw...)
	size, stride := []int{4, 2, 3}, []int{1, 12, 4} // permute(2,0,1)
	out := make([]float32, 24)
	gather(out, dtF32, b, 0, size, stride)
	o := 0
	for i := 0; i < 4; i++ {
		for j := 0; j < 2; j++ {
			for k := 0; k < 3; k++ {
				if want := float32(i + 12*j + 4*k); out[o] != want {
					t.Fatalf("out[%d] = %v, want %v", o, out[o], want)
				}
				o++
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := Load("testdata/does-not-exist.pt")
	if err == nil || err.Error() != "read checkpoint testdata/does-not-exist.pt: no such file or directory" {
		t.Errorf("err = %v", err)
	}
	_, err = Load("testdata/gen_fixtures.py")
	if err == nil || !strings.Contains(err.Error(), "unrecognized format") {
		t.Errorf("err = %v", err)
	}
}
