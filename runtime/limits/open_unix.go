//go:build unix

package limits

import (
	"os"
	"syscall"
)

// openFlags opens without blocking: a FIFO swapped in after the check would
// otherwise block open(2) until a writer appears. O_NONBLOCK has no effect
// on regular files.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
