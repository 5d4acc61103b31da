//go:build !unix

package limits

import "os"

const openFlags = os.O_RDONLY
