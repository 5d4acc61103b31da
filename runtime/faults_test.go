package runtime_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mncdev/mnc/runtime"
)

// TestTruncatedWhileMapped: a model file truncated in place between Open
// and Run (cp new.mnc model.mnc under a running service) makes Run return
// an error, on one thread and on several, instead of killing the process
// with SIGBUS. The scenario runs in a child process (this test binary
// again), so that a regression crashes the child, not the test run; run it
// directly (e.g. under qemu-aarch64) with MNC_TEST_TRUNCATE=1.
func TestTruncatedWhileMapped(t *testing.T) {
	if os.Getenv("MNC_TEST_TRUNCATE") == "1" {
		truncateScenario(t)
		return
	}
	blobs(t) // compile the model here first, so that a failure to do so is not a crash
	cmd := exec.Command(os.Args[0], "-test.run=^TestTruncatedWhileMapped$", "-test.v")
	cmd.Env = append(os.Environ(), "MNC_TEST_TRUNCATE=1")
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(err.Error(), "exec format error") {
		// go test -exec qemu-...: the test binary cannot start a child of
		// its own architecture without the emulator.
		t.Skip("cannot re-execute the test binary here (under an emulator):", err)
	}
	if err != nil || strings.Contains(string(out), "SIGBUS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "changed while mapped"); n < 2 {
		t.Fatalf("child reported %d faults, want one per thread count:\n%s", n, out)
	}
	t.Logf("%s", out)
}

func truncateScenario(t *testing.T) {
	tm := blobs(t)
	for _, threads := range []int{1, 3} {
		p := filepath.Join(t.TempDir(), "model.mnc")
		if err := os.WriteFile(p, tm.int8, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := runtime.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		it, err := m.NewInterpreterThreads(threads)
		if err != nil {
			t.Fatal(err)
		}
		in := runtime.Tensor{Shape: tm.input.Shape, Data: tm.input.F32}
		if _, err := it.Run(in); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, 0); err != nil {
			t.Fatal(err)
		}
		for range 2 { // and the model stays refused
			_, err = it.Run(in)
			if err == nil || !strings.Contains(err.Error(), "changed while mapped") {
				t.Fatalf("%d threads: Run after truncation: %v", threads, err)
			}
		}
		t.Logf("%d threads: %v", threads, err)
		it.Close()
		m.Close()
	}
}

// TestOpenNotRegular: a model path that is a FIFO or a directory is
// refused before it is opened (opening a FIFO would block), by Open and
// IsModelFile.
func TestOpenNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.mnc")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	if _, err := runtime.Open(fifo); err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("Open(FIFO): %v", err)
	}
	if runtime.IsModelFile(fifo) {
		t.Error("IsModelFile(FIFO) = true")
	}
	if _, err := runtime.Open(dir); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("Open(directory): %v", err)
	}
}
