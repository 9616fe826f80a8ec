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
	"github.com/brickci/brickci/internal/run"
)

func runFlags(fs *flag.FlagSet) runFunc {
	tf := declareTargetFlags(fs, false)
	wait := declareWaitFlags(fs)
	return func(ctx context.Context, inv *invocation, args []string) outcome {
		t, code := oneTarget(inv, *tf.targets)
		if code != exitOK {
			return outcome{code: code}
		}
		if len(args) == 0 {
			return outcome{code: bad(inv, "name the jobs to run: brickci run -t %s JOB_KEY...", t)}
		}
		dt, _, code := loadForDeploy(ctx, inv, tf.wf, loadRequest{dir: *tf.dir, project: *tf.project, target: t, vars: tf.vars})
		if dt == nil {
			return outcome{code: code}
		}
		return runJobs(ctx, inv, dt, args, wait)
	}
}

// waitFlags are the flags of run and test --integration.
type waitFlags struct {
	timeout     *time.Duration
	noWait      *bool
	poll        *time.Duration
	heartbeat   *time.Duration
	fullRefresh *bool
}

func declareWaitFlags(fs *flag.FlagSet) waitFlags {
	return waitFlags{
		timeout:     fs.Duration("timeout", 0, "cancel the runs and fail when they take longer (e.g. 2h; 0 waits as long as they run)"),
		noWait:      fs.Bool("no-wait", false, "return once the runs are started"),
		poll:        fs.Duration("poll", 5*time.Second, "how often each run is polled"),
		heartbeat:   fs.Duration("heartbeat", time.Minute, "how often a still-running line is printed while nothing changes"),
		fullRefresh: fs.Bool("full-refresh", false, "update pipelines with a full refresh: reset every table and recompute it"),
	}
}

// runJobs runs the named jobs and pipelines of a deployed target and
// reports them. Their ids come from the target's deployment state.
func runJobs(ctx context.Context, inv *invocation, dt *deployTarget, keys []string, rf waitFlags) outcome {
	if *rf.poll <= 0 || *rf.heartbeat <= 0 || *rf.timeout < 0 {
		return outcome{code: bad(inv, "--poll and --heartbeat must be positive and --timeout not negative")}
	}
	refs, err := run.Resolve(keys, defined(dt))
	if err != nil {
		return outcome{code: bad(inv, "%v", err)}
	}
	ids, err := deploy.DeployedIDs(ctx, dt.w, dt.b.Workspace.StatePath)
	if err != nil {
		return outcome{code: failed(inv, "%v", err)}
	}
	list, err := run.Bind(refs, ids.Jobs, ids.Pipelines, dt.b.Target)
	if err != nil {
		return outcome{code: failed(inv, "%v", err)}
	}
	opts := run.Options{
		Out: inv.stdout, PollInterval: *rf.poll, Heartbeat: *rf.heartbeat, Timeout: *rf.timeout,
		NoWait: *rf.noWait, Host: dt.w.Config.Host, FullRefresh: *rf.fullRefresh,
	}
	if inv.onActions {
		opts.Log = newAction(inv)
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
	outputs["result"] = result(ok)
	var o outcome
	for _, k := range []string{"run_ids", "run_urls", "update_ids", "update_urls", "result"} {
		if v, ok := outputs[k]; ok {
			o.outputs = append(o.outputs, output{k, v})
		}
	}
	if *rf.noWait && err == nil {
		return o
	}
	fmt.Fprintln(inv.stdout)
	run.WriteText(inv.stdout, results)
	var md strings.Builder
	fmt.Fprintf(&md, "## Runs on %s\n\n", diag.MarkdownCode(dt.b.Target))
	run.WriteMarkdown(&md, results)
	o.summary, o.annotations = md.String(), run.Findings(results)
	o.code = exitFailed
	switch {
	case errors.Is(err, context.Canceled):
		o.say = "cancelled; the runs it started were cancelled"
	case errors.Is(err, run.ErrTimeout):
		o.say = fmt.Sprintf("%v; the runs were cancelled", err)
	case err != nil:
		o.say = err.Error()
	case o.annotations.AtLeast(diag.Error):
		o.say = run.NotSucceeded(results)
	default:
		o.code = exitOK
	}
	return o
}

// checkKeys returns exit code 2, having said so, when the bundle defines
// no job or pipeline of one of the keys.
func checkKeys(inv *invocation, dt *deployTarget, keys []string) int {
	if _, err := run.Resolve(keys, defined(dt)); err != nil {
		return bad(inv, "%v", err)
	}
	return exitOK
}

// defined names the jobs and pipelines of the bundle, for run.Resolve.
func defined(dt *deployTarget) run.Defined {
	return run.Defined{Bundle: dt.b.Name, Jobs: jobKeys(dt), Pipelines: pipelineKeys(dt)}
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
