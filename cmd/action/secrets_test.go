package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/emulator"
	"github.com/brickci/brickci/internal/redact"
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
	em, wsURL := serveEmulator(t, emulator.Config{TaskDuration: time.Millisecond})
	api, ghURL := serveComments(t)

	dir := t.TempDir()
	env := prEnv(t, ghURL)
	for k, v := range map[string]string{
		"DATABRICKS_TOKEN": dbToken, "DATABRICKS_AUTH_TYPE": "pat", "DATABRICKS_RATE_LIMIT": "1000",
		"INPUT_GITHUB_TOKEN": ghToken, "GITHUB_TOKEN": ghToken,
		"GITHUB_ENV": filepath.Join(dir, "env"), "GITHUB_OUTPUT": filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"), "PATH": os.Getenv("PATH"),
	} {
		env[k] = v
	}
	host := []string{"--host", wsURL}
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

// TestEchoedCredentialsNeverLeak points every mode that talks to the
// workspace at an emulator that quotes the request's Authorization header
// in every error, as some proxies do, once for each way brickci gets a
// credential: a PAT in the environment, a token in a ~/.databrickscfg
// profile, and the access tokens issued by OAuth m2m and by GitHub OIDC
// token exchange (which brickci never sees in its environment). No output,
// step summary or pull-request comment may hold the credential, inside
// Actions (where it must also be masked first) and locally.
func TestEchoedCredentialsNeverLeak(t *testing.T) {
	t.Parallel()
	const (
		patToken     = "dapi-ENVSENTINEL-93c1"
		profileToken = "dapi-PROFILESENTINEL-4b7e"
		ghToken      = "ghs_SENTINEL_echo_1f2e"
	)
	// Tokens the emulator issues are "dose" and 32 hex digits.
	issued := regexp.MustCompile(`dose[0-9a-f]{32}`)
	cases := []struct {
		name string
		env  map[string]string
		// secret is the credential to look for; empty means an issued token.
		secret string
	}{
		{"pat", map[string]string{"DATABRICKS_TOKEN": patToken, "DATABRICKS_AUTH_TYPE": "pat"}, patToken},
		{"profile", map[string]string{"DATABRICKS_CONFIG_PROFILE": "ci"}, profileToken},
		{"oauth-m2m", map[string]string{"DATABRICKS_AUTH_TYPE": "oauth-m2m", "DATABRICKS_CLIENT_ID": "sp-ci", "DATABRICKS_CLIENT_SECRET": "dose-client-secret-77a1"}, ""},
		{"github-oidc", map[string]string{"DATABRICKS_AUTH_TYPE": "github-oidc", "DATABRICKS_CLIENT_ID": "sp-ci", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-sentinel-5d"}, ""},
	}
	for _, tc := range cases {
		for _, onActions := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/actions=%v", tc.name, onActions), func(t *testing.T) {
				t.Parallel()
				_, wsURL := serveEmulator(t, emulator.Config{EchoAuthorization: "/api/2.0/workspace/"})
				api, ghURL := serveComments(t)
				dir := t.TempDir()
				cfgFile := filepath.Join(dir, "databrickscfg")
				if err := os.WriteFile(cfgFile, []byte("[ci]\nhost = "+wsURL+"\ntoken = "+profileToken+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				env := map[string]string{"DATABRICKS_CONFIG_FILE": cfgFile, "DATABRICKS_RATE_LIMIT": "1000", "PATH": os.Getenv("PATH")}
				if onActions {
					env = prEnv(t, ghURL)
					env["GITHUB_TOKEN"] = ghToken
					env["DATABRICKS_CONFIG_FILE"] = cfgFile
				}
				for k, v := range tc.env {
					env[k] = v
				}
				if tc.name == "github-oidc" {
					env["ACTIONS_ID_TOKEN_REQUEST_URL"] = wsURL + "/__emulator/github-oidc?api-version=2.0"
				}
				secrets := func(text string) []string {
					found := issued.FindAllString(text, -1)
					for _, s := range []string{tc.secret, ghToken, tc.env["DATABRICKS_CLIENT_SECRET"], tc.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]} {
						if s != "" && strings.Contains(text, s) {
							found = append(found, s)
						}
					}
					return found
				}
				host := []string{"--host", wsURL}
				runs := [][]string{
					append([]string{"validate", "-t", "staging", "--bundle", exampleBundle, "--comment"}, host...),
					append([]string{"plan", "-t", "staging", "--bundle", exampleBundle, "--comment"}, host...),
					append([]string{"deploy", "-t", "staging", "--bundle", exampleBundle}, host...),
					append(append([]string{"run", "-t", "staging", "--bundle", exampleBundle}, host...), "model_workflow"),
					append([]string{"destroy", "-t", "staging", "--bundle", exampleBundle, "--auto-approve"}, host...),
				}
				echoed := false
				for _, args := range runs {
					_, stdout, stderr := runMain(env, args...)
					echoed = echoed || strings.Contains(stdout+stderr, "Authorization: Bearer "+redact.Mask)
					masks := map[string]bool{}
					for _, line := range strings.Split(stdout, "\n") {
						if v, ok := strings.CutPrefix(line, "::add-mask::"); ok {
							masks[v] = true
						}
					}
					for where, text := range map[string]string{"stdout": stdout, "stderr": stderr} {
						for _, s := range secrets(text) {
							if !masks[s] || strings.Count(text, s) > 1 {
								t.Errorf("%s %s holds %q:\n%s", args[0], where, s, text)
							}
						}
					}
				}
				if !echoed {
					t.Errorf("no run printed the echoed (redacted) Authorization header; the case proves nothing")
				}
				for _, f := range []string{"output", "summary"} {
					b, _ := os.ReadFile(filepath.Join(filepath.Dir(env["GITHUB_OUTPUT"]), f))
					if s := secrets(string(b)); len(s) > 0 {
						t.Errorf("%s holds %q:\n%s", f, s, b)
					}
				}
				api.mu.Lock()
				defer api.mu.Unlock()
				for _, body := range api.comments {
					if s := secrets(body); len(s) > 0 {
						t.Errorf("pull-request comment holds %q:\n%s", s, body)
					}
				}
				if onActions && (len(api.comments) == 0 || !strings.Contains(fmt.Sprint(api.comments), "Bearer "+redact.Mask)) {
					t.Errorf("no pull-request comment quotes the echoed error; the case proves nothing: %v", api.comments)
				}
			})
		}
	}
}
