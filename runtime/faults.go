package runtime

import (
	"fmt"
	"os"
	goruntime "runtime"
	"unsafe"

	"github.com/mncdev/mnc/runtime/esc"
)

// Mapped files
//
// Open maps a model file (MAP_SHARED, read-only) and uses its weights in
// place. If the file is truncated or rewritten in place while it is mapped
// (what "cp new.mnc model.mnc" does to a running service), reading the
// pages it lost raises SIGBUS, which would kill the process. The goroutines
// that read a mapped model's weights therefore run with
// runtime/debug.SetPanicOnFault: OpenWith while it verifies the file, Run
// (for the duration of the call) and the interpreter's worker goroutines
// (for their lifetime: they run nothing else). The fault becomes a panic
// that Run and OpenWith recover into an error naming the file; the model
// stays unusable (every Run fails the same way) until it is opened again.
// A service replaces a model by writing the new file next to the old one
// and renaming it over it (os.Rename, atomic on POSIX file systems): the
// mapped file, now unlinked, keeps its contents until it is closed.
//
// Costs, measured on the smallest shared model (mobilenet_v1_0.25_128,
// 506 KB, 0.6 ms a Run on one amd64 core): catching the fault costs two
// SetPanicOnFault calls and a deferred call per Run, about 20 ns (0.003%),
// and nothing on the workers; not mapping (reading the file whole at
// Open) would cost the file's size in memory in every process (no page
// sharing) and 1.5 to 4 ms more per Open for this file, in proportion for
// larger ones.

// faultAddr is implemented by the runtime.Error of a fault that
// SetPanicOnFault turned into a panic.
type faultAddr interface{ Addr() uintptr }

// mappedFault returns the error for a panic r that is a fault inside the
// model data mapped from the file at path, or nil. A fault is recognized by
// its address or, where the address is not reported (qemu-user delivers
// such faults without one), by the file being shorter than the mapping.
func mappedFault(r any, data []byte, path string) error {
	if _, ok := r.(goruntime.Error); !ok || path == "" || len(data) == 0 {
		return nil
	}
	at := ""
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	if f, ok := r.(faultAddr); ok && f.Addr() >= start && f.Addr()-start < uintptr(len(data)) {
		at = fmt.Sprintf("; byte %d is gone", f.Addr()-start)
	} else if st, err := os.Stat(path); err != nil || st.Size() >= int64(len(data)) {
		return nil
	}
	return fmt.Errorf("the model file %s changed while mapped (truncated or overwritten in place%s): open it again, and replace model files by renaming a new file over them", esc.String(path), at)
}
