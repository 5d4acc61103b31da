//go:build !purego

package kernels

// armDepthwise installs the ARM64 kernels of this file into s (dot: the SDOT
// variant). TODO(arm64): not written yet; s keeps the generic twins.
func armDepthwise(s *Set, dot bool) {}
