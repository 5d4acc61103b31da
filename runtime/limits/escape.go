package limits

import "strconv"

// Printable returns s unchanged when it is printable text, else quoted
// with Go escapes (strconv.Quote): a name from a file (a path, a tensor
// name, a label) may hold newlines or terminal escape sequences, which
// must not reach the user's screen raw.
func Printable(s string) string {
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		return q
	}
	return s
}
