// Package mnc embeds the source of the board runner, cmd/mncrun, and of the
// runtime it links, so that an installed mnc (go install, a copied binary)
// can cross-compile the runner for a board with the Go toolchain (mnc
// deploy) without a checkout. The runner built this way is the runtime of
// the very mnc that compiled the model.
package mnc

import "embed"

// RunnerSource holds go.mod, go.sum and the Go and assembly files of
// cmd/mncrun and runtime/ (their tests' data left out; the _test.go files,
// which go:embed cannot tell apart and go build ignores, are in).
//
//go:embed go.mod go.sum cmd/mncrun/*.go runtime/*.go runtime/kernels/*.go runtime/kernels/*.s runtime/detect/*.go runtime/esc/*.go runtime/limits/*.go runtime/mncfb/*.go runtime/preprocess/*.go
var RunnerSource embed.FS
