package demo

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildBinaries builds brickci and workspace-emulator once per test run.
func buildBinaries(t *testing.T) (root, bin string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin = t.TempDir()
	for name, pkg := range map[string]string{"brickci": "./cmd/action", "workspace-emulator": "./cmd/workspace-emulator"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	return root, bin
}

// TestPipelineEndToEnd plays the whole pipeline on the example bundle
// through the built binaries, as the demo does, and checks what each stage
// left behind: outputs, summaries, a clean integration deployment, and an
// HTML report with the task graphs.
func TestPipelineEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and plays the pipeline")
	}
	root, bin := buildBinaries(t)
	// The demo plays on a checkout of its own: a wheel build never lands
	// in the repository (checked when none is there to begin with).
	dist := filepath.Join(root, "examples", "rag-chatbot", "dist")
	_, statErr := os.Stat(dist)
	distBefore := statErr == nil
	reportDir := filepath.Join(t.TempDir(), "report")
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{
		Root: root, Bin: bin, ReportDir: reportDir, Out: &out, TaskDuration: 50 * time.Millisecond, Getenv: os.Getenv,
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(dist); err == nil && !distBefore {
		t.Errorf("the demo built into the repository: %s exists", dist)
	}
	want := []string{"workflows match the pipeline spec", "lint workflows", "validate staging and prod", "plan staging", "plan prod",
		"unit tests", "integration tests on test", "validate staging online", "deploy staging", "validate prod online", "deploy prod", "run release jobs on prod",
		"batch_inference: validate staging and prod", "batch_inference: plan staging", "batch_inference: integration tests on test",
		"batch_inference: deploy staging", "batch_inference: deploy prod"}
	if len(res.Stages) != len(want) {
		t.Fatalf("%d stages, want %d", len(res.Stages), len(want))
	}
	for i, s := range res.Stages {
		if s.Title != want[i] {
			t.Errorf("stage %d is %q, want %q", i, s.Title, want[i])
		}
		switch {
		case s.Status == "skipped" && s.Title == "unit tests":
			t.Logf("unit tests skipped: %s", s.Note)
		case s.Status != "passed":
			t.Errorf("stage %q %s: %s\n%s", s.Title, s.Status, s.Note, out.String())
		}
	}
	for _, s := range res.Stages {
		if strings.Contains(s.Markdown, "dapi-demo-token") {
			t.Errorf("stage %q summary holds the token", s.Title)
		}
	}
	if strings.Contains(out.String(), "dapi-demo-token") {
		t.Error("progress shows the token")
	}
	byTitle := map[string]string{}
	for _, s := range res.Stages {
		if s.Status == "skipped" {
			continue
		}
		byTitle[s.Title] = s.Markdown
	}
	for title, fragment := range map[string]string{
		"plan prod":                "create",
		"run release jobs on prod": "| `deploy_model_endpoint` | ✅ SUCCESS |",
	} {
		if md, ran := byTitle[title]; ran && !strings.Contains(md, fragment) {
			t.Errorf("summary of %q lacks %q:\n%s", title, fragment, byTitle[title])
		}
	}
	// Without shellcheck and pyflakes on PATH lint adds one info finding;
	// with them it has none. Either way no error and no warning.
	if lint := byTitle["lint workflows"]; !strings.Contains(lint, "No findings.") && !strings.Contains(lint, "0 errors, 0 warnings") {
		t.Errorf("summary of lint reports errors or warnings:\n%s", lint)
	}
	html, err := os.ReadFile(res.HTML)
	if err != nil {
		t.Fatal(err)
	}
	// The plan builds the example's wheel and uploads it on a first deploy.
	if md, ran := byTitle["plan staging"]; ran && !strings.Contains(md, "**Artifacts:** build and upload 1") {
		t.Errorf("summary of plan staging lacks the artifact upload:\n%s", md)
	}
	graphs := 4 // offline validate ×2, online validate ×2
	if _, ran := byTitle["run release jobs on prod"]; ran {
		graphs++ // the release run
	}
	if n := strings.Count(string(html), `<g class="node" data-id="t3"`); n < graphs {
		t.Errorf("report shows %d four-task graphs, want at least %d (offline validate ×2, online validate ×2, the release run unless skipped)", n, graphs)
	}
	// Names are escaped markdown text: the underscore is written \_.
	if !strings.Contains(byTitle["validate prod online"], `prod-rag\_chatbot-model-workflow`) {
		t.Errorf("online validation of prod shows no job:\n%s", byTitle["validate prod online"])
	}
	if res.Requests == 0 {
		t.Error("no API requests counted")
	}
}

// TestConsoleInterpretsWorkflowCommands: masks apply to what follows,
// annotations are collected, and stop-commands stops interpretation.
func TestConsoleInterpretsWorkflowCommands(t *testing.T) {
	t.Parallel()
	var log, show bytes.Buffer
	c := &console{log: &log, show: &show}
	c.feed(strings.NewReader(strings.Join([]string{
		"before secret-1",
		"::add-mask::secret-1",
		"after secret-1",
		"::error file=a.py,line=3,title=test-failure::boom%0Asecond line with secret-1",
		"::stop-commands::tok",
		"::error::forged",
		"::tok::",
		"::group::job",
		"plain",
	}, "\n")))
	got := show.String()
	for _, want := range []string{"    before secret-1\n", "    after ***\n", "    ::error::forged\n", "    ▸ job\n", "    plain\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("shown output lacks %q:\n%s", want, got)
		}
	}
	if len(c.annotations) != 1 || c.annotations[0] != "error: a.py:3: boom\nsecond line with ***" {
		t.Errorf("annotations = %q", c.annotations)
	}
}

// TestRunNeedsBinaries: without the binaries the demo says what to do.
func TestRunNeedsBinaries(t *testing.T) {
	t.Parallel()
	_, err := Run(context.Background(), Options{Bin: t.TempDir(), ReportDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "run make build first") {
		t.Errorf("err = %v", err)
	}
}

// TestWheelBuildPath: the demo builds the example's wheel with the first
// python3 that has the build modules, and packs it itself when none has
// them.
func TestWheelBuildPath(t *testing.T) {
	t.Parallel()
	fake := func(exit int) string {
		dir := t.TempDir()
		script := "#!/bin/sh\nexit " + string(rune('0'+exit)) + "\n"
		if err := os.WriteFile(filepath.Join(dir, "python3"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	without, with, none := fake(1), fake(0), t.TempDir()
	if p, ok := firstPathWith([]string{without, with}); !ok || p != with {
		t.Errorf("firstPathWith = %q, %v; want %q", p, ok, with)
	}
	if _, ok := firstPathWith([]string{without, none}); ok {
		t.Error("a python3 without the modules was taken")
	}
}
