package runtime

import (
	"fmt"
	"io"
	"os"

	"github.com/mncdev/mnc/runtime/limits"
)

// openModelFile opens the regular file at path (limits.Open: directories,
// FIFOs and devices are refused before they are opened for reading) and
// checks its size against limits.ModelFile.
func openModelFile(path string) (*os.File, int64, error) {
	f, st, err := limits.Open(path)
	if err != nil {
		return nil, 0, err
	}
	if st.Size() > maxFileBytes {
		f.Close()
		return nil, 0, fmt.Errorf("the model file %s is %s; the limit is %s", path, limits.Bytes(st.Size()), limits.Bytes(maxFileBytes))
	}
	return f, st.Size(), nil
}

// readFile reads a model file into memory aligned for in-place weights.
func readFile(path string) ([]byte, func() error, error) {
	f, size, err := openModelFile(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	b := alignedBytes(int(size), 64)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil, nil
}
