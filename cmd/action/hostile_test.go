package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/emulator"
)

// The regression tests in this file run the built binary, because that is
// where a hostile review saw each defect.

var (
	hostileBinOnce sync.Once
	hostileBin     string
	hostileBinErr  string
)

// brickciBinary builds the binary once for every test of this file.
func brickciBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	hostileBinOnce.Do(func() {
		// One binary per checkout, replaced on every run (built aside and
		// renamed into place), so runs leave no pile of binaries behind.
		wd, err := os.Getwd()
		if err != nil {
			hostileBinErr = err.Error()
			return
		}
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("brickci-hostile-%x", sha256.Sum256([]byte(wd)))[:len("brickci-hostile-")+16])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			hostileBinErr = err.Error()
			return
		}
		tmp, err := os.MkdirTemp(dir, "build-")
		if err != nil {
			hostileBinErr = err.Error()
			return
		}
		defer os.RemoveAll(tmp)
		built := filepath.Join(tmp, "brickci")
		if out, err := exec.Command("go", "build", "-o", built, ".").CombinedOutput(); err != nil {
			hostileBinErr = err.Error() + "\n" + string(out)
			return
		}
		hostileBin = filepath.Join(dir, "brickci")
		if err := os.Rename(built, hostileBin); err != nil {
			hostileBinErr = err.Error()
		}
	})
	if hostileBinErr != "" {
		t.Fatalf("build: %s", hostileBinErr)
	}
	return hostileBin
}

// execBrickci runs the binary with exactly env (plus PATH and HOME) and
// returns its exit code and streams.
func execBrickci(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(brickciBinary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// TestLongFirstLineIsNotANotebook deploys a bundle holding a valid Python
// file whose first line is 2 MiB long: the notebook header check must read
// only what it needs, not fail the deploy with a scanner's token limit.
func TestLongFirstLineIsNotANotebook(t *testing.T) {
	t.Parallel()
	dir := largeBundle(t, 0)
	long := "X = '" + strings.Repeat("a", 2<<20) + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "src", "rag_chatbot", "long_line.py"), []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWorkspace(t, emulator.Config{})
	code, out, errOut := execBrickci(t, w.env, "deploy", "-t", "staging", "--bundle", dir, "--host", w.url)
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, errOut)
	}
	found := false
	for p, content := range w.em.Files("tok") {
		if strings.HasSuffix(p, "/files/src/rag_chatbot/long_line.py") {
			found = len(content) == len(long)
		}
	}
	if !found {
		t.Errorf("long_line.py was not uploaded whole as a file")
	}
}

// forgedLine matches a log line the runner would run as a workflow command
// whose text starts with the marker: "::name::MARK", "::name k=v::MARK" or
// "##[name]MARK" after blanks.
func forgedLine(marker string) *regexp.Regexp {
	return regexp.MustCompile(`^\s*(::[a-z-]+( [^:]*)?::|##\[[a-z-]+\])` + regexp.QuoteMeta(marker))
}

// forgedCommand reports the first line of a log (lines end at LF or CR, as
// the runner splits them) that runs a command forged with the marker.
func forgedCommand(log, marker string) string {
	re := forgedLine(marker)
	for _, line := range strings.FieldsFunc(log, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if re.MatchString(line) {
			return line
		}
	}
	return ""
}

// TestUntrustedTextCannotIssueCommands gives a job, its tasks and a test
// report names that end a line and start a workflow command, and checks
// that no mode that prints them lets the runner read a command from them.
func TestUntrustedTextCannotIssueCommands(t *testing.T) {
	t.Parallel()
	dir := largeBundle(t, 0)
	res := filepath.Join(dir, "resources", "model-workflow-resource.yml")
	data, err := os.ReadFile(res)
	if err != nil {
		t.Fatal(err)
	}
	hostile := `"evil\n::error::FORGED-job\r::add-mask::FORGED-mask\n  ##[error]FORGED-old"`
	data = []byte(strings.Replace(string(data), "name: ${bundle.target}-rag_chatbot-model-workflow", "name: "+hostile, 1))
	if err := os.WriteFile(res, data, 0o644); err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "    model_workflow:\n", "    \"model_workflow\\n::error::FORGED-key\":\n", 1))
	if err := os.WriteFile(res, data, 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "databricks.yml")
	data, err = os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "  name: rag_chatbot\n", "  name: \"rag_chatbot\\n::error::FORGED-bundle\"\n", 1))
	if err := os.WriteFile(root, data, 0o644); err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(t.TempDir(), "hostile.xml")
	if err := os.WriteFile(junit, []byte(`<testsuite name="s&#10;::error::FORGED-suite" tests="1" failures="1">
<testcase classname="c" name="t&#10;::error::FORGED-test&#13;::add-mask::FORGED-mask"><failure message="m&#10;::warning::FORGED-msg">x&#10;::error::FORGED-body</failure></testcase>
</testsuite>`), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWorkspace(t, emulator.Config{TaskDuration: time.Millisecond})
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	for k, v := range w.env {
		env[k] = v
	}
	host := []string{"--host", w.url}
	runs := [][]string{
		{"validate", "--offline", "-t", "staging", "--bundle", dir, "--format", "markdown"},
		{"validate", "--offline", "-t", "staging", "--bundle", dir, "--format", "text"},
		append([]string{"plan", "-t", "staging", "--bundle", dir, "--format", "text"}, host...),
		append([]string{"plan", "-t", "staging", "--bundle", dir, "--format", "markdown"}, host...),
		append([]string{"deploy", "-t", "staging", "--bundle", dir}, host...),
		append(append([]string{"run", "-t", "staging", "--bundle", dir, "--poll", "10ms"}, host...), "model_workflow\n::error::FORGED-arg"),
		{"test", "--unit", "--bundle", dir, "--command", "cp " + junit + " {junit}"},
		append([]string{"destroy", "-t", "staging", "--bundle", dir, "--auto-approve"}, host...),
	}
	for _, args := range runs {
		code, stdout, stderr := execBrickci(t, env, args...)
		if (args[0] == "validate" || args[0] == "plan" || args[0] == "test") && !strings.Contains(stdout+stderr, "FORGED") {
			t.Errorf("%v (exit %d) never printed the hostile text; the case proves nothing\n%s\n%s", args, code, stdout, stderr)
		}
		for where, log := range map[string]string{"stdout": stdout, "stderr": stderr} {
			if line := forgedCommand(log, "FORGED"); line != "" {
				t.Errorf("%v %s lets the runner read a command: %q\n%s", args[:2], where, line, log)
			}
		}
	}
}

// TestCommentSectionsCannotBeForged names a job after the start marker of
// the validate section and the end marker of the plan section, and gives
// it a name that mentions a team: validate then plan post to one shared
// comment, which must keep exactly its two sections and notify no one.
func TestCommentSectionsCannotBeForged(t *testing.T) {
	t.Parallel()
	dir := largeBundle(t, 0)
	res := filepath.Join(dir, "resources", "model-workflow-resource.yml")
	data, err := os.ReadFile(res)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "    model_workflow:\n", "    \"<!-- /brickci-section:plan-staging --><!-- brickci-section:validate -->\":\n", 1)
	s = strings.Replace(s, "name: ${bundle.target}-rag_chatbot-model-workflow", `name: "cc @acme/admins\n<!-- brickci-section:validate -->"`, 1)
	if err := os.WriteFile(res, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	api, ghURL := serveComments(t)
	w := newWorkspace(t, emulator.Config{})
	env := prEnv(t, ghURL)
	for k, v := range w.env {
		env[k] = v
	}
	for _, mode := range []string{"validate", "plan"} {
		code, stdout, stderr := execBrickci(t, env, mode, "-t", "staging", "--bundle", dir, "--host", w.url, "--comment")
		if code > 1 {
			t.Fatalf("%s: exit %d\n%s\n%s", mode, code, stdout, stderr)
		}
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.comments) != 1 {
		t.Fatalf("%d comments, want 1", len(api.comments))
	}
	for _, body := range api.comments {
		starts := regexp.MustCompile(`<!-- brickci-section:([a-z-]+) -->`).FindAllStringSubmatch(body, -1)
		var names []string
		for _, m := range starts {
			names = append(names, m[1])
		}
		if strings.Join(names, ",") != "validate,plan-staging" {
			t.Errorf("sections %q, want validate then plan-staging:\n%s", names, body)
		}
		if strings.Count(body, "<!-- /brickci-section:plan-staging -->") != 1 {
			t.Errorf("the plan section's end marker is forged:\n%s", body)
		}
		if strings.Contains(body, "@acme/admins") {
			t.Errorf("the comment mentions @acme/admins:\n%s", body)
		}
	}
}

// TestSymlinkedNotebook replaces a notebook with a symbolic link. A link to
// a file inside the bundle is deployed as that notebook; a link that leaves
// the bundle is an error at validate, and deploy fails before uploading
// anything rather than leaving the job pointing at a missing notebook.
func TestSymlinkedNotebook(t *testing.T) {
	t.Parallel()
	const nb = "notebooks/02_chatbot_chain.py"
	link := func(t *testing.T, dir, target string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(nb))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("inside", func(t *testing.T) {
		t.Parallel()
		dir := largeBundle(t, 0)
		link(t, dir, filepath.Join(dir, "src", "shared", "chain.py"))
		w := newWorkspace(t, emulator.Config{})
		code, out, errOut := execBrickci(t, w.env, "deploy", "-t", "staging", "--bundle", dir, "--host", w.url)
		if code != 0 {
			t.Fatalf("deploy: exit %d\n%s\n%s", code, out, errOut)
		}
		found := false
		for p := range w.em.Files("tok") {
			found = found || strings.HasSuffix(p, "/files/notebooks/02_chatbot_chain")
		}
		if !found {
			t.Errorf("the linked notebook was not uploaded")
		}
	})
	t.Run("outside", func(t *testing.T) {
		t.Parallel()
		dir := largeBundle(t, 0)
		link(t, dir, filepath.Join(t.TempDir(), "chain.py"))
		code, out, errOut := execBrickci(t, nil, "validate", "--offline", "-t", "staging", "--bundle", dir, "--format", "text")
		if code != 1 || !strings.Contains(out, "[path-symlink]") || !strings.Contains(out, "outside the bundle") {
			t.Errorf("validate: exit %d, want 1 with path-symlink\n%s\n%s", code, out, errOut)
		}
		w := newWorkspace(t, emulator.Config{})
		code, out, errOut = execBrickci(t, w.env, "deploy", "-t", "staging", "--bundle", dir, "--host", w.url)
		if code == 0 {
			t.Errorf("deploy exited 0 with a notebook it cannot upload\n%s\n%s", out, errOut)
		}
		if n := len(w.em.Files("tok")); n != 0 {
			t.Errorf("deploy wrote %d workspace files before failing", n)
		}
	})
}

// TestIncludeOutsideTheBundle includes YAML from the parent directory and
// through a symbolic link that leaves the bundle: both are reported like
// every other path outside the bundle, and neither is merged.
func TestIncludeOutsideTheBundle(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "bundle")
	if err := os.MkdirAll(filepath.Join(dir, "resources"), 0o755); err != nil {
		t.Fatal(err)
	}
	extra := "resources:\n  jobs:\n    injected:\n      name: injected\n"
	for _, f := range []string{filepath.Join(parent, "up.yml"), filepath.Join(parent, "linked.yml")} {
		if err := os.WriteFile(f, []byte(extra), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(parent, "linked.yml"), filepath.Join(dir, "resources", "linked.yml")); err != nil {
		t.Fatal(err)
	}
	root := "bundle:\n  name: b\ninclude:\n  - ../up.yml\n  - resources/*.yml\ntargets:\n  dev:\n    default: true\n    workspace:\n      host: https://example.cloud.databricks.com\n"
	if err := os.WriteFile(filepath.Join(dir, "databricks.yml"), []byte(root), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := execBrickci(t, nil, "validate", "--offline", "--bundle", dir, "--format", "text")
	if code != 1 || strings.Count(out, "[path-outside-bundle]") != 2 || strings.Contains(out, "injected") {
		t.Errorf("validate: exit %d, want 1 with two path-outside-bundle findings and nothing merged\n%s\n%s", code, out, errOut)
	}
}

// TestSpecRefusesUntrustedExpressions generates workflows from a spec whose
// staging host comes from the pull request's title: generation must refuse
// it (exit 2, no workflow written), since the value would become
// DATABRICKS_HOST next to the staging token in the pull-request plan job.
func TestSpecRefusesUntrustedExpressions(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	bundleDir := largeBundle(t, 0)
	if err := os.Rename(bundleDir, filepath.Join(root, "bundle")); err != nil {
		t.Fatal(err)
	}
	spec := `project: p
bundle: bundle
action: ./
targets:
  staging:
    host: "https://${{ github.event.pull_request.title }}"
    auth: {type: pat, token-secret: STAGING_TOKEN}
  prod:
    environment: "prod\n    x: y"
    auth: {type: pat, token-secret: PROD_TOKEN}
`
	if err := os.WriteFile(filepath.Join(root, "pipeline.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := execBrickci(t, nil, "generate", "--root", root, "--spec", "pipeline.yaml", "--out", "wf")
	if code != 2 || !strings.Contains(out+errOut, "[spec-expression]") || !strings.Contains(out+errOut, "must be a single line") {
		t.Errorf("generate: exit %d, want 2 with spec-expression and a single-line finding\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "wf")); err == nil {
		t.Errorf("workflows were written from an untrusted spec")
	}
}

// TestLintFindsSecretsPullRequestCodeCanReach lints workflows in the shape
// the MLOps Stacks template renders (staging and prod tokens in the
// workflow env of a pull_request workflow that checks out the pull request,
// a test deploy from pull-request code, a prod deploy without an
// environment), and a hand-written plan job whose DATABRICKS_HOST comes
// from the pull request's title: each problem is an error, also in SARIF. The repository's
// own generated workflows have no error or warning.
func TestLintFindsSecretsPullRequestCodeCanReach(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	wf := filepath.Join(root, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	const checkout = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
	files := map[string]string{
		"my-project-run-tests.yml": `name: tests
on:
  pull_request:
    paths: ["my_project/**"]
permissions: {}
env:
  DATABRICKS_TOKEN: ${{ secrets.STAGING_WORKSPACE_TOKEN }}
jobs:
  integration_test:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: read
    steps:
      - uses: ` + checkout + `
        with:
          persist-credentials: false
      - run: databricks bundle deploy -t test
`,
		"my-project-plan.yml": `name: plan
on: pull_request
permissions: {}
jobs:
  plan:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    environment: staging-plan
    permissions:
      contents: read
    steps:
      - uses: ` + checkout + `
        with:
          persist-credentials: false
      - run: databricks bundle validate -t staging
        env:
          DATABRICKS_HOST: https://${{ github.event.pull_request.title }}
          DATABRICKS_TOKEN: ${{ secrets.STAGING_WORKSPACE_TOKEN }}
`,
		"my-project-bundle-cd-prod.yml": `name: cd prod
on:
  push:
    branches: [release]
permissions: {}
env:
  DATABRICKS_TOKEN: ${{ secrets.PROD_WORKSPACE_TOKEN }}
jobs:
  prod:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: read
    steps:
      - uses: ` + checkout + `
        with:
          persist-credentials: false
      - run: databricks bundle deploy -t prod
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(wf, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := execBrickci(t, nil, "lint", "--root", root, "--format", "sarif")
	if code != 1 {
		t.Fatalf("lint: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	var sarif struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &sarif); err != nil || len(sarif.Runs) != 1 {
		t.Fatalf("not SARIF: %v\n%s", err, out)
	}
	levels := map[string]string{}
	for _, r := range sarif.Runs[0].Results {
		levels[r.RuleID] = r.Level
	}
	documented := map[string]bool{}
	for _, r := range sarif.Runs[0].Tool.Driver.Rules {
		documented[r.ID] = true
	}
	for _, rule := range []string{"pr-secrets", "secrets-workflow-env", "prod-environment", "untrusted-env"} {
		if levels[rule] != "error" {
			t.Errorf("rule %s: level %q, want error; results %v", rule, levels[rule], levels)
		}
		if !documented[rule] {
			t.Errorf("rule %s is not described in the SARIF driver", rule)
		}
	}
	code, out, errOut = execBrickci(t, nil, "lint", "--root", "../..", "--format", "text", "--fail-level", "warning")
	// "no findings in N files" with shellcheck and pyflakes installed, the
	// counts line with their info note without them.
	if code != 0 || !(strings.Contains(out+errOut, "0 errors, 0 warnings") || strings.Contains(out+errOut, "no findings in ")) {
		t.Errorf("lint of this repository: exit %d, want 0 with no error or warning\n%s\n%s", code, out, errOut)
	}
}

// hugeInputs writes, into dir, YAML files that break one documented input
// limit each: over the file size, nested too deep, too many nodes. They
// are generated here, never committed.
func hugeInputs(t *testing.T, dir string) map[string]string {
	t.Helper()
	var deep strings.Builder
	for i := range 300 {
		deep.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	deep.WriteString(strings.Repeat(" ", 300) + "v\n")
	files := map[string]string{
		"size":  "bundle:\n  name: b\n# " + strings.Repeat("x", 5<<20) + "\n",
		"depth": "bundle:\n  name: b\nx:\n" + indent(deep.String(), 2),
		"nodes": "bundle:\n  name: b\nx: [" + strings.TrimSuffix(strings.Repeat("a,", 250_000), ",") + "]\n",
	}
	out := map[string]string{}
	for name, body := range files {
		p := filepath.Join(dir, name+".yml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		out[name] = p
	}
	return out
}

func indent(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = strings.Repeat(" ", n) + l
		}
	}
	return strings.Join(lines, "")
}

// TestInputLimits feeds validate (a bundle), generate (a spec) and lint (a
// workflow) YAML over each documented limit: each is refused with a message
// naming the limit, and deep nesting is not blamed on aliases.
func TestInputLimits(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	inputs := hugeInputs(t, src)
	want := map[string]string{
		"size":  "limit of 4 MiB",
		"depth": "deeper than the limit of 100 levels",
		"nodes": "more than the limit of 200000 YAML nodes",
	}
	for name, path := range inputs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		bundleDir := filepath.Join(t.TempDir(), "b")
		wf := filepath.Join(t.TempDir(), ".github", "workflows")
		for _, d := range []string{bundleDir, wf} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{filepath.Join(bundleDir, "databricks.yml"), filepath.Join(wf, "ci.yml"), filepath.Join(bundleDir, "pipeline.yaml")} {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		runs := map[string][]string{
			"validate": {"validate", "--offline", "--bundle", bundleDir, "--format", "text"},
			"generate": {"generate", "--check", "--root", bundleDir, "--spec", "pipeline.yaml"},
			"lint":     {"lint", "--root", filepath.Dir(filepath.Dir(wf)), "--format", "text"},
		}
		for mode, args := range runs {
			code, out, errOut := execBrickci(t, nil, args...)
			if code == 0 || !strings.Contains(out+errOut, want[name]) || strings.Contains(out+errOut, "through aliases") {
				t.Errorf("%s of the %s case: exit %d, want non-zero with %q\n%s\n%s", mode, name, code, want[name], out, errOut)
			}
		}
	}
}

// TestPlanCommentCarriesNoToken runs the built binary's plan --comment
// against a workspace that echoes the Authorization header in its errors:
// the PAT must not reach the pull-request comment, where the runner's
// masking does not apply, nor the log or the step summary.
func TestPlanCommentCarriesNoToken(t *testing.T) {
	t.Parallel()
	// Underscores: markdown escaping writes them as \_, a form the
	// comment must not hold either.
	const pat = "dapi_BINARY_SENTINEL_0c3d"
	escaped := strings.ReplaceAll(pat, "_", `\_`)
	_, wsURL := serveEmulator(t, emulator.Config{EchoAuthorization: "/api/2.0/workspace/"})
	api, ghURL := serveComments(t)
	env := prEnv(t, ghURL)
	env["DATABRICKS_TOKEN"] = pat
	code, out, errOut := execBrickci(t, env, "plan", "-t", "staging", "--bundle", exampleBundle, "--host", wsURL, "--comment")
	if code == 0 || !strings.Contains(errOut, "Authorization: Bearer ***") {
		t.Fatalf("plan: exit %d, want a failure quoting the redacted header\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(strings.ReplaceAll(out, "::add-mask::"+pat+"\n", ""), pat) || strings.Contains(errOut, pat) {
		t.Errorf("the log holds the token:\n%s\n%s", out, errOut)
	}
	if b, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"]); strings.Contains(string(b), pat) {
		t.Errorf("the step summary holds the token:\n%s", b)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.comments) != 1 {
		t.Fatalf("%d comments, want 1", len(api.comments))
	}
	for _, body := range api.comments {
		if strings.Contains(body, pat) || strings.Contains(body, escaped) || !strings.Contains(body, "Bearer ***") {
			t.Errorf("comment holds the token, or not the echoed error:\n%s", body)
		}
	}
}
