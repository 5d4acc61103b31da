package detect

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// The box-list format, one file per image (the same base name for an
// image's ground truth and its detections), UTF-8 text:
//
//	# comment; blank lines are ignored too
//	person 12.5 30 110 240          ground truth: class x0 y0 x1 y1
//	person 12.5 30 110 240 0.875    detections:   class x0 y0 x1 y1 score
//
// Fields are separated by spaces or tabs. The class is any token without
// white space (a name or a number; matched as text). Coordinates are pixels,
// x0 <= x1 and y0 <= y1 (a zero-size box is allowed, an inverted one is not);
// every number must be finite (strconv.ParseFloat syntax). A malformed line is
// an error naming file:line; a file has at most MaxBoxesPerFile boxes and
// MaxBoxFileBytes bytes.
const (
	MaxBoxesPerFile = 1 << 20
	MaxBoxFileBytes = 64 << 20
)

// Labeled is one line of a box file.
type Labeled struct {
	Class string
	Box   [4]float64 // x0 y0 x1 y1
	Score float64    // detections only; 0 for ground truth
}

// ParseBoxes reads one box file from r; name is what errors call it. With
// scored, every line must have the score field, without, none may.
func ParseBoxes(r io.Reader, name string, scored bool) ([]Labeled, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBoxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > MaxBoxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes (MaxBoxFileBytes)", name, MaxBoxFileBytes)
	}
	want := 5
	what := "class x0 y0 x1 y1"
	if scored {
		want, what = 6, "class x0 y0 x1 y1 score"
	}
	var out []Labeled
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), MaxBoxFileBytes)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(f) != want {
			return nil, fmt.Errorf("%s:%d: %d fields; want %d (%s)", name, line, len(f), want, what)
		}
		var v [5]float64
		for i := 1; i < want; i++ {
			x, err := strconv.ParseFloat(f[i], 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%s:%d: field %d %q is not a finite number", name, line, i+1, f[i])
			}
			v[i-1] = x
		}
		if v[2] < v[0] || v[3] < v[1] {
			return nil, fmt.Errorf("%s:%d: inverted box (x0 %g > x1 %g or y0 %g > y1 %g)", name, line, v[0], v[2], v[1], v[3])
		}
		if len(out) == MaxBoxesPerFile {
			return nil, fmt.Errorf("%s:%d: more than %d boxes (MaxBoxesPerFile)", name, line, MaxBoxesPerFile)
		}
		out = append(out, Labeled{Class: f[0], Box: [4]float64{v[0], v[1], v[2], v[3]}, Score: v[4]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// ReadBoxFile is ParseBoxes on the file at path.
func ReadBoxFile(path string, scored bool) ([]Labeled, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return ParseBoxes(f, path, scored)
}
