package lint

import (
	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleProdEnvironment = "prod-environment"

func init() {
	registerRule(ruleDef{id: ruleProdEnvironment, level: diag.Error,
		doc: "a job that deploys, destroys or runs a bundle on a production target (named like prod, or with a prod secret) needs an environment: so that the environment's protection rules (required reviewers, branch rules) gate it",
		new: func(fc *fileCtx) actionlint.Rule {
			return &ruleProdEnv{ruleBase: newRuleBase(ruleProdEnvironment, "", fc)}
		}})
}

type ruleProdEnv struct {
	ruleBase
	w *actionlint.Workflow
}

func (r *ruleProdEnv) VisitWorkflowPre(w *actionlint.Workflow) error {
	r.w = w
	return nil
}

func (r *ruleProdEnv) VisitJobPre(j *actionlint.Job) error {
	if j.ID == nil || j.Environment != nil {
		return nil
	}
	deps := deployments(j)
	if len(deps) == 0 {
		return nil
	}
	for _, d := range deps {
		if isProd(d.target) {
			r.fc.addAt(diag.Error, ruleProdEnvironment, j.ID.Pos, "job %q deploys to the production target %q without an environment:; add environment: with protection rules (required reviewers, the release branch only)", j.ID.Value, d.target)
			return nil
		}
	}
	for _, s := range jobSecrets(r.w, j) {
		if isProd(s) {
			r.fc.addAt(diag.Error, ruleProdEnvironment, j.ID.Pos, "job %q deploys with the production secret %s without an environment:; add environment: with protection rules (required reviewers, the release branch only) and keep the secret there", j.ID.Value, s)
			return nil
		}
	}
	return nil
}
