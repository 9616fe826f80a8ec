package lint

import (
	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const rulePRSecrets = "pr-secrets"

func init() {
	registerRule(ruleDef{id: rulePRSecrets, level: diag.Error,
		doc: "a job of a pull_request or pull_request_target workflow that checks out or runs the pull request's code must not hold secrets outside a GitHub environment: the pull request can change that code to send them anywhere; put the secrets in an environment whose protection rules approve the run",
		new: func(fc *fileCtx) actionlint.Rule { return &rulePRSecret{ruleBase: newRuleBase(rulePRSecrets, "", fc)} }})
}

type rulePRSecret struct {
	ruleBase
	w       *actionlint.Workflow
	trigger string
}

func (r *rulePRSecret) VisitWorkflowPre(w *actionlint.Workflow) error {
	r.w, r.trigger = w, prTrigger(w)
	return nil
}

func (r *rulePRSecret) VisitJobPre(j *actionlint.Job) error {
	if r.trigger == "" || j.ID == nil || j.Environment != nil {
		return nil
	}
	how := prCode(r.trigger, j)
	if how == "" {
		return nil
	}
	secrets := jobSecrets(r.w, j)
	if len(secrets) == 0 {
		return nil
	}
	r.fc.addAt(diag.Error, rulePRSecrets, j.ID.Pos, "job %q of this %s workflow %s while it holds %s, so the pull request's code can read them; move them to a GitHub environment (environment:) whose protection rules approve the run, and skip pull requests from forks", j.ID.Value, r.trigger, how, secretList(secrets))
	return nil
}
