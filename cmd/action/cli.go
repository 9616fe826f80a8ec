package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gha"
	"github.com/brickci/brickci/internal/github"
	"github.com/brickci/brickci/internal/redact"
	"github.com/brickci/brickci/internal/spec"
)

// Exit codes of the command-line contract.
const (
	exitOK      = 0 // success
	exitFailed  = 1 // the check failed: findings at the fail level, failed tests or runs
	exitBadCall = 2 // bad invocation or input that could not be read
)

// invocation is everything a mode may use from the outside world. Modes
// never read os.Getenv, os.Args or os.Stdout directly, so every mode is
// testable with buffers and a map of variables.
type invocation struct {
	mode   string
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// onActions is true inside a GitHub Actions step (GITHUB_ACTIONS=true).
	onActions bool
	// jsonOut is set once a mode knows it writes JSON to stdout: notes are
	// then kept in notes (and carried in the JSON object as "notes") instead
	// of being printed, so `2>&1` still yields one JSON document.
	jsonOut bool
	notes   []string
	said    map[string]bool
	// secrets is the one credential registry; see registerSecrets.
	secrets *redact.Set
	// specs are the pipeline specs read in this run, by path (see loadSpec).
	specs map[string]loadedSpec
}

// loadedSpec is one result of spec.Load.
type loadedSpec struct {
	s   *spec.Spec
	l   diag.List
	err error
}

// loadSpec reads the pipeline spec at path once per run: finding the
// bundle directory and validate's cross-check read the same file.
func (inv *invocation) loadSpec(path string) (*spec.Spec, diag.List, error) {
	if r, ok := inv.specs[path]; ok {
		return r.s, r.l, r.err
	}
	s, l, err := spec.Load(path)
	if inv.specs == nil {
		inv.specs = map[string]loadedSpec{}
	}
	inv.specs[path] = loadedSpec{s, l, err}
	return s, l, err
}

// note tells the user something that is neither a finding nor an error
// (which directory or host is used, why a check runs offline). It goes to
// stderr once per run, or into the JSON output when the format is json.
func (inv *invocation) note(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if inv.said == nil {
		inv.said = map[string]bool{}
	}
	if inv.said[line] {
		return
	}
	inv.said[line] = true
	if inv.jsonOut {
		inv.notes = append(inv.notes, line)
		return
	}
	fmt.Fprintln(inv.stderr, line)
}

// mode is one sub-command. Its flags function, named <mode>Flags in
// mode_<mode>.go, declares the mode's flags on fs and returns the function
// that runs the mode once fs has been parsed. Flag names use hyphens; the
// matching action input is the name with underscores (force-lock →
// force_lock).
type mode struct {
	summary string
	// args describes the arguments after the flags, for the usage line.
	args  string
	flags func(fs *flag.FlagSet) runFunc
}

// runFunc runs a mode once its flags are parsed. It prints what the mode
// prints as it works (progress, its report) and returns the rest for
// publish.
type runFunc func(ctx context.Context, inv *invocation, args []string) outcome

// outcome is what a run of a mode leaves for publish, and its exit code.
type outcome struct {
	code int
	// say, when set, is the line saying why the mode failed, printed last.
	// A mode that stops before there is anything to publish says why at
	// once (bad, failed) and returns only the code.
	say string
	// summary is markdown for the step summary.
	summary string
	// report, when set, is findings to render in the chosen format.
	report *report
	// annotations are findings shown only as annotations, inside Actions.
	annotations diag.List
	// outputs are the step outputs, written in this order.
	outputs []output
	// comment, when set, is the mode's section of the pull request's
	// brickci comment; inSummary says the summary already holds it, so the
	// fallback when there is no pull request to comment on does not repeat it.
	comment   *github.Comment
	inSummary bool
}

// output is one step output.
type output struct{ name, value string }

// result is the value of the result output of lint, deploy and run.
func result(ok bool) string {
	if ok {
		return "success"
	}
	return "failure"
}

// publish writes what a run left, always in this order: the step summary,
// the findings, annotations, step outputs, the pull-request comment and the
// closing line. A failure to write the summary or an output is said and
// does not change the exit code; findings at the fail level, unusable
// input and a comment that could not be updated do when the mode itself
// succeeded.
func publish(ctx context.Context, inv *invocation, o outcome) int {
	a := newAction(inv)
	if o.summary != "" {
		if err := a.AddSummary(o.summary); err != nil {
			inv.say("%v", err)
		}
	}
	if o.report != nil {
		if code := reportFindings(inv, a, *o.report); o.code == exitOK {
			o.code = code
		}
	}
	if inv.onActions {
		a.Annotate(o.annotations)
	}
	for _, out := range o.outputs {
		if err := a.SetOutput(out.name, out.value); err != nil {
			inv.say("failed to set output %s: %v", out.name, err)
		}
	}
	if o.comment != nil {
		if code := publishComment(ctx, inv, a, *o.comment, o.inSummary); o.code == exitOK {
			o.code = code
		}
	}
	if o.say != "" {
		inv.say("%s", o.say)
	}
	return o.code
}

// modes are brickci's sub-commands by name.
var modes = map[string]mode{
	"lint": {
		summary: "lint workflow files and local actions: actionlint plus brickci's security and consistency rules",
		args:    "[PATH...]", flags: lintFlags,
	},
	"validate": {summary: "check the bundle for each target: schema, variables, paths, task graph, permissions", flags: validateFlags},
	"plan":     {summary: "show what a deploy of a bundle target would change, without changing anything", flags: planFlags},
	"deploy":   {summary: "deploy a bundle target: upload changed files, create or update jobs and serving endpoints", flags: deployFlags},
	"run": {
		summary: "run deployed jobs and pipelines of a bundle target and report every task and flow; cancelling the step cancels the runs",
		args:    "KEY...", flags: runFlags,
	},
	"test": {
		summary: "run the bundle's unit tests (--unit, JUnit) or deploy to a test target and run jobs there (--integration)",
		args:    "[JOB_KEY...]", flags: testFlags,
	},
	"destroy":  {summary: "delete a bundle target's jobs, serving endpoints and workspace files", flags: destroyFlags},
	"generate": {summary: "regenerate the workflows from the pipeline spec; --check reports drift, --pull-request proposes the change", flags: generateFlags},
}

func modeNames() []string {
	names := make([]string, 0, len(modes))
	for n := range modes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Main runs brickci with the given arguments and environment and returns the
// exit code. Outside Actions the first argument is the mode; inside Actions
// (GITHUB_ACTIONS=true) the mode and its settings may come from INPUT_*
// variables instead, and explicit arguments still win.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	// Everything brickci prints passes through one Log per stream: it
	// removes registered credentials and neutralises workflow commands in
	// untrusted text (see gha.Log). Credentials are registered before
	// anything is printed.
	secrets := redact.New()
	// Markdown and HTML renderers escape text before it is written; a
	// credential is removed in those forms too.
	secrets.AddEncoding(diag.EscapeMarkdown)
	secrets.AddEncoding(diag.EscapeHTML)
	outLog, errLog := gha.NewLog(stdout, secrets.Redact), gha.NewLog(stderr, secrets.Redact)
	defer errLog.Flush()
	defer outLog.Flush()
	inv := &invocation{getenv: getenv, stdout: outLog, stderr: errLog, secrets: secrets, onActions: getenv("GITHUB_ACTIONS") == "true"}
	registerSecrets(inv)
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		usage(outLog)
		return exitOK
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "version") {
		fmt.Fprintln(outLog, "brickci", version)
		return exitOK
	}
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	} else if inv.onActions {
		name = strings.TrimSpace(getenv("INPUT_MODE"))
	}
	if name == "" {
		fmt.Fprintln(errLog, "brickci: missing mode")
		fmt.Fprintln(errLog)
		usage(errLog)
		return exitBadCall
	}
	m, ok := modes[name]
	if !ok {
		fmt.Fprintf(errLog, "brickci: unknown mode %q%s\n", name, unknownModeHint(name))
		return exitBadCall
	}
	inv.mode = name
	fs := flag.NewFlagSet("brickci "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := m.flags(fs)
	if inv.onActions {
		if err := applyInputs(fs, getenv); err != nil {
			return bad(inv, "%v", err)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			modeUsage(outLog, name, m, fs)
			return exitOK
		}
		return bad(inv, "%v (see 'brickci %s -h')", err, name)
	}
	// JSON on stdout takes the notes in; see invocation.note.
	if f := fs.Lookup("format"); f != nil && f.Value.String() == "json" {
		inv.jsonOut = true
	}
	rest := fs.Args()
	if inv.onActions && len(rest) == 0 {
		rest = splitList(getenv("INPUT_JOBS"))
	}
	if err := ctx.Err(); err != nil {
		return failed(inv, "cancelled before start")
	}
	code := publish(ctx, inv, run(ctx, inv, rest))
	if code != exitOK && ctx.Err() != nil {
		// An error from deep in a client may say only "context canceled";
		// say once why the mode stopped (the signal, or the timeout).
		inv.say("stopped: %v", context.Cause(ctx))
	}
	return code
}

// applyInputs sets every flag whose action input is present and non-empty.
// Inputs arrive as INPUT_<NAME> with the name upper-cased; brickci's inputs
// use underscores. A repeatable flag takes a comma or newline separated list.
func applyInputs(fs *flag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		key := "INPUT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			return
		}
		if _, ok := f.Value.(*listFlag); ok {
			for _, item := range splitList(v) {
				if err := f.Value.Set(item); err != nil {
					errs = append(errs, fmt.Errorf("input %s: %w", strings.ToLower(key[len("INPUT_"):]), err))
				}
			}
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("input %s: invalid value %q: %s", strings.ToLower(key[len("INPUT_"):]), v, expected(f, err)))
		}
	})
	return errors.Join(errs...)
}

// expected says what a typed flag takes; the flag package's own errors
// ("parse error") do not.
func expected(f *flag.Flag, err error) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return err.Error()
	}
	switch g.Get().(type) {
	case bool:
		return "want true or false"
	case int, int64, uint, uint64:
		return "want a whole number"
	case float64:
		return "want a number"
	case time.Duration:
		return "want a duration such as 90s, 15m or 2h"
	}
	return err.Error()
}

// splitList splits an input on commas, newlines and spaces, dropping empty
// items.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' })
}

// listFlag is a repeatable string flag (-t staging -t prod).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set appends one value; a comma-separated value adds each item.
func (l *listFlag) Set(v string) error {
	for _, item := range splitList(v) {
		*l = append(*l, item)
	}
	return nil
}

// unknownModeHint suggests the mode closest to a misspelt one, or lists
// them all.
func unknownModeHint(name string) string {
	if hint := diag.DidYouMean(name, modeNames()); hint != "" {
		return hint
	}
	return "; modes are " + strings.Join(modeNames(), ", ") + " (see 'brickci -h')"
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: brickci MODE [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "modes:")
	for _, n := range modeNames() {
		fmt.Fprintf(w, "  %-9s %s\n", n, modes[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'brickci MODE -h' for a mode's flags. Exit codes: 0 success, 1 check failed, 2 bad invocation or input.")
}

func modeUsage(w io.Writer, name string, m mode, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n\nflags:\n", strings.TrimSpace("brickci "+name+" [flags] "+m.args), m.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"
