package lint

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/brickci/brickci/internal/diag"
)

const ruleConcurrencyCollision = "concurrency-collision"

func init() {
	registerRule(ruleDef{id: ruleConcurrencyCollision, level: diag.Error,
		doc: "a pull-request job and a push-triggered deploy job must not share a concurrency group, or a pull request can cancel or hold up a deploy; checked across all linted workflows",
		new: func(fc *fileCtx) actionlint.Rule {
			return &ruleConcurrency{newRuleBase(ruleConcurrencyCollision, "", fc)}
		}})
}

// workflowFacts is what the cross-file concurrency check needs from one
// workflow.
type workflowFacts struct {
	pr, push bool
	jobs     []jobFacts
}

type jobFacts struct {
	id     string
	deploy bool
	// pushOnly: the job's if: limits it to push events, so it never runs
	// for a pull request.
	pushOnly bool
	groups   []groupRef
}

type groupRef struct {
	value     string
	line, col int
}

// ruleConcurrency collects facts during the pass; the check itself runs
// once every file is linted (checkConcurrencyCollisions).
type ruleConcurrency struct{ ruleBase }

var (
	reWorkflowExpr = regexp.MustCompile(`\$\{\{\s*github\.workflow\s*\}\}`)
	reDeployRun    = regexp.MustCompile(`\b(?:bundle|brickci)\s+deploy\b`)
	rePushOnly     = regexp.MustCompile(`github\.event_name\s*==\s*'push'|github\.ref\s*==\s*'refs/heads/`)
)

// groupOf returns the group as a constant string. ${{ github.workflow }} is
// replaced by the workflow's name; a group with any other expression
// depends on the run (ref, pull request number) and is skipped.
func groupOf(c *actionlint.Concurrency, workflow string) (groupRef, bool) {
	if c == nil || c.Group == nil || c.Group.Pos == nil {
		return groupRef{}, false
	}
	v := reWorkflowExpr.ReplaceAllString(c.Group.Value, workflow)
	if strings.Contains(v, "${{") || strings.TrimSpace(v) == "" {
		return groupRef{}, false
	}
	return groupRef{value: strings.TrimSpace(v), line: c.Group.Pos.Line, col: c.Group.Pos.Col}, true
}

func (r *ruleConcurrency) VisitWorkflowPre(w *actionlint.Workflow) error {
	ev := events(w)
	_, pr := ev["pull_request"]
	_, prt := ev["pull_request_target"]
	_, push := ev["push"]
	facts := workflowFacts{pr: pr || prt, push: push}
	name := r.fc.path
	if w.Name != nil {
		name = w.Name.Value
	}
	wg, hasWG := groupOf(w.Concurrency, name)
	ids := make([]string, 0, len(w.Jobs))
	for id := range w.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		j := w.Jobs[id]
		jf := jobFacts{id: id, deploy: isDeployJob(j), pushOnly: j.If != nil && rePushOnly.MatchString(j.If.Value)}
		if hasWG {
			jf.groups = append(jf.groups, wg)
		}
		if g, ok := groupOf(j.Concurrency, name); ok {
			jf.groups = append(jf.groups, g)
		}
		facts.jobs = append(facts.jobs, jf)
	}
	r.fc.facts = facts
	return nil
}

// isDeployJob: a job with a GitHub environment, "deploy" in its id or name,
// or a step that deploys a bundle.
func isDeployJob(j *actionlint.Job) bool {
	if j.Environment != nil {
		return true
	}
	if j.ID != nil && strings.Contains(strings.ToLower(j.ID.Value), "deploy") {
		return true
	}
	if j.Name != nil && strings.Contains(strings.ToLower(j.Name.Value), "deploy") {
		return true
	}
	for _, s := range j.Steps {
		if run := stepRun(s); run != nil && reDeployRun.MatchString(run.Value) {
			return true
		}
		if a, uses := stepUses(s); a != nil && isBrickci(uses) {
			if m := input(a, "mode"); m != nil && strings.TrimSpace(m.Value) == "deploy" {
				return true
			}
		}
	}
	return false
}

// checkConcurrencyCollisions reports, at the pull-request side, every
// concurrency group that a push-triggered deploy job also uses.
func checkConcurrencyCollisions(files []*fileCtx) diag.List {
	type deployRef struct {
		file, job string
		line      int
	}
	deploys := map[string]deployRef{}
	for _, fc := range files {
		if !fc.facts.push {
			continue
		}
		for _, j := range fc.facts.jobs {
			if !j.deploy {
				continue
			}
			for _, g := range j.groups {
				if _, ok := deploys[g.value]; !ok {
					deploys[g.value] = deployRef{fc.path, j.id, g.line}
				}
			}
		}
	}
	var out diag.List
	seen := map[string]bool{}
	for _, fc := range files {
		if !fc.facts.pr {
			continue
		}
		for _, j := range fc.facts.jobs {
			if j.pushOnly {
				continue
			}
			for _, g := range j.groups {
				d, ok := deploys[g.value]
				key := fmt.Sprintf("%s:%d:%d", fc.path, g.line, g.col)
				if !ok || seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, diag.Errorf(ruleConcurrencyCollision, fc.path, g.line, g.col,
					"concurrency group %q of pull-request job %q is also used by deploy job %q (%s:%d), so a pull request can cancel or hold up a deploy; give deploys their own group, e.g. deploy-<target>",
					g.value, j.id, d.job, d.file, d.line))
			}
		}
	}
	return out
}
