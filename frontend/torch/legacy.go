package torch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"
)

const (
	legacyMagic    = "1950a86a20f9469cfc6c" // hex
	legacyProtocol = 1001
)

// loadLegacy reads the pre-1.6 torch.save format (also written by
// _use_new_zipfile_serialization=False): pickled magic number, protocol
// version and sys_info, the object pickle, the pickled list of storage keys,
// then for each key an int64 element count followed by the raw elements.
func loadLegacy(data []byte) ([]entry, error) {
	pos := 0
	next := func(what string, pl func(any) (any, error)) (any, error) {
		n, err := scanPickle(data[pos:])
		if err == nil {
			var obj any
			obj, err = unpickle(data[pos:pos+n], pl)
			if err == nil {
				pos += n
				return obj, nil
			}
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, fmt.Errorf("not a PyTorch checkpoint: %w", err)
	}
	if m, ok := magic.(*big.Int); !ok || m.Text(16) != legacyMagic {
		return nil, errors.New("not a PyTorch checkpoint (pickle without the torch.save magic number)")
	}
	proto, err := next("protocol version", nil)
	if err != nil {
		return nil, err
	}
	if p, ok := proto.(int); !ok || p != legacyProtocol {
		return nil, fmt.Errorf("unsupported legacy torch.save protocol version %v", proto)
	}
	sysInfo, err := next("sys_info", nil)
	if err != nil {
		return nil, err
	}
	if items, ok := dictItems(sysInfo); ok {
		for _, it := range items {
			if k, _ := it.key.(string); k == "little_endian" && it.value == false {
				return nil, errors.New("checkpoint was saved on a big-endian machine; only little-endian checkpoints are supported")
			}
		}
	}
	roots := make(map[string]*storage)
	obj, err := next("object pickle", func(pid any) (any, error) { return legacyPersistentLoad(pid, roots) })
	if err != nil {
		return nil, err
	}
	keysObj, err := next("storage key list", nil)
	if err != nil {
		return nil, err
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, fmt.Errorf("storage key list is %s, want a list", describe(keysObj))
	}
	for _, k := range *keys {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("storage key is %s, want a str", describe(k))
		}
		root := roots[key]
		if root == nil {
			return nil, fmt.Errorf("storage %s listed but never used", quote(key))
		}
		if root.loaded {
			return nil, fmt.Errorf("storage %s listed twice", quote(key))
		}
		if len(data)-pos < 8 {
			return nil, fmt.Errorf("storage %s: file truncated", quote(key))
		}
		n := binary.LittleEndian.Uint64(data[pos:])
		pos += 8
		es := root.dtype.size()
		if n > uint64((len(data)-pos)/es) {
			return nil, fmt.Errorf("storage %s: %d %s elements but only %d bytes left in the file", quote(key), n, root.dtype, len(data)-pos)
		}
		size := int(n) * es
		root.numel, root.data, root.loaded = int(n), data[pos:pos+size], true
		pos += size
	}
	items, err := findStateDict(obj)
	if err != nil {
		return nil, err
	}
	return materialize(items, newMaterializer(len(data)))
}

// legacyPersistentLoad resolves ('storage', storage_type, root_key, location,
// numel, view_metadata). The data itself comes after the pickle.
func legacyPersistentLoad(pid any, roots map[string]*storage) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() < 1 {
		return nil, fmt.Errorf("unsupported persistent id (%s)", describe(pid))
	}
	kind, _ := t.Get(0).(string)
	switch kind {
	case "storage":
	case "module":
		return nil, errors.New("checkpoint holds a pickled nn.Module (with its source code), not a state_dict; save model.state_dict() instead")
	default:
		return nil, fmt.Errorf("unsupported persistent id kind %s", quote(kind))
	}
	if t.Len() != 5 && t.Len() != 6 {
		return nil, fmt.Errorf("storage persistent id has %d fields", t.Len())
	}
	cls, key, n, err := storageFields(t)
	if err != nil {
		return nil, err
	}
	root := roots[key]
	if root == nil {
		root = &storage{key: key, dtype: cls.dtype, numel: n}
		roots[key] = root
	} else if root.dtype != cls.dtype {
		return nil, fmt.Errorf("storage %s is used both as %s and %s", quote(key), root.dtype, cls.dtype)
	}
	var view any
	if t.Len() == 6 {
		view = t.Get(5)
	}
	switch vm := view.(type) {
	case nil:
		return &storageRef{root: root, whole: true}, nil
	case *types.Tuple:
		// (view_key, offset, view_size), in elements of the root storage.
		if vm.Len() != 3 {
			return nil, fmt.Errorf("storage %s: view metadata has %d fields", quote(key), vm.Len())
		}
		off, ok1 := asInt(vm.Get(1))
		size, ok2 := asInt(vm.Get(2))
		if !ok1 || !ok2 || off < 0 || size < 0 {
			return nil, fmt.Errorf("storage %s: bad view metadata", quote(key))
		}
		return &storageRef{root: root, offset: off, numel: size}, nil
	}
	return nil, fmt.Errorf("storage %s: view metadata is %s", quote(key), describe(view))
}
