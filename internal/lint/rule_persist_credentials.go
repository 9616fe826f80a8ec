package lint

import (
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const rulePersistCredentials = "persist-credentials"

func init() {
	registerRule(ruleDef{id: rulePersistCredentials, level: diag.Warning,
		doc: "actions/checkout leaves the token in .git/config for every later step unless `persist-credentials: false`; set it in jobs that do not push",
		new: func(fc *fileCtx) actionlint.Rule { return &rulePersist{newRuleBase(rulePersistCredentials, "", fc)} }})
}

type rulePersist struct{ ruleBase }

func (r *rulePersist) VisitJobPre(j *actionlint.Job) error {
	if needsContents, _ := jobNeeds(j); needsContents {
		return nil
	}
	for _, s := range j.Steps {
		a, uses := stepUses(s)
		if a == nil || actionName(uses) != "actions/checkout" {
			continue
		}
		if v := input(a, "persist-credentials"); v != nil && strings.EqualFold(strings.TrimSpace(v.Value), "false") {
			continue
		}
		r.fc.addAt(diag.Warning, rulePersistCredentials, a.Uses.Pos, "actions/checkout keeps the job's token in .git/config for all later steps, and job %q does not push; add `with: persist-credentials: false`", j.ID.Value)
	}
	return nil
}
