package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mncdev/mnc/internal/golden"
)

// The hostile-input suite (issue 14): crafted inputs for every reader and
// every class of failure (memory exhaustion, hangs, crashes, silent success,
// unclear messages), made by Go code into a temporary directory (no big
// binary files are committed) and given to the real binary under a 3 GB
// address-space limit. Each case must exit 1 (or the code it names) with one
// clear line on stderr, no Go stack, and leave no output file behind.
//
// Cases are grouped by reader in hostile_*_test.go files; each file adds its
// table to hostileCases from an init function.

// hostileCase is one crafted input.
type hostileCase struct {
	name string
	// setup writes the case's files into dir and returns mnc's arguments.
	setup func(t *testing.T, dir string) []string
	// want is a substring of the one-line error.
	want string
	// code is the expected exit status (default 1).
	code int
	// stdin, when set, is the process's standard input.
	stdin string
}

// hostileCases is every case of the suite, added by the hostile_*_test.go
// files.
var hostileCases []hostileCase

// addressSpaceLimit is the limit the suite runs mnc under (prlimit --as):
// a reader that allocates what an input asks for instead of checking it
// dies here instead of passing on a large machine.
const addressSpaceLimit = "3000000000"

// hostileTimeout bounds each case: a reader that blocks (a FIFO) fails the
// case instead of hanging the test.
const hostileTimeout = "30s"

func TestHostileInputs(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) not installed: the hostile-input suite needs it")
	}
	timeout, err := exec.LookPath("timeout")
	if err != nil {
		t.Skip("timeout (coreutils) not installed")
	}
	if len(hostileCases) == 0 {
		t.Fatal("no hostile cases registered")
	}
	seen := map[string]bool{}
	for _, c := range hostileCases {
		if seen[c.name] {
			t.Fatalf("duplicate hostile case %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := c.setup(t, dir)
			before := listDir(t, dir)
			argv := append([]string{"--kill-after=5s", hostileTimeout, prlimit, "--as=" + addressSpaceLimit, mncBin}, args...)
			cmd := exec.Command(timeout, argv...)
			cmd.Dir = dir
			if c.stdin != "" {
				cmd.Stdin = strings.NewReader(c.stdin)
			}
			_, stderr, code := runCmd(t, cmd)
			want := c.code
			if want == 0 {
				want = 1
			}
			switch {
			case code == 124 || code == 137:
				t.Fatalf("mnc %s: hung (killed after %s)\nstderr: %s", strings.Join(args, " "), hostileTimeout, stderr)
			case code != want:
				t.Errorf("mnc %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), code, want, stderr)
			}
			checkOneLine(t, stderr)
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not contain %q", stderr, c.want)
			}
			if after := listDir(t, dir); after != before {
				t.Errorf("files changed: before %q, after %q", before, after)
			}
		})
	}
}

// checkOneLine fails unless stderr is one line of error (warnings before it
// are allowed: lines starting "mnc: warning:"), with no Go stack or runtime
// fault.
func checkOneLine(t *testing.T, stderr string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic:", "fatal error:", "SIGSEGV", "SIGBUS", "runtime error", "\x1b"} {
		if strings.Contains(stderr, bad) {
			t.Fatalf("stderr holds %q:\n%s", bad, stderr)
		}
	}
	var errLines []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if !strings.HasPrefix(l, "mnc: warning:") {
			errLines = append(errLines, l)
		}
	}
	if len(errLines) != 1 || errLines[0] == "" {
		t.Errorf("want one error line, got %d:\n%s", len(errLines), stderr)
	}
}

// listDir names every file under dir with its size, so that a case which
// leaves a file behind (or removes one) is caught.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(strings.TrimPrefix(p, dir))
		b.WriteByte(' ')
		if info.Mode().IsRegular() {
			b.WriteString(info.ModTime().String())
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sparseFile makes dir/name a sparse file of size bytes starting with head.
func sparseFile(t *testing.T, dir, name string, head []byte, size int64) string {
	t.Helper()
	p := writeFile(t, dir, name, head)
	if err := os.Truncate(p, size); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	return p
}

// goldenFile is the path of a testdata golden model's file of the given
// kind ("onnx_opset17", "pth", "input") for the first model of arch
// (without reduced tail).
func goldenFile(t *testing.T, arch, kind string) string {
	t.Helper()
	for _, m := range golden.Manifest(t) {
		if m.Arch == arch && !m.ReducedTail {
			if p, ok := m.Path(t, kind); ok {
				return p
			}
		}
	}
	t.Fatalf("no golden %s file for %s", kind, arch)
	return ""
}
