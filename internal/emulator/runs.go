package emulator

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/databricks/databricks-sdk-go/service/jobs"
)

// run is a job run. Its state is never stored: view computes it from the
// creation time, the task durations and outcomes, and the cancel time.
type run struct {
	id         int64
	jobID      int64
	name       string
	creator    string
	base       string
	created    time.Time
	setup      time.Duration
	duration   time.Duration
	tasks      []runTaskSpec
	order      []int
	canceledAt time.Time
	params     map[string]string
}

// runTaskSpec is one task of a run, fixed when the run starts.
type runTaskSpec struct {
	runID   int64
	key     string
	deps    []int
	outcome Outcome
	task    jobs.RunTask
}

// taskState is the computed state of one task at a point in time.
type taskState struct {
	started bool
	ended   bool
	start   time.Time
	end     time.Time
	life    jobs.RunLifeCycleState
	result  jobs.RunResultState
	message string
}

func errRunMissing(id int64) error {
	// The SDK maps this 400 message to ErrResourceDoesNotExist for runs/get.
	return errInvalidParameter("Run %d does not exist.", id)
}

func newRun(ws *workspace, j *job, only []string, cfg Config, dur time.Duration, base string, now time.Time) (*run, error) {
	r := &run{id: ws.newID(), jobID: j.id, name: j.settings.Name, creator: ws.who.userName, base: base, created: now, setup: dur / 4, duration: dur}
	var tasks []jobs.Task
	for _, t := range j.settings.Tasks {
		if len(only) == 0 || slices.Contains(only, t.TaskKey) {
			tasks = append(tasks, t)
		}
	}
	for _, k := range only {
		if !slices.ContainsFunc(tasks, func(t jobs.Task) bool { return t.TaskKey == k }) {
			return nil, errInvalidParameter("task %q given in only is not a task of job %d", k, j.id)
		}
	}
	index := map[string]int{}
	for i, t := range tasks {
		index[t.TaskKey] = i
	}
	for i, t := range tasks {
		spec := runTaskSpec{runID: ws.newID(), key: t.TaskKey, outcome: OutcomeSuccess}
		if o, ok := cfg.Outcomes[t.TaskKey]; ok {
			spec.outcome = o
		}
		if err := convert(t, &spec.task); err != nil {
			return nil, err
		}
		for _, d := range t.DependsOn {
			if di, ok := index[d.TaskKey]; ok {
				spec.deps = append(spec.deps, di)
			}
		}
		// Dependencies on tasks left out by "only" are dropped, as they are
		// when Databricks runs a subset of tasks.
		spec.task.DependsOn = slices.DeleteFunc(slices.Clone(spec.task.DependsOn), func(d jobs.TaskDependency) bool {
			_, ok := index[d.TaskKey]
			return !ok
		})
		ws.taskRuns[spec.runID] = taskRef{runID: r.id, index: i}
		r.tasks = append(r.tasks, spec)
	}
	r.order = topoOrder(r.tasks)
	return r, nil
}

// topoOrder returns task indexes with every task after its dependencies.
// Tasks were validated acyclic when the job was saved.
func topoOrder(tasks []runTaskSpec) []int {
	var order []int
	seen := make([]bool, len(tasks))
	var visit func(i int)
	visit = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		for _, d := range tasks[i].deps {
			visit(d)
		}
		order = append(order, i)
	}
	for i := range tasks {
		visit(i)
	}
	return order
}

func (r *run) canceled(now time.Time) bool {
	return !r.canceledAt.IsZero() && !r.canceledAt.After(now)
}

// states computes every task's state at now.
func (r *run) states(now time.Time) []taskState {
	at := now
	if r.canceled(now) {
		at = r.canceledAt
	}
	runStart := r.created.Add(r.setup)
	out := make([]taskState, len(r.tasks))
	for _, i := range r.order {
		spec := r.tasks[i]
		st := taskState{life: jobs.RunLifeCycleStatePending, message: "waiting for the run to start"}
		ready, blocked, upstream := runStart, false, jobs.RunResultState("")
		for _, d := range spec.deps {
			dep := out[d]
			if !dep.ended {
				blocked = true
				continue
			}
			ready = later(ready, dep.end)
			switch dep.result {
			case jobs.RunResultStateSuccess:
			case jobs.RunResultStateCanceled, jobs.RunResultStateUpstreamCanceled:
				upstream = jobs.RunResultStateUpstreamCanceled
			default:
				if upstream == "" {
					upstream = jobs.RunResultStateUpstreamFailed
				}
			}
		}
		switch {
		case at.Before(runStart):
		case blocked:
			st.life, st.message = jobs.RunLifeCycleStateBlocked, "waiting for upstream tasks"
		case upstream != "":
			st = taskState{ended: true, start: ready, end: ready, life: jobs.RunLifeCycleStateSkipped, result: upstream,
				message: fmt.Sprintf("task %s was skipped because an upstream task did not succeed", spec.key)}
		case ready.After(at):
			st.life, st.message = jobs.RunLifeCycleStateBlocked, "waiting for upstream tasks"
		default:
			st = taskState{started: true, start: ready, life: jobs.RunLifeCycleStateRunning, message: "In run"}
			end := ready.Add(r.duration)
			if spec.outcome != OutcomeHang && !end.After(at) {
				st.ended, st.end, st.life = true, end, jobs.RunLifeCycleStateTerminated
				if spec.outcome == OutcomeFailed {
					st.result, st.message = jobs.RunResultStateFailed, fmt.Sprintf("task %s failed with message: the configured outcome is FAILED", spec.key)
				} else {
					st.result, st.message = jobs.RunResultStateSuccess, ""
				}
			}
		}
		out[i] = st
	}
	if r.canceled(now) {
		for _, i := range r.order {
			st := &out[i]
			if st.ended {
				continue
			}
			if st.started {
				st.ended, st.end, st.life, st.result, st.message = true, r.canceledAt, jobs.RunLifeCycleStateTerminated, jobs.RunResultStateCanceled, "run was cancelled"
				continue
			}
			st.ended, st.start, st.end, st.life = true, r.canceledAt, r.canceledAt, jobs.RunLifeCycleStateSkipped
			st.result, st.message = jobs.RunResultStateCanceled, "run was cancelled before the task started"
			for _, d := range r.tasks[i].deps {
				if res := out[d].result; res == jobs.RunResultStateCanceled || res == jobs.RunResultStateUpstreamCanceled {
					st.result = jobs.RunResultStateUpstreamCanceled
				}
			}
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// overall reduces task states to the run's state.
func (r *run) overall(now time.Time, states []taskState) (state jobs.RunState, status jobs.RunStatus, end time.Time) {
	switch {
	case r.canceled(now):
		state = jobs.RunState{LifeCycleState: jobs.RunLifeCycleStateTerminated, ResultState: jobs.RunResultStateCanceled,
			StateMessage: "run was cancelled", UserCancelledOrTimedout: true}
		status = jobs.RunStatus{State: jobs.RunLifecycleStateV2StateTerminated, TerminationDetails: &jobs.TerminationDetails{
			Code: jobs.TerminationCodeCodeUserCanceled, Type: jobs.TerminationTypeTypeSuccess, Message: "the run was cancelled by a user"}}
		return state, status, r.canceledAt
	case now.Before(r.created.Add(r.setup)):
		state = jobs.RunState{LifeCycleState: jobs.RunLifeCycleStatePending, StateMessage: "waiting for compute"}
		status = jobs.RunStatus{State: jobs.RunLifecycleStateV2StatePending}
		return state, status, time.Time{}
	}
	failed := ""
	for i, st := range states {
		if !st.ended {
			state = jobs.RunState{LifeCycleState: jobs.RunLifeCycleStateRunning, StateMessage: "In run"}
			status = jobs.RunStatus{State: jobs.RunLifecycleStateV2StateRunning}
			return state, status, time.Time{}
		}
		end = later(end, st.end)
		if st.result == jobs.RunResultStateFailed && failed == "" {
			failed = r.tasks[i].key
		}
	}
	if end.IsZero() {
		end = r.created.Add(r.setup)
	}
	if failed != "" {
		msg := fmt.Sprintf("task %s failed with message: the configured outcome is FAILED", failed)
		state = jobs.RunState{LifeCycleState: jobs.RunLifeCycleStateTerminated, ResultState: jobs.RunResultStateFailed, StateMessage: msg}
		status = jobs.RunStatus{State: jobs.RunLifecycleStateV2StateTerminated, TerminationDetails: &jobs.TerminationDetails{
			Code: jobs.TerminationCodeCodeRunExecutionError, Type: jobs.TerminationTypeTypeClientError, Message: msg}}
		return state, status, end
	}
	state = jobs.RunState{LifeCycleState: jobs.RunLifeCycleStateTerminated, ResultState: jobs.RunResultStateSuccess, StateMessage: ""}
	state.ForceSendFields = []string{"StateMessage"}
	status = jobs.RunStatus{State: jobs.RunLifecycleStateV2StateTerminated, TerminationDetails: &jobs.TerminationDetails{
		Code: jobs.TerminationCodeCodeSuccess, Type: jobs.TerminationTypeTypeSuccess, Message: ""}}
	return state, status, end
}

func (r *run) pageURL(runID int64) string {
	return r.base + "/#job/" + strconv.FormatInt(r.jobID, 10) + "/run/" + strconv.FormatInt(runID, 10)
}

func taskView(r *run, i int, st taskState) jobs.RunTask {
	t := r.tasks[i].task
	t.RunId = r.tasks[i].runID
	t.TaskKey = r.tasks[i].key
	t.AttemptNumber = 0
	t.RunPageUrl = r.pageURL(t.RunId)
	t.State = &jobs.RunState{LifeCycleState: st.life, ResultState: st.result, StateMessage: st.message}
	t.State.ForceSendFields = []string{"StateMessage"}
	t.Status = &jobs.RunStatus{State: statusOf(st)}
	if st.ended {
		t.Status.TerminationDetails = terminationOf(st)
	}
	if st.started || st.ended {
		t.StartTime = millis(st.start)
	}
	if st.ended {
		t.EndTime = millis(st.end)
		t.ExecutionDuration = st.end.Sub(st.start).Milliseconds()
		t.RunDuration = t.ExecutionDuration
	}
	return t
}

func statusOf(st taskState) jobs.RunLifecycleStateV2State {
	switch {
	case st.ended:
		return jobs.RunLifecycleStateV2StateTerminated
	case st.started:
		return jobs.RunLifecycleStateV2StateRunning
	case st.life == jobs.RunLifeCycleStateBlocked:
		return jobs.RunLifecycleStateV2StateBlocked
	default:
		return jobs.RunLifecycleStateV2StatePending
	}
}

func terminationOf(st taskState) *jobs.TerminationDetails {
	switch st.result {
	case jobs.RunResultStateSuccess:
		return &jobs.TerminationDetails{Code: jobs.TerminationCodeCodeSuccess, Type: jobs.TerminationTypeTypeSuccess}
	case jobs.RunResultStateFailed:
		return &jobs.TerminationDetails{Code: jobs.TerminationCodeCodeRunExecutionError, Type: jobs.TerminationTypeTypeClientError, Message: st.message}
	case jobs.RunResultStateCanceled:
		return &jobs.TerminationDetails{Code: jobs.TerminationCodeCodeUserCanceled, Type: jobs.TerminationTypeTypeSuccess, Message: st.message}
	default:
		return &jobs.TerminationDetails{Code: jobs.TerminationCodeCodeSkipped, Type: jobs.TerminationTypeTypeSuccess, Message: st.message}
	}
}

// view renders the run as runs/get returns it.
func (r *run) view(now time.Time) jobs.Run {
	states := r.states(now)
	state, status, end := r.overall(now, states)
	out := jobs.Run{
		RunId: r.id, JobId: r.jobID, NumberInJob: r.id, OriginalAttemptRunId: r.id,
		CreatorUserName: r.creator, RunName: r.name, RunType: jobs.RunTypeJobRun, Trigger: jobs.TriggerTypeOneTime,
		StartTime: millis(r.created), RunPageUrl: r.pageURL(r.id), State: &state, Status: &status,
		SetupDuration: r.setup.Milliseconds(),
	}
	for k, v := range r.params {
		out.JobParameters = append(out.JobParameters, jobs.JobParameter{Name: k, Value: v})
	}
	slices.SortFunc(out.JobParameters, func(a, b jobs.JobParameter) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	if !end.IsZero() {
		out.EndTime = millis(end)
		out.RunDuration = end.Sub(r.created).Milliseconds()
		out.ExecutionDuration = max(0, end.Sub(r.created.Add(r.setup)).Milliseconds())
	}
	for i := range r.tasks {
		out.Tasks = append(out.Tasks, taskView(r, i, states[i]))
	}
	return out
}

// taskRunView renders one task run as runs/get returns it for a task run id.
func (r *run) taskRunView(i int, now time.Time) jobs.Run {
	st := r.states(now)[i]
	t := taskView(r, i, st)
	return jobs.Run{
		RunId: t.RunId, JobId: r.jobID, NumberInJob: t.RunId, CreatorUserName: r.creator, RunName: t.TaskKey,
		RunType: jobs.RunTypeJobRun, StartTime: t.StartTime, EndTime: t.EndTime, RunPageUrl: t.RunPageUrl,
		State: t.State, Status: t.Status, ExecutionDuration: t.ExecutionDuration, RunDuration: t.RunDuration,
		Tasks: []jobs.RunTask{t},
	}
}

func handleRunNow(s *Server, c *call) (any, error) {
	var req jobs.RunNow
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	j, err := c.ws.job(req.JobId)
	if err != nil {
		return nil, err
	}
	if req.IdempotencyToken != "" {
		if id, ok := c.ws.idem[req.IdempotencyToken]; ok {
			return jobs.RunNowResponse{RunId: id, NumberInJob: id}, nil
		}
	}
	r, err := newRun(c.ws, j, req.Only, s.cfg, s.taskDurationLocked(), c.base, c.now)
	if err != nil {
		return nil, err
	}
	r.params = req.JobParameters
	c.ws.runs[r.id] = r
	if req.IdempotencyToken != "" {
		c.ws.idem[req.IdempotencyToken] = r.id
	}
	return jobs.RunNowResponse{RunId: r.id, NumberInJob: r.id}, nil
}

// findRun resolves a job run id or a task run id.
func (ws *workspace) findRun(id int64) (*run, int, error) {
	if r, ok := ws.runs[id]; ok {
		return r, -1, nil
	}
	if ref, ok := ws.taskRuns[id]; ok {
		if r, ok := ws.runs[ref.runID]; ok {
			return r, ref.index, nil
		}
	}
	return nil, 0, errRunMissing(id)
}

func runIDParam(c *call) (int64, error) {
	id, err := queryInt(c, "run_id")
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, errInvalidParameter("run_id is required")
	}
	return id, nil
}

func handleRunGet(s *Server, c *call) (any, error) {
	id, err := runIDParam(c)
	if err != nil {
		return nil, err
	}
	r, task, err := c.ws.findRun(id)
	if err != nil {
		return nil, err
	}
	if task >= 0 {
		return r.taskRunView(task, c.now), nil
	}
	return r.view(c.now), nil
}

func handleRunOutput(s *Server, c *call) (any, error) {
	id, err := runIDParam(c)
	if err != nil {
		return nil, err
	}
	r, task, err := c.ws.findRun(id)
	if err != nil {
		return nil, err
	}
	if task < 0 {
		if len(r.tasks) != 1 {
			return nil, errInvalidParameter("retrieving the output of runs with multiple tasks is not supported, retrieve the output of each task run of run %d instead", id)
		}
		task = 0
	}
	meta := r.taskRunView(task, c.now)
	out := jobs.RunOutput{Metadata: &meta}
	key := r.tasks[task].key
	switch meta.State.ResultState {
	case jobs.RunResultStateSuccess:
		out.NotebookOutput = &jobs.NotebookOutput{Result: fmt.Sprintf("task %s succeeded", key)}
		out.NotebookOutput.ForceSendFields = []string{"Result"}
	case jobs.RunResultStateFailed:
		out.Error = fmt.Sprintf("task %s failed: the configured outcome is FAILED", key)
		out.ErrorTrace = fmt.Sprintf("Traceback (most recent call last):\n  File \"%s\", line 1, in <module>\nException: task %s failed: the configured outcome is FAILED", key, key)
	case "":
	default:
		out.Error = meta.State.StateMessage
	}
	return out, nil
}

// cancel stops a run that has not terminated yet; cancelling a finished
// run changes nothing, as in Databricks.
func (r *run) cancel(now time.Time) {
	if !r.canceledAt.IsZero() {
		return
	}
	if _, _, end := r.overall(now, r.states(now)); !end.IsZero() {
		return
	}
	r.canceledAt = now
}

func handleRunCancel(s *Server, c *call) (any, error) {
	var req jobs.CancelRun
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	r, _, err := c.ws.findRun(req.RunId)
	if err != nil {
		return nil, err
	}
	r.cancel(c.now)
	return nil, nil
}

func handleRunCancelAll(s *Server, c *call) (any, error) {
	var req jobs.CancelAllRuns
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.JobId == 0 && !req.AllQueuedRuns {
		return nil, errInvalidParameter("job_id or all_queued_runs is required")
	}
	if req.JobId != 0 {
		if _, err := c.ws.job(req.JobId); err != nil {
			return nil, err
		}
	}
	for _, r := range c.ws.runs {
		if req.JobId == 0 || r.jobID == req.JobId {
			r.cancel(c.now)
		}
	}
	return nil, nil
}

func handleRunList(s *Server, c *call) (any, error) {
	offset, limit, err := page(c, defaultRunsLimit, maxRunsLimit)
	if err != nil {
		return nil, err
	}
	jobID, err := queryInt(c, "job_id")
	if err != nil {
		return nil, err
	}
	activeOnly, completedOnly := c.query("active_only") == "true", c.query("completed_only") == "true"
	if activeOnly && completedOnly {
		return nil, errInvalidParameter("active_only and completed_only cannot both be true")
	}
	expand := c.query("expand_tasks") == "true"
	var matched []jobs.BaseRun
	ids := slices.Sorted(maps.Keys(c.ws.runs))
	slices.Reverse(ids)
	for _, id := range ids {
		r := c.ws.runs[id]
		if jobID != 0 && r.jobID != jobID {
			continue
		}
		v := r.view(c.now)
		done := v.State.LifeCycleState == jobs.RunLifeCycleStateTerminated
		if (activeOnly && done) || (completedOnly && !done) {
			continue
		}
		var b jobs.BaseRun
		if err := convert(v, &b); err != nil {
			return nil, err
		}
		if !expand {
			b.HasMore = len(b.Tasks) > 0
			b.Tasks = nil
		}
		matched = append(matched, b)
	}
	resp := jobs.ListRunsResponse{}
	total := int64(len(matched))
	if offset < total {
		resp.Runs = matched[offset:min(total, offset+limit)]
	}
	resp.NextPageToken, resp.PrevPageToken, resp.HasMore = pageTokens(offset, limit, total)
	return resp, nil
}
