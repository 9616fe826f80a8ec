package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// utExampleDir is the example bundle the unit-test mode is exercised on.
var utExampleDir = filepath.Join("..", "..", "examples", "rag-chatbot")

// utPytestCommand returns the --command to run the example's tests with: ""
// (the default) when pytest is on PATH, else the system interpreter's
// pytest module. It skips the test when neither exists.
func utPytestCommand(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("pytest"); err == nil {
		return ""
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import pytest").Run(); err == nil {
		return "/usr/bin/python3 -m pytest tests/unit"
	}
	t.Skip("pytest not found: neither 'pytest' on PATH nor /usr/bin/python3 with the pytest module; install python3-pytest to run this test")
	return ""
}

// utCopyExample copies the example bundle to <root>/examples/rag-chatbot so
// the tests neither write caches into the tree nor see each other's edits.
func utCopyExample(t *testing.T, root string) string {
	t.Helper()
	dst := filepath.Join(root, "examples", "rag-chatbot")
	err := filepath.WalkDir(utExampleDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "__pycache__" || d.Name() == ".pytest_cache") {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(utExampleDir, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("failed to copy the example: %v", err)
	}
	return dst
}

var utTestDef = regexp.MustCompile(`(?m)^\s*def (test_\w+)\(`)

// utCountTests counts the test functions in the bundle's tests/unit files.
func utCountTests(t *testing.T, bundle string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(bundle, "tests", "unit", "test_*.py"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s: %v", bundle, err)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(utTestDef.FindAll(data, -1))
	}
	return n
}

// utActionsEnv is a GitHub Actions step environment rooted at workspace.
func utActionsEnv(t *testing.T, workspace string) (map[string]string, string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "output")
	summary := filepath.Join(t.TempDir(), "summary")
	return map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_WORKSPACE":    workspace,
		"GITHUB_OUTPUT":       out,
		"GITHUB_STEP_SUMMARY": summary,
		"PATH":                os.Getenv("PATH"),
	}, out, summary
}

func utArgs(bundle, command string) []string {
	args := []string{"test", "--unit", "--bundle", bundle}
	if command != "" {
		args = append(args, "--command", command)
	}
	return args
}

func TestUnitTestsPassOnExample(t *testing.T) {
	t.Parallel()
	command := utPytestCommand(t)
	root := t.TempDir()
	bundle := utCopyExample(t, root)
	want := utCountTests(t, bundle)
	if want < 12 {
		t.Fatalf("the example has %d unit tests, want at least 12", want)
	}

	t.Run("locally", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := runMain(map[string]string{"PATH": os.Getenv("PATH")}, utArgs(bundle, command)...)
		if code != exitOK {
			t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		line := "unit tests passed: " + strconv.Itoa(want) + " passed, 0 failed, 0 errors, 0 skipped"
		if !strings.Contains(stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, stdout)
		}
	})

	t.Run("in Actions", func(t *testing.T) {
		t.Parallel()
		env, outFile, summaryFile := utActionsEnv(t, root)
		code, stdout, stderr := runMain(env, utArgs(bundle, command)...)
		if code != exitOK {
			t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		wantOut := map[string]string{"result": "passed", "passed": strconv.Itoa(want), "failed": "0", "errors": "0", "skipped": "0"}
		if diff := cmp.Diff(wantOut, readOutputs(t, outFile)); diff != "" {
			t.Errorf("outputs (-want +got):\n%s", diff)
		}
		if strings.Contains(stdout, "::error") {
			t.Errorf("annotations for a passing run:\n%s", stdout)
		}
		summary, err := os.ReadFile(summaryFile)
		if err != nil {
			t.Fatal(err)
		}
		row := "| passed | " + strconv.Itoa(want) + " | 0 | 0 | 0 | " + strconv.Itoa(want) + " |"
		if !strings.Contains(string(summary), row) {
			t.Errorf("summary lacks %q:\n%s", row, summary)
		}
	})
}

func TestUnitTestFailureIsAnnotated(t *testing.T) {
	t.Parallel()
	command := utPytestCommand(t)
	root := t.TempDir()
	bundle := utCopyExample(t, root)
	total := utCountTests(t, bundle)

	// Break one assertion and note its line.
	file := filepath.Join(bundle, "tests", "unit", "test_evaluation.py")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	good := "assert passes(GOOD, EvaluationThresholds()) == (True, [])"
	broken := "assert passes(GOOD, EvaluationThresholds()) == (False, [])"
	i := strings.Index(string(data), good)
	if i < 0 {
		t.Fatalf("%s no longer contains %q; update this test", file, good)
	}
	line := strings.Count(string(data[:i]), "\n") + 1
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), good, broken, 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	env, outFile, summaryFile := utActionsEnv(t, root)
	code, stdout, stderr := runMain(env, utArgs(bundle, command)...)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	annotation := "::error file=examples/rag-chatbot/tests/unit/test_evaluation.py,line=" + strconv.Itoa(line) +
		",title=test-failure::test_good_metrics_pass failed: assert (True, []) == (False, [])\n"
	if !strings.Contains(stdout, annotation) {
		t.Errorf("stdout lacks the annotation %q:\n%s", annotation, stdout)
	}
	if n := strings.Count(stdout, "::error "); n != 1 {
		t.Errorf("%d error annotations, want 1:\n%s", n, stdout)
	}
	wantOut := map[string]string{"result": "failed", "passed": strconv.Itoa(total - 1), "failed": "1", "errors": "0", "skipped": "0"}
	if diff := cmp.Diff(wantOut, readOutputs(t, outFile)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	summary, err := os.ReadFile(summaryFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(summary), "<summary><code>examples/rag-chatbot/tests/unit/test_evaluation.py:"+strconv.Itoa(line)+"</code>: test_good_metrics_pass failed") {
		t.Errorf("summary lacks the failure's details block:\n%s", summary)
	}
}

func TestUnitTestBadInvocations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"PATH": os.Getenv("PATH")}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no --unit", []string{"test", "--bundle", dir}, "brickci test: nothing to run: pass --unit to run the unit tests or --integration to run jobs on a test target\n"},
		{"extra arguments", []string{"test", "--unit", "--bundle", dir, "model_workflow"}, "brickci test: unexpected arguments [\"model_workflow\"]: 'brickci test --unit' takes none; put test paths in --command\n"},
		{"missing bundle", []string{"test", "--unit", "--bundle", filepath.Join(dir, "nope")}, "does not exist; pass --bundle DIR\n"},
		{"command not found", []string{"test", "--unit", "--bundle", dir, "--command", "no-such-runner-xyz tests"}, "brickci test: failed to start the test command: \"no-such-runner-xyz\" was not found on PATH; install it or set --command\n"},
		{"no report written", []string{"test", "--unit", "--bundle", dir, "--command", "true"}, "brickci test: true exited 0 without writing the JUnit report"},
		{"unknown flag", []string{"test", "--unti"}, "flag provided but not defined: -unti"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runMain(env, c.args...)
			if code != exitBadCall {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q lacks %q", stderr, c.want)
			}
		})
	}
}
