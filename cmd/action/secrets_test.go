package main

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/emulator"
)

// TestSecretsNeverLeak passes sentinel tokens to every mode, as action
// inputs and in the environment, and checks that no output the tool
// produces holds them: stdout and stderr (beyond the ::add-mask:: lines
// that tell the runner to mask them), GITHUB_OUTPUT, GITHUB_ENV, the step
// summary, pull-request comment bodies and the files it writes to the
// workspace.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const (
		dbToken = "dapi-SENTINEL-0f4c2a9e"
		ghToken = "ghs_SENTINEL_7d1b3c5a"
	)
	em := emulator.New()
	if err := em.Configure(emulator.Config{TaskDuration: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ws := httptest.NewServer(em)
	defer ws.Close()
	api := &fakeComments{comments: map[int64]string{}}
	gh := httptest.NewServer(api)
	defer gh.Close()

	dir := t.TempDir()
	env := prEnv(t, gh.URL)
	for k, v := range map[string]string{
		"DATABRICKS_TOKEN": dbToken, "DATABRICKS_AUTH_TYPE": "pat", "DATABRICKS_RATE_LIMIT": "1000",
		"INPUT_GITHUB_TOKEN": ghToken, "GITHUB_TOKEN": ghToken,
		"GITHUB_ENV": filepath.Join(dir, "env"), "GITHUB_OUTPUT": filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"), "PATH": os.Getenv("PATH"),
	} {
		env[k] = v
	}
	host := []string{"--host", ws.URL}
	runs := [][]string{
		{"lint", "--root", "../.."},
		append([]string{"validate", "-t", "staging", "--bundle", exampleBundle, "--comment"}, host...),
		append([]string{"plan", "-t", "staging", "--bundle", exampleBundle, "--comment"}, host...),
		append([]string{"deploy", "-t", "staging", "--bundle", exampleBundle}, host...),
		append(append([]string{"run", "-t", "staging", "--bundle", exampleBundle, "--poll", "10ms"}, host...), "model_workflow"),
		append(append([]string{"test", "--integration", "-t", "test", "--bundle", exampleBundle, "--cleanup", "--poll", "10ms"}, host...), "model_workflow"),
		append([]string{"destroy", "-t", "staging", "--bundle", exampleBundle, "--auto-approve"}, host...),
		{"generate", "--check", "--root", "../.."},
	}
	if pytestCommand(t) != "" {
		runs = append(runs, []string{"test", "--unit", "--bundle", exampleBundle})
	}
	check := func(where, text string) {
		t.Helper()
		for _, secret := range []string{dbToken, ghToken} {
			text = strings.ReplaceAll(text, "::add-mask::"+secret+"\n", "")
			if strings.Contains(text, secret) {
				t.Errorf("%s holds a secret:\n%s", where, text)
			}
		}
	}
	for _, args := range runs {
		_, stdout, stderr := runMain(env, args...)
		check(args[0]+" stdout", stdout)
		check(args[0]+" stderr", stderr)
		if !strings.Contains(stdout, "::add-mask::"+dbToken) {
			t.Errorf("%s did not mask the Databricks token before printing", args[0])
		}
	}
	for _, f := range []string{"env", "output", "summary"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		check(f, string(b))
	}
	api.mu.Lock()
	for id, body := range api.comments {
		check("comment "+string(rune('0'+id)), body)
	}
	if len(api.comments) != 1 {
		t.Errorf("%d comments, want one shared by validate and plan-staging", len(api.comments))
	}
	for _, body := range api.comments {
		for _, section := range []string{"validate", "plan-staging"} {
			if !strings.Contains(body, "<!-- brickci-section:"+section+" -->") {
				t.Errorf("comment lacks the %s section:\n%s", section, body)
			}
		}
	}
	api.mu.Unlock()
	for path, content := range em.Files(dbToken) {
		check("workspace file "+path, string(content))
	}
}

// pytestCommand says whether pytest can run here.
func pytestCommand(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("pytest"); err == nil {
		return p
	}
	return ""
}
