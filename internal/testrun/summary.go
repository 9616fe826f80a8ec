package testrun

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/brickci/brickci/internal/diag"
)

// The rules of the findings a test run reports.
const (
	RuleTestFailure  = "test-failure"
	RuleTestExitCode = "test-exit-code"
)

// SlowestShown is how many of the slowest tests the summaries list.
const SlowestShown = 5

// maxDetailLines caps one failure's text in the markdown summary; the full
// text is in the command's output.
const maxDetailLines = 150

// Findings returns one error per failed or errored test, at the test's file
// (under PathPrefix) and line, and one for an exit code that disagrees with
// the report.
func (r *Result) Findings() diag.List {
	var l diag.List
	for _, tc := range r.Report.Broken() {
		l = append(l, diag.Errorf(RuleTestFailure, r.filePath(tc.File), tc.Line, 0, "%s", failureMessage(tc)))
	}
	if r.Mismatch != "" {
		l = append(l, diag.Errorf(RuleTestExitCode, "", 0, 0, "%s", r.Mismatch))
	}
	return l
}

func (r *Result) filePath(file string) string {
	if file == "" || path.IsAbs(file) || r.PathPrefix == "" || r.PathPrefix == "." {
		return file
	}
	return path.Join(r.PathPrefix, file)
}

// failureMessage is the test's name and the first line of what went wrong.
func failureMessage(tc TestCase) string {
	verb := "failed"
	if tc.Outcome == Errored {
		verb = "errored"
	}
	first := firstLine(tc.Message)
	if first == "" {
		first = firstLine(tc.Details)
	}
	if first == "" {
		return tc.Name + " " + verb
	}
	return tc.Name + " " + verb + ": " + first
}

func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// Status is "passed" or "failed", the value of the action's result output.
func (r *Result) Status() string {
	if r.OK() {
		return "passed"
	}
	return "failed"
}

// String is "P passed, F failed, E errors, S skipped".
func (c Counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d errors, %d skipped", c.Passed, c.Failed, c.Errors, c.Skipped)
}

// WriteText writes the failures as `file:line: message [rule]` lines, the
// slowest tests and a one-line count.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	if l := r.Findings(); len(l) > 0 {
		if err := diag.WriteText(&b, l); err != nil {
			return err
		}
	}
	c := r.Counts()
	if slow := r.Report.Slowest(SlowestShown); c.Total() > 0 {
		b.WriteString("slowest tests:\n")
		for _, tc := range slow {
			fmt.Fprintf(&b, "  %8s  %s\n", diag.FormatDuration(tc.Time), tc.ID())
		}
	}
	fmt.Fprintf(&b, "unit tests %s: %s (%d tests in %s)\n", r.Status(), c, c.Total(), diag.FormatDuration(r.Report.Duration()))
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the step summary: a counts table, the slowest tests
// and each failure's text in a collapsed <details> block. Everything taken
// from the report is escaped so test output cannot inject markup.
func (r *Result) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c := r.Counts()
	b.WriteString("## Unit tests\n\n")
	fmt.Fprintf(&b, "**%s**: %s.\n\n", r.Status(), c)
	b.WriteString("| result | passed | failed | errors | skipped | total | time |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %s |\n\n", r.Status(), c.Passed, c.Failed, c.Errors, c.Skipped, c.Total(), diag.FormatDuration(r.Report.Duration()))
	if r.Mismatch != "" {
		fmt.Fprintf(&b, "> **Warning:** %s\n\n", diag.EscapeMarkdown(r.Mismatch))
	}
	if c.Total() > 0 {
		b.WriteString("### Slowest tests\n\n| test | time |\n|---|---:|\n")
		for _, tc := range r.Report.Slowest(SlowestShown) {
			fmt.Fprintf(&b, "| %s | %s |\n", diag.MarkdownCode(tc.ID()), diag.FormatDuration(tc.Time))
		}
		b.WriteString("\n")
	}
	if broken := r.Report.Broken(); len(broken) > 0 {
		b.WriteString("### Failures\n\n")
		for _, tc := range broken {
			loc := r.filePath(tc.File)
			if loc != "" && tc.Line > 0 {
				loc = fmt.Sprintf("%s:%d", loc, tc.Line)
			}
			title := diag.EscapeHTML(failureMessage(tc))
			if loc != "" {
				title = "<code>" + diag.EscapeHTML(loc) + "</code>: " + title
			}
			fmt.Fprintf(&b, "<details>\n<summary>%s</summary>\n\n", title)
			text := tc.Details
			if strings.TrimSpace(text) == "" {
				text = tc.Message
			}
			writeFenced(&b, capLines(text, maxDetailLines))
			b.WriteString("\n</details>\n\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFenced writes text in a fenced code block it cannot close.
func writeFenced(b *strings.Builder, text string) {
	b.WriteString(diag.MarkdownFence("text", text))
}

func capLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n… %d more lines in the job log", len(lines)-n)
}
