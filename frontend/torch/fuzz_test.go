package torch

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
)

func FuzzLoadBytes(f *testing.F) {
	for _, name := range fixtureNames(f) {
		f.Add(readFixture(f, name))
	}
	// Bare pickles exercise the legacy path's unpickler directly.
	f.Add([]byte("\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.\x80\x02}.\x80\x02}.\x80\x02]."))
	f.Add([]byte("\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00}\x94N."))
	f.Fuzz(fuzzLoad)
}

// FuzzDataPickle fuzzes the data.pkl of a torch.save zip archive directly
// (mutations of whole archives rarely get past the zip checksums), with the
// storages of state_dict_zip.pt available.
func FuzzDataPickle(f *testing.F) {
	var storages map[string][]byte
	for _, name := range []string{"state_dict_zip.pt", "state_dict_zip_p4.pt", "wrapped_model.pt", "malicious_torch.pt"} {
		for _, e := range unzip(f, readFixture(f, name)) {
			if strings.HasSuffix(e.name, "/data.pkl") {
				f.Add(e.data)
			} else if name == "state_dict_zip.pt" && strings.Contains(e.name, "/data/") {
				if storages == nil {
					storages = make(map[string][]byte)
				}
				storages[e.name[strings.LastIndexByte(e.name, '/')+1:]] = e.data
			}
		}
	}
	archive := func(t testing.TB, pkl []byte) []byte { return torchZip(t, pkl, storages) }
	f.Fuzz(func(t *testing.T, pkl []byte) { fuzzLoad(t, archive(t, pkl)) })
}

// fuzzLoad loads data and fails on a panic outside gopickle (the loader
// turns panics into errors), on an error message that is not one short
// line, and on a state_dict that breaks the invariants.
func fuzzLoad(t *testing.T, data []byte) {
	var origin string
	panicHook = func(r any, stack []byte) { origin = panicOrigin(stack) }
	defer func() { panicHook = nil }()
	sd, err := LoadBytes("fuzz", data)
	if origin != "" && !strings.Contains(origin, "gopickle") {
		t.Fatalf("panic in %s (err %v)", origin, err)
	}
	if err != nil {
		if strings.Contains(err.Error(), "\n") || len(err.Error()) > 1000 {
			t.Fatalf("multi-line error %q", err)
		}
		return
	}
	checkInvariants(t, sd)
}

// FuzzZip fuzzes the zip container of torch.save archives: the central
// directory, local headers, flags, sizes, offsets and checksums. Each input
// is loaded as it is, then once more with the CRC-32 of every stored entry
// recomputed, so that mutations of an entry's data also reach the loader
// instead of stopping at the checksum.
func FuzzZip(f *testing.F) {
	for _, name := range fixtureNames(f) {
		if data := readFixture(f, name); bytes.HasPrefix(data, []byte("PK")) {
			f.Add(data)
		}
	}
	var deflated []zipEntry
	for _, e := range unzip(f, readFixture(f, "state_dict_zip.pt")) {
		e.deflate = true
		deflated = append(deflated, e)
	}
	f.Add(makeZip(f, deflated))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, data)
		fixed := append([]byte(nil), data...)
		if fixStoredCRCs(fixed) {
			fuzzLoad(t, fixed)
		}
	})
}

// fixStoredCRCs sets the recorded CRC-32 of every stored entry whose
// central directory record and local header are in bounds to that of its
// data, reporting whether it changed anything.
func fixStoredCRCs(data []byte) bool {
	changed := false
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("PK\x01\x02"))
		if j < 0 {
			return changed
		}
		c := data[i+j:]
		i += j + 4
		if len(c) < 46 || binary.LittleEndian.Uint16(c[10:]) != 0 {
			continue // short, or not stored
		}
		size := uint64(binary.LittleEndian.Uint32(c[20:]))
		off := uint64(binary.LittleEndian.Uint32(c[42:]))
		if off > uint64(len(data)) || uint64(len(data))-off < 30 {
			continue
		}
		l := data[off:]
		start := 30 + uint64(binary.LittleEndian.Uint16(l[26:])) + uint64(binary.LittleEndian.Uint16(l[28:]))
		if start > uint64(len(l)) || size > uint64(len(l))-start {
			continue
		}
		sum := crc32.ChecksumIEEE(l[start : start+size])
		if binary.LittleEndian.Uint32(c[16:]) != sum {
			binary.LittleEndian.PutUint32(c[16:], sum)
			changed = true
		}
		binary.LittleEndian.PutUint32(l[14:], sum)
	}
}
