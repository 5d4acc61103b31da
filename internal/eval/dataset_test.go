package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var imagenetLike = []string{
	"background", "tiger cat", "Egyptian cat", "macaw", "suit, suit of clothes",
	"hotdog, hot dog, red hot", "crane", "crane", "Cat", "cat",
}

func TestMatchLabel(t *testing.T) {
	cases := []struct {
		name string
		want int
		err  string
	}{
		{"macaw", 3, ""},
		{"tiger cat", 1, ""},
		{"tiger_cat", 1, ""},
		{"EGYPTIAN CAT", 2, ""},
		{"egyptian_cat", 2, ""},
		{"suit", 4, ""},                  // first synonym
		{"Suit, suit of clothes", 4, ""}, // whole label, any case
		{"hotdog", 5, ""},                // first synonym
		{"Cat", 8, ""},                   // exact beats any-case
		{"cat", 9, ""},                   // exact
		{"CAT", 0, "ambiguous: classes 8 \"Cat\", 9 \"cat\""},
		{"crane", 0, "ambiguous: classes 6 \"crane\", 7 \"crane\""},
		{"hot dog", 0, "close: 5 \"hotdog, hot dog, red hot\""}, // not the first synonym
		{"macaws", 0, "close: 3 \"macaw\""},
		{"zebra", 0, "no class of that name among the 10 labels"},
		{"", 0, "empty"},
	}
	for _, c := range cases {
		got, err := MatchLabel(c.name, imagenetLike)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("MatchLabel(%q) = %d, %v; want %d", c.name, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("MatchLabel(%q) = %d, %v; want an error with %q", c.name, got, err, c.err)
		}
	}
	if _, err := MatchLabel("zebra", imagenetLike); strings.Contains(err.Error(), "close") {
		t.Errorf("zebra: %v: nothing is close", err)
	}
}

// write creates the files (paths relative to dir; "/" ending: a directory).
func write(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if strings.HasSuffix(f, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadFolder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "macaw/b.jpg", "macaw/a.PNG", "macaw/notes.txt", "tiger_cat/sub/c.bmp",
		"empty/", ".hidden/x.png", "stray.png", "labels.txt")
	ds, err := LoadFolder(dir, imagenetLike)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range ds.Samples {
		rel, _ := filepath.Rel(dir, s.Path)
		got = append(got, filepath.ToSlash(rel)+"="+imagenetLike[s.Label])
	}
	want := "macaw/a.PNG=macaw macaw/b.jpg=macaw tiger_cat/sub/c.bmp=tiger cat"
	if strings.Join(got, " ") != want || ds.Format != "imagefolder" {
		t.Errorf("samples %v (%s), want %s", got, ds.Format, want)
	}

	bad := []struct {
		files []string
		err   string
	}{
		{[]string{"zebra/a.png"}, `folder "zebra": no class of that name`},
		{[]string{"macaws/a.png"}, `folder "macaws": no class of that name among the 10 labels; close: 3 "macaw"`},
		{[]string{"crane/a.png"}, `folder "crane": ambiguous`},
		{[]string{"hotdog/a.png", "Hotdog, hot dog, red hot/b.png"}, `both name class 5`},
		{[]string{"a.png"}, "no class folders"},
		{[]string{"macaw/"}, "no JPEG, PNG, BMP or WebP images in its 1 class folders"},
		{[]string{"bad\x1bname/a.png"}, `folder "bad\x1bname"`},
	}
	for _, c := range bad {
		d := t.TempDir()
		write(t, d, c.files...)
		_, err := LoadFolder(d, imagenetLike)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%v: %v, want an error with %q", c.files, err, c.err)
		}
	}
	if _, err := LoadFolder(dir, nil); err == nil || !strings.Contains(err.Error(), "--labels") {
		t.Errorf("no labels: %v", err)
	}
}

func TestLoadList(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "img/a.png", "img/b,c.png", "img/d.jpg")
	abs := filepath.Join(dir, "img", "d.jpg")
	list := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csv := list("l.csv", "Path,Label\n# a comment\nimg/a.png,macaw\n\n\"img/b,c.png\", 2\n"+abs+",Suit\n")
	ds, err := LoadList(csv, imagenetLike, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sample{{filepath.Join(dir, "img/a.png"), 3}, {filepath.Join(dir, "img/b,c.png"), 2}, {abs, 4}}
	if len(ds.Samples) != len(want) || ds.Format != "csv" {
		t.Fatalf("samples %v (%s), want %v", ds.Samples, ds.Format, want)
	}
	for i := range want {
		if ds.Samples[i] != want[i] {
			t.Errorf("sample %d = %v, want %v", i, ds.Samples[i], want[i])
		}
	}
	tsv := list("l.tsv", "img/a.png\t7\nimg/d.jpg\tcat\n")
	if ds, err := LoadDataset(tsv, nil, 0); err == nil {
		t.Errorf("tsv with a name and no labels: %v", ds.Samples)
	} else if !strings.Contains(err.Error(), "l.tsv:2: label \"cat\"") || !strings.Contains(err.Error(), "--labels") {
		t.Errorf("tsv without labels: %v", err)
	}
	ds, err = LoadDataset(list("i.tsv", "img/a.png\t7\n"), nil, 0)
	if err != nil || ds.Format != "tsv" || ds.Samples[0].Label != 7 {
		t.Errorf("tsv of indices without labels: %v, %v", ds, err)
	}

	bad := []struct{ body, err string }{
		{"img/a.png,macaw,extra\n", "l1.csv:1: 3 fields, want 2 (path,label)"},
		{"img/a.png\n", "l1.csv:1: 1 fields"},
		{"img/a.png,macaw\nimg/none.png,macaw\n", "l1.csv:2: "},
		{"img/a.png,10\n", "l1.csv:1: label \"10\": class index out of range [0, 10)"},
		{"img/a.png,-1\n", "out of range"},
		{"img/a.png,zebra\n", "l1.csv:1: label \"zebra\": no class"},
		{"img,macaw\n", "is a directory"},
		{",macaw\n", "empty path"},
		{"path,label\n", "no rows"},
		{"img/a.png,\"mac\n", "l1.csv"},
	}
	for _, c := range bad {
		_, err := LoadList(list("l1.csv", c.body), imagenetLike, 0)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: %v, want an error with %q", c.body, err, c.err)
		}
	}
	if _, err := LoadDataset(list("l.txt", "x"), imagenetLike, 0); err == nil || !strings.Contains(err.Error(), "neither a directory") {
		t.Errorf("l.txt: %v", err)
	}
	if _, err := LoadDataset(filepath.Join(dir, "none"), imagenetLike, 0); err == nil || !strings.Contains(err.Error(), "none") {
		t.Errorf("missing: %v", err)
	}
}

func TestParseFraction(t *testing.T) {
	for in, want := range map[string]float64{"0.7": 0.7, "70%": 0.7, " 70 % ": 0.7, "1": 1, "0": 0, "100%": 1, "0.5%": 0.005} {
		if got, err := ParseFraction(in); err != nil || got != want {
			t.Errorf("ParseFraction(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"70", "1.5", "-0.1", "101%", "x", "", "NaN", "%"} {
		if got, err := ParseFraction(in); err == nil {
			t.Errorf("ParseFraction(%q) = %v, want an error", in, got)
		}
	}
}
