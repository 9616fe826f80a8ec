package main

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/pipelines"

	"github.com/brickci/brickci/internal/demo"
	"github.com/brickci/brickci/internal/emulator"
)

var exampleBundle = "../../examples/rag-chatbot"

// emulated is an emulator on loopback and the environment that reaches it.
type emulated struct {
	em  *emulator.Server
	url string
	env map[string]string
}

func newWorkspace(t *testing.T, cfg emulator.Config) *emulated {
	t.Helper()
	em := emulator.New()
	if err := em.Configure(cfg); err != nil {
		t.Fatal(err)
	}
	if err := em.Seed("", demo.ExampleSeed); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	return &emulated{em: em, url: srv.URL, env: map[string]string{
		"DATABRICKS_TOKEN": "tok", "DATABRICKS_RATE_LIMIT": "1000",
	}}
}

// main runs brickci against the emulator: --host follows the mode name,
// before any job key ends the flags.
func (w *emulated) main(args ...string) (int, string, string) {
	return runMain(w.env, append([]string{args[0], "--host", w.url}, args[1:]...)...)
}

func (w *emulated) deploy(t *testing.T, target string) {
	t.Helper()
	if code, out, errOut := w.main("deploy", "-t", target, "--bundle", exampleBundle); code != 0 {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, errOut)
	}
}

func (w *emulated) runStates(t *testing.T) []jobs.RunResultState {
	t.Helper()
	var out []jobs.RunResultState
	for _, r := range w.em.Runs("tok") {
		if r.State != nil {
			out = append(out, r.State.ResultState)
		}
	}
	return out
}

func TestRunReportsEveryTaskInOrder(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: 20 * time.Millisecond})
	w.deploy(t, "staging")
	code, out, errOut := w.main("run", "-t", "staging", "--bundle", exampleBundle, "--poll", "10ms", "model_workflow")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	last := -1
	for _, task := range []string{"pdf_chunks_embeddings", "chatbot_chain", "offline_evaluation", "deploy_model_endpoint"} {
		i := strings.Index(out, "model_workflow "+task+": SUCCESS")
		if i < last || i < 0 {
			t.Fatalf("task %s not reported in order:\n%s", task, out)
		}
		last = i
	}
	if !strings.Contains(out, "model_workflow: SUCCESS in") {
		t.Errorf("no final summary:\n%s", out)
	}
}

func TestRunFailedTaskOnActions(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"chatbot_chain": emulator.OutcomeFailed}})
	w.deploy(t, "prod")
	dir := t.TempDir()
	for k, v := range map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "sum"), "GITHUB_RUN_ID": "77", "GITHUB_RUN_ATTEMPT": "1"} {
		w.env[k] = v
	}
	code, out, errOut := w.main("run", "-t", "prod", "--bundle", exampleBundle, "--poll", "10ms", "model_workflow")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, `::error title=task-failed::job "model_workflow" task "chatbot_chain" failed`) {
		t.Errorf("no annotation for the failed task:\n%s", out)
	}
	if !strings.Contains(out, "::group::model_workflow") || !strings.Contains(out, "model_workflow offline_evaluation: UPSTREAM_FAILED") {
		t.Errorf("no log group or downstream state:\n%s", out)
	}
	sum, _ := os.ReadFile(w.env["GITHUB_STEP_SUMMARY"])
	for _, want := range []string{"| `chatbot_chain` | ❌ FAILED |", ":::failed", "```mermaid"} {
		if !strings.Contains(string(sum), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	outs := readOutputs(t, w.env["GITHUB_OUTPUT"])
	if outs["result"] != "failure" || !strings.Contains(outs["run_ids"], `"model_workflow":`) {
		t.Errorf("outputs = %v", outs)
	}
}

func TestRunTimeoutCancelsTheRemoteRun(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"offline_evaluation": emulator.OutcomeHang}})
	w.deploy(t, "staging")
	code, out, errOut := w.main("run", "-t", "staging", "--bundle", exampleBundle, "--poll", "10ms", "--timeout", "400ms", "model_workflow")
	if code != 1 || !strings.Contains(errOut, "timed out after 400ms") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := w.runStates(t); len(got) != 1 || got[0] != jobs.RunResultStateCanceled {
		t.Errorf("remote runs = %v, want one CANCELED", got)
	}
}

func TestRunBadCalls(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{})
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "-t", "staging", "--bundle", exampleBundle}, 2, "name the jobs to run"},
		{[]string{"run", "-t", "staging", "--bundle", exampleBundle, "nope"}, 2, `job "nope" is not defined in bundle "rag_chatbot"; its jobs are model_workflow`},
		{[]string{"run", "-t", "staging", "--bundle", exampleBundle, "model_workfolw"}, 2, `job "model_workfolw" is not defined in bundle "rag_chatbot"; did you mean "model_workflow"?`},
		{[]string{"run", "-t", "nope", "--bundle", exampleBundle, "model_workflow"}, 2, `target "nope" is not defined`},
		{[]string{"run", "-t", "staging", "--bundle", exampleBundle, "model_workflow"}, 1, "no deployment state in"},
		{[]string{"run", "-t", "staging", "--bundle", exampleBundle, "--poll", "0s", "model_workflow"}, 2, "--poll and --heartbeat must be positive"},
	}
	for _, c := range cases {
		code, _, errOut := w.main(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestIntegrationCleansUpEvenWhenARunFails(t *testing.T) {
	t.Parallel()
	for _, outcome := range []emulator.Outcome{emulator.OutcomeSuccess, emulator.OutcomeFailed} {
		w := newWorkspace(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"offline_evaluation": outcome}})
		code, out, errOut := w.main("test", "--integration", "-t", "test", "--bundle", exampleBundle, "--isolate", "pr-7", "--cleanup", "--poll", "10ms", "model_workflow")
		want := map[emulator.Outcome]int{emulator.OutcomeSuccess: 0, emulator.OutcomeFailed: 1}[outcome]
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", outcome, code, want, out, errOut)
		}
		if !strings.Contains(errOut, "/pr-7") || !strings.Contains(errOut, "cleaned up the test deployment") {
			t.Errorf("%s: stderr does not show the isolated path and the clean-up:\n%s", outcome, errOut)
		}
		if n := len(w.em.Jobs("tok")); n != 0 {
			t.Errorf("%s: %d jobs left after clean-up", outcome, n)
		}
		if files := w.em.Files("tok"); len(files) != 0 {
			var names []string
			for k := range files {
				names = append(names, k)
			}
			t.Errorf("%s: files left after clean-up: %v", outcome, names)
		}
		if len(w.em.Runs("tok")) != 1 {
			t.Errorf("%s: runs = %d, want 1", outcome, len(w.em.Runs("tok")))
		}
	}
}

func TestIntegrationPausesSchedules(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: time.Millisecond})
	code, out, errOut := w.main("test", "--integration", "-t", "test", "--bundle", exampleBundle, "--isolate", "pr-8", "--poll", "10ms", "model_workflow")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, j := range w.em.Jobs("tok") {
		if j.Schedule != nil && j.Schedule.PauseStatus != jobs.PauseStatusPaused {
			t.Errorf("job %q deployed with a live schedule", j.Name)
		}
	}
	if !strings.Contains(errOut, "pass --cleanup to remove it") {
		t.Errorf("no note that the deployment stays:\n%s", errOut)
	}
}

// TestSIGINTCancelsRemoteRuns runs the real binary as a child process, sends
// it SIGINT while a run hangs, and checks the emulator shows the run
// cancelled within the 7 seconds the runner allows.
func TestSIGINTCancelsRemoteRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "brickci")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	w := newWorkspace(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"chatbot_chain": emulator.OutcomeHang}})
	w.deploy(t, "staging")
	cmd := exec.Command(bin, "run", "-t", "staging", "--bundle", exampleBundle, "--host", w.url, "--poll", "50ms", "model_workflow")
	cmd.Env = append(os.Environ(), "DATABRICKS_TOKEN=tok", "DATABRICKS_RATE_LIMIT=1000")
	var stdout, stderr syncBuf
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "chatbot_chain: RUNNING") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("run never reached the hanging task:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(sent)
	if err == nil {
		t.Error("brickci exited 0 after SIGINT")
	}
	if took > 7*time.Second {
		t.Errorf("took %s to stop after SIGINT; the runner kills at 10 s and sends SIGTERM at 7.5 s", took)
	}
	if got := w.runStates(t); len(got) != 1 || got[0] != jobs.RunResultStateCanceled {
		t.Errorf("remote runs = %v, want one CANCELED\n%s\n%s", got, stdout.String(), stderr.String())
	}
	t.Logf("stopped %s after SIGINT with the remote run cancelled", took.Round(time.Millisecond))
}

// Two pull requests deploy the same bundle to the test target at once:
// their paths, jobs and serving endpoints stay apart, and destroying one
// leaves the other.
func TestIntegrationIsolatesPullRequests(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: time.Millisecond})
	codes := make(chan int, 2)
	for _, pr := range []string{"pr-1", "pr-2"} {
		go func() {
			code, out, errOut := w.main("test", "--integration", "-t", "test", "--bundle", exampleBundle, "--isolate", pr, "--poll", "10ms", "model_workflow")
			if code != 0 {
				t.Errorf("%s: exit %d\n%s\n%s", pr, code, out, errOut)
			}
			codes <- code
		}()
	}
	<-codes
	<-codes
	names := map[string]bool{}
	for _, j := range w.em.Jobs("tok") {
		names[j.Name] = true
	}
	if len(names) != 2 || !names["[pr-1] test-rag_chatbot-model-workflow"] || !names["[pr-2] test-rag_chatbot-model-workflow"] {
		t.Errorf("job names = %v", names)
	}
	eps := w.em.Endpoints("tok")
	if _, ok := eps["test-rag-chatbot-pr-1"]; !ok || len(eps) != 2 {
		t.Errorf("endpoints = %v", keysOf(eps))
	}
	if code, _, errOut := w.main("destroy", "-t", "test", "--bundle", exampleBundle, "--isolate", "pr-1", "--auto-approve"); code != 0 {
		t.Fatalf("destroy pr-1: %d\n%s", code, errOut)
	}
	if eps := w.em.Endpoints("tok"); len(eps) != 1 {
		t.Errorf("after destroying pr-1, endpoints = %v", keysOf(eps))
	} else if _, ok := eps["test-rag-chatbot-pr-2"]; !ok {
		t.Errorf("destroy removed the wrong endpoint: %v", keysOf(eps))
	}
	for _, j := range w.em.Jobs("tok") {
		if strings.HasPrefix(j.Name, "[pr-1]") {
			t.Errorf("job %q of pr-1 left", j.Name)
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// pipelineBundle is a bundle with a job "etl" and a pipeline "etl" of two
// flows (ingest and transform), plus the pipelines in extra (YAML under
// resources.pipelines, indented by four spaces), written to a new
// directory.
func pipelineBundle(t *testing.T, dir, extra string) string {
	t.Helper()
	files := map[string]string{
		"databricks.yml": `bundle:
  name: etl_demo
resources:
  jobs:
    etl:
      name: etl job
      tasks:
        - task_key: only
          notebook_task:
            notebook_path: ./src/ingest.py
  pipelines:
    etl:
      name: etl
      catalog: main
      schema: default
      serverless: true
      libraries:
        - notebook:
            path: ./src/ingest.py
        - file:
            path: ./src/transform.py
` + extra + `targets:
  dev:
    default: true
    workspace:
      host: https://dbc-etl.cloud.databricks.com
`,
		"src/ingest.py":    "# Databricks notebook source\nprint('ingest')\n",
		"src/transform.py": "print('transform')\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (w *emulated) deployBundle(t *testing.T, dir string) {
	t.Helper()
	if code, out, errOut := w.main("deploy", "-t", "dev", "--bundle", dir); code != 0 {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, errOut)
	}
}

// pipelineUpdates are the updates of the one pipeline named name.
func (w *emulated) pipelineUpdates(t *testing.T, name string) []pipelines.UpdateInfo {
	t.Helper()
	for id, spec := range w.em.Pipelines("tok") {
		if spec.Name == name {
			return w.em.PipelineUpdates("tok")[id]
		}
	}
	t.Fatalf("no pipeline %q in the emulator", name)
	return nil
}

func TestRunPipelineReportsEveryFlowOnActions(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: 10 * time.Millisecond})
	dir := pipelineBundle(t, t.TempDir(), "")
	w.deployBundle(t, dir)
	gh := t.TempDir()
	for k, v := range map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(gh, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(gh, "sum")} {
		w.env[k] = v
	}
	code, out, errOut := w.main("run", "-t", "dev", "--bundle", dir, "--poll", "10ms", "pipelines.etl")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	ups := w.pipelineUpdates(t, "etl")
	if len(ups) != 1 || ups[0].State != pipelines.UpdateInfoStateCompleted || ups[0].FullRefresh {
		t.Fatalf("updates = %+v", ups)
	}
	url := w.url + "/pipelines/" + ups[0].PipelineId + "/updates/" + ups[0].UpdateId
	for _, s := range []string{"::group::etl", "etl ingest: COMPLETED", "etl transform: COMPLETED", "etl: COMPLETED in ", url} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	sum, _ := os.ReadFile(w.env["GITHUB_STEP_SUMMARY"])
	for _, s := range []string{"### ✅ COMPLETED `etl`", "| `ingest` | ✅ COMPLETED |", "| `transform` | ✅ COMPLETED |"} {
		if !strings.Contains(string(sum), s) {
			t.Errorf("summary lacks %q:\n%s", s, sum)
		}
	}
	outs := readOutputs(t, w.env["GITHUB_OUTPUT"])
	if outs["result"] != "success" || outs["update_ids"] != `{"etl":"`+ups[0].UpdateId+`"}` || outs["update_urls"] != `{"etl":"`+url+`"}` || outs["run_ids"] != "{}" {
		t.Errorf("outputs = %v", outs)
	}
	if len(w.em.Runs("tok")) != 0 {
		t.Errorf("the job etl was run too")
	}
}

func TestRunPipelineFailedFlowExits1(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"etl": emulator.OutcomeFailed}})
	dir := pipelineBundle(t, t.TempDir(), "")
	w.deployBundle(t, dir)
	w.env["GITHUB_ACTIONS"] = "true"
	code, out, errOut := w.main("run", "-t", "dev", "--bundle", dir, "--poll", "10ms", "pipelines.etl")
	if code != 1 || !strings.Contains(errOut, "1 of 1 pipeline updates did not succeed") {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, s := range []string{
		`::error title=flow-failed::pipeline "etl" flow "ingest" failed: the configured outcome is FAILED`,
		"etl: FAILED in ",
		"    error: the configured outcome is FAILED",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestRunPipelineTimeoutStopsTheUpdate(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: 10 * time.Millisecond, Outcomes: map[string]emulator.Outcome{"etl": emulator.OutcomeHang}})
	dir := pipelineBundle(t, t.TempDir(), "")
	w.deployBundle(t, dir)
	code, out, errOut := w.main("run", "-t", "dev", "--bundle", dir, "--poll", "10ms", "--timeout", "400ms", "pipelines.etl")
	if code != 1 || !strings.Contains(errOut, "timed out after 400ms") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if ups := w.pipelineUpdates(t, "etl"); len(ups) != 1 || ups[0].State != pipelines.UpdateInfoStateCanceled {
		t.Errorf("updates = %+v, want one CANCELED", ups)
	}
	if !strings.Contains(out, "stopped update ") || !strings.Contains(out, "etl: TIMEDOUT") {
		t.Errorf("output does not show the stop:\n%s", out)
	}
}

func TestRunPipelineFullRefresh(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: time.Millisecond})
	dir := pipelineBundle(t, t.TempDir(), "")
	w.deployBundle(t, dir)
	w.env["GITHUB_ACTIONS"] = "true"
	w.env["INPUT_FULL_REFRESH"] = "true"
	if code, out, errOut := w.main("run", "-t", "dev", "--bundle", dir, "--poll", "10ms", "pipelines.etl"); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if ups := w.pipelineUpdates(t, "etl"); len(ups) != 1 || !ups[0].FullRefresh {
		t.Errorf("updates = %+v, want one full refresh", ups)
	}
}

// TestRunPipelineKeys: a key that is both a job and a pipeline must be
// qualified, and a pipeline the target's state does not record is not
// run.
func TestRunPipelineKeys(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: time.Millisecond})
	dir := t.TempDir()
	pipelineBundle(t, dir, "")
	w.deployBundle(t, dir)
	// The bundle gains a pipeline that is not deployed.
	pipelineBundle(t, dir, "    later:\n      name: later\n      catalog: main\n      schema: default\n      libraries:\n        - file:\n            path: ./src/transform.py\n")
	cases := []struct {
		key  string
		code int
		want string
	}{
		{"etl", 2, `"etl" is both a job and a pipeline of bundle "etl_demo"; name it jobs.etl or pipelines.etl`},
		{"later", 1, `pipeline "later" is not deployed to target "dev"; deploy the target first`},
		{"pipelines.nope", 2, `pipeline "nope" is not defined in bundle "etl_demo"; its pipelines are etl, later`},
		{"laetr", 2, `job or pipeline "laetr" is not defined in bundle "etl_demo"; did you mean "later"?`},
	}
	for _, c := range cases {
		code, out, errOut := w.main("run", "-t", "dev", "--bundle", dir, "--poll", "10ms", c.key)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d with %q\n%s", c.key, code, errOut, c.code, c.want, out)
		}
	}
	for _, ups := range w.em.PipelineUpdates("tok") {
		if len(ups) != 0 {
			t.Errorf("a pipeline was updated: %+v", ups)
		}
	}
	// Qualified, the job runs.
	if code, out, errOut := w.main("run", "-t", "dev", "--bundle", dir, "--poll", "10ms", "jobs.etl"); code != 0 || len(w.em.Runs("tok")) != 1 {
		t.Errorf("jobs.etl: exit %d, %d runs\n%s\n%s", code, len(w.em.Runs("tok")), out, errOut)
	}
}

// TestIntegrationRunsPipelines runs a pipeline key in a test deployment:
// the isolated pipeline gets its update, and the clean-up deletes it.
func TestIntegrationRunsPipelines(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, emulator.Config{TaskDuration: time.Millisecond})
	dir := pipelineBundle(t, t.TempDir(), "")
	code, out, errOut := w.main("test", "--integration", "-t", "dev", "--bundle", dir, "--isolate", "pr-3", "--cleanup", "--poll", "10ms", "pipelines.etl")
	if code != 0 || !strings.Contains(out, "etl: COMPLETED") {
		t.Fatalf("exit %d, want 0 with the update completed\n%s\n%s", code, out, errOut)
	}
	if n := len(w.em.Pipelines("tok")); n != 0 {
		t.Errorf("%d pipelines left after the clean-up", n)
	}
	code, _, errOut = w.main("test", "--integration", "-t", "dev", "--bundle", dir, "pipelines.etll")
	if code != exitBadCall || strings.Contains(errOut, "deploying") {
		t.Errorf("an unknown pipeline key: exit %d, want %d before any deploy\n%s", code, exitBadCall, errOut)
	}
}
