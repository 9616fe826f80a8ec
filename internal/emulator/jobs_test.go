package emulator_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/emulator"
)

func chainTasks(keys ...string) []jobs.Task {
	var tasks []jobs.Task
	for i, k := range keys {
		t := jobs.Task{TaskKey: k, NotebookTask: &jobs.NotebookTask{NotebookPath: "/Shared/" + k}}
		if i > 0 {
			t.DependsOn = []jobs.TaskDependency{{TaskKey: keys[i-1]}}
		}
		tasks = append(tasks, t)
	}
	return tasks
}

func TestJobValidation(t *testing.T) {
	t.Parallel()
	w, _ := newClient(t, emulator.New(), "t")
	ctx := context.Background()
	tests := []struct {
		name  string
		tasks []jobs.Task
	}{
		{"duplicate key", []jobs.Task{{TaskKey: "a"}, {TaskKey: "a"}}},
		{"unknown dependency", []jobs.Task{{TaskKey: "a", DependsOn: []jobs.TaskDependency{{TaskKey: "zz"}}}}},
		{"cycle", []jobs.Task{{TaskKey: "a", DependsOn: []jobs.TaskDependency{{TaskKey: "b"}}}, {TaskKey: "b", DependsOn: []jobs.TaskDependency{{TaskKey: "a"}}}}},
	}
	for _, tc := range tests {
		_, err := w.Jobs.Create(ctx, jobs.CreateJob{Name: "j", Tasks: tc.tasks})
		if !errors.Is(err, databricks.ErrInvalidParameterValue) {
			t.Errorf("%s: got %v, want INVALID_PARAMETER_VALUE", tc.name, err)
		}
	}
	if _, err := w.Jobs.GetByJobId(ctx, 424242); !errors.Is(err, databricks.ErrResourceDoesNotExist) {
		t.Errorf("get missing job: got %v, want does not exist", err)
	}
}

func TestJobCreateResetUpdateList(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	created, err := w.Jobs.Create(ctx, jobs.CreateJob{Name: "model", Tasks: chainTasks("a", "b")})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := w.Jobs.Reset(ctx, jobs.ResetJob{JobId: created.JobId, NewSettings: jobs.JobSettings{Name: "model", Tasks: chainTasks("x")}}); err != nil {
		t.Fatalf("reset: %v", err)
	}
	err = w.Jobs.Update(ctx, jobs.UpdateJob{JobId: created.JobId, NewSettings: &jobs.JobSettings{
		Tags:  map[string]string{"k": "v"},
		Tasks: []jobs.Task{{TaskKey: "y", DependsOn: []jobs.TaskDependency{{TaskKey: "x"}}}},
	}})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	want := map[int64]jobs.JobSettings{created.JobId: {
		Name: "model", Tags: map[string]string{"k": "v"},
		Tasks: []jobs.Task{
			{TaskKey: "x", NotebookTask: &jobs.NotebookTask{NotebookPath: "/Shared/x"}},
			{TaskKey: "y", DependsOn: []jobs.TaskDependency{{TaskKey: "x"}}},
		},
	}}
	if diff := cmp.Diff(want, srv.Jobs("t")); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	if err := w.Jobs.Update(ctx, jobs.UpdateJob{JobId: created.JobId, FieldsToRemove: []string{"tasks/y", "tags"}}); err != nil {
		t.Fatalf("update remove: %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := w.Jobs.Create(ctx, jobs.CreateJob{Name: "other"}); err != nil {
			t.Fatalf("create: %v", err)
		}
	}
	all, err := w.Jobs.ListAll(ctx, jobs.ListJobsRequest{Limit: 2})
	if err != nil || len(all) != 4 {
		t.Fatalf("list all: %d jobs, %v", len(all), err)
	}
	named, err := w.Jobs.ListAll(ctx, jobs.ListJobsRequest{Name: "MODEL", ExpandTasks: true})
	if err != nil || len(named) != 1 || len(named[0].Settings.Tasks) != 1 || named[0].Settings.Tags != nil {
		t.Fatalf("list by name: %+v, %v", named, err)
	}
}

func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		outcomes map[string]emulator.Outcome
		result   jobs.RunResultState
		tasks    map[string]jobs.RunResultState
	}{
		{"success", nil, jobs.RunResultStateSuccess, map[string]jobs.RunResultState{
			"chunk": jobs.RunResultStateSuccess, "chain": jobs.RunResultStateSuccess, "eval": jobs.RunResultStateSuccess}},
		{"failure", map[string]emulator.Outcome{"chain": emulator.OutcomeFailed}, jobs.RunResultStateFailed, map[string]jobs.RunResultState{
			"chunk": jobs.RunResultStateSuccess, "chain": jobs.RunResultStateFailed, "eval": jobs.RunResultStateUpstreamFailed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := emulator.New()
			if err := srv.Configure(emulator.Config{TaskDuration: 20 * time.Millisecond, Outcomes: tc.outcomes}); err != nil {
				t.Fatal(err)
			}
			w, _ := newClient(t, srv, "t")
			ctx := context.Background()
			j, err := w.Jobs.Create(ctx, jobs.CreateJob{Name: "model", Tasks: chainTasks("chunk", "chain", "eval")})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			wait, err := w.Jobs.RunNow(ctx, jobs.RunNow{JobId: j.JobId, IdempotencyToken: "tok"})
			if err != nil {
				t.Fatalf("run-now: %v", err)
			}
			again, err := w.Jobs.RunNow(ctx, jobs.RunNow{JobId: j.JobId, IdempotencyToken: "tok"})
			if err != nil || again.RunId != wait.RunId {
				t.Fatalf("idempotent run-now gave %d, want %d (%v)", again.RunId, wait.RunId, err)
			}
			r, err := w.Jobs.WaitGetRunJobTerminatedOrSkipped(ctx, wait.RunId, time.Minute, nil)
			if err != nil {
				t.Fatalf("wait: %v", err)
			}
			if r.State.LifeCycleState != jobs.RunLifeCycleStateTerminated || r.State.ResultState != tc.result || r.Status.State != jobs.RunLifecycleStateV2StateTerminated {
				t.Errorf("run state %+v status %+v, want TERMINATED %s", r.State, r.Status, tc.result)
			}
			got := map[string]jobs.RunResultState{}
			for _, task := range r.Tasks {
				got[task.TaskKey] = task.State.ResultState
				out, err := w.Jobs.GetRunOutput(ctx, jobs.GetRunOutputRequest{RunId: task.RunId})
				if err != nil {
					t.Fatalf("get-output %s: %v", task.TaskKey, err)
				}
				switch task.State.ResultState {
				case jobs.RunResultStateSuccess:
					if out.NotebookOutput == nil || out.NotebookOutput.Result == "" {
						t.Errorf("task %s: no notebook output", task.TaskKey)
					}
				case jobs.RunResultStateFailed:
					if out.Error == "" || out.ErrorTrace == "" {
						t.Errorf("task %s: no error in output %+v", task.TaskKey, out)
					}
				}
				if out.Metadata == nil || out.Metadata.RunId != task.RunId {
					t.Errorf("task %s: metadata %+v", task.TaskKey, out.Metadata)
				}
			}
			if diff := cmp.Diff(tc.tasks, got); diff != "" {
				t.Errorf("task results (-want +got):\n%s", diff)
			}
			_, err = w.Jobs.GetRunOutput(ctx, jobs.GetRunOutputRequest{RunId: wait.RunId})
			var apiErr *apierr.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode != "INVALID_PARAMETER_VALUE" {
				t.Errorf("get-output of parent: got %v, want INVALID_PARAMETER_VALUE", err)
			}
		})
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func TestRunStatesFollowClockAndCancel(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := emulator.NewWithOptions(emulator.Options{Clock: clock.Now, Config: emulator.Config{
		TaskDuration: 100 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"b": emulator.OutcomeHang},
	}})
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	j, err := w.Jobs.Create(ctx, jobs.CreateJob{Name: "j", Tasks: chainTasks("a", "b", "c")})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	started, err := w.Jobs.RunNow(ctx, jobs.RunNow{JobId: j.JobId})
	if err != nil {
		t.Fatalf("run-now: %v", err)
	}
	type snapshot struct {
		Run   jobs.RunLifeCycleState
		Tasks []jobs.RunLifeCycleState
	}
	get := func() snapshot {
		r, err := w.Jobs.GetRun(ctx, jobs.GetRunRequest{RunId: started.RunId})
		if err != nil {
			t.Fatalf("get run: %v", err)
		}
		s := snapshot{Run: r.State.LifeCycleState}
		for _, task := range r.Tasks {
			s.Tasks = append(s.Tasks, task.State.LifeCycleState)
		}
		return s
	}
	steps := []struct {
		advance time.Duration
		cancel  bool
		want    snapshot
	}{
		{0, false, snapshot{"PENDING", []jobs.RunLifeCycleState{"PENDING", "PENDING", "PENDING"}}},
		{50 * time.Millisecond, false, snapshot{"RUNNING", []jobs.RunLifeCycleState{"RUNNING", "BLOCKED", "BLOCKED"}}},
		{time.Hour, false, snapshot{"RUNNING", []jobs.RunLifeCycleState{"TERMINATED", "RUNNING", "BLOCKED"}}},
		{0, true, snapshot{"TERMINATED", []jobs.RunLifeCycleState{"TERMINATED", "TERMINATED", "SKIPPED"}}},
	}
	for i, step := range steps {
		clock.now = clock.now.Add(step.advance)
		if step.cancel {
			if _, err := w.Jobs.CancelRun(ctx, jobs.CancelRun{RunId: started.RunId}); err != nil {
				t.Fatalf("cancel: %v", err)
			}
		}
		if diff := cmp.Diff(step.want, get()); diff != "" {
			t.Errorf("step %d (-want +got):\n%s", i, diff)
		}
	}
	runs := srv.Runs("t")
	if len(runs) != 1 || runs[0].State.ResultState != jobs.RunResultStateCanceled || runs[0].Tasks[1].State.ResultState != jobs.RunResultStateCanceled ||
		runs[0].Tasks[2].State.ResultState != jobs.RunResultStateUpstreamCanceled {
		t.Errorf("runs after cancel: %+v", runs)
	}
	active, err := w.Jobs.ListRunsAll(ctx, jobs.ListRunsRequest{ActiveOnly: true})
	if err != nil || len(active) != 0 {
		t.Errorf("active runs after cancel: %d, %v", len(active), err)
	}
}

func TestJobPermissions(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	j, err := w.Jobs.Create(ctx, jobs.CreateJob{Name: "j"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := jobIDString(j.JobId)
	_, err = w.Permissions.Set(ctx, iam.SetObjectPermissions{RequestObjectType: "jobs", RequestObjectId: id,
		AccessControlList: []iam.AccessControlRequest{{GroupName: "users", PermissionLevel: iam.PermissionLevelCanView}}})
	if err != nil {
		t.Fatalf("set: %v", err)
	}
	got, err := w.Permissions.Get(ctx, iam.GetPermissionRequest{RequestObjectType: "jobs", RequestObjectId: id})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	direct := map[string]iam.PermissionLevel{}
	for _, e := range got.AccessControlList {
		for _, p := range e.AllPermissions {
			if !p.Inherited {
				direct[e.UserName+e.GroupName+e.ServicePrincipalName] = p.PermissionLevel
			}
		}
	}
	want := map[string]iam.PermissionLevel{"user@example.com": iam.PermissionLevelIsOwner, "users": iam.PermissionLevelCanView}
	if diff := cmp.Diff(want, direct); diff != "" {
		t.Errorf("permissions (-want +got):\n%s", diff)
	}
	_, err = w.Permissions.Update(ctx, iam.UpdateObjectPermissions{RequestObjectType: "jobs", RequestObjectId: id,
		AccessControlList: []iam.AccessControlRequest{{UserName: "x@example.com", PermissionLevel: "CAN_FLY"}}})
	if !errors.Is(err, databricks.ErrInvalidParameterValue) {
		t.Errorf("bad level: got %v", err)
	}
	if _, err := w.Permissions.Get(ctx, iam.GetPermissionRequest{RequestObjectType: "jobs", RequestObjectId: "1"}); !errors.Is(err, databricks.ErrResourceDoesNotExist) {
		t.Errorf("missing job: got %v", err)
	}
}

func jobIDString(id int64) string { return strconv.FormatInt(id, 10) }
