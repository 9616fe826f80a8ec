package testrun

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeRunner writes a script that copies a JUnit fixture ($1) to the report
// path ($2), prints a line and exits with $3. A fixture named "-" writes no
// report.
func fakeRunner(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"running $#\"\necho oops >&2\nif [ \"$1\" != - ]; then cp \"$1\" \"$2\"; fi\nexit \"$3\"\n"
	p := filepath.Join(dir, "fake-tests")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func fixturePath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunOutcomes(t *testing.T) {
	t.Parallel()
	runner := fakeRunner(t)
	cases := []struct {
		name     string
		fixture  string
		exit     string
		ok       bool
		counts   Counts
		mismatch string
		rules    []string
	}{
		{name: "exit 0 with failures", fixture: "generic-testsuites.xml", exit: "0", ok: false, counts: Counts{Passed: 2, Failed: 1, Skipped: 1},
			mismatch: "fake-tests exited 0 but the JUnit report has 1 failing tests: the command may hide the test exit code (for example with '|| true'), or the report is not from this run",
			rules:    []string{RuleTestExitCode, RuleTestFailure}},
		{name: "failures agree with exit 1", fixture: "pytest-xunit2.xml", exit: "1", counts: Counts{Passed: 23, Failed: 2, Errors: 1, Skipped: 1},
			rules: []string{RuleTestFailure, RuleTestFailure, RuleTestFailure}},
		{name: "exit 1 without failures", fixture: "no-tests.xml", exit: "1",
			mismatch: "fake-tests exited 1 but the JUnit report has no failures: no tests were collected; check the test path in the command",
			rules:    []string{RuleTestExitCode}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			res, err := Run(context.Background(), Options{
				Dir:     t.TempDir(),
				Command: runner + " " + fixturePath(t, c.fixture) + " {junit} " + c.exit,
				Stdout:  &out,
				Stderr:  &errOut,
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.OK() != c.ok {
				t.Errorf("OK() = %v, want %v", res.OK(), c.ok)
			}
			if diff := cmp.Diff(c.counts, res.Counts()); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if res.Mismatch != c.mismatch {
				t.Errorf("mismatch = %q, want %q", res.Mismatch, c.mismatch)
			}
			var rules []string
			for _, f := range res.Findings().BySeverity() {
				rules = append(rules, f.Rule)
			}
			if diff := cmp.Diff(c.rules, rules); diff != "" {
				t.Errorf("finding rules (-want +got):\n%s", diff)
			}
			if out.String() != "running 3\n" || errOut.String() != "oops\n" {
				t.Errorf("output not streamed: stdout %q stderr %q", out.String(), errOut.String())
			}
		})
	}
}

func TestRunPassing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass.xml")
	if err := os.WriteFile(pass, []byte(`<testsuite name="pytest"><testcase classname="tests.unit.test_a" name="test_ok" time="0.1"/><testcase classname="tests.unit.test_a" name="test_skip"><skipped message="later"/></testcase></testsuite>`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Dir: dir, Command: fakeRunner(t) + " " + pass + " {junit} 0", Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Status() != "passed" || len(res.Findings()) != 0 {
		t.Errorf("want a clean pass, got ok=%v status=%s findings=%v", res.OK(), res.Status(), res.Findings())
	}
	if diff := cmp.Diff(Counts{Passed: 1, Skipped: 1}, res.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

func TestRunLocatesInDir(t *testing.T) {
	t.Parallel()
	// A generic report whose class names are module paths: the file exists
	// in the run directory, so it is found even though the report is not
	// pytest's.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pkg", "test_mod.py"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "r.xml")
	xmlText := `<testsuite name="nose2"><testcase classname="pkg.test_mod.Suite" name="test_x"><failure message="bad">pkg/test_mod.py:7: AssertionError</failure></testcase></testsuite>`
	if err := os.WriteFile(report, []byte(xmlText), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Dir: dir, PathPrefix: "svc", Command: fakeRunner(t) + " " + report + " {junit} 1", Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Findings()
	if len(got) != 1 || got[0].File != "svc/pkg/test_mod.py" || got[0].Line != 7 || got[0].Message != "test_x failed: bad" {
		t.Errorf("findings = %v", got)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	runner := fakeRunner(t)
	cases := []struct {
		name    string
		command string
		want    string
	}{
		{"not found", "no-such-test-runner-xyz tests", `"no-such-test-runner-xyz" was not found on PATH; install it or set --command`},
		{"no report", runner + " - {junit} 1", "fake-tests exited 1 without writing the JUnit report"},
		{"malformed report", runner + " " + fixturePath(t, "malformed.xml") + " {junit} 1", "failed to parse JUnit report"},
		{"shell operator", "pytest tests | tee log", `uses a shell operator at "| tee log"`},
		{"unbalanced quote", `pytest "tests`, "check its quotes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(context.Background(), Options{Dir: t.TempDir(), Command: c.command, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestRunRemovesStaleReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "junit.xml"), []byte(`<testsuite/>`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Dir: dir, JUnit: "junit.xml", Command: fakeRunner(t) + " - {junit} 0", Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "without writing the JUnit report") {
		t.Errorf("a report from an earlier run was read: err = %v", err)
	}
}

func TestRunCancelKillsAfterGrace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The script ignores SIGINT, so only the kill after the grace period
	// ends it.
	script := filepath.Join(dir, "stubborn")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntrap '' INT\necho started\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 8)
		pr.Read(buf) // "started": the command is running
		cancel()
		pr.Close()
	}()
	start := time.Now()
	_, err = Run(ctx, Options{Dir: dir, Command: script + " {junit}", Stdout: pw, Stderr: &bytes.Buffer{}, GracePeriod: 100 * time.Millisecond})
	pw.Close()
	// Without the kill the command would sleep its full minute; the bound
	// is far from the grace period so a slow machine cannot fail it.
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("cancelled command ran %s: it was not killed after the grace period", d)
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "was cancelled") {
		t.Errorf("error = %v, want a cancellation", err)
	}
}

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		line string
		want []string
	}{
		{"pytest tests/unit", []string{"pytest", "tests/unit", "--junitxml=/r/j.xml"}},
		{"python3 -m pytest -q 'tests/unit dir'", []string{"python3", "-m", "pytest", "-q", "tests/unit dir", "--junitxml=/r/j.xml"}},
		{"pytest --junitxml=out.xml", []string{"pytest", "--junitxml=out.xml"}},
		{"/venv/bin/pytest -x", []string{"/venv/bin/pytest", "-x", "--junitxml=/r/j.xml"}},
		{"tox -e unit -- --junitxml={junit}", []string{"tox", "-e", "unit", "--", "--junitxml=/r/j.xml"}},
		{"go-junit-report $HOME", []string{"go-junit-report", "$HOME"}},
	}
	for _, c := range cases {
		got, err := SplitCommand(c.line, "/r/j.xml")
		if err != nil {
			t.Errorf("SplitCommand(%q): %v", c.line, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("SplitCommand(%q) (-want +got):\n%s", c.line, diff)
		}
	}
	if _, err := SplitCommand("   ", "/r/j.xml"); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty command: err = %v", err)
	}
}

func TestDefaultCommand(t *testing.T) {
	t.Parallel()
	found := func(string) (string, error) { return "/usr/bin/pytest", nil }
	missing := func(string) (string, error) { return "", exec.ErrNotFound }
	if got := DefaultCommand(found); got != "pytest tests/unit" {
		t.Errorf("with pytest on PATH: %q", got)
	}
	if got := DefaultCommand(missing); got != "python3 -m pytest tests/unit" {
		t.Errorf("without pytest on PATH: %q", got)
	}
}
