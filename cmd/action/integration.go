package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/deploy"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gha"
)

// integrationRequest is what test --integration deploys and runs.
type integrationRequest struct {
	dir, target string
	vars        varFlag
	isolate     string
	cleanup     bool
	jobs        []string
	skip        []string
}

// cleanupBudget bounds the clean-up after a cancellation: the runner sends
// SIGTERM 7.5 s after SIGINT, and the remote runs are cancelled first.
const cleanupBudget = 5 * time.Second

// isolateRe limits an isolation name to one short path segment: it also
// suffixes serving endpoint names, which hold at most 63 characters.
var isolateRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)

// runIntegration deploys the bundle to the target under a directory of its
// own, with schedules and triggers paused, runs the jobs, reports them and,
// with cleanup, destroys what it deployed whatever happened.
func runIntegration(ctx context.Context, inv *invocation, wf workspaceFlags, rf runFlags, req integrationRequest) int {
	a := newAction(inv)
	isolate := req.isolate
	if isolate == "" {
		isolate = defaultIsolation(inv)
	}
	if isolate != "" && !isolateRe.MatchString(isolate) {
		return bad(inv, "--isolate %q must be one path segment of at most 40 letters, digits, '.', '_' and '-'", isolate)
	}
	dt, _, code := loadForDeploy(ctx, inv, wf, loadRequest{dir: req.dir, target: req.target, vars: req.vars, isolate: isolate, files: true,
		checkTypes: true, unsupported: diag.Error, skip: req.skip})
	if dt == nil {
		return code
	}
	for _, k := range req.jobs {
		if _, ok := dt.b.Jobs[k]; !ok {
			return bad(inv, "job %q is not defined in bundle %q; its jobs are %q", k, dt.b.Name, jobKeys(dt))
		}
	}
	pauseSchedules(dt.b)
	if isolate != "" {
		isolateNames(dt.b, isolate)
	}
	fmt.Fprintf(inv.stderr, "deploying %s to target %s under %s\n", dt.b.Name, dt.b.Target, dt.b.Workspace.RootPath)

	code = exitOK
	if _, err := deploy.Apply(ctx, dt.w, dt.b, dt.files, deploy.Options{Progress: inv.stderr}); err != nil {
		code = failed(inv, "failed to deploy the test deployment: %v", err)
	} else {
		code = runJobs(ctx, inv, a, dt, req.jobs, rf)
	}
	if !req.cleanup {
		fmt.Fprintf(inv.stderr, "the test deployment stays at %s; pass --cleanup to remove it\n", dt.b.Workspace.RootPath)
		return code
	}
	// Clean up even when the step was cancelled, within what the runner
	// allows before it kills the process.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	if ctx.Err() != nil {
		cctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), cleanupBudget)
	}
	defer cancel()
	if err := deploy.Destroy(cctx, dt.w, dt.b, deploy.Options{Progress: inv.stderr}); err != nil {
		fmt.Fprintf(inv.stderr, "brickci test: failed to clean up the test deployment at %s: %v\n", dt.b.Workspace.RootPath, err)
		return exitFailed
	}
	fmt.Fprintf(inv.stderr, "cleaned up the test deployment at %s\n", dt.b.Workspace.RootPath)
	return code
}

// defaultIsolation names the sub-directory for a test deployment: one per
// pull request, so two pull requests never share files, jobs or state, and
// one per workflow run otherwise. Outside Actions it is empty: a developer
// deploys to the target's own path.
func defaultIsolation(inv *invocation) string {
	if pr, err := gha.New(inv.getenv, io.Discard).PullRequestEvent(); err == nil && pr.Number > 0 {
		return "pr-" + strconv.Itoa(pr.Number)
	}
	if id := inv.getenv("GITHUB_RUN_ID"); id != "" {
		return "run-" + id
	}
	return ""
}

// isolateNames makes the names of an isolated deployment its own: job names
// get a "[<isolate>] " prefix, so runs of two pull requests are told apart,
// and serving endpoint names — unique per workspace — a "-<isolate>"
// suffix, so two pull requests can deploy the same endpoint at once.
func isolateNames(b *bundle.Bundle, isolate string) {
	for _, j := range b.Jobs {
		if name, ok := j.Config["name"].(string); ok {
			j.Config["name"] = "[" + isolate + "] " + name
		}
	}
	suffix := "-" + strings.ReplaceAll(isolate, ".", "-")
	for _, e := range b.ServingEndpoints {
		if name, ok := e.Config["name"].(string); ok {
			// Endpoint names are at most 63 characters.
			e.Config["name"] = name[:min(len(name), 63-len(suffix))] + suffix
		}
	}
}

// pauseSchedules pauses every schedule, trigger and continuous setting of
// the bundle's jobs: a test deployment must not start runs on its own,
// even when its clean-up never happens.
func pauseSchedules(b *bundle.Bundle) {
	for _, j := range b.Jobs {
		for _, key := range []string{"schedule", "trigger", "continuous"} {
			if m, ok := j.Config[key].(map[string]any); ok {
				m["pause_status"] = "PAUSED"
			}
		}
	}
}
