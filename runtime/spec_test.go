package runtime

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSchemaSpecMatchesFBS: the verifier's restatement of the schema
// (fbverify.go) has the tables, fields, order and kinds of
// runtime/mncfb/mnc.fbs.
func TestSchemaSpecMatchesFBS(t *testing.T) {
	src, err := os.ReadFile("mncfb/mnc.fbs")
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`//[^\n]*`).ReplaceAllString(string(src), "")
	scalarSize := map[string]int{"bool": 1, "byte": 1, "ubyte": 1, "short": 2, "ushort": 2, "int": 4, "uint": 4,
		"float": 4, "long": 8, "ulong": 8, "double": 8}
	for _, m := range regexp.MustCompile(`enum (\w+)\s*:\s*(\w+)`).FindAllStringSubmatch(text, -1) {
		scalarSize[m[1]] = scalarSize[m[2]]
	}
	unions := map[string][]string{}
	for _, m := range regexp.MustCompile(`union (\w+)\s*\{([^}]*)\}`).FindAllStringSubmatch(text, -1) {
		for _, f := range strings.Split(m[2], ",") {
			if f = strings.TrimSpace(f); f != "" {
				unions[m[1]] = append(unions[m[1]], f)
			}
		}
	}
	tables := map[string][]string{}
	for _, m := range regexp.MustCompile(`table (\w+)\s*\{([^}]*)\}`).FindAllStringSubmatch(text, -1) {
		for _, f := range strings.Split(m[2], ";") {
			if f = strings.TrimSpace(f); f != "" {
				tables[m[1]] = append(tables[m[1]], f)
			}
		}
	}
	seen := map[string]bool{}
	var check func(s *tableSpec)
	check = func(s *tableSpec) {
		if seen[s.name] {
			return
		}
		seen[s.name] = true
		fields, ok := tables[s.name]
		if !ok {
			t.Errorf("table %s is not in mnc.fbs", s.name)
			return
		}
		i := 0
		for _, f := range fields {
			name, typ, _ := strings.Cut(f, ":")
			name = strings.TrimSpace(name)
			typ = strings.TrimSpace(typ)
			if j := strings.IndexAny(typ, " =("); j >= 0 {
				typ = typ[:j]
			}
			if _, isUnion := unions[typ]; isUnion {
				if i+1 >= len(s.fields) || s.fields[i].kind != kUnionType || s.fields[i+1].kind != kUnion || s.fields[i+1].name != name {
					t.Errorf("%s.%s: want a union type field then the union", s.name, name)
					return
				}
				for k, member := range unions[typ] {
					if k >= len(s.fields[i+1].union) || s.fields[i+1].union[k].name != member {
						t.Errorf("%s.%s: union member %d is %s in mnc.fbs", s.name, name, k+1, member)
					} else {
						check(s.fields[i+1].union[k])
					}
				}
				i += 2
				continue
			}
			if i >= len(s.fields) {
				t.Errorf("%s.%s is not in the verifier's spec", s.name, name)
				return
			}
			fs := s.fields[i]
			i++
			if fs.name != name {
				t.Errorf("%s field %d is %s in mnc.fbs, %s in the spec", s.name, i-1, name, fs.name)
				continue
			}
			var ok bool
			switch {
			case typ == "string":
				ok = fs.kind == kString
			case typ == "[string]":
				ok = fs.kind == kVecString
			case strings.HasPrefix(typ, "["):
				el := strings.Trim(typ, "[]")
				if sz, scalar := scalarSize[el]; scalar {
					ok = fs.kind == kVector && fs.size == sz
				} else {
					ok = fs.kind == kVecTable && fs.table.name == el
					if ok {
						check(fs.table)
					}
				}
			default:
				if sz, scalar := scalarSize[typ]; scalar {
					ok = fs.kind == kScalar && fs.size == sz
				} else {
					ok = fs.kind == kTable && fs.table.name == typ
					if ok {
						check(fs.table)
					}
				}
			}
			if !ok {
				t.Errorf("%s.%s: type %s in mnc.fbs does not match the spec's kind %d size %d", s.name, name, typ, fs.kind, fs.size)
			}
		}
		if i != len(s.fields) {
			t.Errorf("%s: the spec has %d fields, mnc.fbs %d", s.name, len(s.fields), i)
		}
	}
	check(specModel)
	for name := range tables {
		if !seen[name] {
			t.Errorf("table %s of mnc.fbs is not reachable in the verifier's spec", name)
		}
	}
}
