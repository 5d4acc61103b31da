//go:build !purego

package kernels

// armGemm installs the ARM64 kernels of this file into s (dot: the SDOT
// variant). TODO(arm64): not written yet; s keeps the generic twins.
func armGemm(s *Set, dot bool) {}
