package torch

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/mncdev/mnc/runtime/limits"
)

const (
	maxSafetensorsHeader = 100 << 20 // same limit as the reference implementation
	// maxSafetensorsEntry bounds one tensor's header entry (dtype, a shape
	// of at most 64 dimensions, two offsets: under 2 KiB), checked before
	// it is decoded: a shape of millions of dimensions would otherwise
	// cost 8 bytes per 2 of header.
	maxSafetensorsEntry = 4 << 10
)

var safetensorsDtypes = map[string]dtype{
	"F32":  dtF32,
	"F16":  dtF16,
	"BF16": dtBF16,
	"F64":  dtF64,
	"I64":  dtI64,
	"I32":  dtI32,
	"I16":  dtI16,
	"I8":   dtI8,
	"U8":   dtU8,
	"BOOL": dtBool,
}

func looksLikeSafetensors(data []byte) bool {
	if len(data) < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(data)
	return n >= 2 && n <= uint64(len(data)-8) && data[8] == '{'
}

type safetensorsInfo struct {
	Dtype       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// loadSafetensors reads an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {...}} and the data
// buffer. Like the reference implementation it requires the tensors to tile
// the buffer exactly: no gaps, no overlaps, nothing left over.
func loadSafetensors(data []byte) ([]entry, error) {
	if len(data) < 8 {
		return nil, errors.New("safetensors: file too short for a header")
	}
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors: header of %d bytes does not fit in a %d-byte file", n, len(data))
	}
	if n > maxSafetensorsHeader {
		return nil, fmt.Errorf("safetensors: header of %d bytes is too large", n)
	}
	header, buf := data[8:8+n], data[8+n:]

	type named struct {
		key  string
		info safetensorsInfo
		dt   dtype
	}
	var tensors []named
	seen := make(map[string]bool)
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("safetensors: header is not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("safetensors: bad header: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("safetensors: bad header key")
		}
		if seen[key] {
			return nil, fmt.Errorf("safetensors: duplicate header key %s", quote(key))
		}
		if len(seen) >= limits.CheckpointEntries {
			return nil, fmt.Errorf("safetensors: the header lists more tensors than the limit of %d", limits.CheckpointEntries)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("safetensors: bad header entry %s: %w", quote(key), err)
		}
		if key == "__metadata__" {
			var meta map[string]string
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, fmt.Errorf("safetensors: __metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		if len(raw) > maxSafetensorsEntry {
			return nil, fmt.Errorf("safetensors: tensor %s: header entry of %d bytes; the limit is %d", quote(key), len(raw), maxSafetensorsEntry)
		}
		var info safetensorsInfo
		if err := json.Unmarshal(raw, &info); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %s: bad header entry: %w", quote(key), err)
		}
		dt, ok := safetensorsDtypes[info.Dtype]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %s: unsupported dtype %s", quote(key), quote(info.Dtype))
		}
		if len(info.DataOffsets) != 2 {
			return nil, fmt.Errorf("safetensors: tensor %s: data_offsets must have 2 entries", quote(key))
		}
		if info.DataOffsets[0] > info.DataOffsets[1] || info.DataOffsets[1] > uint64(len(buf)) {
			return nil, fmt.Errorf("safetensors: tensor %s: data_offsets %v outside the %d-byte data buffer", quote(key), info.DataOffsets, len(buf))
		}
		if len(info.Shape) > 64 {
			return nil, fmt.Errorf("safetensors: tensor %s: rank %d too large", quote(key), len(info.Shape))
		}
		tensors = append(tensors, named{key, info, dt})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("safetensors: bad header: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("safetensors: trailing data after the JSON header")
	}

	// Sizes and tiling.
	order := make([]int, len(tensors))
	for i := range tensors {
		t := &tensors[i]
		order[i] = i
		size := t.info.DataOffsets[1] - t.info.DataOffsets[0]
		want := uint64(t.dt.size())
		for _, d := range t.info.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %s: negative dimension in shape %v", quote(t.key), t.info.Shape)
			}
			if d == 0 {
				want = 0
			} else if want > size/uint64(d) {
				want = size + 1 // too big; keep checking for zeros and negatives
			} else {
				want *= uint64(d)
			}
		}
		if want != size {
			return nil, fmt.Errorf("safetensors: tensor %s: shape %v of %s needs a different size than its %d data bytes", quote(t.key), t.info.Shape, t.dt, size)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := tensors[order[a]].info.DataOffsets, tensors[order[b]].info.DataOffsets
		if x[0] != y[0] {
			return x[0] < y[0]
		}
		return x[1] < y[1]
	})
	var end uint64
	for _, i := range order {
		off := tensors[i].info.DataOffsets
		if off[0] != end {
			return nil, fmt.Errorf("safetensors: tensor %s: data_offsets %v leave a gap or overlap another tensor", quote(tensors[i].key), off)
		}
		end = off[1]
	}
	if end != uint64(len(buf)) {
		return nil, fmt.Errorf("safetensors: %d bytes of data buffer not used by any tensor", uint64(len(buf))-end)
	}

	out := make([]entry, 0, len(tensors))
	for _, t := range tensors {
		shape := make([]int, len(t.info.Shape))
		for i, d := range t.info.Shape {
			shape[i] = int(d)
		}
		raw := buf[t.info.DataOffsets[0]:t.info.DataOffsets[1]]
		vals := make([]float32, len(raw)/t.dt.size())
		if len(t.info.Shape) == 0 && len(vals) != 1 {
			return nil, fmt.Errorf("safetensors: scalar tensor %s has %d elements", quote(t.key), len(vals))
		}
		t.dt.decode(vals, raw, 0)
		out = append(out, entry{t.key, &Tensor{Shape: shape, Data: vals}})
	}
	return out, nil
}
