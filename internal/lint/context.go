package lint

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

// fileCtx is what brickci's rules share while one file is linted: its
// source (for positions inside scripts and version comments), the options
// and the findings so far. One goroutine owns a fileCtx.
type fileCtx struct {
	path     string
	src      []byte
	lines    []string
	opts     *Options
	findings diag.List
	// scripts locate the injection findings (see dedupeInjection).
	scripts []scriptSpan
	// facts are what cross-file rules need from this workflow.
	facts workflowFacts
}

func newFileCtx(path string, src []byte, opts *Options) *fileCtx {
	return &fileCtx{path: path, src: src, lines: strings.Split(string(src), "\n"), opts: opts}
}

// rules returns a fresh set of brickci's rules bound to this file.
func (fc *fileCtx) rules() []actionlint.Rule {
	out := make([]actionlint.Rule, 0, len(brickciRules))
	for _, r := range brickciRules {
		if r.new != nil {
			out = append(out, r.new(fc))
		}
	}
	return out
}

func (fc *fileCtx) add(sev diag.Severity, rule string, line, col int, format string, args ...any) {
	fc.findings = append(fc.findings, diag.Finding{Severity: sev, Rule: rule, File: fc.path, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

func (fc *fileCtx) addAt(sev diag.Severity, rule string, pos *actionlint.Pos, format string, args ...any) {
	line, col := 1, 1
	if pos != nil {
		line, col = pos.Line, pos.Col
	}
	fc.add(sev, rule, line, col, format, args...)
}

// actionlintFinding converts one actionlint error; actionlint's findings
// are all errors and keep actionlint's rule kind.
func (fc *fileCtx) actionlintFinding(e *actionlint.Error) {
	fc.findings = append(fc.findings, diag.Finding{Severity: diag.Error, Rule: e.Kind, File: fc.path, Line: e.Line, Column: e.Column, Message: e.Message})
}

// line returns the 1-based source line, or "".
func (fc *fileCtx) line(n int) string {
	if n < 1 || n > len(fc.lines) {
		return ""
	}
	return strings.TrimRight(fc.lines[n-1], "\r")
}

// posIn maps a byte offset inside a string value to its line and column in
// the file. Block scalars (`run: |`) start on the line after the indicator;
// other strings are on the line of their position.
func (fc *fileCtx) posIn(s *actionlint.String, offset int) (int, int) {
	if s == nil || s.Pos == nil {
		return 1, 1
	}
	if offset < 0 || offset > len(s.Value) {
		offset = 0
	}
	src := fc.line(s.Pos.Line)
	isBlock := !s.Quoted && s.Pos.Col-1 < len(src) && s.Pos.Col >= 1 && (src[s.Pos.Col-1] == '|' || src[s.Pos.Col-1] == '>')
	if !isBlock {
		col := s.Pos.Col + offset
		if s.Quoted {
			col++
		}
		return s.Pos.Line, col
	}
	before := s.Value[:offset]
	k := strings.Count(before, "\n")
	lineStart := strings.LastIndex(before, "\n") + 1
	valueLine := s.Value[lineStart:]
	if i := strings.IndexByte(valueLine, '\n'); i >= 0 {
		valueLine = valueLine[:i]
	}
	line := s.Pos.Line + 1 + k
	srcLine := fc.line(line)
	indent := len(srcLine) - len(valueLine)
	if indent < 0 || !strings.HasSuffix(srcLine, valueLine) {
		indent = len(srcLine) - len(strings.TrimLeft(srcLine, " \t"))
	}
	return line, indent + (offset - lineStart) + 1
}

// reSHA is a full commit sha.
var reSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// reVersionComment finds the `# v1.2.3` comment after a SHA-pinned uses.
var reVersionComment = regexp.MustCompile(`#\s*(v?\d+(?:\.\d+){0,2})\b`)

// splitUses splits `owner/repo[/path]@ref` into the action and the ref.
func splitUses(uses string) (action, ref string, ok bool) {
	i := strings.LastIndexByte(uses, '@')
	if i <= 0 || i == len(uses)-1 {
		return "", "", false
	}
	return uses[:i], uses[i+1:], true
}

// actionName returns `owner/repo` of a uses value, lower case, or "".
func actionName(uses string) string {
	a, _, ok := splitUses(uses)
	if !ok {
		return ""
	}
	parts := strings.SplitN(a, "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return strings.ToLower(parts[0] + "/" + parts[1])
}

// stepUses returns the step's action and uses string, or nil.
func stepUses(s *actionlint.Step) (*actionlint.ExecAction, string) {
	if s == nil {
		return nil, ""
	}
	if a, ok := s.Exec.(*actionlint.ExecAction); ok && a.Uses != nil {
		return a, a.Uses.Value
	}
	return nil, ""
}

// stepRun returns the step's script, or nil.
func stepRun(s *actionlint.Step) *actionlint.String {
	if s == nil {
		return nil
	}
	if r, ok := s.Exec.(*actionlint.ExecRun); ok {
		return r.Run
	}
	return nil
}

// input returns a `with:` value of an action step, or nil.
func input(a *actionlint.ExecAction, name string) *actionlint.String {
	if a == nil {
		return nil
	}
	if in, ok := a.Inputs[strings.ToLower(name)]; ok && in.Value != nil {
		return in.Value
	}
	return nil
}

// events returns the workflow's trigger names.
func events(w *actionlint.Workflow) map[string]actionlint.Event {
	out := map[string]actionlint.Event{}
	for _, e := range w.On {
		out[e.EventName()] = e
	}
	return out
}
