package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mncdev/mnc/quant"
	"github.com/mncdev/mnc/runtime/limits"
)

// Sample is one labelled image.
type Sample struct {
	Path  string // the image file
	Label int    // its true class: an index into the model's classes
}

// Dataset is a labelled image set.
type Dataset struct {
	Source  string // the directory or list file it was read from
	Format  string // "imagefolder", "csv" or "tsv"
	Samples []Sample
}

// LoadDataset reads a labelled image set: a directory in ImageFolder
// layout (see LoadFolder) or a .csv/.tsv list (see LoadList). labels are
// the model's class names; nil is allowed for a list whose labels are all
// class indices, with classes the number of classes to check them against
// (0: unchecked here; the evaluation checks them against the models).
func LoadDataset(path string, labels []string, classes int) (*Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	if st.IsDir() {
		return LoadFolder(path, labels)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".tsv":
		return LoadList(path, labels, classes)
	}
	return nil, fmt.Errorf("images: %q is neither a directory (ImageFolder layout) nor a .csv/.tsv list of path,label rows", path)
}

// LoadFolder reads an ImageFolder: one subdirectory of dir per class, named
// after the class (see MatchLabel), holding its images (JPEG, PNG, BMP,
// WebP; in nested directories too). Files directly in dir, hidden
// directories (".name") and empty class directories are ignored. Samples
// are sorted by path.
func LoadFolder(dir string, labels []string) (*Dataset, error) {
	if len(labels) == 0 {
		return nil, fmt.Errorf("images %s: the folder names need the model's class names: the models record none, give --labels FILE", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	ds := &Dataset{Source: dir, Format: "imagefolder"}
	byClass := map[int]string{}
	folders := 0
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		sub := filepath.Join(dir, name)
		if !e.IsDir() {
			if st, err := os.Stat(sub); err != nil || !st.IsDir() { // a symlink to a directory counts
				continue
			}
		}
		folders++
		files, err := quant.ListImages(sub)
		if err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
		if len(files) == 0 {
			continue
		}
		class, err := MatchLabel(name, labels)
		if err != nil {
			return nil, fmt.Errorf("images %s: folder %q: %w", dir, name, err)
		}
		if other, ok := byClass[class]; ok {
			return nil, fmt.Errorf("images %s: folders %q and %q both name class %d %q", dir, other, name, class, labels[class])
		}
		byClass[class] = name
		for _, f := range files {
			ds.Samples = append(ds.Samples, Sample{Path: f, Label: class})
		}
	}
	if len(ds.Samples) == 0 {
		if folders == 0 {
			return nil, fmt.Errorf("images %s: no class folders (ImageFolder layout: DIR/<class name>/<image>)", dir)
		}
		return nil, fmt.Errorf("images %s: no JPEG, PNG, BMP or WebP images in its %d class folders", dir, folders)
	}
	slices.SortFunc(ds.Samples, func(a, b Sample) int { return strings.Compare(a.Path, b.Path) })
	return ds, nil
}

// LoadList reads a list of labelled images: rows "path,label" (.csv) or
// "path<TAB>label" (.tsv), with CSV quoting; blank lines and lines starting
// with '#' are skipped, and so is a first row "path,label" (any case).
// Relative paths are relative to the list's directory. A label is a class
// name (see MatchLabel; an exact name wins over an index) or a class index
// 0..classes-1. Samples keep the list's order. The list must be a regular
// file of at most limits.ImageList bytes and limits.ImageListRows rows.
func LoadList(path string, labels []string, classes int) (*Dataset, error) {
	f, st, err := limits.Open(path)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	defer f.Close()
	if st.Size() > limits.ImageList {
		return nil, fmt.Errorf("images: the list %s is %s; the limit is %s", path, limits.Bytes(st.Size()), limits.Bytes(limits.ImageList))
	}
	ds := &Dataset{Source: path, Format: "csv"}
	r := csv.NewReader(io.LimitReader(f, limits.ImageList))
	if strings.EqualFold(filepath.Ext(path), ".tsv") {
		r.Comma, ds.Format = '\t', "tsv"
	}
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	if len(labels) > 0 {
		classes = len(labels)
	}
	base := filepath.Dir(path)
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("images %s: %w", path, err)
		}
		if len(rec) != 2 {
			return nil, fmt.Errorf("images %s:%d: %d fields, want 2 (path%slabel)", path, line, len(rec), sep(r.Comma))
		}
		p, l := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if first && strings.EqualFold(p, "path") && strings.EqualFold(l, "label") {
			continue
		}
		if p == "" {
			return nil, fmt.Errorf("images %s:%d: empty path", path, line)
		}
		if len(ds.Samples) == limits.ImageListRows {
			return nil, fmt.Errorf("images %s:%d: more than %d images (the limit)", path, line, limits.ImageListRows)
		}
		class, err := listLabel(l, labels, classes)
		if err != nil {
			return nil, fmt.Errorf("images %s:%d: label %q: %w", path, line, l, err)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		if st, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("images %s:%d: %w", path, line, err)
		} else if st.IsDir() {
			return nil, fmt.Errorf("images %s:%d: %q is a directory, not an image", path, line, p)
		} else if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("images %s:%d: %q is %s, not an image file", path, line, p, limits.Kind(st.Mode()))
		}
		ds.Samples = append(ds.Samples, Sample{Path: p, Label: class})
	}
	if len(ds.Samples) == 0 {
		return nil, fmt.Errorf("images %s: no rows (want path%slabel rows)", path, sep(r.Comma))
	}
	return ds, nil
}

func sep(c rune) string {
	if c == '\t' {
		return "<TAB>"
	}
	return string(c)
}

// listLabel resolves a list's label: an exact class name, a class index,
// or a name by MatchLabel's looser rules.
func listLabel(l string, labels []string, classes int) (int, error) {
	if i := slices.Index(labels, l); i >= 0 && slices.Index(labels[i+1:], l) < 0 {
		return i, nil
	}
	if n, err := strconv.Atoi(l); err == nil {
		if n < 0 || (classes > 0 && n >= classes) {
			return 0, fmt.Errorf("class index out of range [0, %d)", classes)
		}
		return n, nil
	}
	if len(labels) == 0 {
		return 0, errors.New("not a class index, and the models record no class names (give --labels FILE)")
	}
	return MatchLabel(l, labels)
}
