package eval

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mncdev/mnc/internal/editdist"
)

// MatchLabel finds the class that name (a folder name or a list's label)
// stands for among labels, trying in turn: the exact label; the label in
// any case, '_' standing for ' '; and the label's first comma-separated
// synonym the same way (so "macaw" names "macaw" and "suit" names "suit,
// suit of clothes"). The first rule that matches decides; two classes
// matching it is an error naming both, and so is no match, naming the
// closest labels.
func MatchLabel(name string, labels []string) (int, error) {
	if name == "" {
		return 0, fmt.Errorf("empty class name")
	}
	norm := normalize(name)
	rules := []func(string) bool{
		func(l string) bool { return l == name },
		func(l string) bool { return normalize(l) == norm },
		func(l string) bool { return normalize(firstSynonym(l)) == norm },
	}
	for _, match := range rules {
		var found []int
		for i, l := range labels {
			if match(l) {
				found = append(found, i)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			var c []string
			for _, i := range found[:min(len(found), 4)] {
				c = append(c, fmt.Sprintf("%d %q", i, labels[i]))
			}
			return 0, fmt.Errorf("ambiguous: classes %s all match (use a .csv list with class indices)", strings.Join(c, ", "))
		}
	}
	if close := closeLabels(norm, labels, 5); len(close) > 0 {
		return 0, fmt.Errorf("no class of that name among the %d labels; close: %s", len(labels), strings.Join(close, ", "))
	}
	return 0, fmt.Errorf("no class of that name among the %d labels", len(labels))
}

// normalize is a name in lower case with '_' as ' ' and no surrounding
// space.
func normalize(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, "_", " ")))
}

// firstSynonym is a label up to its first comma.
func firstSynonym(l string) string {
	if i := strings.IndexByte(l, ','); i >= 0 {
		return l[:i]
	}
	return l
}

// closeLabels returns up to n labels (quoted, with their index) closest to
// the normalized name: those containing it or contained in it first, then
// by edit distance to any synonym, within a third of the name's length.
func closeLabels(norm string, labels []string, n int) []string {
	type cand struct{ i, d int }
	var cs []cand
	limit := max(2, len([]rune(norm))/3)
	for i, l := range labels {
		best := -1
		for _, syn := range strings.Split(l, ",") {
			s := normalize(syn)
			if s == "" {
				continue
			}
			d := editdist.Levenshtein(norm, s)
			if len(norm) >= 3 && len(s) >= 3 && (strings.Contains(s, norm) || strings.Contains(norm, s)) {
				d = min(d, 1)
			}
			if best < 0 || d < best {
				best = d
			}
		}
		if best >= 0 && best <= limit {
			cs = append(cs, cand{i, best})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	var out []string
	for _, c := range cs[:min(len(cs), n)] {
		out = append(out, fmt.Sprintf("%d %q", c.i, labels[c.i]))
	}
	return out
}
