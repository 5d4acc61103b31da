package kernels

import "encoding/binary"

// Packed weight layouts.
//
// The Set's Pack functions turn the generic layouts (see the package
// documentation) into the layout its kernels read. The runtime calls them
// once, at model load, on the generic-layout weights stored in the model
// file, with the same parameters it later passes to the kernels; the packed
// slices are then read-only and may be shared by goroutines. The generic Set
// packs to the generic layout (it returns w itself).
//
// pack_amd64.go holds the x86-64 layouts (GEMM and depthwise), gemm_arm64.go
// and depthwise_arm64.go the ARM64 ones.

// putInt32 stores v little-endian in b[0:4].
func putInt32(b []int8, v int32) {
	var u [4]byte
	binary.LittleEndian.PutUint32(u[:], uint32(v))
	for i, c := range u {
		b[i] = int8(c)
	}
}
