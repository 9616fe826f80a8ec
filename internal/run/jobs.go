package run

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/jobs"
)

func (j Job) bind(api APIs, r *Result) remote {
	r.Job = j
	return &jobRemote{api: api.Jobs}
}

// jobRemote drives one run of a job through the Jobs API.
type jobRemote struct {
	api jobs.JobsInterface
}

func (j *jobRemote) start(ctx context.Context, r *Result, opts Options) error {
	req := jobs.RunNow{JobId: r.Job.ID}
	if opts.IdempotencyKey != "" {
		req.IdempotencyToken = idempotencyToken(opts.IdempotencyKey, r.Job.Key)
	}
	w, err := j.api.RunNow(ctx, req)
	if err != nil {
		return fmt.Errorf("failed to start job %q (%d): %w", r.Job.Key, r.Job.ID, err)
	}
	r.RunID = w.RunId
	r.URL = runURL(opts.Host, r.Job.ID, w.RunId, "")
	return nil
}

func (j *jobRemote) poll(ctx context.Context, r *Result, opts Options) (bool, error) {
	run, err := j.api.GetRun(ctx, jobs.GetRunRequest{RunId: r.RunID})
	if err != nil {
		return false, fmt.Errorf("failed to get run %d of %s: %w", r.RunID, r.Job.Key, err)
	}
	r.apply(run, opts.Host, opts.Now())
	return terminal(run), nil
}

func (j *jobRemote) finish(ctx context.Context, r *Result) error {
	return r.collectOutputs(ctx, j.api)
}

func (j *jobRemote) cancel(ctx context.Context, r *Result, opts Options) {
	if _, err := j.api.CancelRun(ctx, jobs.CancelRun{RunId: r.RunID}); err != nil {
		fmt.Fprintf(opts.Out, "failed to cancel run %d of %s: %v\n", r.RunID, r.Job.Key, err)
		return
	}
	fmt.Fprintf(opts.Out, "cancelled run %d of %s\n", r.RunID, r.Job.Key)
	// Read the tasks once more so the report shows them cancelled, not as
	// they were at the last poll.
	if run, err := j.api.GetRun(ctx, jobs.GetRunRequest{RunId: r.RunID}); err == nil {
		r.applyTasks(run, opts.Host, opts.Now())
	}
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

// idempotencyToken makes a run-now token of at most 64 characters.
func idempotencyToken(key, job string) string {
	t := key + "-" + job
	if len(t) > 64 {
		t = t[:64]
	}
	return t
}
