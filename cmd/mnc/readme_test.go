package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mncdev/mnc/internal/golden"
)

// readmeCommand is one "$ command" of README.md's examples with the output
// the README shows under it.
type readmeCommand struct {
	line   int // in README.md
	cmd    string
	output []string
}

// readmeCommands extracts the "    $ ..." lines of README.md (continued
// with a trailing backslash) and the indented lines under each, up to the
// next prompt or the end of the block.
func readmeCommands(t *testing.T, text string) []readmeCommand {
	t.Helper()
	var cmds []readmeCommand
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "    $ ") {
			continue
		}
		c := readmeCommand{line: i + 1, cmd: strings.TrimPrefix(l, "    $ ")}
		for strings.HasSuffix(c.cmd, `\`) && i+1 < len(lines) {
			i++
			c.cmd = strings.TrimSuffix(c.cmd, `\`) + " " + strings.TrimSpace(lines[i])
		}
		for i+1 < len(lines) {
			next := lines[i+1]
			if strings.HasPrefix(next, "    $ ") || !(strings.HasPrefix(next, "    ") || next == "") {
				break
			}
			if next == "" && (i+2 >= len(lines) || !strings.HasPrefix(lines[i+2], "    ") || strings.HasPrefix(lines[i+2], "    $ ")) {
				break
			}
			i++
			if strings.TrimSpace(next) != "" {
				c.output = append(c.output, squash(next))
			}
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// squash is l with its runs of blanks made one space (a table's column
// widths follow its widest cell), trimmed.
func squash(l string) string { return strings.Join(strings.Fields(l), " ") }

// volatile matches output lines that differ from run to run or machine to
// machine (times, rates, temporary paths, this CPU's kernels, binary
// sizes): the README shows them as measured once, the test does not
// compare them.
var volatile = regexp.MustCompile(`\d(\.\d+)?\s?(ms|s|µs)\b|\d+ms|images/s|GMAC/s|/tmp/|kernels here|this machine runs|kernels [a-z0-9]+[,;] |bytes; kernels|^\.\.\.|^\(|mncrun \(|speed-up|^\d+\s+\d+\.\d+\s+\d+\.\d+`)

// TestREADME runs every "$ command" of README.md as written, in order, in a
// work directory that looks like a fresh checkout next to ../shared (the
// checkout's files linked, outputs written beside them), with mnc on PATH:
// each must succeed, and every output line the README shows must appear in
// what it prints, but for times and other machine-dependent figures. The
// board's commands (scp, ssh, and those after a pi$ prompt) do not run.
func TestREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the README's walkthrough (compiles, deploys, benchmarks); skipped with -short")
	}
	shared := golden.Shared(t)
	root := golden.RepoRoot(t)
	text, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	work := filepath.Join(base, "mnc")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == ".git" {
			continue
		}
		if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(work, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(shared, filepath.Join(base, "shared")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Dir(mncBin) + string(os.PathListSeparator) + os.Getenv("PATH")
	cmds := readmeCommands(t, string(text))
	if len(cmds) < 20 {
		t.Fatalf("found %d commands in README.md", len(cmds))
	}
	for _, c := range cmds {
		if strings.HasPrefix(c.cmd, "scp ") || strings.HasPrefix(c.cmd, "ssh ") {
			continue
		}
		start := time.Now()
		sh := exec.Command("bash", "-o", "pipefail", "-c", c.cmd)
		sh.Dir = work
		sh.Env = append(os.Environ(), "PATH="+path)
		var out bytes.Buffer
		sh.Stdout, sh.Stderr = &out, &out
		if err := sh.Run(); err != nil {
			t.Errorf("README.md:%d: %s: %v\n%s", c.line, c.cmd, err, out.String())
			continue
		}
		got := map[string]bool{}
		for _, l := range strings.Split(out.String(), "\n") {
			got[squash(l)] = true
		}
		for _, want := range c.output {
			if prefix, ok := strings.CutSuffix(want, "..."); ok && len(prefix) > 8 {
				found := false // an elided line: its beginning must be printed
				for l := range got {
					found = found || strings.HasPrefix(l, prefix)
				}
				if found {
					continue
				}
			}
			if !volatile.MatchString(want) && !got[want] {
				t.Errorf("README.md:%d: %s: the README shows %q, the command printed:\n%s", c.line, c.cmd, want, out.String())
				break
			}
		}
		t.Logf("README.md:%d (%v): %s", c.line, time.Since(start).Round(time.Millisecond), c.cmd)
	}
	// The walkthrough writes only new files: the checkout is untouched.
	if b, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=all").Output(); err == nil && len(b) > 0 {
		t.Logf("git status of the checkout after the walkthrough (changes may be yours):\n%s", b)
	}
}
