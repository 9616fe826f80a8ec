package lint

import (
	"regexp"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleDangerousTrigger = "dangerous-trigger"

func init() {
	registerRule(ruleDef{id: ruleDangerousTrigger, level: diag.Error,
		doc: "pull_request_target and workflow_run run with secrets and a write token; checking out the pull request's head there runs untrusted code with them",
		new: func(fc *fileCtx) actionlint.Rule {
			return &ruleTrigger{ruleBase: newRuleBase(ruleDangerousTrigger, "", fc)}
		}})
}

type ruleTrigger struct {
	ruleBase
	trigger string
}

var reHeadRef = regexp.MustCompile(`github\.event\.pull_request\.head\.(?:sha|ref|repo\.full_name)|github\.head_ref|github\.event\.workflow_run\.head_(?:sha|branch)|refs/pull/|\bgh\s+pr\s+checkout\b|\bgit\s+fetch\b[^\n]*\bpull/`)

func (r *ruleTrigger) VisitWorkflowPre(w *actionlint.Workflow) error {
	ev := events(w)
	r.trigger = ""
	for _, name := range []string{"pull_request_target", "workflow_run"} {
		if _, ok := ev[name]; ok {
			r.trigger = name
			break
		}
	}
	return nil
}

func (r *ruleTrigger) VisitStep(s *actionlint.Step) error {
	if r.trigger == "" {
		return nil
	}
	if run := stepRun(s); run != nil {
		if m := reHeadRef.FindStringIndex(run.Value); m != nil {
			line, col := r.fc.posIn(run, m[0])
			r.fc.add(diag.Error, ruleDangerousTrigger, line, col, "this %s workflow fetches the pull request's head in a script, running untrusted code with secrets and a write token; use the pull_request trigger for code from the pull request", r.trigger)
		}
		return nil
	}
	a, uses := stepUses(s)
	if a == nil || actionName(uses) != "actions/checkout" {
		return nil
	}
	for _, name := range []string{"ref", "repository"} {
		if v := input(a, name); v != nil && reHeadRef.MatchString(v.Value) {
			r.fc.addAt(diag.Error, ruleDangerousTrigger, v.Pos, "this %s workflow checks out the pull request's head (%s: %s), running untrusted code with secrets and a write token; use the pull_request trigger for code from the pull request", r.trigger, name, v.Value)
			return nil
		}
	}
	return nil
}
