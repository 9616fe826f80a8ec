package lint

import (
	"regexp"
	"sort"
	"strings"

	"github.com/rhysd/actionlint"
)

// What the secret rules share: which secrets a job can read, whether it
// runs the pull request's code, and whether it deploys.

// reSecretRef finds secrets.NAME (and secrets['NAME']) inside ${{ }}.
var reSecretRef = regexp.MustCompile(`\bsecrets(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\])`)

// secretRefs returns the secret names the values refer to in ${{ }}
// expressions, sorted and without GITHUB_TOKEN, which every job has anyway.
func secretRefs(values ...*actionlint.String) []string {
	seen := map[string]bool{}
	for _, v := range values {
		if v == nil {
			continue
		}
		for _, e := range reExpr.FindAllStringSubmatch(v.Value, -1) {
			for _, m := range reSecretRef.FindAllStringSubmatch(e[1], -1) {
				name := m[1] + m[2]
				if !strings.EqualFold(name, "GITHUB_TOKEN") {
					seen[name] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// envValues returns the values of an env: block in name order.
func envValues(e *actionlint.Env) []*actionlint.String {
	if e == nil {
		return nil
	}
	if e.Expression != nil {
		return []*actionlint.String{e.Expression}
	}
	names := make([]string, 0, len(e.Vars))
	for n := range e.Vars {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*actionlint.String, 0, len(names))
	for _, n := range names {
		out = append(out, e.Vars[n].Value)
	}
	return out
}

// jobSecrets returns the secrets a job can read: those the workflow-level
// env:, the job's env: and its steps (env:, with:, run:) refer to, and
// those passed to a called workflow.
func jobSecrets(w *actionlint.Workflow, j *actionlint.Job) []string {
	var values []*actionlint.String
	if w != nil {
		values = append(values, envValues(w.Env)...)
	}
	values = append(values, envValues(j.Env)...)
	for _, s := range j.Steps {
		values = append(values, envValues(s.Env)...)
		if run := stepRun(s); run != nil {
			values = append(values, run)
		}
		if a, _ := stepUses(s); a != nil {
			for _, in := range a.Inputs {
				values = append(values, in.Value)
			}
		}
	}
	if j.WorkflowCall != nil {
		for _, s := range j.WorkflowCall.Secrets {
			values = append(values, s.Value)
		}
	}
	return secretRefs(values...)
}

// prTrigger returns the pull-request trigger of a workflow
// (pull_request_target first, as the more dangerous), or "".
func prTrigger(w *actionlint.Workflow) string {
	ev := events(w)
	for _, name := range []string{"pull_request_target", "pull_request"} {
		if _, ok := ev[name]; ok {
			return name
		}
	}
	return ""
}

// prCode reports how a job of a workflow with the given pull-request
// trigger gets the pull request's code, or "": under pull_request any
// checkout is of the pull request (its merge commit) and a local action
// (uses: ./…) is the pull request's; under pull_request_target only a
// checkout or fetch of the head is.
func prCode(trigger string, j *actionlint.Job) string {
	if j.WorkflowCall != nil && strings.HasPrefix(j.WorkflowCall.Uses.Value, "./") && trigger == "pull_request" {
		return "calls the local workflow " + j.WorkflowCall.Uses.Value
	}
	for _, s := range j.Steps {
		if run := stepRun(s); run != nil {
			if trigger == "pull_request_target" && reHeadRef.MatchString(run.Value) {
				return "fetches the pull request's head"
			}
			continue
		}
		a, uses := stepUses(s)
		if a == nil {
			continue
		}
		switch {
		case actionName(uses) == "actions/checkout":
			if trigger == "pull_request" {
				return "checks out the pull request"
			}
			for _, name := range []string{"ref", "repository"} {
				if v := input(a, name); v != nil && reHeadRef.MatchString(v.Value) {
					return "checks out the pull request's head"
				}
			}
		case strings.HasPrefix(uses, "./") && trigger == "pull_request":
			return "runs the local action " + uses
		}
	}
	return ""
}

// reBundleCommand finds a Databricks CLI bundle command that changes a
// workspace and its target flag, if any.
var (
	reBundleCommand = regexp.MustCompile(`\bbundle\s+(deploy|destroy|run)\b([^\n;&|]*)`)
	reTargetFlag    = regexp.MustCompile(`(?:^|\s)(?:-t|--target)(?:\s+|=)["']?([^\s"']+)`)
	reProdName      = regexp.MustCompile(`(?i)(?:^|[-_.\s])(prod|production|prd)(?:$|[-_.\s])`)
)

// deployment is a step that changes a workspace, and the target it names.
type deployment struct {
	step   *actionlint.Step
	pos    *actionlint.Pos
	target string
}

// deployments returns the steps of a job that deploy, destroy or run a
// bundle: Databricks CLI bundle commands in run: scripts, and brickci steps
// (uses: ./ or …/brickci@…) with mode deploy, destroy or run.
func deployments(j *actionlint.Job) []deployment {
	var out []deployment
	for _, s := range j.Steps {
		if run := stepRun(s); run != nil {
			for _, m := range reBundleCommand.FindAllStringSubmatch(run.Value, -1) {
				d := deployment{step: s, pos: run.Pos}
				if t := reTargetFlag.FindStringSubmatch(m[2]); t != nil {
					d.target = t[1]
				}
				out = append(out, d)
			}
			continue
		}
		a, uses := stepUses(s)
		if a == nil || !isBrickci(uses) {
			continue
		}
		mode := input(a, "mode")
		if mode == nil || (mode.Value != "deploy" && mode.Value != "destroy" && mode.Value != "run") {
			continue
		}
		d := deployment{step: s, pos: a.Uses.Pos}
		if t := input(a, "target"); t != nil {
			d.target = t.Value
		}
		out = append(out, d)
	}
	return out
}

// isProd reports whether a target or secret name is named like production.
func isProd(name string) bool { return reProdName.MatchString(name) }

// secretList names secrets for a message: "the secret A" or "the secrets
// A, B".
func secretList(names []string) string {
	if len(names) == 1 {
		return "the secret " + names[0]
	}
	return "the secrets " + strings.Join(names, ", ")
}
