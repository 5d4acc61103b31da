package editdist

import "testing"

func TestLevenshtein(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"calib-methd", "calib-method", 1},
		{"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"größe", "grösse", 2}, {"same", "same", 0},
	} {
		if got := Levenshtein(c.a, c.b); got != c.want || Levenshtein(c.b, c.a) != c.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
