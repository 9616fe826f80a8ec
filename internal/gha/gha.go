package gha

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	githubactions "github.com/sethvargo/go-githubactions"

	"github.com/brickci/brickci/internal/diag"
)

// MaxSummaryBytes is GitHub's limit for one step's summary.
// https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#step-isolation-and-limits
const MaxSummaryBytes = 1 << 20

// AnnotationsPerLevel is how many annotations of one level GitHub shows per
// step; the rest are dropped silently.
const AnnotationsPerLevel = 10

// truncationNote ends a step summary that would have exceeded the limit.
const truncationNote = "\n\n> **Note:** this summary was truncated to stay under GitHub's 1 MiB step summary limit; the full output is in the job log.\n"

// Action talks to the Actions runtime. The zero value is not usable; call New.
type Action struct {
	lib    *githubactions.Action
	getenv func(string) string
	stdout io.Writer

	mu          sync.Mutex
	summaryUsed int  // bytes this process has written to the step summary
	truncated   bool // the truncation note has been written
	masked      map[string]bool
}

// New returns an Action that reads variables through getenv and writes
// workflow commands to stdout. When stdout is a *Log, commands go through
// its Command, and the Log's redactor also cleans the step summary and
// outputs.
func New(getenv func(string) string, stdout io.Writer) *Action {
	lib := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout))
	return &Action{lib: lib, getenv: getenv, stdout: stdout, masked: map[string]bool{}}
}

// OnActions reports whether the process runs inside a GitHub Actions step.
func (a *Action) OnActions() bool { return a.getenv("GITHUB_ACTIONS") == "true" }

// AddMask tells the runner to mask a value in the log. Empty values and
// values already masked are skipped; each line of a multi-line value is
// masked on its own, as the runner masks line by line. Outside Actions it
// does nothing.
func (a *Action) AddMask(value string) {
	if !a.OnActions() {
		return
	}
	for _, line := range strings.Split(value, "\n") {
		line = strings.TrimSpace(line)
		a.mu.Lock()
		seen := a.masked[line]
		a.masked[line] = true
		a.mu.Unlock()
		if line == "" || seen {
			continue
		}
		a.issue(&githubactions.Command{Name: "add-mask", Message: line})
	}
}

// issue writes a workflow command, ignoring write errors: a log that
// cannot be written must not crash the step.
func (a *Action) issue(c *githubactions.Command) {
	a.writeCommand(c.String())
}

// writeCommand writes one workflow command line.
func (a *Action) writeCommand(line string) {
	if l, ok := a.stdout.(*Log); ok {
		l.Command(line)
		return
	}
	fmt.Fprint(a.stdout, line+"\n")
}

// redact removes registered credentials when stdout is a Log.
func (a *Action) redact(text string) string {
	if l, ok := a.stdout.(*Log); ok {
		return l.redact(text)
	}
	return text
}

// Group starts a collapsible log group (only inside Actions).
func (a *Action) Group(title string) {
	if a.OnActions() {
		a.issue(&githubactions.Command{Name: "group", Message: title})
	}
}

// EndGroup ends the current log group (only inside Actions).
func (a *Action) EndGroup() {
	if a.OnActions() {
		a.issue(&githubactions.Command{Name: "endgroup"})
	}
}

// ErrDelimiterInValue is returned when a value contains the random heredoc
// delimiter chosen for it, which would let it end the value early.
var ErrDelimiterInValue = errors.New("value contains its heredoc delimiter")

// SetOutput writes a step output. Outside Actions (no GITHUB_OUTPUT) it does
// nothing and returns nil.
func (a *Action) SetOutput(name, value string) error {
	return a.fileCommand("GITHUB_OUTPUT", name, value)
}

// fileCommand appends `name<<DELIM\nvalue\nDELIM\n` to the file named by the
// variable, with a fresh random delimiter.
func (a *Action) fileCommand(fileVar, name, value string) error {
	path := a.getenv(fileVar)
	if path == "" {
		return nil
	}
	if name == "" || strings.ContainsAny(name, "\r\n=<") {
		return fmt.Errorf("invalid name %q for %s", name, fileVar)
	}
	value = a.redact(value)
	delim, err := delimiter()
	if err != nil {
		return err
	}
	if strings.Contains(value, delim) {
		return fmt.Errorf("failed to set %q: %w", name, ErrDelimiterInValue)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return appendFile(path, name+"<<"+delim+"\n"+value+"\n"+delim+"\n")
}

func delimiter() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to make a delimiter: %w", err)
	}
	return "ghadelimiter_" + hex.EncodeToString(b), nil
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", path, err)
	}
	_, werr := f.WriteString(s)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("failed to write %s: %w", path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("failed to write %s: %w", path, cerr)
	}
	return nil
}

// AddSummary appends markdown to the step summary. Outside Actions it does
// nothing. Once the summary would pass MaxSummaryBytes, what fits is cut at a
// line boundary and a note says it was truncated; later calls are dropped.
func (a *Action) AddSummary(markdown string) error {
	path := a.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	markdown = a.redact(markdown)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.truncated {
		return nil
	}
	if a.summaryUsed == 0 {
		// Another step of the same job may not share this file, but an
		// earlier call in this step might have: start from its real size.
		if st, err := os.Stat(path); err == nil {
			a.summaryUsed = int(st.Size())
		}
	}
	room := MaxSummaryBytes - a.summaryUsed - len(truncationNote)
	if len(markdown) > room {
		cut := markdown[:max(room, 0)]
		if i := strings.LastIndexByte(cut, '\n'); i >= 0 {
			cut = cut[:i+1]
		}
		a.truncated = true
		markdown = cut + truncationNote
	}
	if err := appendFile(path, markdown); err != nil {
		return err
	}
	a.summaryUsed += len(markdown)
	return nil
}

// Annotate writes findings as workflow annotations, most severe first and at
// most AnnotationsPerLevel per level, because GitHub drops the rest silently.
// It returns how many findings were not annotated; callers put the full list
// in the step summary.
func (a *Action) Annotate(findings diag.List) (dropped int) {
	perLevel := map[diag.Severity]int{}
	for _, f := range findings.BySeverity() {
		if perLevel[f.Severity] >= AnnotationsPerLevel {
			dropped++
			continue
		}
		perLevel[f.Severity]++
		a.issue(annotation(f))
	}
	return dropped
}

func annotation(f diag.Finding) *githubactions.Command {
	name := map[diag.Severity]string{diag.Error: "error", diag.Warning: "warning", diag.Info: "notice"}[f.Severity]
	props := githubactions.CommandProperties{}
	if f.File != "" {
		props["file"] = f.File
	}
	if f.Line > 0 {
		props["line"] = strconv.Itoa(f.Line)
		if f.EndLine > 0 {
			props["endLine"] = strconv.Itoa(f.EndLine)
		}
		if f.Column > 0 {
			props["col"] = strconv.Itoa(f.Column)
			if f.EndColumn > 0 && (f.EndLine == 0 || f.EndLine == f.Line) {
				props["endColumn"] = strconv.Itoa(f.EndColumn)
			}
		}
	}
	if f.Rule != "" {
		props["title"] = f.Rule
	}
	return &githubactions.Command{Name: name, Message: f.Message, Properties: props}
}

// StopCommands makes the runner ignore workflow commands (`::error::`,
// `::set-output`, …) in what follows until the returned function is
// called, so output of a program brickci streams (a test suite, say)
// cannot forge annotations or masks. Outside Actions both are no-ops.
func (a *Action) StopCommands() (resume func()) {
	if !a.OnActions() {
		return func() {}
	}
	tok, err := delimiter()
	if err != nil {
		return func() {}
	}
	a.issue(&githubactions.Command{Name: "stop-commands", Message: tok})
	return func() { a.writeCommand("::" + tok + "::") }
}
