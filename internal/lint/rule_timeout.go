package lint

import (
	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleTimeout = "timeout"

func init() {
	registerRule(ruleDef{id: ruleTimeout, level: diag.Info,
		doc: "every job should set timeout-minutes; the default of 360 minutes lets a hung job burn six hours of runner time",
		new: func(fc *fileCtx) actionlint.Rule { return &ruleTimeoutMinutes{newRuleBase(ruleTimeout, "", fc)} }})
}

type ruleTimeoutMinutes struct{ ruleBase }

func (r *ruleTimeoutMinutes) VisitJobPre(j *actionlint.Job) error {
	// A reusable-workflow call cannot set timeout-minutes; its jobs do.
	if j.WorkflowCall != nil || j.TimeoutMinutes != nil || j.ID == nil {
		return nil
	}
	r.fc.addAt(diag.Info, ruleTimeout, j.ID.Pos, "job %q has no timeout-minutes, so a hung step runs for 6 hours; set timeout-minutes", j.ID.Value)
	return nil
}
