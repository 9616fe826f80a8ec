package gha

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/diag"
)

// fakeRunner is a simulated Actions environment with temporary runtime files.
type fakeRunner struct {
	env    map[string]string
	stdout bytes.Buffer
	dir    string
}

func newFakeRunner(t *testing.T) *fakeRunner {
	t.Helper()
	dir := t.TempDir()
	r := &fakeRunner{dir: dir, env: map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_ENV":          filepath.Join(dir, "env"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}}
	return r
}

func (r *fakeRunner) action() *Action {
	return New(func(k string) string { return r.env[k] }, &r.stdout)
}

func (r *fakeRunner) read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// parseOutputs reads a GITHUB_OUTPUT file the way the runner does.
func parseOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := sc.Text()
		name, delim, ok := strings.Cut(line, "<<")
		if !ok {
			t.Fatalf("unexpected line %q", line)
		}
		var val []string
		for sc.Scan() && sc.Text() != delim {
			val = append(val, sc.Text())
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func TestOutputCannotInjectAnotherOutput(t *testing.T) {
	t.Parallel()
	r := newFakeRunner(t)
	a := r.action()
	evil := "first\nghadelimiter_x\nresult=success\nEOF\ninjected<<EOF\nowned"
	if err := a.SetOutput("result", evil); err != nil {
		t.Fatal(err)
	}
	if err := a.SetOutput("count", "3"); err != nil {
		t.Fatal(err)
	}
	got := parseOutputs(t, r.read(t, "output"))
	if len(got) != 2 || got["result"] != evil || got["count"] != "3" {
		t.Fatalf("outputs = %q", got)
	}
}

func TestOutsideActionsNothingPanics(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := New(func(string) string { return "" }, &out)
	if err := a.SetOutput("x", "y"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddSummary("# hi"); err != nil {
		t.Fatal(err)
	}
	a.AddMask("secret")
	a.Group("g")
	a.EndGroup()
	if out.Len() != 0 {
		t.Errorf("wrote workflow commands outside Actions: %q", out.String())
	}
}

func TestUnwritableOutputIsAnErrorNotAPanic(t *testing.T) {
	t.Parallel()
	r := newFakeRunner(t)
	r.env["GITHUB_OUTPUT"] = filepath.Join(r.dir, "missing", "dir", "output")
	if err := r.action().SetOutput("x", "y"); err == nil {
		t.Fatal("want an error for an unwritable output file")
	}
}

func TestSummaryTruncatedUnderLimit(t *testing.T) {
	t.Parallel()
	r := newFakeRunner(t)
	a := r.action()
	line := strings.Repeat("x", 1023) + "\n"
	for i := 0; i < 1100; i++ {
		if err := a.AddSummary(line); err != nil {
			t.Fatal(err)
		}
	}
	s := r.read(t, "summary")
	if len(s) > MaxSummaryBytes {
		t.Fatalf("summary is %d bytes, over the limit", len(s))
	}
	if !strings.HasSuffix(s, truncationNote) {
		t.Fatal("summary lacks the truncation note")
	}
	if len(s) < MaxSummaryBytes-2048 {
		t.Fatalf("summary lost more than needed: %d bytes", len(s))
	}
}

func TestAnnotateCapsPerLevelMostSevereFirst(t *testing.T) {
	t.Parallel()
	r := newFakeRunner(t)
	a := r.action()
	var l diag.List
	for i := 1; i <= 12; i++ {
		l = append(l, diag.Warnf("w", "a.yml", i, 1, "warn %d", i))
		l = append(l, diag.Errorf("e", "a.yml", i, 2, "err %d, 100%%: x", i))
		l = append(l, diag.Infof("i", "a.yml", i, 3, "info %d", i))
	}
	dropped := a.Annotate(l)
	if dropped != 6 {
		t.Errorf("dropped = %d, want 6", dropped)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout.String()), "\n")
	if len(lines) != 30 {
		t.Fatalf("got %d annotation lines, want 30", len(lines))
	}
	if !strings.HasPrefix(lines[0], "::error col=2,file=a.yml,line=1,title=e::err 1, 100%25: x") {
		t.Errorf("first line = %q", lines[0])
	}
	if !strings.HasPrefix(lines[10], "::warning ") || !strings.HasPrefix(lines[20], "::notice ") {
		t.Errorf("levels out of order: %q / %q", lines[10], lines[20])
	}
}

// TestAddMaskOncePerLine: each line of a value is masked on its own, once,
// and blank lines are not masked at all.
func TestAddMaskOncePerLine(t *testing.T) {
	t.Parallel()
	r := newFakeRunner(t)
	a := r.action()
	a.AddMask("dapi-secret\n\n second ")
	a.AddMask("dapi-secret")
	a.AddMask("")
	if got, want := r.stdout.String(), "::add-mask::dapi-secret\n::add-mask::second\n"; got != want {
		t.Errorf("mask output = %q, want %q", got, want)
	}
}

func TestPullRequestEvent(t *testing.T) {
	t.Parallel()
	r := newFakeRunner(t)
	ev := filepath.Join(r.dir, "event.json")
	os.WriteFile(ev, []byte(`{"number": 7, "pull_request": {"number": 7, "title": "x\"; rm -rf /", "head": {"repo": {"full_name": "fork/repo", "fork": true}}, "base": {"repo": {"full_name": "org/repo"}}}}`), 0o644)
	r.env["GITHUB_EVENT_PATH"] = ev
	r.env["GITHUB_EVENT_NAME"] = "pull_request"
	pr, err := r.action().PullRequestEvent()
	if err != nil {
		t.Fatal(err)
	}
	if pr.Number != 7 || !pr.IsFork() {
		t.Errorf("pr = %+v", pr)
	}
	r.env["GITHUB_EVENT_NAME"] = "push"
	if _, err := r.action().PullRequestEvent(); err != ErrNoPullRequest {
		t.Errorf("push event: %v", err)
	}
}

func TestStopCommands(t *testing.T) {
	t.Parallel()
	r := newFakeRunner(t)
	a := r.action()
	resume := a.StopCommands()
	r.stdout.WriteString("::error::forged\n")
	resume()
	lines := strings.Split(strings.TrimSpace(r.stdout.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "::stop-commands::ghadelimiter_") {
		t.Fatalf("lines = %q", lines)
	}
	tok := strings.TrimPrefix(lines[0], "::stop-commands::")
	if lines[2] != "::"+tok+"::" {
		t.Errorf("resume line = %q, want ::%s::", lines[2], tok)
	}
	var out bytes.Buffer
	New(func(string) string { return "" }, &out).StopCommands()()
	if out.Len() != 0 {
		t.Errorf("wrote %q outside Actions", out.String())
	}
}
