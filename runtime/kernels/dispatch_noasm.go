//go:build !amd64 || purego

package kernels

// platformVariants: no assembly in this build; the x86-64 variants are known
// by name only, so that forcing one gives a clear error.
func platformVariants() []variant {
	none := func() []string { return nil }
	return []variant{{name: "vnni", missing: none}, {name: "avx2", missing: none}}
}
