package runtime

import (
	"fmt"
	"io"
	"os"
)

// readFile reads a model file into memory aligned for in-place weights.
func readFile(path string) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() > maxFileBytes {
		return nil, nil, fmt.Errorf("%s: %d bytes is larger than the %d-byte limit", path, st.Size(), int64(maxFileBytes))
	}
	b := alignedBytes(int(st.Size()), 64)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil, nil
}
