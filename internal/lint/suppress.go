package lint

import (
	"regexp"
	"strings"

	"github.com/brickci/brickci/internal/diag"
)

const ruleSuppression = "suppression"

// reSuppress matches `# brickci:ignore[rule, other] reason`.
var reSuppress = regexp.MustCompile(`#\s*brickci:ignore\[([^\]]*)\]\s*(.*)$`)

// suppression is one inline ignore comment.
type suppression struct {
	line  int
	rules map[string]bool
}

// suppressions reads the file's ignore comments. A comment without a reason
// suppresses nothing and is reported, so every exception stays explained.
func (fc *fileCtx) suppressions() ([]suppression, diag.List) {
	var out []suppression
	var bad diag.List
	for i := range fc.lines {
		line := fc.line(i + 1)
		if !strings.Contains(line, "brickci:ignore") {
			continue
		}
		m := reSuppress.FindStringSubmatchIndex(line)
		if m == nil {
			continue
		}
		col := m[0] + 1
		names := strings.FieldsFunc(line[m[2]:m[3]], func(r rune) bool { return r == ',' || r == ' ' })
		reason := strings.TrimSpace(line[m[4]:m[5]])
		if len(names) == 0 {
			bad = append(bad, diag.Warnf(ruleSuppression, fc.path, i+1, col, "suppression %q names no rule; write `# brickci:ignore[rule] reason`", strings.TrimSpace(line[m[0]:])))
			continue
		}
		if reason == "" {
			bad = append(bad, diag.Warnf(ruleSuppression, fc.path, i+1, col, "suppression of %q has no reason, so it is not applied; add why the finding is safe: `# brickci:ignore[%s] reason`", strings.Join(names, ","), strings.Join(names, ",")))
			continue
		}
		s := suppression{line: i + 1, rules: map[string]bool{}}
		for _, n := range names {
			s.rules[n] = true
		}
		out = append(out, s)
	}
	return out, bad
}

// applySuppressions drops findings covered by an ignore comment on their
// line or the line above, and adds the findings about malformed comments.
func applySuppressions(files []*fileCtx, l diag.List) diag.List {
	type key struct {
		file string
		line int
		rule string
	}
	ignored := map[key]bool{}
	var extra diag.List
	for _, fc := range files {
		sups, bad := fc.suppressions()
		extra = append(extra, bad...)
		for _, s := range sups {
			for r := range s.rules {
				ignored[key{fc.path, s.line, r}] = true
				ignored[key{fc.path, s.line + 1, r}] = true
			}
		}
	}
	out := l[:0:0]
	for _, f := range l {
		if f.Line > 0 && ignored[key{f.File, f.Line, f.Rule}] {
			continue
		}
		out = append(out, f)
	}
	return append(out, extra...)
}
