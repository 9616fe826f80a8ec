package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
)

// Job names one deployed job to run.
type Job struct {
	Key string // the bundle's resource key, e.g. model_workflow
	ID  int64  // the job id from the deployment state
}

// Pipeline names one deployed pipeline to update.
type Pipeline struct {
	Key string // the bundle's resource key, e.g. ingest_pipeline
	ID  string // the pipeline id from the deployment state
}

// Resource is a deployed resource All can run: a Job or a Pipeline.
type Resource interface {
	// bind records the resource in r and returns what drives it.
	bind(api APIs, r *Result) remote
}

// APIs are the workspace services All talks to. Only those of the kinds
// of resources run are needed.
type APIs struct {
	Jobs      jobs.JobsInterface
	Pipelines pipelines.PipelinesInterface
}

// remote drives one run of one kind of resource: a job run or a pipeline
// update. The machinery around it (starting everything first, polling,
// progress lines, heartbeats, timeouts, cancellation) is shared.
type remote interface {
	// start starts the run and records its id and URL in r.
	start(ctx context.Context, r *Result, opts Options) error
	// poll reads the run's state and tasks into r and reports whether the
	// run ended.
	poll(ctx context.Context, r *Result, opts Options) (done bool, err error)
	// finish reads what is only known once the run ended.
	finish(ctx context.Context, r *Result) error
	// cancel cancels the unfinished run, says so on opts.Out and reads its
	// tasks once more.
	cancel(ctx context.Context, r *Result, opts Options)
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
	// Pipeline updates have no such token.
	IdempotencyKey string
	// FullRefresh makes every pipeline update a full refresh: all tables
	// are reset and recomputed from scratch.
	FullRefresh bool
	// Host is the workspace URL. Every run and task run is linked as
	// <host>/jobs/<job_id>/runs/<run_id>, and every pipeline update as
	// <host>/pipelines/<pipeline_id>/updates/<update_id>, formats known as
	// soon as the run starts; without a host a job run's run_page_url is
	// used and a pipeline update is not linked.
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

// Task is the outcome of one task of a job run, or of one flow of a
// pipeline update.
type Task struct {
	// Key is the task key, or the flow name.
	Key string
	// RunID is the task's own run id; 0 for a flow.
	RunID     int64
	DependsOn []string
	// State is the life cycle state (PENDING, RUNNING, TERMINATED, SKIPPED…),
	// or a flow's last status (QUEUED, RUNNING, COMPLETED, FAILED…).
	State string
	// Result is the result state once terminated (SUCCESS, FAILED,
	// UPSTREAM_FAILED, CANCELED…; for a flow COMPLETED, FAILED, SKIPPED,
	// STOPPED…), or "".
	Result   string
	Message  string
	Duration time.Duration
	// URL links the task run; "" for a flow.
	URL string
	// Error, Trace and Output come from the task's run output when it
	// failed, or from the error of a flow's failed event.
	Error  string
	Trace  string
	Output string
}

// Result is the outcome of one job's run or one pipeline's update.
type Result struct {
	// Job is the job run; zero for a pipeline.
	Job Job
	// Pipeline is the pipeline updated; zero for a job.
	Pipeline Pipeline
	// RunID is the job's run id; 0 for a pipeline.
	RunID int64
	// UpdateID is the pipeline's update id; "" for a job.
	UpdateID string
	URL      string
	State    string
	// Result is SUCCESS, FAILED, CANCELED, TIMEDOUT… for a job, COMPLETED,
	// FAILED, CANCELED or TIMEDOUT for a pipeline; "" when not waited for.
	Result string
	// Message explains a result other than success.
	Message string
	// Duration is from the run's start to its end as the API reports them
	// (to now while it runs), not from when it was polled.
	Duration time.Duration
	// Tasks are the job's tasks, or the pipeline's flows.
	Tasks []Task

	started    time.Time // when the start request answered
	apiStarted time.Time // the run's own start time, once known
	rem        remote
	qualified  bool // a job and a pipeline of this key run together
}

// Name is how r is shown in progress and reports: its key, or jobs.KEY
// and pipelines.KEY when a job and a pipeline of the same key run
// together.
func (r Result) Name() string {
	switch {
	case !r.qualified:
		return r.Key()
	case r.IsPipeline():
		return KindPipeline + "." + r.Key()
	default:
		return KindJob + "." + r.Key()
	}
}

// Key is the bundle's resource key of the job or pipeline.
func (r Result) Key() string {
	if r.IsPipeline() {
		return r.Pipeline.Key
	}
	return r.Job.Key
}

// IsPipeline reports whether r is a pipeline update rather than a job run.
func (r Result) IsPipeline() bool { return r.Pipeline != Pipeline{} }

// Succeeded reports whether the run ended in SUCCESS, or the update in
// COMPLETED.
func (r Result) Succeeded() bool {
	if r.IsPipeline() {
		return r.Result == string(pipelines.UpdateInfoStateCompleted)
	}
	return r.Result == string(jobs.RunResultStateSuccess)
}

// noun names what was started: a run or an update.
func (r Result) noun() string {
	if r.IsPipeline() {
		return "update"
	}
	return "run"
}

// runID is the run or update id as text.
func (r Result) runID() string {
	if r.IsPipeline() {
		return r.UpdateID
	}
	return fmt.Sprint(r.RunID)
}

// ErrTimeout is wrapped by Run's error when Options.Timeout passed.
var ErrTimeout = errors.New("timed out")

// Run starts every job with run-now, in parallel, then (unless NoWait)
// watches them until all finish. When ctx ends or the timeout passes, every
// run it started is cancelled before it returns. It returns one Result per
// job in the order given; the error is non-nil when a run could not be
// started or watched, or was cancelled or timed out — a run that finished
// with FAILED is reported in its Result, not as an error.
func Run(ctx context.Context, api jobs.JobsInterface, list []Job, opts Options) ([]Result, error) {
	rs := make([]Resource, len(list))
	for i, j := range list {
		rs[i] = j
	}
	return All(ctx, APIs{Jobs: api}, rs, opts)
}

// All is Run for jobs and pipelines alike: it starts a run of every job
// and an update of every pipeline, watches them together with one timeout,
// and cancels runs and stops updates when ctx ends or the timeout passes.
// Results are in the order given.
func All(ctx context.Context, api APIs, list []Resource, opts Options) ([]Result, error) {
	opts.defaults()
	results := make([]Result, len(list))
	kinds := map[string]map[bool]bool{} // key → kinds run, by IsPipeline
	for i, res := range list {
		results[i].rem = res.bind(api, &results[i])
		k := results[i].Key()
		if kinds[k] == nil {
			kinds[k] = map[bool]bool{}
		}
		kinds[k][results[i].IsPipeline()] = true
	}
	for i := range results {
		results[i].qualified = len(kinds[results[i].Key()]) > 1
	}
	// Start all runs first so that a cancellation can reach every one.
	var startErrs []error
	for i := range results {
		r := &results[i]
		if err := r.rem.start(ctx, r, opts); err != nil {
			startErrs = append(startErrs, err)
			continue
		}
		r.started = opts.Now()
		fmt.Fprintf(opts.Out, "started %s: %s %s %s\n", r.Name(), r.noun(), r.runID(), r.URL)
	}
	if len(startErrs) > 0 {
		cancelStarted(results, opts)
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
		opts.Log.Group(results[0].Name())
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
			errs[i] = watch(waitCtx, r, opts, emit)
			if len(buffered) > 0 {
				outMu.Lock()
				opts.Log.Group(r.Name())
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
		cancelStarted(results, opts)
		why := "cancelled"
		if ctx.Err() == nil {
			why = "timed out after " + opts.Timeout.String()
		}
		for i := range results {
			r := &results[i]
			if r.Result == "" {
				r.Result = map[bool]string{true: "CANCELED", false: "TIMEDOUT"}[ctx.Err() != nil]
				r.Message = r.noun() + " " + why + "; " + map[bool]string{true: "the update was stopped", false: "the remote run was cancelled"}[r.IsPipeline()]
				r.Duration = opts.Now().Sub(r.startTime())
			}
		}
		if ctx.Err() == nil {
			return results, fmt.Errorf("runs %w after %s", ErrTimeout, opts.Timeout)
		}
		return results, fmt.Errorf("runs cancelled: %w", ctx.Err())
	}
	return results, errors.Join(errs...)
}

// cancelStarted cancels every started, unfinished run with a fresh context:
// the caller's context is usually the one that just ended.
func cancelStarted(results []Result, opts Options) {
	ctx, cancel := context.WithTimeout(context.Background(), opts.CancelTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range results {
		r := &results[i]
		if r.started.IsZero() || r.Result != "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.rem.cancel(ctx, r, opts)
		}()
	}
	wg.Wait()
}

// updateStateKey keys a pipeline update's own state among its flows' in
// watch; no flow is named so.
const updateStateKey = "\x00update"

// watch polls one run until it terminates or ctx ends, printing a line per
// task state change (for a pipeline also per update state change) and a
// heartbeat while nothing changes.
func watch(ctx context.Context, r *Result, opts Options, emit func(lines []string, heartbeat bool)) error {
	start := opts.Now()
	lastChange := start
	seen := map[string]string{}
	ticker := time.NewTicker(opts.PollInterval)
	defer ticker.Stop()
	for {
		done, err := r.rem.poll(ctx, r, opts)
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
			return err
		}
		now := opts.Now()
		elapsed := now.Sub(start).Round(time.Second)
		var lines []string
		if r.IsPipeline() && !done && r.State != "" && seen[updateStateKey] != r.State {
			seen[updateStateKey] = r.State
			lastChange = now
			lines = append(lines, fmt.Sprintf("[%s] %s: %s", clock(elapsed), r.Name(), r.State))
		}
		for _, t := range r.Tasks {
			st := taskStateWord(t)
			if seen[t.Key] != st {
				seen[t.Key] = st
				lastChange = now
				lines = append(lines, fmt.Sprintf("[%s] %s %s: %s", clock(elapsed), r.Name(), t.Key, st))
			}
		}
		if len(lines) > 0 {
			emit(lines, false)
		}
		if done {
			if r.apiStarted.IsZero() {
				r.Duration = now.Sub(start) // the API gave no times
			}
			emit([]string{fmt.Sprintf("[%s] %s: %s", clock(elapsed), r.Name(), r.Result)}, false)
			return r.rem.finish(ctx, r)
		}
		if now.Sub(lastChange) >= opts.Heartbeat {
			lastChange = now
			emit([]string{fmt.Sprintf("[%s] %s: still running (%s)", clock(elapsed), r.Name(), runningTasks(r.Tasks))}, true)
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

// startTime is the run's own start time when the API reported it, else
// when the start request answered.
func (r *Result) startTime() time.Time {
	if !r.apiStarted.IsZero() {
		return r.apiStarted
	}
	return r.started
}
