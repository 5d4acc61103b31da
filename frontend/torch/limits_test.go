package torch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/runtime/limits"
)

// patchCentral calls fn with the central directory record and the local
// header of every entry of the zip archive data named name (data is
// modified in place).
func patchCentral(t *testing.T, data []byte, name string, fn func(central, local []byte)) {
	t.Helper()
	found := false
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("PK\x01\x02"))
		if j < 0 {
			break
		}
		c := data[i+j:]
		i += j + 4
		if len(c) < 46 {
			continue
		}
		n := int(binary.LittleEndian.Uint16(c[28:]))
		if len(c) < 46+n || string(c[46:46+n]) != name {
			continue
		}
		off := binary.LittleEndian.Uint32(c[42:])
		fn(c, data[off:])
		found = true
	}
	if !found {
		t.Fatalf("no entry %s", name)
	}
}

// TestZipCRCZero: an entry whose data was changed and whose CRC fields
// were zeroed (archive/zip then skips its check) is refused, stored or
// deflated.
func TestZipCRCZero(t *testing.T) {
	watchPanics(t)
	for _, deflate := range []bool{false, true} {
		var es []zipEntry
		for _, e := range unzip(t, readFixture(t, "state_dict_zip.pt")) {
			e.deflate = deflate
			es = append(es, e)
		}
		data := makeZip(t, es)
		sd, err := LoadBytes("x.pt", data)
		if err != nil {
			t.Fatal(err)
		}
		if len(sd.Keys) == 0 {
			t.Fatal("no tensors")
		}
		name := ""
		for _, e := range es {
			if strings.Contains(e.name, "/data/") {
				name = e.name
				break
			}
		}
		patchCentral(t, data, name, func(c, l []byte) {
			binary.LittleEndian.PutUint32(c[16:], 0)
			binary.LittleEndian.PutUint32(l[14:], 0)
			if !deflate {
				// Overwrite the first stored byte of the weights.
				lo := 30 + int(binary.LittleEndian.Uint16(l[26:])) + int(binary.LittleEndian.Uint16(l[28:]))
				l[lo] ^= 0x40
			}
		})
		_, err = LoadBytes("x.pt", data)
		if err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("deflate %v: CRC 0 over changed data: %v", deflate, err)
		}
	}
}

func TestZipEncrypted(t *testing.T) {
	data := append([]byte(nil), readFixture(t, "state_dict_zip.pt")...)
	patchCentral(t, data, "archive/data.pkl", func(c, l []byte) {
		c[8] |= 1
		l[6] |= 1
	})
	_, err := LoadBytes("x.pt", data)
	if err == nil || !strings.Contains(err.Error(), `zip entry "archive/data.pkl" is encrypted`) {
		t.Errorf("encrypted entry: %v", err)
	}
}

func TestZipEntryCount(t *testing.T) {
	data := append([]byte("PK\x03\x04"), bytes.Repeat([]byte("PK\x01\x02"), limits.CheckpointEntries+1)...)
	_, err := LoadBytes("x.pt", data)
	if err == nil || !strings.Contains(err.Error(), "zip archive has up to 65537 entries; the limit is 65536") {
		t.Errorf("entry count: %v", err)
	}
}

// TestNonStringKey: a tensor under a key that is not a str is an error
// naming the key, not skipped.
func TestNonStringKey(t *testing.T) {
	watchPanics(t)
	storages := map[string][]byte{"0": f32bytes(1, 2)}
	for _, c := range []struct{ key, want string }{
		{"K\x05", "state_dict key 5 is an int, not a str"},
		{"G\x3f\xf8\x00\x00\x00\x00\x00\x00", "state_dict key 1.5 is a float, not a str"},
		{"N", "state_dict key None is None, not a str"},
	} {
		p := newPk()
		p.global("collections", "OrderedDict").op(")R(")
		tensor := func() {
			p.global("torch._utils", "_rebuild_tensor_v2").op("((")
			p.str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(2).op("tQ")
			p.int(0).tuple([]int64{2}).tuple([]int64{1}).op("\x89")
			p.global("collections", "OrderedDict").op(")R")
			p.op("tR")
		}
		p.str("w")
		tensor()
		p.op(c.key)
		tensor()
		_, err := LoadBytes("x.pt", torchZip(t, p.op("u.").Bytes(), storages))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("key %q: %v, want %q", c.key, err, c.want)
		}
	}
}

func TestSafetensorsEntryLimit(t *testing.T) {
	h := `{"a":{"dtype":"F32","shape":[` + strings.Repeat("1,", 3000) + `1],"data_offsets":[0,4]}}`
	data := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	data = append(append(data, h...), 0, 0, 0, 0)
	_, err := LoadBytes("x.safetensors", data)
	if err == nil || !strings.Contains(err.Error(), `safetensors: tensor "a": header entry of 6048 bytes; the limit is 4096`) {
		t.Errorf("long entry: %v", err)
	}
}

// TestLoadFileLimit: a checkpoint over limits.ModelFile is refused before
// it is read (a sparse file).
func TestLoadFileLimit(t *testing.T) {
	for _, head := range []string{"PK\x03\x04", "\x10\x00\x00\x00\x00\x00\x00\x00{"} {
		path := filepath.Join(t.TempDir(), "big.pth")
		if err := os.WriteFile(path, []byte(head), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, 8<<30); err != nil {
			t.Skip(err)
		}
		if _, err := Load(path); err == nil || err.Error() != "the checkpoint "+path+" is 8 GiB; the limit is 2 GiB" {
			t.Errorf("8 GiB checkpoint: %v", err)
		}
	}
}

func TestSafetensorsTensorCount(t *testing.T) {
	var h strings.Builder
	h.WriteString("{")
	for i := range limits.CheckpointEntries + 1 {
		fmt.Fprintf(&h, `"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`, i)
	}
	js := strings.TrimSuffix(h.String(), ",") + "}"
	data := append(binary.LittleEndian.AppendUint64(nil, uint64(len(js))), js...)
	_, err := LoadBytes("x.safetensors", data)
	if err == nil || !strings.Contains(err.Error(), "safetensors: the header lists more tensors than the limit of 65536") {
		t.Errorf("many tensors: %v", err)
	}
}
