package lint

import (
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"
)

// The heuristic behind the permissions and persist-credentials rules: which
// steps need to write to the repository or to pull requests. It is
// deliberately simple and errs towards "needs it" so that it does not ask
// for grants to be removed that a job uses:
//
//   - contents: a run: script that runs `git push`, `gh release` or
//     `gh pr create|merge`; an action whose name mentions release, push,
//     commit, tag, gh-pages or create-pull-request; brickci's generate mode
//     with pull_request; actions/github-script (it may do anything).
//   - pull-requests: a script that runs `gh pr` or comments through `gh api`;
//     an action whose name mentions comment, pull-request or label; brickci
//     with comment or pull_request; actions/github-script.
//   - a job that calls a reusable workflow needs whatever it grants.
//
// Other write scopes are not judged.

var (
	reContentsWriteRun = regexp.MustCompile(`\bgit\s+push\b|\bgh\s+release\b|\bgh\s+pr\s+(create|merge)\b|\bgit\s+tag\b`)
	rePRWriteRun       = regexp.MustCompile(`\bgh\s+pr\s+(create|comment|edit|review|merge|close)\b|\bgh\s+api\b[^\n]*(comments|pulls|labels)`)
)

var (
	contentsWriteActions = []string{"release", "push", "commit", "tag", "gh-pages", "deploy-pages", "create-pull-request"}
	prWriteActions       = []string{"comment", "pull-request", "label"}
)

// isBrickci reports whether a uses: value is this action.
func isBrickci(uses string) bool {
	if uses == "./" || uses == "." {
		return true
	}
	name := actionName(uses)
	return strings.HasSuffix(name, "/brickci")
}

func inputTrue(a *actionlint.ExecAction, name string) bool {
	v := input(a, name)
	return v != nil && (strings.EqualFold(strings.TrimSpace(v.Value), "true") || v.ContainsExpression())
}

// stepNeeds reports whether a step needs contents: write and pull-requests:
// write.
func stepNeeds(s *actionlint.Step) (contents, pullRequests bool) {
	if run := stepRun(s); run != nil {
		return reContentsWriteRun.MatchString(run.Value), rePRWriteRun.MatchString(run.Value)
	}
	a, uses := stepUses(s)
	if a == nil {
		return false, false
	}
	name := actionName(uses)
	if name == "actions/github-script" {
		return true, true
	}
	if isBrickci(uses) {
		return inputTrue(a, "pull_request"), inputTrue(a, "pull_request") || inputTrue(a, "comment")
	}
	for _, w := range contentsWriteActions {
		contents = contents || strings.Contains(name, w)
	}
	for _, w := range prWriteActions {
		pullRequests = pullRequests || strings.Contains(name, w)
	}
	return contents, pullRequests
}

// jobNeeds reports what a job's steps need (everything for a reusable
// workflow call, whose needs are not visible here).
func jobNeeds(j *actionlint.Job) (contents, pullRequests bool) {
	if j.WorkflowCall != nil {
		return true, true
	}
	for _, s := range j.Steps {
		c, p := stepNeeds(s)
		contents, pullRequests = contents || c, pullRequests || p
	}
	return contents, pullRequests
}
