package kernels

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

// The Go assembler lacks many A64 SIMD mnemonics (SMULL, SMLAL, SADALP,
// SDOT, SQXTN, SRSHL, ...), so the ARM64 kernels spell them as WORD lines,
// each with the instruction in a comment:
//
//	WORD $0x0e24c010 // smull v16.8h, v0.8b, v4.8b
//
// TestWordComments decodes every such word of every *_arm64.s file and
// checks that the comment names exactly that instruction (GNU syntax, as
// golang.org/x/arch/arm64/arm64asm prints it; the dot product
// instructions, which that decoder does not know, are decoded here).
func TestWordComments(t *testing.T) {
	files, err := filepath.Glob("*_arm64.s")
	if err != nil {
		t.Fatal(err)
	}
	words := 0
	for _, l := range asmLines(t, files, wordLine) {
		words++
		w, err := strconv.ParseUint(l.m[1], 0, 32)
		if err != nil {
			t.Errorf("%s: %v", l.where, err)
			continue
		}
		want, err := decodeA64(uint32(w))
		if err != nil {
			t.Errorf("%s: WORD %s: %v", l.where, l.m[1], err)
			continue
		}
		if got := normInst(l.m[2]); got != normInst(want) {
			t.Errorf("%s: WORD %s is %q, the comment says %q", l.where, l.m[1], want, l.m[2])
		}
	}
	t.Logf("%d WORD lines in %d files checked", words, len(files))
}

// wordLine matches a WORD line: its word and its comment.
var wordLine = regexp.MustCompile(`^\s*WORD\s+\$(0x[0-9a-fA-F]+)\s*(?://\s*(.*))?$`)

// asmLine is a line of an assembly file that matched: where ("file:line")
// and the submatches.
type asmLine struct {
	where string
	m     []string
}

// asmLines returns the lines of files that match re, in order.
func asmLines(t *testing.T, files []string, re *regexp.Regexp) []asmLine {
	t.Helper()
	var out []asmLine
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				out = append(out, asmLine{fmt.Sprintf("%s:%d", name, line), m})
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// decodeA64 returns the GNU-syntax text of one A64 instruction word.
func decodeA64(w uint32) (string, error) {
	if s, ok := decodeDot(w); ok {
		return s, nil
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], w)
	in, err := arm64asm.Decode(b[:])
	if err != nil {
		return "", err
	}
	return arm64asm.GNUSyntax(in), nil
}

// decodeDot decodes SDOT and UDOT (ARMv8.2 DotProd), vector and by-element
// forms (Arm ARM C7.2: SDOT (vector) 0 Q 0 01110 10 0 Rm 1001 0 1 Rn Rd;
// SDOT (by element) 0 Q 0 01111 10 L M Rm 1110 H 0 Rn Rd; U = bit 29), and
// SQRDMLAH (vector, ARMv8.1 RDM: 0 Q 1 01110 size 0 Rm 1 0000 1 Rn Rd) of
// 32-bit lanes, which that decoder lacks too.
func decodeDot(w uint32) (string, bool) {
	q := w >> 30 & 1
	op := "sdot"
	if w>>29&1 == 1 {
		op = "udot"
	}
	ta, tb := "2s", "8b"
	if q == 1 {
		ta, tb = "4s", "16b"
	}
	d, n := w&31, w>>5&31
	switch {
	case w&0xbfe0fc00 == 0x0e809400 || w&0xbfe0fc00 == 0x2e809400:
		return fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.%s", op, d, ta, n, tb, w>>16&31, tb), true
	case w&0xbfc0f400 == 0x0f80e000 || w&0xbfc0f400 == 0x2f80e000:
		m := w>>16&15 | w>>20&1<<4
		idx := w>>11&1<<1 | w>>21&1
		return fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.4b[%d]", op, d, ta, n, tb, m, idx), true
	case w&0xbf20fc00 == 0x2e008400 && w>>22&3 == 2: // SQRDMLAH (vector), 32-bit lanes
		t := "2s"
		if q == 1 {
			t = "4s"
		}
		return fmt.Sprintf("sqrdmlah v%d.%s, v%d.%s, v%d.%s", d, t, n, t, w>>16&31, t), true
	}
	return "", false
}

func normInst(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.TrimSpace(s))), " ")
}

func TestDecodeDot(t *testing.T) {
	for w, want := range map[uint32]string{
		0x4e829420: "sdot v0.4s, v1.16b, v2.16b",     // as assembled by clang for armv8.2-a+dotprod
		0x4f83e020: "sdot v0.4s, v1.16b, v3.4b[0]",   // idx 0
		0x4fa3e820: "sdot v0.4s, v1.16b, v3.4b[3]",   // H=1 L=1
		0x6e829420: "udot v0.4s, v1.16b, v2.16b",     //
		0x0e9f97ff: "sdot v31.2s, v31.8b, v31.8b",    //
		0x4fbfe85f: "sdot v31.4s, v2.16b, v31.4b[3]", // M=1
	} {
		got, ok := decodeDot(w)
		if !ok || got != want {
			t.Errorf("%08x: %q, %v; want %q", w, got, ok, want)
		}
	}
}
