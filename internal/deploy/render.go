package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/brickci/brickci/internal/diag"
)

// WriteText writes the plan for a terminal or a log.
func (p *PlanResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "plan for bundle %s, target %s", p.Bundle, p.Target)
	if p.FirstDeploy {
		b.WriteString(" (first deploy)")
	}
	b.WriteString(":\n")
	for _, r := range p.Resources {
		fmt.Fprintf(&b, "  %s\n", r.describe())
		for _, f := range r.Fields {
			fmt.Fprintf(&b, "      %s: %s -> %s\n", f.Path, show(f.Old), show(f.New))
		}
	}
	if len(p.Drift) > 0 {
		b.WriteString("changed in the workspace since the last deploy (deploy --refresh puts the bundle's settings back):\n")
		for _, r := range p.Drift {
			fmt.Fprintf(&b, "  %s\n", r.describeDrift())
			for _, f := range r.Fields {
				fmt.Fprintf(&b, "      %s: deployed %s, now %s\n", f.Path, show(f.Old), show(f.New))
			}
		}
	}
	fc := p.Files
	fmt.Fprintf(&b, "files: %d added, %d changed, %d deleted, %d unchanged\n", len(fc.Added), len(fc.Changed), len(fc.Deleted), fc.Unchanged)
	for _, f := range fc.Added {
		fmt.Fprintf(&b, "  + %s\n", f)
	}
	for _, f := range fc.Changed {
		fmt.Fprintf(&b, "  ~ %s\n", f)
	}
	for _, f := range fc.Deleted {
		fmt.Fprintf(&b, "  - %s\n", f)
	}
	p.writeArtifactsText(&b)
	if !p.Changed() {
		b.WriteString("no changes\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the plan as one indented JSON object.
func (p *PlanResult) WriteJSON(w io.Writer) error {
	out := struct {
		*PlanResult
		Changed bool `json:"changed"`
	}{p, p.Changed()}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteMarkdown writes the plan for a pull-request comment or a step
// summary: a table of resource changes, the field differences in a
// collapsed block and the file changes.
func (p *PlanResult) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Deploy plan: %s → %s\n\n", diag.MarkdownCode(p.Bundle), diag.MarkdownCode(p.Target))
	if !p.Changed() {
		b.WriteString("No changes.\n")
	}
	if len(p.Resources) > 0 {
		b.WriteString("| action | resource | name | id |\n|---|---|---|---|\n")
		for _, r := range p.Resources {
			fmt.Fprintf(&b, "| %s | %s %s | %s | %s |\n", r.verb(), strings.ReplaceAll(r.Kind, "_", " "), diag.MarkdownCode(r.Key), diag.EscapeMarkdown(r.Name), diag.EscapeMarkdown(r.ID))
		}
		b.WriteString("\n")
	}
	for _, r := range p.Resources {
		if len(r.Fields) == 0 {
			continue
		}
		fmt.Fprintf(&b, "<details><summary>%s %s <code>%s</code>: %d field(s)</summary>\n\n", r.verb(), strings.ReplaceAll(r.Kind, "_", " "), diag.EscapeHTML(r.Key), len(r.Fields))
		var lines strings.Builder
		for _, f := range r.Fields {
			fmt.Fprintf(&lines, "%s: %s -> %s\n", f.Path, show(f.Old), show(f.New))
		}
		b.WriteString(diag.MarkdownFence("", lines.String()) + "\n</details>\n\n")
	}
	if len(p.Drift) > 0 {
		b.WriteString("**Changed in the workspace since the last deploy** (`deploy --refresh` puts the bundle's settings back):\n\n")
		for _, r := range p.Drift {
			fmt.Fprintf(&b, "- %s\n", diag.EscapeMarkdown(r.describeDrift()))
		}
		b.WriteString("\n")
		for _, r := range p.Drift {
			if len(r.Fields) == 0 {
				continue
			}
			fmt.Fprintf(&b, "<details><summary>%s <code>%s</code>: %d field(s) changed in the workspace</summary>\n\n", strings.ReplaceAll(r.Kind, "_", " "), diag.EscapeHTML(r.Key), len(r.Fields))
			var lines strings.Builder
			for _, f := range r.Fields {
				fmt.Fprintf(&lines, "%s: deployed %s, now %s\n", f.Path, show(f.Old), show(f.New))
			}
			b.WriteString(diag.MarkdownFence("", lines.String()) + "\n</details>\n\n")
		}
	}
	fc := p.Files
	fmt.Fprintf(&b, "**Files:** %d added, %d changed, %d deleted, %d unchanged\n", len(fc.Added), len(fc.Changed), len(fc.Deleted), fc.Unchanged)
	const maxListed = 50
	listed := 0
	for _, group := range []struct {
		sign  string
		paths []string
	}{{"+", fc.Added}, {"~", fc.Changed}, {"-", fc.Deleted}} {
		for _, f := range group.paths {
			if listed == maxListed {
				break
			}
			if listed == 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "- `%s` %s\n", group.sign, diag.MarkdownCode(f))
			listed++
		}
	}
	if total := len(fc.Added) + len(fc.Changed) + len(fc.Deleted); total > listed {
		fmt.Fprintf(&b, "- … and %d more\n", total-listed)
	}
	p.writeArtifactsMarkdown(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// show renders a value in a field change compactly.
func show(v any) string {
	if v == nil {
		return "(none)"
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const limit = 200
	if len(raw) > limit {
		return string(raw[:limit]) + "…"
	}
	return string(raw)
}

// describeDrift says in words what Refresh found for one resource.
func (r ResourceChange) describeDrift() string {
	what := fmt.Sprintf("%s %s", strings.ReplaceAll(r.Kind, "_", " "), r.Key)
	if r.Name != "" {
		what += fmt.Sprintf(" (%q)", r.Name)
	}
	if r.Action == Missing {
		return what + " was deleted in the workspace"
	}
	return fmt.Sprintf("%s: %d setting(s) changed in the workspace", what, len(r.Fields))
}
