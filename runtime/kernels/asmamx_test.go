package kernels

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The Go assembler has no AMX mnemonics, so the amd64 AMX kernels spell
// them as BYTE lines, each with the instruction in a comment, as objdump
// -M intel prints it:
//
//	BYTE $0xc4; BYTE $0xe2; BYTE $0x4b; BYTE $0x5e; BYTE $0xc4 // tdpbssd tmm0,tmm4,tmm6
//
// TestAMXEncoding decodes every such line of every *_amd64.s file with the
// decoder below (written from the Intel SDM's encoding tables, apart from
// the generator's encoder) and checks it against its comment; where the
// machine has GNU objdump, it also decodes all the lines with it.

// amxLine is one BYTE line: where it is, its bytes and its comment.
type amxLine struct {
	where string
	bytes []byte
	text  string
}

func amxLines(t *testing.T) []amxLine {
	t.Helper()
	files, err := filepath.Glob("*_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\s*(BYTE\s+\$0x[0-9a-fA-F]{1,2}(?:;\s*BYTE\s+\$0x[0-9a-fA-F]{1,2})*)\s*(?://\s*(.*))?$`)
	var out []amxLine
	for _, m := range asmLines(t, files, re) {
		l := amxLine{where: m.where, text: strings.TrimSpace(m.m[2])}
		for _, b := range strings.Split(m.m[1], ";") {
			v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(b), "BYTE $"), 0, 8)
			if err != nil {
				t.Fatalf("%s: %v", l.where, err)
			}
			l.bytes = append(l.bytes, byte(v))
		}
		out = append(out, l)
	}
	return out
}

var gpr64Names = []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// decodeAMX decodes one AMX instruction of the forms the kernels use (VEX
// map 0F38, W0, L0: LDTILECFG, TILERELEASE, TILEZERO, TILELOADD, TILESTORED, TDPBSSD,
// TDPBUSD) into objdump's Intel syntax; it returns an error for anything
// else or for trailing bytes.
func decodeAMX(b []byte) (string, error) {
	if len(b) < 5 || b[0] != 0xC4 {
		return "", fmt.Errorf("not a three-byte VEX instruction: % x", b)
	}
	rr, xx, bb := int(^b[1]>>7&1), int(^b[1]>>6&1), int(^b[1]>>5&1)
	if b[1]&0x1F != 0x02 {
		return "", fmt.Errorf("VEX map %d, want 2 (0F38)", b[1]&0x1F)
	}
	if b[2]&0x80 != 0 || b[2]&0x04 != 0 {
		return "", fmt.Errorf("VEX.W or VEX.L set")
	}
	vvvv := int(^b[2] >> 3 & 15)
	pp := b[2] & 3
	op, modrm := b[3], b[4]
	mod, reg, rm := modrm>>6, int(modrm>>3&7), int(modrm&7)
	if rr != 0 {
		return "", fmt.Errorf("VEX.R set (only tmm0-7 exist)")
	}
	rest := b[5:]
	// mem decodes the memory operand after ModRM.
	mem := func(needSIB bool) (string, error) {
		if mod == 3 {
			return "", fmt.Errorf("register operand where memory is required")
		}
		var s string
		if rm == 4 {
			if len(rest) < 1 {
				return "", fmt.Errorf("missing SIB")
			}
			sib := rest[0]
			rest = rest[1:]
			scale, idx, base := 1<<(sib>>6), int(sib>>3&7)|xx<<3, int(sib&7)|bb<<3
			if mod == 0 && base&7 == 5 {
				return "", fmt.Errorf("SIB without base not used")
			}
			if idx == 4 {
				return "", fmt.Errorf("SIB without index not used")
			}
			s = fmt.Sprintf("%s+%s*%d", gpr64Names[base], gpr64Names[idx], scale)
		} else {
			if needSIB {
				return "", fmt.Errorf("no SIB: TILELOADD/TILESTORED need one")
			}
			if mod == 0 && rm == 5 {
				return "", fmt.Errorf("RIP-relative not used")
			}
			s = gpr64Names[rm|bb<<3]
		}
		var d int
		switch mod {
		case 1:
			if len(rest) < 1 {
				return "", fmt.Errorf("missing disp8")
			}
			d = int(int8(rest[0]))
			rest = rest[1:]
		case 2:
			if len(rest) < 4 {
				return "", fmt.Errorf("missing disp32")
			}
			d = int(int32(uint32(rest[0]) | uint32(rest[1])<<8 | uint32(rest[2])<<16 | uint32(rest[3])<<24))
			rest = rest[4:]
		}
		switch {
		case d > 0:
			s += fmt.Sprintf("+0x%x", d)
		case d < 0:
			s += fmt.Sprintf("-0x%x", -d)
		}
		return "[" + s + "]", nil
	}
	var text string
	var err error
	switch {
	case op == 0x49 && pp == 0 && modrm == 0xC0 && vvvv == 0:
		text = "tilerelease"
	case op == 0x49 && pp == 3 && mod == 3 && rm == 0 && vvvv == 0:
		text = fmt.Sprintf("tilezero tmm%d", reg)
	case op == 0x49 && pp == 0 && mod != 3 && reg == 0 && vvvv == 0:
		var m string
		m, err = mem(false)
		text = "ldtilecfg " + m
	case op == 0x4B && (pp == 3 || pp == 2) && vvvv == 0:
		var m string
		m, err = mem(true)
		if pp == 3 {
			text = fmt.Sprintf("tileloadd tmm%d,%s", reg, m)
		} else {
			text = fmt.Sprintf("tilestored %s,tmm%d", m, reg)
		}
	case op == 0x5E && mod == 3 && (pp == 3 || pp == 1) && xx == 0 && bb == 0 && vvvv < 8:
		name := map[byte]string{3: "tdpbssd", 1: "tdpbusd"}[pp]
		if reg == rm || reg == vvvv || rm == vvvv {
			return "", fmt.Errorf("%s with a repeated tile (#UD)", name)
		}
		text = fmt.Sprintf("%s tmm%d,tmm%d,tmm%d", name, reg, rm, vvvv)
	default:
		return "", fmt.Errorf("opcode %#x pp %d modrm %#x: not an AMX form the kernels use", op, pp, modrm)
	}
	if err != nil {
		return "", err
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("%d trailing bytes", len(rest))
	}
	return text, nil
}

func TestAMXEncoding(t *testing.T) {
	lines := amxLines(t)
	if len(lines) < 20 {
		t.Fatalf("found %d AMX BYTE lines in *_amd64.s, want the kernels' (at least 20)", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		got, err := decodeAMX(l.bytes)
		if err != nil {
			t.Errorf("%s: % x: %v", l.where, l.bytes, err)
			continue
		}
		if got != l.text {
			t.Errorf("%s: % x decodes as %q, comment says %q", l.where, l.bytes, got, l.text)
		}
		seen[strings.Fields(got)[0]] = true
	}
	for _, m := range []string{"ldtilecfg", "tilezero", "tileloadd", "tdpbssd", "tilestored", "tilerelease"} {
		if !seen[m] {
			t.Errorf("no %s among the AMX lines", m)
		}
	}

	// GNU objdump, where present, on all the lines at once.
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Logf("objdump not found: checked with the test's decoder only")
		return
	}
	var all []byte
	for _, l := range lines {
		all = append(all, l.bytes...)
	}
	bin := filepath.Join(t.TempDir(), "amx.bin")
	if err := os.WriteFile(bin, all, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(objdump, "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel", bin).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	// Lines "  off:\tbytes \tinsn"; long instructions continue on a line
	// of bytes only.
	var texts []string
	for _, s := range strings.Split(string(out), "\n") {
		f := strings.Split(s, "\t")
		if len(f) >= 3 && strings.HasSuffix(strings.TrimSpace(f[0]), ":") {
			texts = append(texts, strings.Join(strings.Fields(strings.Join(f[2:], " ")), " "))
		}
	}
	if len(texts) != len(lines) {
		t.Fatalf("objdump decoded %d instructions from %d lines:\n%s", len(texts), len(lines), out)
	}
	for i, l := range lines {
		if norm := strings.ReplaceAll(texts[i], " ", ""); norm != strings.ReplaceAll(l.text, " ", "") {
			t.Errorf("%s: objdump says %q, comment says %q", l.where, texts[i], l.text)
		}
	}
}
