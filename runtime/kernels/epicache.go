//go:build (amd64 || arm64) && !purego

package kernels

import (
	"bytes"
	"sync"
	"sync/atomic"
	"unsafe"
)

// epiCache holds per-layer epilogue constants that the assembly kernels
// would otherwise recompute on every call (every inference, every
// thread's rows): the x86 flat depthwise kernels' epiBlocks (flatEpi) and
// the ARM64 GEMMs' (armEpiEntry). Entries are keyed by the address of the
// layer's packed weights; since an address can be reused by other weights,
// the caller uses an entry only when everything the constants were
// computed from is equal. The cache is emptied when it
// reaches epiCacheMax entries.
type epiCache[E any] struct {
	m sync.Map // uintptr -> *E
	n atomic.Int64
}

const epiCacheMax = 256

// get returns the entry stored for key, or nil; the caller checks that it
// was computed from what the call has.
func (c *epiCache[E]) get(key uintptr) *E {
	if v, ok := c.m.Load(key); ok {
		return v.(*E)
	}
	return nil
}

// put stores e for key.
func (c *epiCache[E]) put(key uintptr, e *E) {
	if c.n.Add(1) > epiCacheMax {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(key, e)
}

// sameInt8, sameInt32 and sameMult compare the inputs of cached constants
// as bytes: bytes.Equal is the runtime's vectorized memequal, where
// slices.Equal loops element by element (the weight sums alone are 4 bytes
// a channel, compared on every call).
func sameInt8(a, b []int8) bool   { return bytes.Equal(asBytes(a), asBytes(b)) }
func sameInt32(a, b []int32) bool { return bytes.Equal(asBytes(a), asBytes(b)) }
func sameMult(a, b []Multiplier) bool {
	return bytes.Equal(asBytes(a), asBytes(b))
}

// asBytes views a slice of fixed-size values as its bytes.
func asBytes[T int8 | int32 | Multiplier](x []T) []byte {
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), int(unsafe.Sizeof(z))*len(x))
}
