package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/jobs"

	"github.com/brickci/brickci/internal/emulator"
)

// chain is the example's four-task model workflow.
var chain = []string{"pdf_chunks_embeddings", "chatbot_chain", "offline_evaluation", "deploy_model_endpoint"}

func setup(t *testing.T, cfg emulator.Config) (*emulator.Server, *databricks.WorkspaceClient, int64) {
	t.Helper()
	em := emulator.New()
	if err := em.Configure(cfg); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	w, err := databricks.NewWorkspaceClient(&databricks.Config{Host: srv.URL, Token: "t", AuthType: "pat"})
	if err != nil {
		t.Fatal(err)
	}
	var tasks []jobs.Task
	for i, k := range chain {
		task := jobs.Task{TaskKey: k, NotebookTask: &jobs.NotebookTask{NotebookPath: "/Workspace/nb/" + k}}
		if i > 0 {
			task.DependsOn = []jobs.TaskDependency{{TaskKey: chain[i-1]}}
		}
		tasks = append(tasks, task)
	}
	created, err := w.Jobs.Create(context.Background(), jobs.CreateJob{Name: "model workflow", Tasks: tasks})
	if err != nil {
		t.Fatal(err)
	}
	return em, w, created.JobId
}

func fastOpts(out *bytes.Buffer) Options {
	return Options{Out: out, PollInterval: 10 * time.Millisecond, Heartbeat: time.Hour, Host: "https://example.cloud.databricks.com"}
}

func TestRunSucceedsWithEveryTaskInOrder(t *testing.T) {
	t.Parallel()
	_, w, id := setup(t, emulator.Config{TaskDuration: 20 * time.Millisecond})
	var out bytes.Buffer
	res, err := Run(context.Background(), w.Jobs, []Job{{Key: "model_workflow", ID: id}}, fastOpts(&out))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	r := res[0]
	if !r.Succeeded() || r.RunID == 0 {
		t.Fatalf("result = %+v", r)
	}
	var keys []string
	for _, task := range r.Tasks {
		keys = append(keys, task.Key)
		if task.Result != "SUCCESS" || task.RunID == 0 || task.RunID == r.RunID {
			t.Errorf("task %+v", task)
		}
	}
	if strings.Join(keys, ",") != strings.Join(chain, ",") {
		t.Errorf("tasks in order %v, want %v", keys, chain)
	}
	// Each task's SUCCESS line appears, in chain order.
	log := out.String()
	last := -1
	for _, k := range chain {
		i := strings.Index(log, "model_workflow "+k+": SUCCESS")
		if i < 0 || i < last {
			t.Fatalf("progress lacks %q in order:\n%s", k, log)
		}
		last = i
	}
}

func TestRunReportsFailedTaskAndMarksDownstream(t *testing.T) {
	t.Parallel()
	_, w, id := setup(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"chatbot_chain": emulator.OutcomeFailed}})
	var out bytes.Buffer
	res, err := Run(context.Background(), w.Jobs, []Job{{Key: "model_workflow", ID: id}}, fastOpts(&out))
	if err != nil {
		t.Fatalf("a failed run is a result, not an error: %v", err)
	}
	r := res[0]
	if r.Succeeded() || r.Result != "FAILED" {
		t.Fatalf("result = %q", r.Result)
	}
	got := map[string]string{}
	for _, task := range r.Tasks {
		got[task.Key] = task.Result
	}
	want := map[string]string{"pdf_chunks_embeddings": "SUCCESS", "chatbot_chain": "FAILED", "offline_evaluation": "UPSTREAM_FAILED", "deploy_model_endpoint": "UPSTREAM_FAILED"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("task %s = %q, want %q", k, got[k], v)
		}
	}
	if r.Tasks[1].Error == "" || r.Tasks[1].Trace == "" {
		t.Errorf("failed task lacks error/trace: %+v", r.Tasks[1])
	}
	f := Findings(res)
	if len(f) != 1 || f[0].Rule != "task-failed" || !strings.Contains(f[0].Message, `task "chatbot_chain" failed`) {
		t.Fatalf("findings = %v", f)
	}
	var md bytes.Buffer
	WriteMarkdown(&md, res)
	for _, s := range []string{"### ❌ FAILED `model_workflow`", "| `chatbot_chain` | ❌ FAILED |", "| `offline_evaluation` | ⏭️ UPSTREAM_FAILED | - |", "t1[\"chatbot_chain\"]:::failed", "t2[\"offline_evaluation\"]:::skipped", "t0 --> t1", "<details><summary><code>chatbot_chain</code>:"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, md.String())
		}
	}
}

// TestDurationsComeFromTheRun pins durations to the run's own start and
// end times: a run of about 200 ms polled every 2 s is not reported as 2 s,
// and every link to it has the one format <host>/jobs/<job>/runs/<run>.
func TestDurationsComeFromTheRun(t *testing.T) {
	t.Parallel()
	_, w, id := setup(t, emulator.Config{TaskDuration: 50 * time.Millisecond})
	var out bytes.Buffer
	opts := fastOpts(&out)
	opts.PollInterval = 2 * time.Second
	res, err := Run(context.Background(), w.Jobs, []Job{{Key: "model_workflow", ID: id}}, opts)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	r := res[0]
	if r.Duration < 150*time.Millisecond || r.Duration >= time.Second {
		t.Errorf("run duration %v, want the run's own ~200ms, not the poll interval", r.Duration)
	}
	var text bytes.Buffer
	WriteText(&text, res)
	wantURL := fmt.Sprintf("https://example.cloud.databricks.com/jobs/%d/runs/%d", id, r.RunID)
	line := strings.SplitN(text.String(), "\n", 2)[0]
	if !regexp.MustCompile(`^model_workflow: SUCCESS in \d+ms ` + regexp.QuoteMeta(wantURL) + `$`).MatchString(line) {
		t.Errorf("text summary line %q, want milliseconds and %s", line, wantURL)
	}
	if !strings.Contains(out.String(), "started model_workflow: run "+fmt.Sprint(r.RunID)+" "+wantURL+"\n") {
		t.Errorf("progress links the run differently:\n%s", out.String())
	}
	var md bytes.Buffer
	WriteMarkdown(&md, res)
	if !strings.Contains(md.String(), "Run ["+fmt.Sprint(r.RunID)+"]("+wantURL+")") {
		t.Errorf("markdown links the run differently:\n%s", md.String())
	}
	for _, task := range r.Tasks {
		if want := fmt.Sprintf("https://example.cloud.databricks.com/jobs/%d/runs/%d", id, task.RunID); task.URL != want {
			t.Errorf("task %s URL %q, want %q", task.Key, task.URL, want)
		}
	}
}

func TestTimeoutCancelsTheRemoteRun(t *testing.T) {
	t.Parallel()
	em, w, id := setup(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"offline_evaluation": emulator.OutcomeHang}})
	var out bytes.Buffer
	opts := fastOpts(&out)
	opts.Timeout = 300 * time.Millisecond
	res, err := Run(context.Background(), w.Jobs, []Job{{Key: "model_workflow", ID: id}}, opts)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want timeout", err)
	}
	if res[0].Result != "TIMEDOUT" {
		t.Errorf("result = %q", res[0].Result)
	}
	if res[0].Duration < opts.Timeout {
		t.Errorf("duration %s, want at least the timeout %s", res[0].Duration, opts.Timeout)
	}
	if err.Error() != "runs timed out after 300ms" {
		t.Errorf("error = %q", err)
	}
	// The report shows the tasks as the cancel left them, not as last polled.
	for _, task := range res[0].Tasks {
		if task.Key == "offline_evaluation" && task.Result != "CANCELED" {
			t.Errorf("hanging task reported %s/%s, want CANCELED", task.State, task.Result)
		}
	}
	assertCancelled(t, em, res[0].RunID)
}

func TestContextCancelCancelsEveryStartedRun(t *testing.T) {
	t.Parallel()
	em, w, id := setup(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"pdf_chunks_embeddings": emulator.OutcomeHang}})
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	opts := Options{Out: &out, PollInterval: 10 * time.Millisecond}
	done := make(chan struct{})
	var res []Result
	var err error
	go func() {
		res, err = Run(ctx, w.Jobs, []Job{{Key: "a", ID: id}, {Key: "b", ID: id}}, opts)
		close(done)
	}()
	for !strings.Contains(out.String(), "started b") {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	for _, r := range res {
		assertCancelled(t, em, r.RunID)
	}
}

func TestIdempotencyTokenReusesTheRun(t *testing.T) {
	t.Parallel()
	_, w, id := setup(t, emulator.Config{TaskDuration: time.Millisecond})
	opts := Options{NoWait: true, IdempotencyKey: "gh-123-1"}
	a, err := Run(context.Background(), w.Jobs, []Job{{Key: "model_workflow", ID: id}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), w.Jobs, []Job{{Key: "model_workflow", ID: id}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if a[0].RunID == 0 || a[0].RunID != b[0].RunID {
		t.Errorf("run ids %d and %d, want one run", a[0].RunID, b[0].RunID)
	}
	if a[0].Result != "" {
		t.Errorf("--no-wait must not wait: result %q", a[0].Result)
	}
}

func TestHeartbeatWhileNothingChanges(t *testing.T) {
	t.Parallel()
	_, w, id := setup(t, emulator.Config{TaskDuration: 200 * time.Millisecond})
	var out bytes.Buffer
	opts := fastOpts(&out)
	opts.Heartbeat = 50 * time.Millisecond
	if _, err := Run(context.Background(), w.Jobs, []Job{{Key: "model_workflow", ID: id}}, opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "model_workflow: still running (") {
		t.Errorf("no heartbeat:\n%s", out.String())
	}
}

func TestGroupsPerJob(t *testing.T) {
	t.Parallel()
	_, w, id := setup(t, emulator.Config{TaskDuration: time.Millisecond})
	var out bytes.Buffer
	log := &groupLog{out: &out}
	opts := fastOpts(&out)
	opts.Log = log
	if _, err := Run(context.Background(), w.Jobs, []Job{{Key: "a", ID: id}, {Key: "b", ID: id}}, opts); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, k := range []string{"a", "b"} {
		start := strings.Index(s, "::group::"+k+"\n")
		if start < 0 {
			t.Fatalf("no group for %s:\n%s", k, s)
		}
		body := s[start:]
		end := strings.Index(body, "::endgroup::")
		if end < 0 || !strings.Contains(body[:end], k+" deploy_model_endpoint: SUCCESS") {
			t.Errorf("group %s does not hold its task lines:\n%s", k, s)
		}
	}
}

func assertCancelled(t *testing.T, em *emulator.Server, runID int64) {
	t.Helper()
	for _, r := range em.Runs("t") {
		if r.RunId != runID {
			continue
		}
		if r.State == nil || r.State.ResultState != jobs.RunResultStateCanceled {
			t.Errorf("run %d state = %+v, want CANCELED", runID, r.State)
		}
		return
	}
	t.Errorf("run %d not found in the emulator", runID)
}

type groupLog struct{ out *bytes.Buffer }

func (g *groupLog) Group(title string) { g.out.WriteString("::group::" + title + "\n") }
func (g *groupLog) EndGroup()          { g.out.WriteString("::endgroup::\n") }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMarkdownKeepsTaskOutputVerbatim: a task's output that holds a code
// fence is shown as written, inside a longer fence it cannot close.
func TestMarkdownKeepsTaskOutputVerbatim(t *testing.T) {
	t.Parallel()
	out := "before\n```\n## not a heading\n```"
	var md bytes.Buffer
	WriteMarkdown(&md, []Result{{Job: Job{Key: "j"}, Result: "FAILED", Tasks: []Task{{Key: "t", Result: "FAILED", Error: "boom", Output: out}}}})
	want := "output:\n\n````text\n" + out + "\n````\n\n"
	if !strings.Contains(md.String(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, md.String())
	}
}
