package esc

import "testing"

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tabby cat", "tabby cat"},
		{"hotdog, hot dog, red hot", "hotdog, hot dog, red hot"},
		{"café 猫", "café 猫"},
		{"", ""},
		{"a\nb", `"a\nb"`},
		{"red\x1b[31m", `"red\x1b[31m"`},
		{"tab\there", `"tab\there"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"rtl\u202eoverride", `"rtl\u202eoverride"`},
		{"del\x7f", `"del\x7f"`},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"open x.onnx: no such file", "open x.onnx: no such file"},
		{"label \"a\nb\" is bad", `label "a\nb" is bad`},
		{"esc \x1b[2J here\r", `esc \x1b[2J here\r`},
		{"bad \xfe byte", `bad \xfe byte`},
		{"rtl \u202e", `rtl \u202e`},
		{"café", "café"},
	} {
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
