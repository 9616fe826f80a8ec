package lint

import (
	"sort"
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const rulePermissions = "permissions"

func init() {
	registerRule(ruleDef{id: rulePermissions, level: diag.Warning,
		doc: "workflows need a top-level permissions: (ideally {}) with per-job grants; write-all is never right; contents or pull-requests write is reported when no step of the job pushes, releases or comments",
		new: func(fc *fileCtx) actionlint.Rule { return &rulePerms{newRuleBase(rulePermissions, "", fc)} }})
}

type rulePerms struct{ ruleBase }

func (r *rulePerms) VisitWorkflowPre(w *actionlint.Workflow) error {
	fc := r.fc
	if w.Permissions == nil {
		fc.add(diag.Warning, rulePermissions, 1, 1, "workflow has no top-level permissions:, so every job gets the repository's default token scopes; add `permissions: {}` and grant each job what it needs")
	}
	ids := make([]string, 0, len(w.Jobs))
	for id := range w.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	// Workflow-level grants apply to the jobs without their own permissions.
	if p := w.Permissions; p != nil {
		var contents, prs, any bool
		for _, id := range ids {
			j := w.Jobs[id]
			if j.Permissions != nil {
				continue
			}
			any = true
			c, pr := jobNeeds(j)
			contents, prs = contents || c, prs || pr
		}
		fc.checkGrants(p, "workflow", contents || !any, prs || !any)
	}
	for _, id := range ids {
		j := w.Jobs[id]
		if j.Permissions == nil {
			continue
		}
		c, pr := jobNeeds(j)
		fc.checkGrants(j.Permissions, "job "+quote(j.ID.Value), c, pr)
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }

func (fc *fileCtx) checkGrants(p *actionlint.Permissions, who string, needContents, needPRs bool) {
	if p.All != nil && strings.EqualFold(p.All.Value, "write-all") {
		fc.addAt(diag.Error, rulePermissions, p.All.Pos, "%s grants write-all, which lets any step change code, releases and settings; grant only the scopes it needs, e.g. `contents: read`", who)
		return
	}
	check := func(scope string, need bool, what string) {
		s, ok := p.Scopes[scope]
		if !ok || s.Value == nil || !strings.EqualFold(s.Value.Value, "write") || need {
			return
		}
		fc.addAt(diag.Warning, rulePermissions, s.Name.Pos, "%s grants \"%s: write\" but none of its steps %s; grant \"%s: read\" instead", who, scope, what, scope)
	}
	check("contents", needContents, "pushes, tags or releases")
	check("pull-requests", needPRs, "comments on or opens pull requests")
}
