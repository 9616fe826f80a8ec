package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/brickci/brickci/internal/report"
)

// Options say what to play and where.
type Options struct {
	// Root is the repository root, the runner's GITHUB_WORKSPACE.
	Root string
	// Bin holds the brickci and workspace-emulator binaries.
	Bin string
	// Bundle is the bundle directory relative to Root.
	Bundle string
	// Jobs are the job keys run by the integration tests and the release.
	Jobs []string
	// Also are the repository's other projects, played after Bundle's
	// pipeline: their CI, integration tests and deploys. Nil with the
	// example's Bundle plays the example monorepo's batch_inference.
	Also []Project
	// ReportDir receives report.md, report.html and one directory per step.
	ReportDir string
	// Out receives progress.
	Out io.Writer
	// TaskDuration is how long each emulated task runs.
	TaskDuration time.Duration
	// Getenv reads PATH and HOME for the steps.
	Getenv func(string) string
}

// Result is what a demo run did.
type Result struct {
	Stages      []report.Section
	Markdown    string // path of report.md
	HTML        string // path of report.html
	EmulatorURL string
	// Requests is how many API requests the emulator answered.
	Requests int
}

// Failed reports whether any stage failed.
func (r *Result) Failed() bool {
	for _, s := range r.Stages {
		if s.Status == "failed" {
			return true
		}
	}
	return false
}

// Project is another bundle of the repository that the demo plays.
type Project struct {
	// Name is the project's name in the pipeline spec, which prefixes its
	// workflows.
	Name string
	// Bundle is the bundle directory relative to Root.
	Bundle string
	// Jobs are the job keys its integration tests run.
	Jobs []string
}

// step is one workflow step to run.
type step struct {
	workflow string
	title    string
	event    string // pull_request or push
	inputs   map[string]string
	// stream shows the step's output live (long waits).
	stream bool
	// needs names a program the step needs; without it the step is
	// skipped, as a workflow without that setup step would not run it.
	needs string
}

// steps are the pipeline's steps in the order GitHub would run them for a
// pull request, its merge to the default branch and the release.
func steps(o Options) []step {
	jobs := strings.Join(o.Jobs, ",")
	b := o.Bundle
	out := []step{
		{"lint-cicd-workflow-files", "workflows match the pipeline spec", "pull_request", map[string]string{"mode": "generate", "check": "true"}, false, ""},
		{"lint-cicd-workflow-files", "lint workflows", "pull_request", map[string]string{"mode": "lint"}, false, ""},
		{"bundle-ci", "validate staging and prod", "pull_request", map[string]string{"mode": "validate", "target": "staging,prod", "bundle": b, "offline": "true"}, false, ""},
		{"bundle-ci", "plan staging", "pull_request", map[string]string{"mode": "plan", "target": "staging", "bundle": b}, false, ""},
		{"bundle-ci", "plan prod", "pull_request", map[string]string{"mode": "plan", "target": "prod", "bundle": b}, false, ""},
		{"run-tests", "unit tests", "pull_request", map[string]string{"mode": "test", "unit": "true", "bundle": b}, false, "pytest"},
		{"run-tests", "integration tests on test", "pull_request", map[string]string{"mode": "test", "integration": "true", "target": "test", "bundle": b, "jobs": jobs, "cleanup": "true", "poll": "250ms", "heartbeat": "10s"}, true, ""},
		{"bundle-cd-staging", "validate staging online", "push", map[string]string{"mode": "validate", "target": "staging", "bundle": b}, false, ""},
		{"bundle-cd-staging", "deploy staging", "push", map[string]string{"mode": "deploy", "target": "staging", "bundle": b}, true, ""},
		{"bundle-cd-prod", "validate prod online", "push", map[string]string{"mode": "validate", "target": "prod", "bundle": b}, false, ""},
		{"bundle-cd-prod", "deploy prod", "push", map[string]string{"mode": "deploy", "target": "prod", "bundle": b}, true, ""},
		{"bundle-cd-prod", "run release jobs on prod", "push", map[string]string{"mode": "run", "target": "prod", "bundle": b, "jobs": jobs, "timeout": "5m", "poll": "250ms", "heartbeat": "10s"}, true, ""},
	}
	for _, p := range o.Also {
		b, jobs := p.Bundle, strings.Join(p.Jobs, ",")
		out = append(out,
			step{p.Name + "-bundle-ci", p.Name + ": validate staging and prod", "pull_request", map[string]string{"mode": "validate", "target": "staging,prod", "bundle": b, "offline": "true"}, false, ""},
			step{p.Name + "-bundle-ci", p.Name + ": plan staging", "pull_request", map[string]string{"mode": "plan", "target": "staging", "bundle": b}, false, ""},
			step{p.Name + "-run-tests", p.Name + ": integration tests on test", "pull_request", map[string]string{"mode": "test", "integration": "true", "target": "test", "bundle": b, "jobs": jobs, "cleanup": "true", "poll": "250ms", "heartbeat": "10s"}, true, ""},
			step{p.Name + "-bundle-cd-staging", p.Name + ": deploy staging", "push", map[string]string{"mode": "deploy", "target": "staging", "bundle": b}, true, ""},
			step{p.Name + "-bundle-cd-prod", p.Name + ": deploy prod", "push", map[string]string{"mode": "deploy", "target": "prod", "bundle": b}, true, ""},
		)
	}
	return out
}

// Run plays the pipeline. It returns an error only when the demo itself
// cannot run (no binaries, the emulator does not start); a failing step is
// a failed stage in the result.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Bundle == "" {
		o.Bundle = "examples/rag-chatbot"
	}
	if o.Also == nil && o.Bundle == "examples/rag-chatbot" {
		// The example monorepo's other project.
		o.Also = []Project{{Name: "batch_inference", Bundle: "examples/batch-inference", Jobs: []string{"batch_inference"}}}
	}
	if len(o.Jobs) == 0 {
		o.Jobs = []string{"model_workflow"}
	}
	if o.TaskDuration == 0 {
		o.TaskDuration = 300 * time.Millisecond
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	for _, name := range []string{"brickci", "workspace-emulator"} {
		if _, err := os.Stat(filepath.Join(o.Bin, name)); err != nil {
			return nil, fmt.Errorf("failed to find %s in %s: run make build first", name, o.Bin)
		}
	}
	if err := os.RemoveAll(o.ReportDir); err != nil {
		return nil, fmt.Errorf("failed to clear %s: %w", o.ReportDir, err)
	}
	if err := os.MkdirAll(o.ReportDir, 0o755); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", o.ReportDir, err)
	}

	em, url, err := startEmulator(ctx, filepath.Join(o.Bin, "workspace-emulator"))
	if err != nil {
		return nil, err
	}
	defer stopEmulator(em)
	if err := post(ctx, url+"/__emulator/config", map[string]any{"task_duration_ms": o.TaskDuration.Milliseconds()}); err != nil {
		return nil, fmt.Errorf("failed to configure the emulator: %w", err)
	}
	if err := post(ctx, url+"/__emulator/seed", ExampleSeed); err != nil {
		return nil, fmt.Errorf("failed to seed the emulator with the example's catalogs: %w", err)
	}
	fmt.Fprintf(o.Out, "workspace emulator listening on %s\n\n", url)

	// The pipeline plays on a checkout of its own, as on a runner, so that
	// builds never write into the repository. Without Python's wheel build
	// the demo packs the example's wheel itself, so every stage still runs.
	wheelPath, canBuild := WheelBuildPath(o.Getenv("PATH"))
	switch {
	case !canBuild:
		fmt.Fprintf(o.Out, "python3 -m build is not available, so the demo packs the example's wheel itself (apt-get install python3-build python3-setuptools python3-wheel to build it as CI does)\n\n")
	case wheelPath != o.Getenv("PATH"):
		getenv := o.Getenv
		o.Getenv = func(k string) string {
			if k == "PATH" {
				return wheelPath
			}
			return getenv(k)
		}
		fmt.Fprintf(o.Out, "building the example's wheel with /usr/bin/python3 (python3 on PATH lacks the build module)\n\n")
	}
	tmp, err := os.MkdirTemp("", "brickci-demo-")
	if err != nil {
		return nil, fmt.Errorf("failed to create a directory for the demo checkout: %w", err)
	}
	defer os.RemoveAll(tmp)
	if o.Root, err = checkout(o.Root, o.Bundle, tmp, !canBuild); err != nil {
		return nil, err
	}
	res := &Result{EmulatorURL: url}
	for i, s := range steps(o) {
		if ctx.Err() != nil {
			break
		}
		sec := runStep(ctx, o, url, i, s)
		res.Stages = append(res.Stages, sec)
	}
	if n, err := requestCount(ctx, url); err == nil {
		res.Requests = n
	}

	res.Markdown = filepath.Join(o.ReportDir, "report.md")
	res.HTML = filepath.Join(o.ReportDir, "report.html")
	title := "brickci pipeline on " + o.Bundle
	for path, write := range map[string]func(io.Writer, string, []report.Section) error{res.Markdown: report.WriteMarkdown, res.HTML: report.WriteHTML} {
		f, err := os.Create(path)
		if err != nil {
			return res, fmt.Errorf("failed to write the report: %w", err)
		}
		werr := write(f, title, res.Stages)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return res, fmt.Errorf("failed to write %s: %w", path, werr)
		}
	}
	return res, ctx.Err()
}

// runStep runs one step in a fresh simulated runner.
func runStep(ctx context.Context, o Options, url string, i int, s step) report.Section {
	sec := report.Section{Title: s.title}
	fmt.Fprintf(o.Out, "▶ %-40s [%s]\n", s.title, s.workflow)
	if s.needs != "" {
		if _, err := exec.LookPath(s.needs); err != nil {
			sec.Status, sec.Note = "skipped", s.needs+" is not installed (apt-get install python3-pytest)"
			fmt.Fprintf(o.Out, "  ⏭  skipped: %s\n\n", sec.Note)
			return sec
		}
	}
	dir := filepath.Join(o.ReportDir, fmt.Sprintf("%02d-%s", i+1, slug(s.title)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		sec.Status, sec.Note = "failed", err.Error()
		return sec
	}
	env, err := runnerEnv(o, url, dir, s)
	if err != nil {
		sec.Status, sec.Note = "failed", err.Error()
		return sec
	}
	logFile, err := os.Create(filepath.Join(dir, "log.txt"))
	if err != nil {
		sec.Status, sec.Note = "failed", err.Error()
		return sec
	}
	defer logFile.Close()
	con := &console{log: logFile}
	if s.stream {
		con.show = o.Out
	}

	start := time.Now()
	cmd := exec.CommandContext(ctx, filepath.Join(o.Bin, "brickci"))
	cmd.Dir = o.Root
	cmd.Env = env
	// Cancel as the runner does: SIGINT first, so brickci can cancel runs
	// and release locks.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 10 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	go func() { con.feed(pr); close(done) }()
	err = cmd.Run()
	pw.Close()
	<-done
	sec.Duration = time.Since(start)

	summary, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	sec.Markdown = con.mask(string(summary))
	var exit *exec.ExitError
	switch {
	case err == nil:
		sec.Status = "passed"
	case errors.As(err, &exit):
		sec.Status, sec.Note = "failed", fmt.Sprintf("exit code %d; log in %s", exit.ExitCode(), filepath.Join(dir, "log.txt"))
	default:
		sec.Status, sec.Note = "failed", err.Error()
	}
	mark := map[string]string{"passed": "✓", "failed": "✗"}[sec.Status]
	fmt.Fprintf(o.Out, "  %s %s in %s", mark, sec.Status, sec.Duration.Round(10*time.Millisecond))
	if outs := readOutputs(filepath.Join(dir, "output")); len(outs) > 0 {
		fmt.Fprintf(o.Out, " — %s", outs)
	}
	fmt.Fprintln(o.Out)
	for _, a := range con.annotations {
		fmt.Fprintf(o.Out, "    %s\n", a)
	}
	if sec.Status == "failed" {
		fmt.Fprintf(o.Out, "    %s\n", sec.Note)
	}
	fmt.Fprintln(o.Out)
	return sec
}

// runnerEnv is the environment GitHub gives a step: runtime files, the
// event, the inputs as INPUT_*, and the workspace credentials.
func runnerEnv(o Options, url, dir string, s step) ([]string, error) {
	event := filepath.Join(dir, "event.json")
	payload := map[string]any{"ref": "refs/heads/main"}
	if s.event == "pull_request" {
		payload = map[string]any{"number": 1, "pull_request": map[string]any{
			"number": 1, "title": "Improve chunking", "head": map[string]any{"ref": "feature", "repo": map[string]any{"full_name": "example/rag-chatbot"}},
			"base": map[string]any{"ref": "main", "repo": map[string]any{"full_name": "example/rag-chatbot"}}}}
	}
	data, _ := json.Marshal(payload)
	if err := os.WriteFile(event, data, 0o644); err != nil {
		return nil, err
	}
	env := []string{
		"PATH=" + o.Getenv("PATH"), "HOME=" + o.Getenv("HOME"),
		"GITHUB_ACTIONS=true", "CI=true",
		"GITHUB_WORKSPACE=" + o.Root, "GITHUB_REPOSITORY=example/rag-chatbot", "GITHUB_SERVER_URL=https://github.com",
		"GITHUB_RUN_ID=1", "GITHUB_RUN_ATTEMPT=1", "GITHUB_WORKFLOW=" + s.workflow, "GITHUB_EVENT_NAME=" + s.event, "GITHUB_EVENT_PATH=" + event,
		"GITHUB_OUTPUT=" + filepath.Join(dir, "output"), "GITHUB_ENV=" + filepath.Join(dir, "env"), "GITHUB_STEP_SUMMARY=" + filepath.Join(dir, "summary.md"),
		"RUNNER_TEMP=" + dir,
		// Any token reaches the emulator; it is masked like a secret.
		"DATABRICKS_TOKEN=dapi-demo-token",
		"INPUT_HOST=" + url,
	}
	for k, v := range s.inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	return env, nil
}

func startEmulator(ctx context.Context, bin string) (*exec.Cmd, string, error) {
	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("failed to start the workspace emulator: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, "", fmt.Errorf("the workspace emulator did not start: %q", line)
	}
	go io.Copy(io.Discard, out)
	return cmd, url, nil
}

func stopEmulator(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func post(ctx context.Context, url string, body any) error {
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

func requestCount(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/__emulator/requests", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var list []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return 0, err
	}
	return len(list), nil
}

// readOutputs reads a GITHUB_OUTPUT file into "name=value" words for the
// progress line.
func readOutputs(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var words []string
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		v := strings.Join(val, " ")
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		words = append(words, name+"="+v)
	}
	return strings.Join(words, " ")
}

func slug(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s)), "-")
}
