package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/emulator"
)

// setupPipeline is setup with a pipeline named "etl" of two flows, ingest
// and transform, next to the job.
func setupPipeline(t *testing.T, cfg emulator.Config) (*emulator.Server, *databricks.WorkspaceClient, int64, string) {
	t.Helper()
	em, w, jobID := setup(t, cfg)
	created, err := w.Pipelines.Create(context.Background(), pipelines.CreatePipeline{
		Name: "etl", Catalog: "main", Schema: "default", Serverless: true,
		Libraries: []pipelines.PipelineLibrary{
			{Notebook: &pipelines.NotebookLibrary{Path: "/Workspace/etl/ingest"}},
			{File: &pipelines.FileLibrary{Path: "/Workspace/etl/transform.py"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return em, w, jobID, created.PipelineId
}

func apis(w *databricks.WorkspaceClient) APIs {
	return APIs{Jobs: w.Jobs, Pipelines: w.Pipelines}
}

func flowResults(r Result) map[string]string {
	got := map[string]string{}
	for _, t := range r.Tasks {
		got[t.Key] = taskStateWord(t)
	}
	return got
}

func TestPipelineUpdateReportsEveryFlow(t *testing.T) {
	t.Parallel()
	_, w, _, id := setupPipeline(t, emulator.Config{TaskDuration: 20 * time.Millisecond})
	var out bytes.Buffer
	res, err := All(context.Background(), apis(w), []Resource{Pipeline{Key: "etl_pipeline", ID: id}}, fastOpts(&out))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	r := res[0]
	if !r.Succeeded() || r.Result != "COMPLETED" || r.UpdateID == "" || !r.IsPipeline() || r.Key() != "etl_pipeline" {
		t.Fatalf("result = %+v", r)
	}
	if diff := cmp.Diff(map[string]string{"ingest": "COMPLETED", "transform": "COMPLETED"}, flowResults(r)); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	if r.Tasks[0].Key != "ingest" || r.Tasks[1].Key != "transform" {
		t.Errorf("flows not in the pipeline's order: %+v", r.Tasks)
	}
	wantURL := fmt.Sprintf("https://example.cloud.databricks.com/pipelines/%s/updates/%s", id, r.UpdateID)
	if r.URL != wantURL {
		t.Errorf("URL %q, want %q", r.URL, wantURL)
	}
	log := out.String()
	for _, s := range []string{"started etl_pipeline: update " + r.UpdateID + " " + wantURL + "\n", "etl_pipeline ingest: COMPLETED", "etl_pipeline transform: COMPLETED", "etl_pipeline: COMPLETED"} {
		if !strings.Contains(log, s) {
			t.Errorf("progress lacks %q:\n%s", s, log)
		}
	}
	if f := Findings(res); len(f) != 0 {
		t.Errorf("findings of a completed update: %v", f)
	}
	var text bytes.Buffer
	WriteText(&text, res)
	if !strings.HasPrefix(text.String(), "etl_pipeline: COMPLETED in ") || !strings.Contains(text.String(), wantURL+"\n") || !strings.Contains(text.String(), "  ingest ") {
		t.Errorf("text:\n%s", text.String())
	}
	var md bytes.Buffer
	WriteMarkdown(&md, res)
	for _, s := range []string{"### ✅ COMPLETED `etl_pipeline`", "Update [" + r.UpdateID + "](" + wantURL + "): **COMPLETED**", "| `ingest` | ✅ COMPLETED |", "| `transform` | ✅ COMPLETED |"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, md.String())
		}
	}
	if strings.Contains(md.String(), "mermaid") {
		t.Errorf("a pipeline's flows have no graph:\n%s", md.String())
	}
}

func TestPipelineFailureReportsTheFailedFlow(t *testing.T) {
	t.Parallel()
	_, w, _, id := setupPipeline(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"etl": emulator.OutcomeFailed}})
	var out bytes.Buffer
	res, err := All(context.Background(), apis(w), []Resource{Pipeline{Key: "etl_pipeline", ID: id}}, fastOpts(&out))
	if err != nil {
		t.Fatalf("a failed update is a result, not an error: %v", err)
	}
	r := res[0]
	if r.Succeeded() || r.Result != "FAILED" {
		t.Fatalf("result = %+v", r)
	}
	if diff := cmp.Diff(map[string]string{"ingest": "FAILED", "transform": "SKIPPED"}, flowResults(r)); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	if r.Tasks[0].Error != "the configured outcome is FAILED" || !strings.Contains(r.Tasks[0].Trace, "EmulatedFailure") {
		t.Errorf("failed flow lacks its error: %+v", r.Tasks[0])
	}
	f := Findings(res)
	want := `pipeline "etl_pipeline" flow "ingest" failed: the configured outcome is FAILED (` + r.URL + ")"
	if len(f) != 1 || f[0].Rule != "flow-failed" || f[0].Message != want {
		t.Fatalf("findings = %v, want one flow-failed %q", f, want)
	}
	var text bytes.Buffer
	WriteText(&text, res)
	if !strings.Contains(text.String(), "    error: the configured outcome is FAILED") {
		t.Errorf("text lacks the flow's error:\n%s", text.String())
	}
	var md bytes.Buffer
	WriteMarkdown(&md, res)
	for _, s := range []string{"### ❌ FAILED `etl_pipeline`", "| `ingest` | ❌ FAILED |", "| `transform` | ⏭️ SKIPPED |", "<details><summary><code>ingest</code>: the configured outcome is FAILED</summary>"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, md.String())
		}
	}
	if got := NotSucceeded(res); got != "1 of 1 pipeline updates did not succeed" {
		t.Errorf("NotSucceeded = %q", got)
	}
}

func TestPipelineTimeoutStopsTheUpdate(t *testing.T) {
	t.Parallel()
	em, w, _, id := setupPipeline(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"etl": emulator.OutcomeHang}})
	var out bytes.Buffer
	opts := fastOpts(&out)
	opts.Timeout = 300 * time.Millisecond
	res, err := All(context.Background(), apis(w), []Resource{Pipeline{Key: "etl_pipeline", ID: id}}, opts)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want timeout", err)
	}
	r := res[0]
	if r.Result != "TIMEDOUT" || r.Message != "update timed out after 300ms; the update was stopped" {
		t.Errorf("result = %q, message %q", r.Result, r.Message)
	}
	if !strings.Contains(out.String(), "stopped update "+r.UpdateID+" of etl_pipeline\n") {
		t.Errorf("no line for the stop:\n%s", out.String())
	}
	// The report shows the flows as the stop left them, not as last polled.
	if diff := cmp.Diff(map[string]string{"ingest": "STOPPED", "transform": "STOPPED"}, flowResults(r)); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	assertStopped(t, em, id, r.UpdateID)
	if f := Findings(res); len(f) != 1 || f[0].Rule != "update-failed" || !strings.Contains(f[0].Message, "ended TIMEDOUT: update timed out") {
		t.Errorf("findings = %v", f)
	}
}

// TestContextCancelStopsUpdatesAndCancelsRuns: one cancellation reaches a
// job run and a pipeline update started together.
func TestContextCancelStopsUpdatesAndCancelsRuns(t *testing.T) {
	t.Parallel()
	em, w, jobID, id := setupPipeline(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"etl": emulator.OutcomeHang, "pdf_chunks_embeddings": emulator.OutcomeHang}})
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan struct{})
	var res []Result
	var err error
	go func() {
		res, err = All(ctx, apis(w), []Resource{Job{Key: "model_workflow", ID: jobID}, Pipeline{Key: "etl_pipeline", ID: id}}, Options{Out: &out, PollInterval: 10 * time.Millisecond})
		close(done)
	}()
	for !strings.Contains(out.String(), "etl_pipeline ingest: RUNNING") {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if res[0].Result != "CANCELED" || res[1].Result != "CANCELED" {
		t.Errorf("results %q and %q, want CANCELED", res[0].Result, res[1].Result)
	}
	assertCancelled(t, em, res[0].RunID)
	assertStopped(t, em, id, res[1].UpdateID)
	if got := NotSucceeded(res); got != "2 of 2 job runs and pipeline updates did not succeed" {
		t.Errorf("NotSucceeded = %q", got)
	}
}

func TestPipelineFullRefresh(t *testing.T) {
	t.Parallel()
	for _, full := range []bool{false, true} {
		em, w, _, id := setupPipeline(t, emulator.Config{TaskDuration: time.Millisecond})
		opts := fastOpts(&bytes.Buffer{})
		opts.FullRefresh = full
		if _, err := All(context.Background(), apis(w), []Resource{Pipeline{Key: "etl_pipeline", ID: id}}, opts); err != nil {
			t.Fatal(err)
		}
		ups := em.PipelineUpdates("t")[id]
		if len(ups) != 1 || ups[0].FullRefresh != full {
			t.Errorf("FullRefresh %v: updates = %+v", full, ups)
		}
	}
}

func TestPipelineAlreadyUpdatingIsAClearError(t *testing.T) {
	t.Parallel()
	em, w, _, id := setupPipeline(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"etl": emulator.OutcomeHang}})
	active, err := w.Pipelines.StartUpdate(context.Background(), pipelines.StartUpdate{PipelineId: id})
	if err != nil {
		t.Fatal(err)
	}
	res, err := All(context.Background(), apis(w), []Resource{Pipeline{Key: "etl_pipeline", ID: id}}, fastOpts(&bytes.Buffer{}))
	want := fmt.Sprintf(`failed to start pipeline "etl_pipeline" (%s), which is already running an update (wait for it to end or stop it): An active update %s already exists`, id, active.UpdateId)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if res[0].UpdateID != "" {
		t.Errorf("result = %+v", res[0])
	}
	// The update someone else started is left alone.
	if ups := em.PipelineUpdates("t")[id]; len(ups) != 1 || updateDone(ups[0].State) {
		t.Errorf("updates = %+v", ups)
	}
}

func TestPipelineNoWait(t *testing.T) {
	t.Parallel()
	em, w, _, id := setupPipeline(t, emulator.Config{TaskDuration: time.Hour})
	res, err := All(context.Background(), apis(w), []Resource{Pipeline{Key: "etl_pipeline", ID: id}}, Options{NoWait: true})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].UpdateID == "" || res[0].Result != "" {
		t.Errorf("--no-wait must start and not wait: %+v", res[0])
	}
	if ups := em.PipelineUpdates("t")[id]; len(ups) != 1 || ups[0].UpdateId != res[0].UpdateID {
		t.Errorf("updates = %+v", ups)
	}
	outs := Outputs(res)
	if outs["update_ids"] != fmt.Sprintf(`{"etl_pipeline":%q}`, res[0].UpdateID) || outs["run_ids"] != "{}" {
		t.Errorf("outputs = %v", outs)
	}
}

func assertStopped(t *testing.T, em *emulator.Server, pipelineID, updateID string) {
	t.Helper()
	for _, u := range em.PipelineUpdates("t")[pipelineID] {
		if u.UpdateId == updateID {
			if u.State != pipelines.UpdateInfoStateCanceled {
				t.Errorf("update %s state = %s, want CANCELED", updateID, u.State)
			}
			return
		}
	}
	t.Errorf("update %s not found in the emulator", updateID)
}

func TestResolve(t *testing.T) {
	t.Parallel()
	d := Defined{Bundle: "b", Jobs: []string{"etl", "nightly"}, Pipelines: []string{"etl", "ingest"}}
	cases := []struct {
		names []string
		want  []Ref
		err   string
	}{
		{names: []string{"nightly", "ingest"}, want: []Ref{{KindJob, "nightly"}, {KindPipeline, "ingest"}}},
		{names: []string{"jobs.etl", "pipelines.etl"}, want: []Ref{{KindJob, "etl"}, {KindPipeline, "etl"}}},
		{names: []string{"jobs.nightly", "pipelines.ingest"}, want: []Ref{{KindJob, "nightly"}, {KindPipeline, "ingest"}}},
		{names: []string{"etl"}, err: `"etl" is both a job and a pipeline of bundle "b"; name it jobs.etl or pipelines.etl`},
		{names: []string{"jobs.ingest"}, err: `job "ingest" is not defined in bundle "b"; its jobs are etl, nightly`},
		{names: []string{"pipelines.nightly"}, err: `pipeline "nightly" is not defined in bundle "b"; its pipelines are etl, ingest`},
		{names: []string{"ingset"}, err: `job or pipeline "ingset" is not defined in bundle "b"; did you mean "ingest"?`},
		{names: []string{"zzzzzzzzzz"}, err: `job or pipeline "zzzzzzzzzz" is not defined in bundle "b"; its jobs are etl, nightly and its pipelines are etl, ingest`},
	}
	for _, c := range cases {
		got, err := Resolve(c.names, d)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%v: err = %v, want %q", c.names, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.names, err)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", c.names, diff)
		}
	}
	// Without pipelines the message is the one for jobs.
	_, err := Resolve([]string{"zzzzzzzzzz"}, Defined{Bundle: "b", Jobs: []string{"nightly"}})
	if err == nil || err.Error() != `job "zzzzzzzzzz" is not defined in bundle "b"; its jobs are nightly` {
		t.Errorf("err = %v", err)
	}
}

func TestBindNeedsADeployment(t *testing.T) {
	t.Parallel()
	refs := []Ref{{KindJob, "nightly"}, {KindPipeline, "ingest"}}
	got, err := Bind(refs, map[string]int64{"nightly": 7}, map[string]string{"ingest": "p-1"}, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Resource{Job{Key: "nightly", ID: 7}, Pipeline{Key: "ingest", ID: "p-1"}}, got); diff != "" {
		t.Errorf("bound (-want +got):\n%s", diff)
	}
	_, err = Bind(refs, map[string]int64{"nightly": 7}, nil, "dev")
	if err == nil || err.Error() != `pipeline "ingest" is not deployed to target "dev"; deploy the target first` {
		t.Errorf("err = %v", err)
	}
}

// TestAJobAndAPipelineOfOneKeyAreQualified: run together, a job and a
// pipeline of the same key are told apart in every line.
func TestAJobAndAPipelineOfOneKeyAreQualified(t *testing.T) {
	t.Parallel()
	_, w, jobID, id := setupPipeline(t, emulator.Config{TaskDuration: time.Millisecond})
	var out bytes.Buffer
	res, err := All(context.Background(), apis(w), []Resource{Job{Key: "etl", ID: jobID}, Pipeline{Key: "etl", ID: id}}, fastOpts(&out))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Name() != "jobs.etl" || res[1].Name() != "pipelines.etl" {
		t.Errorf("names %q and %q", res[0].Name(), res[1].Name())
	}
	var text bytes.Buffer
	WriteText(&text, res)
	for _, s := range []string{"started jobs.etl: run ", "started pipelines.etl: update ", "jobs.etl chatbot_chain: SUCCESS", "pipelines.etl ingest: COMPLETED"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("progress lacks %q:\n%s", s, out.String())
		}
	}
	if !strings.HasPrefix(text.String(), "jobs.etl: SUCCESS") || !strings.Contains(text.String(), "\npipelines.etl: COMPLETED") {
		t.Errorf("text:\n%s", text.String())
	}
	// Alone, each keeps its key.
	res, err = All(context.Background(), apis(w), []Resource{Pipeline{Key: "etl", ID: id}}, fastOpts(&bytes.Buffer{}))
	if err != nil || res[0].Name() != "etl" {
		t.Errorf("name %q, %v", res[0].Name(), err)
	}
}
