package diag

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// render turns markdown into HTML the way GitHub-flavoured markdown does.
func render(t *testing.T, md string) string {
	t.Helper()
	var b bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert([]byte(md), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestEscapeMarkdownRendersLiterally(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"__init__.py", "<p>__init__.py</p>\n"},
		{"*bold* and [link](http://x) ~~gone~~", "<p>*bold* and [link](http://x) ~~gone~~</p>\n"},
		{"<script>alert(1)</script> &amp;", "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;</p>\n"},
		{"`code` \\ back", "<p>`code` \\ back</p>\n"},
		{"# not a heading", "<p># not a heading</p>\n"},
	}
	for _, c := range cases {
		if got := render(t, EscapeMarkdown(c.in)); got != c.want {
			t.Errorf("EscapeMarkdown(%q) renders %q, want %q", c.in, got, c.want)
		}
	}
	// In a table a pipe stays in its cell and a line break (<br>, raw HTML
	// that GitHub keeps) does not end the row.
	got := render(t, "| a | b |\n|---|---|\n| "+EscapeMarkdown("x|y\nz")+" | "+MarkdownCode("a|b")+" |\n")
	if !strings.Contains(got, "<td>x|y<!-- raw HTML omitted -->z</td>") || !strings.Contains(got, "<td><code>a|b</code></td>") {
		t.Errorf("table cells:\n%s", got)
	}
}

func TestMarkdownCode(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, html string }{
		{"__init__.py", "<p><code>__init__.py</code></p>\n"},
		{"a`b", "<p><code>a`b</code></p>\n"},
		{"`edge`", "<p><code>`edge`</code></p>\n"},
		{"two\nlines", "<p><code>two lines</code></p>\n"},
	}
	for _, c := range cases {
		if got := render(t, MarkdownCode(c.in)); got != c.html {
			t.Errorf("MarkdownCode(%q) = %q renders %q, want %q", c.in, MarkdownCode(c.in), got, c.html)
		}
	}
	if MarkdownCode("") != "" {
		t.Errorf("empty input gives %q", MarkdownCode(""))
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0ms"},
		{212 * time.Millisecond, "212ms"},
		{999 * time.Millisecond, "999ms"},
		{time.Second, "1.0s"},
		{4200 * time.Millisecond, "4.2s"},
		{59900 * time.Millisecond, "59.9s"},
		{59970 * time.Millisecond, "1m00s"},
		{185 * time.Second, "3m05s"},
		{time.Hour + 2*time.Minute + 10*time.Second, "1h02m"},
	}
	for _, c := range cases {
		if got := FormatDuration(c.d); got != c.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	t.Parallel()
	modes := []string{"deploy", "destroy", "generate", "lint", "plan", "run", "test", "validate"}
	cases := map[string]string{
		"deplyo":   `; did you mean "deploy"?`,
		"VALIDATE": `; did you mean "validate"?`,
		"genrate":  `; did you mean "generate"?`,
		"xyzzy":    "",
	}
	for in, want := range cases {
		if got := DidYouMean(in, modes); got != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapersDefuseUntrustedText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ got, want string }{
		{EscapeMarkdown("ping @org/team\n# heading <!-- x -->"), `ping @&#8203;org/team<br>\# heading \<!-- x --\>`},
		{EscapeHTML("<b>@x</b>\n\"q\""), "&lt;b&gt;@&#8203;x&lt;/b&gt; &#34;q&#34;"},
		{MarkdownCode("a\n`b`\r\nc|d"), "``a `b` c\\|d``"},
		{MarkdownFence("text", "x\n````\ny"), "`````text\nx\n````\ny\n`````\n"},
		{MarkdownFence("", ""), "```\n```\n"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
