package yamlpos

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestErrorPointsAtTheBadLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src  string
		line int
		msg  string
	}{
		// Parser problems: yaml.v3 prints, 0-based, the line where the
		// unfinished collection starts.
		{"a: 1\nb: {c: 1\nd: 2\n", 2, "did not find expected ',' or '}'"},
		{"a:\n  - x\n  y: 1\n", 2, "did not find expected '-' indicator"},
		// Scanner problems: already 1-based.
		{"a: 1\nb: \"open\n", 2, "found unexpected end of stream"},
		{"a: 1\n\tb: 2\n", 2, "found a tab character that violates indentation"},
	}
	for _, c := range cases {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(c.src), &n)
		if err == nil {
			t.Fatalf("%q parsed", c.src)
		}
		line, msg := Error(err)
		if line != c.line || msg != c.msg {
			t.Errorf("%q: line %d %q, want line %d %q (from %q)", c.src, line, msg, c.line, c.msg, err)
		}
	}
}
