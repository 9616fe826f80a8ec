package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/databricks/databricks-sdk-go/service/jobs"
)

// Job names one deployed job to run.
type Job struct {
	Key string // the bundle's resource key, e.g. model_workflow
	ID  int64  // the job id from the deployment state
}

// Logger receives progress. Group and EndGroup bracket one job's lines
// (inside Actions they become collapsible log groups).
type Logger interface {
	Group(title string)
	EndGroup()
}

// Options tune how runs are started and watched.
type Options struct {
	// Out receives progress lines. Nil discards them.
	Out io.Writer
	// Log brackets each job's lines; nil means no groups.
	Log Logger
	// PollInterval is how often each run is polled (default 5s).
	PollInterval time.Duration
	// Heartbeat is how often a "still running" line is printed while nothing
	// changes (default 1m).
	Heartbeat time.Duration
	// Timeout cancels the remote runs and fails when they take longer
	// (0 means no limit).
	Timeout time.Duration
	// NoWait returns right after the runs are started.
	NoWait bool
	// IdempotencyKey, when set, makes run-now idempotent per job: retrying
	// the same step never starts a second run. The job key is appended.
	IdempotencyKey string
	// Host is the workspace URL. Every run and task run is linked as
	// <host>/jobs/<job_id>/runs/<run_id>, one format known as soon as the
	// run starts; without a host the API's run_page_url is used.
	Host string
	// CancelTimeout bounds the cancellation requests sent after the context
	// ends (default 5s, inside the 7.5 s the runner allows between SIGINT
	// and SIGTERM).
	CancelTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Minute
	}
	if o.CancelTimeout <= 0 {
		o.CancelTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Task is the outcome of one task of a run.
type Task struct {
	Key       string
	RunID     int64
	DependsOn []string
	// State is the life cycle state (PENDING, RUNNING, TERMINATED, SKIPPED…).
	State string
	// Result is the result state once terminated (SUCCESS, FAILED,
	// UPSTREAM_FAILED, CANCELED…), or "".
	Result   string
	Message  string
	Duration time.Duration
	URL      string
	// Error, Trace and Output come from the task's run output when it failed.
	Error  string
	Trace  string
	Output string
}

// Result is the outcome of one job's run.
type Result struct {
	Job    Job
	RunID  int64
	URL    string
	State  string
	Result string // SUCCESS, FAILED, CANCELED, TIMEDOUT…; "" when not waited for
	// Message explains a result other than SUCCESS.
	Message string
	// Duration is from the run's start_time to its end_time as the API
	// reports them (to now while it runs), not from when it was polled.
	Duration time.Duration
	Tasks    []Task

	started    time.Time // when run-now answered
	apiStarted time.Time // the run's own start_time, once known
}

// Succeeded reports whether the run ended in SUCCESS.
func (r Result) Succeeded() bool { return r.Result == string(jobs.RunResultStateSuccess) }

// ErrTimeout is wrapped by Run's error when Options.Timeout passed.
var ErrTimeout = errors.New("timed out")

// Run starts every job with run-now, in parallel, then (unless NoWait)
// watches them until all finish. When ctx ends or the timeout passes, every
// run it started is cancelled before it returns. It returns one Result per
// job in the order given; the error is non-nil when a run could not be
// started or watched, or was cancelled or timed out — a run that finished
// with FAILED is reported in its Result, not as an error.
func Run(ctx context.Context, api jobs.JobsInterface, list []Job, opts Options) ([]Result, error) {
	opts.defaults()
	results := make([]Result, len(list))
	for i, j := range list {
		results[i].Job = j
	}
	// Start all runs first so that a cancellation can reach every one.
	var startErrs []error
	for i, j := range list {
		req := jobs.RunNow{JobId: j.ID}
		if opts.IdempotencyKey != "" {
			req.IdempotencyToken = idempotencyToken(opts.IdempotencyKey, j.Key)
		}
		w, err := api.RunNow(ctx, req)
		if err != nil {
			startErrs = append(startErrs, fmt.Errorf("failed to start job %q (%d): %w", j.Key, j.ID, err))
			continue
		}
		results[i].RunID = w.RunId
		results[i].started = opts.Now()
		results[i].URL = runURL(opts.Host, j.ID, w.RunId, "")
		fmt.Fprintf(opts.Out, "started %s: run %d %s\n", j.Key, w.RunId, results[i].URL)
	}
	if len(startErrs) > 0 {
		cancelStarted(api, results, opts)
		return results, errors.Join(startErrs...)
	}
	if opts.NoWait {
		return results, nil
	}

	waitCtx := ctx
	var cancelTimeout context.CancelFunc = func() {}
	if opts.Timeout > 0 {
		waitCtx, cancelTimeout = context.WithTimeout(ctx, opts.Timeout)
	}
	defer cancelTimeout()

	// Inside Actions each job gets one log group. Groups cannot interleave,
	// so with one job its lines stream inside the group, and with several
	// each job's lines are printed as one group when it finishes while
	// heartbeats keep the log visibly alive.
	var outMu sync.Mutex
	streamGroup := opts.Log != nil && len(results) == 1
	if streamGroup {
		opts.Log.Group(results[0].Job.Key)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(results))
	for i := range results {
		wg.Add(1)
		go func(r *Result) {
			defer wg.Done()
			var buffered []string
			emit := func(lines []string, heartbeat bool) {
				outMu.Lock()
				defer outMu.Unlock()
				if opts.Log != nil && !streamGroup && !heartbeat {
					buffered = append(buffered, lines...)
					return
				}
				for _, l := range lines {
					fmt.Fprintln(opts.Out, l)
				}
			}
			errs[i] = watch(waitCtx, api, r, opts, emit)
			if len(buffered) > 0 {
				outMu.Lock()
				opts.Log.Group(r.Job.Key)
				for _, l := range buffered {
					fmt.Fprintln(opts.Out, l)
				}
				opts.Log.EndGroup()
				outMu.Unlock()
			}
		}(&results[i])
	}
	wg.Wait()
	if streamGroup {
		opts.Log.EndGroup()
	}

	if waitCtx.Err() != nil {
		cancelStarted(api, results, opts)
		why := "cancelled"
		if ctx.Err() == nil {
			why = "timed out after " + opts.Timeout.String()
		}
		for i := range results {
			if results[i].Result == "" {
				results[i].Result = map[bool]string{true: "CANCELED", false: "TIMEDOUT"}[ctx.Err() != nil]
				results[i].Message = "run " + why + "; the remote run was cancelled"
				results[i].Duration = opts.Now().Sub(results[i].startTime())
			}
		}
		if ctx.Err() == nil {
			return results, fmt.Errorf("runs %w after %s", ErrTimeout, opts.Timeout)
		}
		return results, fmt.Errorf("runs cancelled: %w", ctx.Err())
	}
	return results, errors.Join(errs...)
}

// idempotencyToken makes a run-now token of at most 64 characters.
func idempotencyToken(key, job string) string {
	t := key + "-" + job
	if len(t) > 64 {
		t = t[:64]
	}
	return t
}

// cancelStarted cancels every started, unfinished run with a fresh context:
// the caller's context is usually the one that just ended.
func cancelStarted(api jobs.JobsInterface, results []Result, opts Options) {
	ctx, cancel := context.WithTimeout(context.Background(), opts.CancelTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range results {
		r := &results[i]
		if r.RunID == 0 || r.Result != "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := api.CancelRun(ctx, jobs.CancelRun{RunId: r.RunID}); err != nil {
				fmt.Fprintf(opts.Out, "failed to cancel run %d of %s: %v\n", r.RunID, r.Job.Key, err)
				return
			}
			fmt.Fprintf(opts.Out, "cancelled run %d of %s\n", r.RunID, r.Job.Key)
			// Read the tasks once more so the report shows them cancelled,
			// not as they were at the last poll.
			if run, err := api.GetRun(ctx, jobs.GetRunRequest{RunId: r.RunID}); err == nil {
				r.applyTasks(run, opts.Host, opts.Now())
			}
		}()
	}
	wg.Wait()
}

// watch polls one run until it terminates or ctx ends, printing a line per
// task state change and a heartbeat while nothing changes.
func watch(ctx context.Context, api jobs.JobsInterface, r *Result, opts Options, emit func(lines []string, heartbeat bool)) error {
	start := opts.Now()
	lastChange := start
	seen := map[string]string{}
	ticker := time.NewTicker(opts.PollInterval)
	defer ticker.Stop()
	for {
		run, err := api.GetRun(ctx, jobs.GetRunRequest{RunId: r.RunID})
		if err != nil {
			// The SDK's rate limiter refuses a request that could not finish
			// before the deadline without waiting for it; that is the
			// deadline, not a failure of the run.
			if d, ok := ctx.Deadline(); ok && time.Until(d) < opts.PollInterval+time.Second {
				<-ctx.Done()
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("failed to get run %d of %s: %w", r.RunID, r.Job.Key, err)
		}
		now := opts.Now()
		elapsed := now.Sub(start).Round(time.Second)
		r.apply(run, opts.Host, now)
		var lines []string
		for _, t := range r.Tasks {
			st := taskStateWord(t)
			if seen[t.Key] != st {
				seen[t.Key] = st
				lastChange = now
				lines = append(lines, fmt.Sprintf("[%s] %s %s: %s", clock(elapsed), r.Job.Key, t.Key, st))
			}
		}
		if len(lines) > 0 {
			emit(lines, false)
		}
		if terminal(run) {
			if run.StartTime == 0 {
				r.Duration = now.Sub(start) // the API gave no times
			}
			emit([]string{fmt.Sprintf("[%s] %s: %s", clock(elapsed), r.Job.Key, r.Result)}, false)
			return r.collectOutputs(ctx, api)
		}
		if now.Sub(lastChange) >= opts.Heartbeat {
			lastChange = now
			emit([]string{fmt.Sprintf("[%s] %s: still running (%s)", clock(elapsed), r.Job.Key, runningTasks(r.Tasks))}, true)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

func clock(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

func runningTasks(ts []Task) string {
	var names []string
	for _, t := range ts {
		if t.State == "RUNNING" {
			names = append(names, t.Key)
		}
	}
	if len(names) == 0 {
		return "waiting"
	}
	return strings.Join(names, ", ")
}

func taskStateWord(t Task) string {
	if t.Result != "" {
		return t.Result
	}
	return t.State
}

func terminal(run *jobs.Run) bool {
	if run.State == nil {
		return false
	}
	switch run.State.LifeCycleState {
	case jobs.RunLifeCycleStateTerminated, jobs.RunLifeCycleStateSkipped, jobs.RunLifeCycleStateInternalError:
		return true
	}
	return false
}

// startTime is the run's own start time when the API reported it, else
// when run-now answered.
func (r *Result) startTime() time.Time {
	if !r.apiStarted.IsZero() {
		return r.apiStarted
	}
	return r.started
}

// apply copies what the API reports about a run into r.
func (r *Result) apply(run *jobs.Run, host string, now time.Time) {
	if r.URL == "" {
		r.URL = run.RunPageUrl
	}
	if run.StartTime > 0 {
		r.apiStarted = time.UnixMilli(run.StartTime)
		end := now
		if run.EndTime > 0 {
			end = time.UnixMilli(run.EndTime)
		}
		r.Duration = end.Sub(r.apiStarted)
	}
	if run.State != nil {
		r.State = string(run.State.LifeCycleState)
		if terminal(run) {
			r.Result = string(run.State.ResultState)
			if r.Result == "" {
				r.Result = r.State
			}
			if r.Result != string(jobs.RunResultStateSuccess) {
				r.Message = run.State.StateMessage
			}
		}
	}
	r.applyTasks(run, host, now)
}

// applyTasks copies what the API reports about a run's tasks into r.
func (r *Result) applyTasks(run *jobs.Run, host string, now time.Time) {
	byKey := map[string]int{}
	for i, t := range r.Tasks {
		byKey[t.Key] = i
	}
	for _, rt := range run.Tasks {
		t := Task{Key: rt.TaskKey, RunID: rt.RunId, URL: runURL(host, r.Job.ID, rt.RunId, rt.RunPageUrl)}
		for _, d := range rt.DependsOn {
			t.DependsOn = append(t.DependsOn, d.TaskKey)
		}
		if rt.State != nil {
			t.State = string(rt.State.LifeCycleState)
			t.Result = string(rt.State.ResultState)
			t.Message = rt.State.StateMessage
		}
		if rt.StartTime > 0 {
			end := rt.EndTime
			if end == 0 {
				end = now.UnixMilli()
			}
			t.Duration = time.Duration(end-rt.StartTime) * time.Millisecond
		}
		if i, ok := byKey[t.Key]; ok {
			t.Error, t.Trace, t.Output = r.Tasks[i].Error, r.Tasks[i].Trace, r.Tasks[i].Output
			r.Tasks[i] = t
		} else {
			byKey[t.Key] = len(r.Tasks)
			r.Tasks = append(r.Tasks, t)
		}
	}
	orderTasks(r.Tasks)
}

// collectOutputs fetches the error, trace and output of every failed task.
// get-output takes the task's own run id, never the multi-task parent's.
func (r *Result) collectOutputs(ctx context.Context, api jobs.JobsInterface) error {
	for i := range r.Tasks {
		t := &r.Tasks[i]
		if t.Result != string(jobs.RunResultStateFailed) && t.Result != string(jobs.RunResultStateTimedout) {
			continue
		}
		out, err := api.GetRunOutput(ctx, jobs.GetRunOutputRequest{RunId: t.RunID})
		if err != nil {
			return fmt.Errorf("failed to get the output of task %q (run %d): %w", t.Key, t.RunID, err)
		}
		t.Error, t.Trace = out.Error, out.ErrorTrace
		if out.NotebookOutput != nil {
			t.Output = out.NotebookOutput.Result
		}
		if t.Output == "" {
			t.Output = out.Logs
		}
	}
	return nil
}

// orderTasks sorts tasks topologically by depends_on (ties by key), so
// output reads in the order the tasks run.
func orderTasks(ts []Task) {
	depth := map[string]int{}
	byKey := map[string]Task{}
	for _, t := range ts {
		byKey[t.Key] = t
	}
	var visit func(k string, guard int) int
	visit = func(k string, guard int) int {
		if d, ok := depth[k]; ok {
			return d
		}
		if guard > len(ts) {
			return 0 // a cycle cannot come from the API; stay finite anyway
		}
		d := 0
		for _, p := range byKey[k].DependsOn {
			if _, ok := byKey[p]; ok {
				d = max(d, visit(p, guard+1)+1)
			}
		}
		depth[k] = d
		return d
	}
	for _, t := range ts {
		visit(t.Key, 0)
	}
	sort.SliceStable(ts, func(i, j int) bool {
		if depth[ts[i].Key] != depth[ts[j].Key] {
			return depth[ts[i].Key] < depth[ts[j].Key]
		}
		return ts[i].Key < ts[j].Key
	})
}

// runURL links a run or task run: <host>/jobs/<job_id>/runs/<run_id> when
// the host is known (the Jobs UI opens task runs at the same path), else the
// page URL the API returned.
func runURL(host string, jobID, runID int64, pageURL string) string {
	if host == "" || runID == 0 {
		return pageURL
	}
	return fmt.Sprintf("%s/jobs/%d/runs/%d", strings.TrimRight(host, "/"), jobID, runID)
}
