package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/brickci/brickci/internal/deploy"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gha"
	"github.com/brickci/brickci/internal/run"
)

func init() {
	register(mode{
		name:    "run",
		args:    "KEY...",
		summary: "run deployed jobs and pipelines of a bundle target and report every task and flow; cancelling the step cancels the runs",
		flags: func(fs *flag.FlagSet) func(ctx context.Context, inv *invocation, args []string) int {
			tf := declareTargetFlags(fs)
			rf := declareRunFlags(fs)
			return func(ctx context.Context, inv *invocation, args []string) int {
				t, code := oneTarget(inv, *tf.targets)
				if code != exitOK {
					return code
				}
				if len(args) == 0 {
					return bad(inv, "name the jobs to run: brickci run -t %s JOB_KEY...", t)
				}
				dt, _, code := loadForDeploy(ctx, inv, tf.wf, loadRequest{dir: *tf.dir, target: t, vars: tf.vars})
				if dt == nil {
					return code
				}
				return runJobs(ctx, inv, newAction(inv), dt, args, rf)
			}
		},
	})
}

// runFlags are the flags of run and test --integration.
type runFlags struct {
	timeout     *time.Duration
	noWait      *bool
	poll        *time.Duration
	heartbeat   *time.Duration
	fullRefresh *bool
}

func declareRunFlags(fs *flag.FlagSet) runFlags {
	return runFlags{
		timeout:     fs.Duration("timeout", 0, "cancel the runs and fail when they take longer (e.g. 2h; 0 waits as long as they run)"),
		noWait:      fs.Bool("no-wait", false, "return once the runs are started"),
		poll:        fs.Duration("poll", 5*time.Second, "how often each run is polled"),
		heartbeat:   fs.Duration("heartbeat", time.Minute, "how often a still-running line is printed while nothing changes"),
		fullRefresh: fs.Bool("full-refresh", false, "update pipelines with a full refresh: reset every table and recompute it"),
	}
}

// runJobs runs the named jobs and pipelines of a deployed target and
// reports them. Their ids come from the target's deployment state.
func runJobs(ctx context.Context, inv *invocation, a *gha.Action, dt *deployTarget, keys []string, rf runFlags) int {
	if *rf.poll <= 0 || *rf.heartbeat <= 0 || *rf.timeout < 0 {
		return bad(inv, "--poll and --heartbeat must be positive and --timeout not negative")
	}
	refs, err := run.Resolve(keys, run.Defined{Bundle: dt.b.Name, Jobs: jobKeys(dt), Pipelines: pipelineKeys(dt)})
	if err != nil {
		return bad(inv, "%v", err)
	}
	ids, err := deploy.DeployedIDs(ctx, dt.w, dt.b.Workspace.StatePath)
	if err != nil {
		return failed(inv, "%v", err)
	}
	list, err := run.Bind(refs, ids.Jobs, ids.Pipelines, dt.b.Target)
	if err != nil {
		return failed(inv, "%v", err)
	}
	opts := run.Options{
		Out: inv.stdout, PollInterval: *rf.poll, Heartbeat: *rf.heartbeat, Timeout: *rf.timeout,
		NoWait: *rf.noWait, Host: dt.w.Config.Host, FullRefresh: *rf.fullRefresh,
	}
	if inv.onActions {
		opts.Log = a
		// A retried step must not start a second run of the same job.
		if id := inv.getenv("GITHUB_RUN_ID"); id != "" {
			opts.IdempotencyKey = "brickci-" + id + "-" + inv.getenv("GITHUB_RUN_ATTEMPT") + "-" + dt.b.Target
		}
	}
	results, err := run.All(ctx, run.APIs{Jobs: dt.w.Jobs, Pipelines: dt.w.Pipelines}, list, opts)

	ok := err == nil
	for _, r := range results {
		ok = ok && (*rf.noWait || r.Succeeded())
	}
	outputs := run.Outputs(results)
	outputs["result"] = map[bool]string{true: "success", false: "failure"}[ok]
	for k, v := range outputs {
		if oerr := a.SetOutput(k, v); oerr != nil {
			fmt.Fprintf(inv.stderr, "brickci %s: %v\n", inv.mode, oerr)
		}
	}
	if *rf.noWait && err == nil {
		return exitOK
	}
	fmt.Fprintln(inv.stdout)
	run.WriteText(inv.stdout, results)
	var md strings.Builder
	fmt.Fprintf(&md, "## Runs on %s\n\n", diag.MarkdownCode(dt.b.Target))
	run.WriteMarkdown(&md, results)
	if serr := a.AddSummary(md.String()); serr != nil {
		fmt.Fprintf(inv.stderr, "brickci %s: %v\n", inv.mode, serr)
	}
	findings := run.Findings(results)
	if inv.onActions {
		a.Annotate(findings)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return failed(inv, "cancelled; the runs it started were cancelled")
	case errors.Is(err, run.ErrTimeout):
		return failed(inv, "%v; the runs were cancelled", err)
	case err != nil:
		return failed(inv, "%v", err)
	case findings.AtLeast(diag.Error):
		return failed(inv, "%s", run.NotSucceeded(results))
	}
	return exitOK
}

func jobKeys(dt *deployTarget) []string {
	return slices.Sorted(maps.Keys(dt.b.Jobs))
}

// pipelineKeys are the keys under the bundle's resources.pipelines, sorted.
func pipelineKeys(dt *deployTarget) []string {
	var keys []string
	for _, r := range dt.b.Resources {
		if r.Type == "pipelines" {
			keys = append(keys, r.Key)
		}
	}
	return keys
}
