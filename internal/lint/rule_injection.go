package lint

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleInjection = "injection"

func init() {
	registerRule(ruleDef{id: ruleInjection, level: diag.Error,
		doc: "untrusted values (github.head_ref, github.event.*.title|body|ref|head_ref|label|message|name|email, workflow_dispatch string inputs) must not be interpolated with ${{ }} into run: or github-script's script:; pass them through env: instead",
		new: func(fc *fileCtx) actionlint.Rule { return &ruleInject{ruleBase: newRuleBase(ruleInjection, "", fc)} }})
}

type ruleInject struct {
	ruleBase
	// dispatchInputs are the workflow_dispatch inputs that hold free text.
	dispatchInputs map[string]bool
}

func (r *ruleInject) VisitWorkflowPre(w *actionlint.Workflow) error {
	r.dispatchInputs = freeTextInputs(w)
	return nil
}

// freeTextInputs returns the workflow_dispatch inputs that hold free text,
// by lower-case name.
func freeTextInputs(w *actionlint.Workflow) map[string]bool {
	out := map[string]bool{}
	if e, ok := events(w)["workflow_dispatch"].(*actionlint.WorkflowDispatchEvent); ok {
		for name, in := range e.Inputs {
			if in.Type == actionlint.WorkflowDispatchEventInputTypeNone || in.Type == actionlint.WorkflowDispatchEventInputTypeString {
				out[strings.ToLower(name)] = true
			}
		}
	}
	return out
}

// untrustedIn returns the untrusted context paths the ${{ }} expressions
// of value use, in order and once each.
func untrustedIn(value string, dispatchInputs map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range reExpr.FindAllStringSubmatch(value, -1) {
		for _, u := range reUntrusted.FindAllStringSubmatchIndex(m[1], -1) {
			if path, ok := untrustedPath(m[1], u, dispatchInputs); ok && !seen[path] {
				seen[path] = true
				out = append(out, path)
			}
		}
	}
	return out
}

// untrustedPath returns the path of one reUntrusted match u in body, and
// whether it is really untrusted.
func untrustedPath(body string, u []int, dispatchInputs map[string]bool) (string, bool) {
	path := body[u[0]:u[1]]
	if strings.HasPrefix(path, "github.event.repository.") || strings.Contains(path, ".base.") {
		// The repository's own name and a pull request's base branch are
		// chosen by people with write access, not by whoever opens the
		// pull request.
		return "", false
	}
	if u[2] >= 0 && !dispatchInputs[strings.ToLower(body[u[2]:u[3]])] {
		return "", false
	}
	return path, true
}

func (r *ruleInject) VisitStep(s *actionlint.Step) error {
	if run := stepRun(s); run != nil {
		r.fc.checkInjection(run, r.dispatchInputs)
		return nil
	}
	if a, uses := stepUses(s); a != nil && actionName(uses) == "actions/github-script" {
		r.fc.checkInjection(input(a, "script"), r.dispatchInputs)
	}
	return nil
}

var (
	reExpr      = regexp.MustCompile(`\$\{\{(.*?)\}\}`)
	reUntrusted = regexp.MustCompile(`\bgithub\.head_ref\b|\bgithub\.event\.(?:[A-Za-z0-9_*-]+\.)*?(?:title|body|ref|head_ref|label|message|name|email|page_name|default_branch)\b|\b(?:github\.event\.)?inputs\.([A-Za-z_][A-Za-z0-9_-]*)`)
)

// checkInjection reports untrusted values expanded into a script.
// dispatchInputs are the free-text workflow_dispatch inputs; nil means no
// inputs.* value is treated as untrusted.
func (fc *fileCtx) checkInjection(script *actionlint.String, dispatchInputs map[string]bool) {
	if script == nil {
		return
	}
	for _, m := range reExpr.FindAllStringSubmatchIndex(script.Value, -1) {
		body := script.Value[m[2]:m[3]]
		seen := map[string]bool{}
		for _, u := range reUntrusted.FindAllStringSubmatchIndex(body, -1) {
			path, ok := untrustedPath(body, u, dispatchInputs)
			if !ok || seen[path] {
				continue
			}
			seen[path] = true
			line, col := fc.posIn(script, m[0])
			fc.scripts = append(fc.scripts, scriptSpan{finding: len(fc.findings), path: strings.ToLower(path), from: script.Pos.Line, to: script.Pos.Line + strings.Count(script.Value, "\n") + 1})
			fc.add(diag.Error, ruleInjection, line, col, "%q can be set by whoever triggers the workflow and is expanded into the script before it runs; pass it through env: (FOO: ${{ %s }}) and use \"$FOO\"", path, path)
		}
	}
}

// scriptSpan remembers where an injection finding's script is, because
// actionlint positions some expressions in block scalars on the key's line.
type scriptSpan struct {
	finding  int
	path     string
	from, to int
}

// dedupeInjection drops brickci injection findings where actionlint's
// expression rule already reported the same value in the same script.
func (fc *fileCtx) dedupeInjection() {
	if len(fc.scripts) == 0 {
		return
	}
	type key struct {
		line int
		path string
	}
	reported := map[key]bool{}
	for _, f := range fc.findings {
		if f.Rule == "expression" && strings.Contains(f.Message, "potentially untrusted") {
			if q, err := strconv.QuotedPrefix(f.Message); err == nil {
				if p, err := strconv.Unquote(q); err == nil {
					reported[key{f.Line, strings.ToLower(p)}] = true
				}
			}
		}
	}
	drop := map[int]bool{}
	for _, s := range fc.scripts {
		for line := s.from; line <= s.to; line++ {
			if reported[key{line, s.path}] {
				drop[s.finding] = true
			}
		}
	}
	out := fc.findings[:0:0]
	for i, f := range fc.findings {
		if !drop[i] {
			out = append(out, f)
		}
	}
	fc.findings = out
	fc.scripts = nil
}
