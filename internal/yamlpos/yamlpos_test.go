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

// TestPositionPointsAtTheBadColumn checks line and column against the
// character a reader would put the cursor on.
func TestPositionPointsAtTheBadColumn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src       string
		line, col int
		msg       string
	}{
		// The unclosed flow mapping's "{".
		{"a: 1\nb: {c: 1\nd: 2\n", 2, 4, "did not find expected ',' or '}'"},
		// The unclosed flow sequence's "[", indented.
		{"bundle:\n  name: x\n  list: [a, b\nresources: {}\n", 3, 9, "did not find expected ',' or ']'"},
		// The opening quote of a string that never ends.
		{"bundle:\n  name: broken\nresources:\n  jobs:\n    etl:\n      name: \"unterminated\n", 6, 13, "found unexpected end of stream"},
		// The colon that starts a mapping where none may start.
		{"a: 1\n  b: 2\n", 2, 4, "mapping values are not allowed in this context"},
		// On the first line, where yaml.v3 prints no line at all.
		{"key: value: other\n", 1, 11, "mapping values are not allowed in this context"},
		{"a: [1, 2]]\n", 1, 10, "did not find expected key"},
		// The sequence that a mapping key interrupts.
		{"a:\n  - x\n  y: 1\n", 2, 3, "did not find expected '-' indicator"},
	}
	for _, c := range cases {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(c.src), &n)
		if err == nil {
			t.Fatalf("%q parsed", c.src)
		}
		line, col, msg := Position([]byte(c.src), err)
		if line != c.line || col != c.col || msg != c.msg {
			t.Errorf("%q: %d:%d %q, want %d:%d %q", c.src, line, col, msg, c.line, c.col, c.msg)
		}
	}
}

// TestPositionWithoutOne keeps errors that name no place unpositioned.
func TestPositionWithoutOne(t *testing.T) {
	t.Parallel()
	src := []byte("a: *nope\n")
	var n yaml.Node
	err := yaml.Unmarshal(src, &n)
	if err == nil {
		t.Fatal("parsed")
	}
	line, col, msg := Position(src, err)
	if line != 0 || col != 0 || msg != "unknown anchor 'nope' referenced" {
		t.Errorf("got %d:%d %q", line, col, msg)
	}
}
