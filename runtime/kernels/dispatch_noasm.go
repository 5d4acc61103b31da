//go:build !(amd64 || arm64 || arm) || purego

package kernels

// platformVariants: no assembly in this build (purego, or neither x86-64
// nor ARM); every accelerated variant is
// known by name only (see variants).
func platformVariants() []variant { return nil }

// asmNote completes the error for a variant not compiled in.
const asmNote = ": a purego build or no assembly for this GOARCH"
