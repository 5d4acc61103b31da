//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package runtime

// mapFile reads the whole file where memory mapping is not available.
func mapFile(path string) ([]byte, func() error, error) { return readFile(path) }
