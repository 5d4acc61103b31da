package torch

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// kv is one key/value pair of a pickled dict, in insertion order.
type kv struct {
	key   any
	value any
}

// dictItems returns the items of a pickled dict or OrderedDict. For a plain
// dict, a repeated string key keeps its first position and last value, as
// in Python.
func dictItems(v any) ([]kv, bool) {
	switch d := v.(type) {
	case *types.OrderedDict:
		items := make([]kv, 0, d.Len())
		for e := d.List.Front(); e != nil; e = e.Next() {
			if ent, ok := e.Value.(*types.OrderedDictEntry); ok {
				items = append(items, kv{ent.Key, ent.Value})
			}
		}
		return items, true
	case *types.Dict:
		items := make([]kv, 0, len(*d))
		seen := make(map[string]int)
		for _, ent := range *d {
			if s, ok := ent.Key.(string); ok {
				if i, dup := seen[s]; dup {
					items[i].value = ent.Value
					continue
				}
				seen[s] = len(items)
			}
			items = append(items, kv{ent.Key, ent.Value})
		}
		return items, true
	}
	return nil, false
}

func hasTensor(items []kv) bool {
	for _, it := range items {
		if _, ok := it.key.(string); ok {
			if _, ok := it.value.(*tensorRef); ok {
				return true
			}
		}
	}
	return false
}

// wrapperKeys are the keys under which training checkpoints commonly keep the
// model's state_dict, in order of preference.
var wrapperKeys = []string{"state_dict", "model_state_dict", "model"}

// findStateDict locates the state_dict in a checkpoint's top-level object: the
// object itself if it is a dict holding tensors, or a dict found (up to a few
// levels deep) under one of wrapperKeys.
func findStateDict(top any) ([]kv, error) {
	cache := make(map[any][]kv) // a hostile pickle can make dicts refer to themselves
	if items := search(top, 0, cache); items != nil {
		return items, nil
	}
	items, ok := dictItems(top)
	if !ok {
		if _, ok := top.(*tensorRef); ok {
			return nil, fmt.Errorf("checkpoint holds a single tensor, not a state_dict")
		}
		return nil, fmt.Errorf("checkpoint holds %s, not a state_dict (a dict of tensors)", describe(top))
	}
	var keys []string
	for _, it := range items {
		if s, ok := it.key.(string); ok {
			keys = append(keys, quote(s))
		} else {
			keys = append(keys, describe(it.key))
		}
	}
	sort.Strings(keys)
	if len(keys) > 12 {
		keys = append(keys[:12], "...")
	}
	return nil, fmt.Errorf("no state_dict found: the checkpoint is a dict with keys [%s] and no tensors under %q", strings.Join(keys, ", "), wrapperKeys)
}

func search(v any, depth int, cache map[any][]kv) []kv {
	switch v.(type) {
	case *types.OrderedDict, *types.Dict: // pointers, safe as map keys
	default:
		return nil
	}
	items, ok := cache[v]
	if !ok {
		if items, ok = dictItems(v); !ok {
			return nil
		}
		cache[v] = items
	}
	if hasTensor(items) {
		return items
	}
	if depth >= 4 {
		return nil
	}
	for _, w := range wrapperKeys {
		for _, it := range items {
			if s, ok := it.key.(string); ok && s == w {
				if found := search(it.value, depth+1, cache); found != nil {
					return found
				}
			}
		}
	}
	return nil
}

// materialize turns the tensors of a state_dict into entries. Values that
// are not tensors are skipped; a key that is not a str is an error (it
// cannot name a parameter, and skipping it would drop a tensor silently).
func materialize(items []kv, m *materializer) ([]entry, error) {
	var out []entry
	for _, it := range items {
		key, ok := it.key.(string)
		if !ok {
			return nil, fmt.Errorf("state_dict key %s is %s, not a str (parameter names are strings)", repr(it.key), describe(it.key))
		}
		ref, ok := it.value.(*tensorRef)
		if !ok {
			continue
		}
		t, err := m.tensor(ref)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", quote(key), err)
		}
		out = append(out, entry{key, t})
	}
	return out, nil
}

// repr shows a decoded pickle value for an error message: numbers, bools
// and None as Python prints them, strings and bytes quoted, anything else
// by its type.
func repr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case *big.Int:
		if s := x.String(); len(s) <= 40 {
			return s
		}
		return "(a " + strconv.Itoa(x.BitLen()) + "-bit int)"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return quote(x)
	case []byte:
		return "b" + quote(string(x))
	}
	return "(" + describe(v) + ")"
}
