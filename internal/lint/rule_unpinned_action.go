package lint

import (
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleUnpinnedAction = "unpinned-action"

func init() {
	registerRule(ruleDef{id: ruleUnpinnedAction, level: diag.Error,
		doc: "uses: must pin actions and reusable workflows by full commit sha with a `# vX.Y.Z` comment (tags allowed with --allow-tags); local ./ actions and docker://...@sha256: images are fine",
		new: func(fc *fileCtx) actionlint.Rule { return &ruleUnpinned{newRuleBase(ruleUnpinnedAction, "", fc)} }})
}

type ruleUnpinned struct{ ruleBase }

func (r *ruleUnpinned) VisitJobPre(j *actionlint.Job) error {
	if j.WorkflowCall != nil && j.WorkflowCall.Uses != nil {
		r.fc.checkPinned(j.WorkflowCall.Uses)
	}
	return nil
}

func (r *ruleUnpinned) VisitStep(s *actionlint.Step) error {
	if a, _ := stepUses(s); a != nil {
		r.fc.checkPinned(a.Uses)
	}
	return nil
}

// reTagRef is a version tag such as v4, v4.2 or 1.2.3-rc.1.
var reTagRef = regexp.MustCompile(`^v?\d+(\.\d+){0,2}([-+.][0-9A-Za-z.-]+)?$`)

// checkPinned reports a uses: value that is not pinned by commit sha.
func (fc *fileCtx) checkPinned(uses *actionlint.String) {
	v := strings.TrimSpace(uses.Value)
	if v == "" || strings.HasPrefix(v, "./") || uses.ContainsExpression() {
		return
	}
	if strings.HasPrefix(v, "docker://") {
		if !strings.Contains(v, "@sha256:") {
			fc.addAt(diag.Error, ruleUnpinnedAction, uses.Pos, "docker image %q is not pinned by digest; use %s@sha256:<digest>", v, v)
		}
		return
	}
	action, ref, ok := splitUses(v)
	if !ok {
		return // actionlint reports the malformed value
	}
	if reSHA.MatchString(ref) {
		return
	}
	if reTagRef.MatchString(ref) {
		if fc.opts.AllowTags {
			return
		}
		fc.addAt(diag.Error, ruleUnpinnedAction, uses.Pos, "%q is pinned by tag %q, which can be moved; pin it by full commit sha with a version comment: %s@<40-hex sha> # %s", v, ref, action, ref)
		return
	}
	fc.addAt(diag.Error, ruleUnpinnedAction, uses.Pos, "%q follows the branch or ref %q, so every run may execute different code; pin it by full commit sha with a version comment: %s@<40-hex sha> # vX.Y.Z", v, ref, action)
}
