package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Severity orders findings: error is the most severe.
type Severity int

// The severities, least severe first so that comparisons read naturally.
const (
	Info Severity = iota
	Warning
	Error
)

// String returns the lower-case name used in every output format.
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	default:
		return "info"
	}
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return Error, nil
	case "warning", "warn":
		return Warning, nil
	case "info", "notice":
		return Info, nil
	}
	return Info, fmt.Errorf("unknown severity %q, valid are [\"error\" \"warning\" \"info\"]", s)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Pos is a 1-based position in a file. A zero Line means the finding is
// about the file as a whole.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Finding is one problem a check reports. Findings are data, never Go
// errors: a check collects all of them so one run reports everything.
type Finding struct {
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"`
	Message  string   `json:"message"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	// EndLine and EndColumn are optional; zero means unknown.
	EndLine   int `json:"end_line,omitempty"`
	EndColumn int `json:"end_column,omitempty"`
}

// String renders the finding as `file:line:col: message [rule]`.
func (f Finding) String() string {
	var b strings.Builder
	if f.File != "" {
		b.WriteString(f.File)
		if f.Line > 0 {
			fmt.Fprintf(&b, ":%d", f.Line)
			if f.Column > 0 {
				fmt.Fprintf(&b, ":%d", f.Column)
			}
		}
		b.WriteString(": ")
	}
	if f.Severity != Error {
		b.WriteString(f.Severity.String())
		b.WriteString(": ")
	}
	b.WriteString(f.Message)
	if f.Rule != "" {
		fmt.Fprintf(&b, " [%s]", f.Rule)
	}
	return b.String()
}

// Errorf builds an error finding at a position.
func Errorf(rule, file string, line, col int, format string, args ...any) Finding {
	return Finding{Severity: Error, Rule: rule, File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

// Warnf builds a warning finding at a position.
func Warnf(rule, file string, line, col int, format string, args ...any) Finding {
	return Finding{Severity: Warning, Rule: rule, File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

// Infof builds an info finding at a position.
func Infof(rule, file string, line, col int, format string, args ...any) Finding {
	return Finding{Severity: Info, Rule: rule, File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

// List is a set of findings with helpers for sorting and counting.
type List []Finding

// Sort orders findings by file, line, column, rule and message so that every
// output is deterministic.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// BySeverity returns a copy ordered most severe first, then by position.
func (l List) BySeverity() List {
	out := append(List(nil), l...)
	out.Sort()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity > out[j].Severity })
	return out
}

// Only returns the findings of exactly the given severity, in order.
func (l List) Only(s Severity) List {
	var out List
	for _, f := range l {
		if f.Severity == s {
			out = append(out, f)
		}
	}
	return out
}

// Count returns how many findings have exactly the given severity.
func (l List) Count(s Severity) int {
	n := 0
	for _, f := range l {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// AtLeast reports whether any finding is at or above the given severity.
func (l List) AtLeast(s Severity) bool {
	for _, f := range l {
		if f.Severity >= s {
			return true
		}
	}
	return false
}

// Summary counts findings per severity.
type Summary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// Summarize counts the findings per severity.
func (l List) Summarize() Summary {
	return Summary{Errors: l.Count(Error), Warnings: l.Count(Warning), Infos: l.Count(Info)}
}

// String reads "2 errors, 1 warning, 0 infos".
func (s Summary) String() string {
	plural := func(n int, word string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, word)
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	return plural(s.Errors, "error") + ", " + plural(s.Warnings, "warning") + ", " + plural(s.Infos, "info")
}
