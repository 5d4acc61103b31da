package kernels

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// armObjdump is the decoder of TestNeon32Words (Debian package
// binutils-arm-linux-gnueabihf, which .ci/run installs).
const armObjdump = "arm-linux-gnueabihf-objdump"

// The Go assembler for 32-bit ARM has no NEON mnemonics, so the "neon32"
// kernels spell every NEON instruction as a WORD line with the instruction
// as its comment:
//
//	WORD $0xf2806c08 // vmull.s8 q3, d0, d8
//
// TestNeon32Words writes every such word of every *_arm.s file to a raw
// binary, disassembles it with GNU objdump (independently of the
// generator's encoders, asmgen_arm.go) and checks that each comment is
// exactly objdump's text. It runs on any host that has objdump, and skips
// with a message where it is missing.
func TestNeon32Words(t *testing.T) {
	files, err := filepath.Glob("*_arm.s")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no *_arm.s files")
	}
	type word struct {
		where   string
		w       uint32
		comment string
	}
	var words []word
	for _, l := range asmLines(t, files, wordLine) {
		w, err := strconv.ParseUint(l.m[1], 0, 32)
		if err != nil {
			t.Errorf("%s: %v", l.where, err)
			continue
		}
		words = append(words, word{l.where, uint32(w), l.m[2]})
	}
	objdump, err := exec.LookPath(armObjdump)
	if err != nil {
		t.Skipf("%s not found (apt-get install binutils-arm-linux-gnueabihf): %d WORD lines of %v not decoded", armObjdump, len(words), files)
	}
	bin := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(bin[4*i:], w.w)
	}
	path := filepath.Join(t.TempDir(), "words.bin")
	if err := os.WriteFile(path, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(objdump, "-D", "-b", "binary", "-marm", path).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", armObjdump, err, out)
	}
	// Lines "   4:	f2806c08 	vmull.s8	q3, d0, d8".
	dis := map[int]string{}
	lre := regexp.MustCompile(`^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(.*)$`)
	for _, l := range strings.Split(string(out), "\n") {
		m := lre.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		off, _ := strconv.ParseUint(m[1], 16, 32)
		dis[int(off)] = m[3]
	}
	for i, w := range words {
		got, ok := dis[4*i]
		if !ok {
			t.Errorf("%s: WORD %#08x: no objdump line", w.where, w.w)
			continue
		}
		if normInst32(got) != normInst32(w.comment) {
			t.Errorf("%s: WORD %#08x is %q, the comment says %q", w.where, w.w, got, w.comment)
		}
	}
	t.Logf("%d WORD lines in %v checked with %s", len(words), files, objdump)
}

// normInst32 lowers s, drops an objdump annotation ("@ ...", "; ...") and
// collapses white space.
func normInst32(s string) string {
	if i := strings.IndexAny(s, "@;"); i >= 0 {
		s = s[:i]
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
