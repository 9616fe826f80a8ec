package lint

import (
	"sort"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleUntrustedEnv = "untrusted-env"

func init() {
	registerRule(ruleDef{id: ruleUntrustedEnv, level: diag.Error,
		doc: "in a job that holds secrets, env: must not take values whoever triggers the workflow chooses (github.event.*.title|body|ref…, github.head_ref, free-text inputs): a variable such as DATABRICKS_HOST set that way sends the credentials wherever the pull request says",
		new: func(fc *fileCtx) actionlint.Rule {
			return &ruleUntrusted{ruleBase: newRuleBase(ruleUntrustedEnv, "", fc)}
		}})
}

type ruleUntrusted struct {
	ruleBase
	w              *actionlint.Workflow
	dispatchInputs map[string]bool
}

func (r *ruleUntrusted) VisitWorkflowPre(w *actionlint.Workflow) error {
	r.w = w
	r.dispatchInputs = freeTextInputs(w)
	// The workflow-level env: reaches every job: it is reported once, for
	// the first job (in name order) that holds secrets.
	ids := make([]string, 0, len(w.Jobs))
	for id := range w.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if j := w.Jobs[id]; j != nil && j.ID != nil {
			if secrets := jobSecrets(w, j); len(secrets) > 0 {
				r.check(w.Env, j, secrets)
				break
			}
		}
	}
	return nil
}

func (r *ruleUntrusted) VisitJobPre(j *actionlint.Job) error {
	if j.ID == nil {
		return nil
	}
	secrets := jobSecrets(r.w, j)
	if len(secrets) == 0 {
		return nil
	}
	r.check(j.Env, j, secrets)
	for _, s := range j.Steps {
		r.check(s.Env, j, secrets)
	}
	return nil
}

// check reports the variables of e that take untrusted values.
func (r *ruleUntrusted) check(e *actionlint.Env, j *actionlint.Job, secrets []string) {
	if e == nil {
		return
	}
	names := make([]string, 0, len(e.Vars))
	for n := range e.Vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := e.Vars[n]
		for _, path := range untrustedIn(v.Value.Value, r.dispatchInputs) {
			r.fc.addAt(diag.Error, ruleUntrustedEnv, v.Value.Pos, "env %s of job %q takes %q, which whoever triggers the workflow chooses, in a job that holds %s; use a literal, vars.* or secrets.* here", v.Name.Value, j.ID.Value, path, secretList(secrets))
		}
	}
}
