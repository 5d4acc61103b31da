package torch

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/mncdev/mnc/runtime/limits"
)

// zipArchive reads entries of a torch.save zip archive held in memory.
type zipArchive struct {
	data     []byte
	prefix   string // top folder, e.g. "archive"
	entries  map[string]*zip.File
	inflated int // bytes produced by decompression so far
	limit    int // cap on inflated
}

// zipEncrypted is the general-purpose flag bit of an encrypted entry.
const zipEncrypted = 0x1

func loadZip(data []byte) ([]entry, error) {
	// archive/zip keeps a few hundred bytes per entry: bound the central
	// directory before it is parsed. Every record starts with this
	// signature, so counting it bounds the entries from above (file data
	// may hold it too).
	if n := bytes.Count(data, []byte("PK\x01\x02")); n > limits.CheckpointEntries {
		return nil, fmt.Errorf("zip archive has up to %d entries; the limit is %d", n, limits.CheckpointEntries)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("bad zip archive: %w", err)
	}
	z := &zipArchive{data: data, entries: make(map[string]*zip.File, len(zr.File)), limit: 4*len(data) + 1<<20}
	for _, f := range zr.File {
		if f.Flags&zipEncrypted != 0 {
			return nil, fmt.Errorf("zip entry %s is encrypted, which torch.save never writes", quote(f.Name))
		}
		if _, dup := z.entries[f.Name]; dup {
			return nil, fmt.Errorf("zip archive has two entries named %s", quote(f.Name))
		}
		z.entries[f.Name] = f
	}
	if err := z.findPrefix(zr.File); err != nil {
		return nil, err
	}
	if f := z.entries[z.prefix+"/byteorder"]; f != nil {
		b, err := z.read(f)
		if err != nil {
			return nil, err
		}
		switch order := strings.TrimSpace(string(b)); order {
		case "little":
		case "big":
			return nil, errors.New("checkpoint was saved on a big-endian machine; only little-endian checkpoints are supported")
		default:
			return nil, fmt.Errorf("unknown byteorder %s in checkpoint", quote(order))
		}
	}
	pkl, err := z.read(z.entries[z.prefix+"/data.pkl"])
	if err != nil {
		return nil, err
	}
	n, err := scanPickle(pkl)
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	if n != len(pkl) {
		return nil, fmt.Errorf("data.pkl: %d bytes of trailing data after the pickle", len(pkl)-n)
	}
	storages := make(map[string]*storageRef)
	obj, err := unpickle(pkl, func(pid any) (any, error) { return z.persistentLoad(pid, storages) })
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	items, err := findStateDict(obj)
	if err != nil {
		return nil, err
	}
	return materialize(items, newMaterializer(len(data)+z.inflated))
}

// findPrefix picks the archive's top folder the way torch does (the folder of
// the first entry), falling back to the only <folder>/data.pkl present.
func (z *zipArchive) findPrefix(files []*zip.File) error {
	if len(files) > 0 {
		if i := strings.IndexByte(files[0].Name, '/'); i > 0 {
			if _, ok := z.entries[files[0].Name[:i]+"/data.pkl"]; ok {
				z.prefix = files[0].Name[:i]
			}
		}
	}
	if z.prefix == "" {
		var found []string
		for _, f := range files {
			if strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1 && len(f.Name) > len("/data.pkl") {
				found = append(found, strings.TrimSuffix(f.Name, "/data.pkl"))
			}
		}
		switch len(found) {
		case 0:
			return errors.New("zip archive has no <folder>/data.pkl: not a torch.save checkpoint")
		case 1:
			z.prefix = found[0]
		default:
			return fmt.Errorf("zip archive holds %d checkpoints (data.pkl in folders %s, %s, ...)", len(found), quote(found[0]), quote(found[1]))
		}
	}
	if _, ok := z.entries[z.prefix+"/constants.pkl"]; ok {
		return errors.New("this is a TorchScript archive (torch.jit.save), not supported; save model.state_dict() with torch.save instead")
	}
	return nil
}

// read returns the bytes of a zip entry, whose CRC-32 it always checks
// (archive/zip skips the check when the recorded CRC is 0). Stored entries
// (what torch.save writes) are returned without copying; compressed ones
// are inflated within z.limit so a zip bomb cannot exhaust memory.
func (z *zipArchive) read(f *zip.File) ([]byte, error) {
	if f.Method == zip.Store {
		if f.CompressedSize64 != f.UncompressedSize64 {
			return nil, fmt.Errorf("zip entry %s: stored entry with inconsistent sizes", quote(f.Name))
		}
		off, err := f.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("zip entry %s: %w", quote(f.Name), err)
		}
		size := f.UncompressedSize64
		if off < 0 || uint64(off) > uint64(len(z.data)) || size > uint64(len(z.data))-uint64(off) {
			return nil, fmt.Errorf("zip entry %s: data extends past the end of the file", quote(f.Name))
		}
		b := z.data[off : off+int64(size)]
		if err := checkCRC(f, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	size := f.UncompressedSize64
	if size > uint64(z.limit-z.inflated) {
		return nil, fmt.Errorf("zip entry %s: inflates to %d bytes, more than this file can plausibly hold", quote(f.Name), size)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", quote(f.Name), err)
	}
	defer rc.Close()
	b := make([]byte, size)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", quote(f.Name), err)
	}
	// Reading to EOF makes archive/zip verify the size and checksum.
	var one [1]byte
	if n, err := rc.Read(one[:]); n != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("longer than declared")
		}
		return nil, fmt.Errorf("zip entry %s: %w", quote(f.Name), err)
	}
	if err := checkCRC(f, b); err != nil {
		return nil, err
	}
	z.inflated += int(size)
	return b, nil
}

func checkCRC(f *zip.File, b []byte) error {
	if sum := crc32.ChecksumIEEE(b); sum != f.CRC32 {
		return fmt.Errorf("zip entry %s: checksum mismatch (CRC-32 %08x, the archive records %08x): corrupt file", quote(f.Name), sum, f.CRC32)
	}
	return nil
}

// persistentLoad resolves ('storage', storage_type, key, location, numel) to
// the bytes of <prefix>/data/<key>.
func (z *zipArchive) persistentLoad(pid any, storages map[string]*storageRef) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() < 1 {
		return nil, fmt.Errorf("unsupported persistent id (%s)", describe(pid))
	}
	if kind, _ := t.Get(0).(string); kind != "storage" {
		return nil, fmt.Errorf("unsupported persistent id kind %s", quote(kind))
	}
	if t.Len() < 5 {
		return nil, fmt.Errorf("storage persistent id has %d fields", t.Len())
	}
	cls, key, n, err := storageFields(t)
	if err != nil {
		return nil, err
	}
	if s, ok := storages[key]; ok {
		if s.root.dtype != cls.dtype || s.root.numel != n {
			return nil, fmt.Errorf("storage %s is used both as %d %s and %d %s elements", quote(key), s.root.numel, s.root.dtype, n, cls.dtype)
		}
		return s, nil
	}
	f := z.entries[z.prefix+"/data/"+key]
	if f == nil {
		return nil, fmt.Errorf("storage %s: its data entry is missing from the archive", quote(key))
	}
	b, err := z.read(f)
	if err != nil {
		return nil, err
	}
	es := cls.dtype.size()
	if n > len(b)/es {
		return nil, fmt.Errorf("storage %s: %d %s elements do not fit in the %d-byte entry", quote(key), n, cls.dtype, len(b))
	}
	s := &storageRef{root: &storage{key: key, dtype: cls.dtype, numel: n, data: b[:n*es], loaded: true}, whole: true}
	storages[key] = s
	return s, nil
}
