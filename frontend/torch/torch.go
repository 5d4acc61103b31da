package torch

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/mncdev/mnc/runtime/limits"
)

// Tensor is a dense float32 tensor.
type Tensor struct {
	Shape []int
	Data  []float32 // C order, len == product(Shape) (1 for a scalar with empty Shape)
}

// StateDict keeps the checkpoint's key order.
type StateDict struct {
	Keys    []string
	Tensors map[string]*Tensor
}

// Load reads the checkpoint at path. The format is chosen from the content
// (zip magic, safetensors header, legacy pickle or tar), not the extension.
func Load(path string) (*StateDict, error) {
	data, err := limits.ReadFile(path, limits.ModelFile, "checkpoint")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("read checkpoint %s: %w", path, pe.Err)
		}
		return nil, err // names the path and what is wrong with it
	}
	sd, err := load(path, data)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return sd, nil
}

// LoadBytes is Load for a checkpoint already in memory; name is used in
// error messages and as a format hint only. data is not modified and not
// retained.
func LoadBytes(name string, data []byte) (*StateDict, error) {
	sd, err := load(name, data)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", name, err)
	}
	return sd, nil
}

// panicHook, when set (by tests), sees every panic turned into an error.
var panicHook func(r any, stack []byte)

func load(name string, data []byte) (sd *StateDict, err error) {
	defer func() {
		if r := recover(); r != nil {
			if panicHook != nil {
				panicHook(r, debug.Stack())
			}
			sd = nil
			msg := strings.ReplaceAll(fmt.Sprint(r), "\n", " ")
			if len(msg) > 200 {
				msg = msg[:200] + "..."
			}
			err = fmt.Errorf("malformed checkpoint (decoder failure: %s)", msg)
		}
	}()
	var entries []entry
	switch detect(name, data) {
	case formatZip:
		entries, err = loadZip(data)
	case formatLegacy:
		entries, err = loadLegacy(data)
	case formatSafetensors:
		entries, err = loadSafetensors(data)
	case formatTar:
		err = errors.New("legacy tar checkpoint format (PyTorch < 0.1.10) is not supported; re-save it with a current torch.save")
	case formatEmpty:
		err = errors.New("empty file")
	default:
		err = errors.New("unrecognized format (not a torch.save zip archive, legacy torch.save pickle or .safetensors file)")
	}
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errors.New("checkpoint holds no tensors")
	}
	return newStateDict(entries), nil
}

type format int

const (
	formatUnknown format = iota
	formatEmpty
	formatZip
	formatLegacy
	formatSafetensors
	formatTar
)

func detect(name string, data []byte) format {
	switch {
	case len(data) == 0:
		return formatEmpty
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		return formatZip
	case looksLikeSafetensors(data):
		return formatSafetensors
	case len(data) >= 262 && string(data[257:262]) == "ustar":
		return formatTar
	case data[0] == 0x80 || data[0] == 'L':
		// Legacy torch.save starts with the pickled magic number: protocol
		// >= 2 pickles begin with PROTO (0x80), protocol 0/1 with LONG.
		return formatLegacy
	case strings.HasSuffix(strings.ToLower(name), ".safetensors"):
		return formatSafetensors // let the parser explain what is wrong
	}
	return formatUnknown
}

// entry is one named tensor, already converted.
type entry struct {
	key string
	t   *Tensor
}

func newStateDict(entries []entry) *StateDict {
	sd := &StateDict{Keys: make([]string, 0, len(entries)), Tensors: make(map[string]*Tensor, len(entries))}
	strip := len(entries) > 0
	for _, e := range entries {
		if !strings.HasPrefix(e.key, "module.") {
			strip = false
			break
		}
	}
	for _, e := range entries {
		k := e.key
		if strip {
			k = strings.TrimPrefix(k, "module.")
		}
		if _, dup := sd.Tensors[k]; !dup {
			sd.Keys = append(sd.Keys, k)
		}
		sd.Tensors[k] = e.t
	}
	return sd
}

// quote quotes a string from the file for an error message, shortened so a
// hostile name cannot flood the message.
func quote(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "..."
	}
	return strconv.Quote(s)
}
