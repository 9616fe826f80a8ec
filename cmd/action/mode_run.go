package main

import (
	"context"
	"encoding/json"
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
		dt, _, code := loadForDeploy(ctx, inv, tf.wf, loadRequest{dir: *tf.dir, target: t, vars: tf.vars})
		if dt == nil {
			return outcome{code: code}
		}
		return runJobs(ctx, inv, dt, args, wait)
	}
}

// waitFlags are the flags of run and test --integration.
type waitFlags struct {
	timeout   *time.Duration
	noWait    *bool
	poll      *time.Duration
	heartbeat *time.Duration
}

func declareWaitFlags(fs *flag.FlagSet) waitFlags {
	return waitFlags{
		timeout:   fs.Duration("timeout", 0, "cancel the runs and fail when they take longer (e.g. 2h; 0 waits as long as they run)"),
		noWait:    fs.Bool("no-wait", false, "return once the runs are started"),
		poll:      fs.Duration("poll", 5*time.Second, "how often each run is polled"),
		heartbeat: fs.Duration("heartbeat", time.Minute, "how often a still-running line is printed while nothing changes"),
	}
}

// runJobs runs the named jobs of a deployed target and reports them. Job
// ids come from the target's deployment state.
func runJobs(ctx context.Context, inv *invocation, dt *deployTarget, keys []string, rf waitFlags) outcome {
	if *rf.poll <= 0 || *rf.heartbeat <= 0 || *rf.timeout < 0 {
		return outcome{code: bad(inv, "--poll and --heartbeat must be positive and --timeout not negative")}
	}
	if code := checkJobs(inv, dt, keys); code != exitOK {
		return outcome{code: code}
	}
	ids, err := deploy.DeployedJobs(ctx, dt.w, dt.b.Workspace.StatePath)
	if err != nil {
		return outcome{code: failed(inv, "%v", err)}
	}
	var list []run.Job
	for _, k := range keys {
		id, ok := ids[k]
		if !ok {
			return outcome{code: failed(inv, "job %q is not deployed to target %q; deploy the target first", k, dt.b.Target)}
		}
		list = append(list, run.Job{Key: k, ID: id})
	}
	opts := run.Options{
		Out: inv.stdout, PollInterval: *rf.poll, Heartbeat: *rf.heartbeat, Timeout: *rf.timeout,
		NoWait: *rf.noWait, Host: dt.w.Config.Host,
	}
	if inv.onActions {
		opts.Log = newAction(inv)
		// A retried step must not start a second run of the same job.
		if id := inv.getenv("GITHUB_RUN_ID"); id != "" {
			opts.IdempotencyKey = "brickci-" + id + "-" + inv.getenv("GITHUB_RUN_ATTEMPT") + "-" + dt.b.Target
		}
	}
	results, err := run.Run(ctx, dt.w.Jobs, list, opts)

	runIDs, urls := map[string]int64{}, map[string]string{}
	for _, r := range results {
		if r.RunID != 0 {
			runIDs[r.Job.Key], urls[r.Job.Key] = r.RunID, r.URL
		}
	}
	idJSON, _ := json.Marshal(runIDs)
	urlJSON, _ := json.Marshal(urls)
	ok := err == nil
	for _, r := range results {
		ok = ok && (*rf.noWait || r.Succeeded())
	}
	o := outcome{outputs: []output{{"run_ids", string(idJSON)}, {"run_urls", string(urlJSON)}, {"result", result(ok)}}}
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
		o.say = fmt.Sprintf("%d of %d job runs did not succeed", countFailed(results), len(results))
	default:
		o.code = exitOK
	}
	return o
}

func countFailed(results []run.Result) int {
	n := 0
	for _, r := range results {
		if !r.Succeeded() {
			n++
		}
	}
	return n
}

// checkJobs returns exit code 2, having said so, when the bundle does not
// define one of the jobs.
func checkJobs(inv *invocation, dt *deployTarget, keys []string) int {
	for _, k := range keys {
		if _, ok := dt.b.Jobs[k]; !ok {
			if hint := diag.DidYouMean(k, jobKeys(dt)); hint != "" {
				return bad(inv, "job %q is not defined in bundle %q%s", k, dt.b.Name, hint)
			}
			return bad(inv, "job %q is not defined in bundle %q; its jobs are %s", k, dt.b.Name, strings.Join(jobKeys(dt), ", "))
		}
	}
	return exitOK
}

func jobKeys(dt *deployTarget) []string {
	return slices.Sorted(maps.Keys(dt.b.Jobs))
}
