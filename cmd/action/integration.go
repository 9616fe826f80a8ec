package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/deploy"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gha"
)

// integrationRequest is what test --integration deploys and runs.
type integrationRequest struct {
	dir, target string
	project     string
	vars        varFlag
	isolate     string
	cleanup     bool
	jobs        []string
	skip        []string
}

// cleanupBudget bounds the clean-up after a cancellation: the runner sends
// SIGTERM 7.5 s after SIGINT, and the remote runs are cancelled first.
const cleanupBudget = 5 * time.Second

// runIntegration deploys the bundle to the target as a test deployment of
// its own (bundle.Isolation: its own directory and names, schedules and
// triggers paused), runs the jobs, reports them and, with cleanup, destroys
// what it deployed whatever happened.
func runIntegration(ctx context.Context, inv *invocation, wf workspaceFlags, rf waitFlags, req integrationRequest) outcome {
	isolate := req.isolate
	if isolate == "" {
		isolate = defaultIsolation(inv)
	}
	dt, _, code := loadForDeploy(ctx, inv, wf, loadRequest{dir: req.dir, project: req.project, target: req.target, vars: req.vars, isolate: &bundle.Isolation{Name: isolate}, files: true,
		checkTypes: true, unsupported: diag.Error, skip: req.skip})
	if dt == nil {
		return outcome{code: code}
	}
	if code := checkKeys(inv, dt, req.jobs); code != exitOK {
		return outcome{code: code}
	}
	fmt.Fprintf(inv.stderr, "deploying %s to target %s under %s\n", dt.b.Name, dt.b.Target, dt.b.Workspace.RootPath)

	var o outcome
	if _, err := deploy.Apply(ctx, dt.w, dt.b, dt.files, deploy.Options{Progress: inv.stderr}); err != nil {
		o.code = failed(inv, "failed to deploy the test deployment: %v", err)
	} else if o = runJobs(ctx, inv, dt, req.jobs, rf); o.say != "" {
		// Why the runs failed is said before the clean-up's lines.
		o.code, o.say = failed(inv, "%s", o.say), ""
	}
	if !req.cleanup {
		fmt.Fprintf(inv.stderr, "the test deployment stays at %s; pass --cleanup to remove it\n", dt.b.Workspace.RootPath)
		return o
	}
	// Clean up even when the step was cancelled, within what the runner
	// allows before it kills the process.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	if ctx.Err() != nil {
		cctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), cleanupBudget)
	}
	defer cancel()
	if err := deploy.Destroy(cctx, dt.w, dt.b, deploy.Options{Progress: inv.stderr}); err != nil {
		o.code = failed(inv, "failed to clean up the test deployment at %s: %v", dt.b.Workspace.RootPath, err)
		return o
	}
	fmt.Fprintf(inv.stderr, "cleaned up the test deployment at %s\n", dt.b.Workspace.RootPath)
	return o
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
