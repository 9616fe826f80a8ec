package report

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/mermaid"
)

// Section is one stage of a pipeline run.
type Section struct {
	Title    string
	Status   string // passed, failed or skipped
	Duration time.Duration
	// Note says why a stage was skipped or failed, in one line.
	Note string
	// Markdown is the stage's step summary.
	Markdown string
}

// WriteMarkdown writes the run as one markdown document: a table of stages,
// then every stage's summary under its own heading.
func WriteMarkdown(w io.Writer, title string, sections []Section) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n| stage | result | time |\n|---|---|---|\n", title)
	for _, s := range sections {
		fmt.Fprintf(&b, "| %s | %s %s | %s |\n", diag.EscapeMarkdown(s.Title), icon(s.Status), s.Status, diag.FormatDuration(s.Duration))
	}
	for _, s := range sections {
		fmt.Fprintf(&b, "\n---\n\n## %s %s: %s\n\n", icon(s.Status), diag.EscapeMarkdown(s.Title), s.Status)
		if s.Note != "" {
			fmt.Fprintf(&b, "> %s\n\n", diag.EscapeMarkdown(s.Note))
		}
		b.WriteString(strings.TrimSpace(s.Markdown))
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidBlock matches a fenced mermaid block in a summary.
var mermaidBlock = regexp.MustCompile("(?s)```mermaid\n(.*?)```")

// WriteHTML writes the run as one self-contained HTML page.
func WriteHTML(w io.Writer, title string, sections []Section) error {
	var md bytes.Buffer
	if err := WriteMarkdown(&md, title, sections); err != nil {
		return err
	}
	// Graphs become placeholders that survive rendering and sanitising as
	// plain text, and are swapped for SVG afterwards.
	var graphs []string
	src := mermaidBlock.ReplaceAllStringFunc(md.String(), func(block string) string {
		text := mermaidBlock.FindStringSubmatch(block)[1]
		g, err := mermaid.Parse(text)
		if err != nil {
			return block // shown as code, as it was written
		}
		graphs = append(graphs, mermaid.SVG(g))
		return fmt.Sprintf("\nBRICKCIGRAPH%dEND\n", len(graphs)-1)
	})
	var body bytes.Buffer
	// Raw HTML is rendered and then sanitised: summaries use <details>.
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := gm.Convert([]byte(src), &body); err != nil {
		return fmt.Errorf("failed to render the report: %w", err)
	}
	clean := policy().SanitizeBytes(body.Bytes())
	out := string(clean)
	for i, svg := range graphs {
		marker := fmt.Sprintf("BRICKCIGRAPH%dEND", i)
		out = strings.Replace(out, "<p>"+marker+"</p>", `<figure class="graph">`+svg+`</figure>`, 1)
	}
	_, err := fmt.Fprintf(w, page, html.EscapeString(title), out)
	return err
}

// policy allows what step summaries use: GitHub-flavoured markdown output
// plus <details>/<summary>, and nothing that runs or loads anything.
func policy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowElements("details", "summary")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w-]+$`)).OnElements("code")
	return p
}

func icon(status string) string {
	switch status {
	case "passed":
		return "✅"
	case "failed":
		return "❌"
	default:
		return "⏭️"
	}
}

const page = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<style>
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; line-height: 1.5; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .7rem; text-align: left; }
th { background: #f6f8fa; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; }
hr { border: 0; border-top: 1px solid #d0d7de; margin: 2rem 0; }
figure.graph { margin: 1rem 0; overflow-x: auto; }
blockquote { color: #59636e; border-left: .25rem solid #d0d7de; margin: 0; padding: 0 1rem; }
details { margin: .5rem 0; }
</style>
</head>
<body>
%s
</body>
</html>
`
