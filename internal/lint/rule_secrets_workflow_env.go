package lint

import (
	"sort"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleSecretsWorkflowEnv = "secrets-workflow-env"

func init() {
	registerRule(ruleDef{id: ruleSecretsWorkflowEnv, level: diag.Error,
		doc: "a secret in the workflow-level env: is handed to every step of every job, third-party actions and pull-request code included; set it in env: of the step that needs it",
		new: func(fc *fileCtx) actionlint.Rule {
			return &ruleWorkflowEnv{newRuleBase(ruleSecretsWorkflowEnv, "", fc)}
		}})
}

type ruleWorkflowEnv struct{ ruleBase }

func (r *ruleWorkflowEnv) VisitWorkflowPre(w *actionlint.Workflow) error {
	if w.Env == nil {
		return nil
	}
	names := make([]string, 0, len(w.Env.Vars))
	for n := range w.Env.Vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := w.Env.Vars[n]
		if secrets := secretRefs(v.Value); len(secrets) > 0 {
			r.fc.addAt(diag.Error, ruleSecretsWorkflowEnv, v.Name.Pos, "workflow-level env %s holds secrets.%s, which every step of every job can read, third-party actions included; set it in env: of the one step that needs it", v.Name.Value, secrets[0])
		}
	}
	if w.Env.Expression != nil && len(secretRefs(w.Env.Expression)) > 0 {
		r.fc.addAt(diag.Error, ruleSecretsWorkflowEnv, w.Env.Expression.Pos, "the workflow-level env: expression holds secrets, which every step of every job can read; set them in env: of the one step that needs them")
	}
	return nil
}
