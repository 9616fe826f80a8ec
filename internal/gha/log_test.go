package gha

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestNeutralise(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain text\n":                   "plain text\n",
		"job a\n::error::x\n":            "job a\n%3A%3Aerror::x\n",
		"job a\r::add-mask::x":           `job a\r::add-mask::x`,
		"job a\r\r\n::x::":               "job a\\r\r\n%3A%3Ax::",
		"  \t::warning::x":               "  \t%3A%3Awarning::x",
		"\u00a0::error::x":               "\u00a0%3A%3Aerror::x",
		"##[error]x\n":                   "%23%23[error]x\n",
		"a::b is not a command\n":        "a::b is not a command\n",
		"\n\n::stop-commands::tok\n":     "\n\n%3A%3Astop-commands::tok\n",
		"name: x\r\n::set-output::y\r\n": "name: x\r\n%3A%3Aset-output::y\r\n",
	} {
		if got := Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogSplitsNothingItCanMiss(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := NewLog(&buf, func(s string) string { return strings.ReplaceAll(s, "SECRET-VALUE", "***") })
	fmt.Fprint(l, "deployed job x\n:")
	fmt.Fprint(l, ":error::forged SECRET-")
	fmt.Fprint(l, "VALUE\n")
	l.Command("::add-mask::SECRET-VALUE")
	l.Command("::error::real SECRET-VALUE")
	fmt.Fprint(l, "tail")
	l.Flush()
	want := "deployed job x\n%3A%3Aerror::forged ***\n::add-mask::SECRET-VALUE\n::error::real ***\ntail"
	if got := buf.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
