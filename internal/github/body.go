package github

import (
	"strings"

	"github.com/brickci/brickci/internal/diag"
)

// Status is the outcome shown in a comment's title.
type Status int

// The outcomes, in increasing severity.
const (
	StatusSuccess Status = iota // passed
	StatusWarning               // passed with warnings
	StatusFailure               // failed
)

// StatusOf derives a Status from findings: failure when any finding is at or
// above failLevel, warning when any is a warning or worse, success otherwise.
func StatusOf(findings diag.List, failLevel diag.Severity) Status {
	switch {
	case findings.AtLeast(failLevel):
		return StatusFailure
	case findings.AtLeast(diag.Warning):
		return StatusWarning
	default:
		return StatusSuccess
	}
}

func (s Status) icon() string {
	switch s {
	case StatusFailure:
		return "❌"
	case StatusWarning:
		return "⚠️"
	default:
		return "✅"
	}
}

func (s Status) words() string {
	switch s {
	case StatusFailure:
		return "failed"
	case StatusWarning:
		return "passed with warnings"
	default:
		return "passed"
	}
}

// Section is one part of a comment, typically one bundle target.
type Section struct {
	// Title heads the section, for example "staging".
	Title string
	// Markdown is the section's content.
	Markdown string
	// Collapsed puts the content in a <details> block, for long plans.
	Collapsed bool
}

// Comment is the content of a check's pull-request comment.
type Comment struct {
	// Check names the check ("validate", "plan"); it selects the marker.
	Check string
	// Title defaults to "brickci <check>".
	Title string
	// Status sets the title's icon and wording.
	Status Status
	// Findings are listed as a table. They are shown when there are any,
	// or when there are no sections (as "No findings.").
	Findings diag.List
	// Sections follow the findings, in order.
	Sections []Section
	// RunURL links to the workflow run (gha.Action.RunURL); empty omits it.
	RunURL string
	// Commit is the commit checked (GITHUB_SHA); empty omits it.
	Commit string
}

// Markdown renders the comment: the marker, a title with a status icon, the
// findings, the sections and a footer with the run link, capped at
// MaxBodyLength.
func (c Comment) Markdown() string {
	var b strings.Builder
	b.WriteString(Marker(c.Check) + "\n")
	title := c.Title
	if title == "" {
		title = "brickci " + c.Check
	}
	b.WriteString("### " + c.Status.icon() + " " + diag.EscapeMarkdown(title) + " " + c.Status.words() + "\n")
	if len(c.Findings) > 0 || len(c.Sections) == 0 {
		b.WriteString("\n#### Findings\n\n")
		_ = diag.WriteMarkdown(&b, c.Findings) // a strings.Builder never fails
	}
	for _, s := range c.Sections {
		content := strings.TrimRight(s.Markdown, "\n")
		if s.Collapsed {
			b.WriteString("\n<details><summary>" + diag.EscapeHTML(s.Title) + "</summary>\n\n" + content + "\n\n</details>\n")
			continue
		}
		b.WriteString("\n#### " + diag.EscapeMarkdown(strings.ReplaceAll(s.Title, "\n", " ")) + "\n\n" + content + "\n")
	}
	var foot []string
	if c.RunURL != "" {
		foot = append(foot, "[workflow run]("+c.RunURL+")")
	}
	if c.Commit != "" {
		commit := c.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		foot = append(foot, "commit "+diag.MarkdownCode(commit))
	}
	if len(foot) > 0 {
		b.WriteString("\n<sub>" + strings.Join(foot, " · ") + "</sub>\n")
	}
	return CapBody(b.String())
}
