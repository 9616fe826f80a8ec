package yamllimit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLimits(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		src  string
		want string // "" means within the limits
	}{
		"small":       {"a: [1, 2, {b: c}]\n", ""},
		"at depth":    {strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), ""},
		"too deep":    {strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "deeper than the limit of 100 levels"},
		"many nodes":  {"[" + strings.Repeat("a,", MaxNodes) + "a]", "more than the limit of 200000 YAML nodes"},
		"aliases ok":  {"a: &a [x, x]\nb: [*a, *a, *a]\n", ""},
		"over a size": {strings.Repeat("#", MaxFileBytes+1), "limit of 4 MiB"},
	} {
		_, err := Parse([]byte(c.src))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case c.want != "" && (err == nil || !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an ErrLimit naming %q", name, err, c.want)
		}
	}
}

func TestReadFileStopsAtTheLimit(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "big.yml")
	if err := os.WriteFile(p, make([]byte, MaxFileBytes+10), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p); !errors.Is(err, ErrLimit) {
		t.Errorf("ReadFile = %v, want ErrLimit", err)
	}
}
