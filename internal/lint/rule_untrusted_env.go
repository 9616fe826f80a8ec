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
	envs := []*actionlint.Env{j.Env}
	if r.w != nil {
		envs = append(envs, r.w.Env)
	}
	for _, s := range j.Steps {
		envs = append(envs, s.Env)
	}
	for _, e := range envs {
		if e == nil {
			continue
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
	return nil
}
