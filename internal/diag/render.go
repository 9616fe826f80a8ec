package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes one `file:line:col: message [rule]` line per finding, in
// sorted order.
func WriteText(w io.Writer, l List) error {
	sorted := append(List(nil), l...)
	sorted.Sort()
	for _, f := range sorted {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	return nil
}

// jsonFinding is the contract's shape for one finding.
type jsonFinding struct {
	Rule      string `json:"rule"`
	Severity  string `json:"severity"`
	Message   string `json:"message"`
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line,omitempty"`
	EndColumn int    `json:"end_column,omitempty"`
}

// WriteJSON writes `{"findings": [...], "summary": {...}}` plus any extra
// top-level fields (for example a resolved configuration). Extra keys named
// "findings" or "summary" are ignored.
func WriteJSON(w io.Writer, l List, extra map[string]any) error {
	sorted := append(List(nil), l...)
	sorted.Sort()
	out := map[string]any{}
	for k, v := range extra {
		out[k] = v
	}
	fs := make([]jsonFinding, 0, len(sorted))
	for _, f := range sorted {
		fs = append(fs, jsonFinding{f.Rule, f.Severity.String(), f.Message, f.File, f.Line, f.Column, f.EndLine, f.EndColumn})
	}
	out["findings"] = fs
	out["summary"] = sorted.Summarize()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteMarkdown writes a markdown table of findings for step summaries and
// pull-request comments. Cell text is escaped so a message cannot break the
// table or inject markup.
func WriteMarkdown(w io.Writer, l List) error {
	if len(l) == 0 {
		_, err := fmt.Fprintln(w, "No findings.")
		return err
	}
	sorted := l.BySeverity()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", sorted.Summarize())
	b.WriteString("| severity | location | message | rule |\n|---|---|---|---|\n")
	for _, f := range sorted {
		loc := f.File
		if f.Line > 0 {
			loc = fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Severity, MarkdownCode(loc), EscapeMarkdown(f.Message), MarkdownCode(f.Rule))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
