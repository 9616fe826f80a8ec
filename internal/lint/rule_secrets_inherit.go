package lint

import (
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleSecretsInherit = "secrets-inherit"

func init() {
	registerRule(ruleDef{id: ruleSecretsInherit, level: diag.Warning,
		doc: "`secrets: inherit` hands every repository and organisation secret to the called workflow; pass only the secrets it needs",
		new: func(fc *fileCtx) actionlint.Rule { return &ruleInherit{newRuleBase(ruleSecretsInherit, "", fc)} }})
}

type ruleInherit struct{ ruleBase }

func (r *ruleInherit) VisitJobPre(j *actionlint.Job) error {
	if j.WorkflowCall == nil || !j.WorkflowCall.InheritSecrets || j.ID == nil {
		return nil
	}
	line, col := j.ID.Pos.Line, j.ID.Pos.Col
	// The AST has no position for `secrets: inherit`; find it in the job.
	for n := j.ID.Pos.Line + 1; n <= len(r.fc.lines); n++ {
		src := r.fc.line(n)
		if i := strings.Index(src, "secrets:"); i >= 0 && strings.Contains(src[i:], "inherit") {
			line, col = n, i+1
			break
		}
	}
	r.fc.add(diag.Warning, ruleSecretsInherit, line, col, "job %q passes all secrets to %q with `secrets: inherit`; list only the secrets the workflow needs under secrets:", j.ID.Value, j.WorkflowCall.Uses.Value)
	return nil
}
