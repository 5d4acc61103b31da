// Package mnc embeds the source of the board runner, cmd/mncrun, and of the
// runtime it links, so that an installed mnc (go install, a copied binary)
// can cross-compile the runner for a board with the Go toolchain (mnc
// deploy) without a checkout. The runner built this way is the runtime of
// the very mnc that compiled the model.
package mnc

import "embed"

// RunnerSource holds go.mod, go.sum, cmd/mncrun and runtime/ (tests and
// their data included: go build ignores them).
//
//go:embed go.mod go.sum cmd/mncrun/*.go runtime
var RunnerSource embed.FS
