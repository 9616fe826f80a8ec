package testrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"
)

// DefaultTestPath is where the default command looks for unit tests,
// relative to the bundle directory.
const DefaultTestPath = "tests/unit"

// DefaultGracePeriod is how long a cancelled command has to exit after
// SIGINT before it is killed. GitHub sends SIGTERM 7.5 s after SIGINT, so
// the tests must be gone well before.
const DefaultGracePeriod = 5 * time.Second

// JUnitPlaceholder in a command is replaced by the JUnit report's path.
const JUnitPlaceholder = "{junit}"

// DefaultCommand is the one place that decides how unit tests run when no
// command is configured: "pytest tests/unit" when pytest is on the path,
// else "python3 -m pytest tests/unit" (pytest installed as a module of the
// interpreter only, as pip does in a virtual environment without scripts
// on PATH). Run adds --junitxml to either.
func DefaultCommand(lookPath func(string) (string, error)) string {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if _, err := lookPath("pytest"); err == nil {
		return "pytest " + DefaultTestPath
	}
	return "python3 -m pytest " + DefaultTestPath
}

// Options configure one unit-test run.
type Options struct {
	// Dir is the directory the command runs in: the bundle directory.
	Dir string
	// Command is the command line, split into words like a shell would but
	// run without one (no pipes, redirections or variables). Empty means
	// DefaultCommand. {junit} is replaced by the report's path; a pytest
	// command without --junitxml gets --junitxml=<report> appended.
	Command string
	// JUnit is where the command writes its JUnit report, relative to Dir
	// unless absolute. Empty means a file in a temporary directory that is
	// removed afterwards. An existing file is removed before the run so a
	// stale report is never read.
	JUnit string
	// PathPrefix is the slash path from the repository root to Dir; it is
	// prepended to test files in findings so annotations land on the file.
	PathPrefix string
	// Stdout and Stderr receive the command's output as it runs.
	Stdout, Stderr io.Writer
	// Env is the command's environment; nil inherits this process's.
	Env []string
	// LookPath finds executables; nil means exec.LookPath.
	LookPath func(string) (string, error)
	// GracePeriod is the time between SIGINT and kill on cancellation;
	// zero means DefaultGracePeriod.
	GracePeriod time.Duration
}

// Result is the outcome of a unit-test run.
type Result struct {
	// Args is the command that ran, after splitting and substitution.
	Args []string
	// ExitCode is the command's exit code (-1 when killed by a signal).
	ExitCode int
	// Report is the parsed JUnit report with failures located.
	Report *Report
	// PathPrefix is Options.PathPrefix, for findings.
	PathPrefix string
	// Mismatch is set when the exit code and the report disagree.
	Mismatch string
}

// Counts are the report's counts.
func (r *Result) Counts() Counts { return r.Report.Counts() }

// OK reports whether every test passed or was skipped and the command
// agreed.
func (r *Result) OK() bool {
	return r.ExitCode == 0 && r.Mismatch == "" && r.Report.Counts().Broken() == 0
}

// Run runs the unit-test command in opts.Dir and reads its JUnit report.
// It returns an error when the command cannot be parsed or started, is
// cancelled (wrapping ctx.Err()), or leaves no readable report; failing
// tests are not an error but part of the Result.
func Run(ctx context.Context, opts Options) (*Result, error) {
	lookPath := opts.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	line := strings.TrimSpace(opts.Command)
	if line == "" {
		line = DefaultCommand(lookPath)
	}
	junit, cleanup, err := junitPath(opts.Dir, opts.JUnit)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	args, err := SplitCommand(line, junit)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(junit); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("failed to remove the old JUnit report %q: %w", junit, err)
	}

	code, err := execute(ctx, opts, lookPath, args)
	if err != nil {
		return nil, err
	}
	rep, err := ReadJUnit(junit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s exited %d without writing the JUnit report %q: make the command write it (pytest: --junitxml=%s) or set --junit to where it writes one", programName(args), code, junit, JUnitPlaceholder)
	}
	if err != nil {
		return nil, err
	}
	rep.Locate(func(p string) bool {
		st, err := os.Stat(filepath.Join(opts.Dir, filepath.FromSlash(p)))
		return err == nil && st.Mode().IsRegular()
	})
	res := &Result{Args: args, ExitCode: code, Report: rep, PathPrefix: opts.PathPrefix}
	res.Mismatch = mismatch(programName(args), code, rep.Counts())
	return res, nil
}

// junitPath returns the absolute report path and a clean-up function.
func junitPath(dir, junit string) (string, func(), error) {
	if junit == "" {
		tmp, err := os.MkdirTemp("", "brickci-junit-")
		if err != nil {
			return "", nil, fmt.Errorf("failed to create a directory for the JUnit report: %w", err)
		}
		return filepath.Join(tmp, "junit.xml"), func() { os.RemoveAll(tmp) }, nil
	}
	if !filepath.IsAbs(junit) {
		junit = filepath.Join(dir, junit)
	}
	abs, err := filepath.Abs(junit)
	if err != nil {
		return "", nil, fmt.Errorf("failed to resolve the JUnit path %q: %w", junit, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return "", nil, fmt.Errorf("failed to create the directory for the JUnit report %q: %w", abs, err)
	}
	return abs, func() {}, nil
}

// SplitCommand splits a command line into words without expanding
// variables or running anything, replaces {junit} with the report path and
// appends --junitxml=<junit> to a pytest command that names no report.
// Shell operators (; & | < >) are refused: the command runs without a shell.
func SplitCommand(line, junit string) ([]string, error) {
	p := shellwords.NewParser()
	p.ParseEnv = false
	p.ParseBacktick = false
	args, err := p.Parse(line)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the test command %q: %w (check its quotes)", line, err)
	}
	if p.Position >= 0 {
		return nil, fmt.Errorf("test command %q uses a shell operator at %q: it runs without a shell, so put pipes and redirections in a script and run that", line, line[p.Position:])
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("test command %q is empty: set --command or leave it unset for %q", line, "pytest "+DefaultTestPath)
	}
	placed := false
	for i, a := range args {
		if strings.Contains(a, JUnitPlaceholder) {
			args[i] = strings.ReplaceAll(a, JUnitPlaceholder, junit)
			placed = true
		}
	}
	if !placed && isPytest(args) && !namesJUnit(args) {
		args = append(args, "--junitxml="+junit)
	}
	return args, nil
}

func isPytest(args []string) bool {
	base := path.Base(filepath.ToSlash(args[0]))
	if base == "pytest" || base == "py.test" {
		return true
	}
	for i := 1; i+1 < len(args); i++ {
		if args[i] == "-m" {
			return args[i+1] == "pytest"
		}
	}
	return false
}

func namesJUnit(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "--junitxml") || strings.HasPrefix(a, "--junit-xml") {
			return true
		}
	}
	return false
}

// programName is what messages call the command: "pytest" for both
// "pytest ..." and "python3 -m pytest ...".
func programName(args []string) string {
	for i := 1; i+1 < len(args); i++ {
		if args[i] == "-m" {
			return args[i+1]
		}
	}
	return path.Base(filepath.ToSlash(args[0]))
}

// execute runs the command and returns its exit code. Cancelling ctx sends
// SIGINT, then kills the command after the grace period.
func execute(ctx context.Context, opts Options, lookPath func(string) (string, error), args []string) (int, error) {
	name := args[0]
	bin := name
	if !strings.ContainsRune(name, '/') && !strings.ContainsRune(name, filepath.Separator) {
		p, err := lookPath(name)
		if err != nil {
			return 0, fmt.Errorf("failed to start the test command: %q was not found on PATH; install it or set --command", name)
		}
		bin = p
	}
	cmd := exec.CommandContext(ctx, bin, args[1:]...)
	cmd.Args[0] = name
	cmd.Dir = opts.Dir
	cmd.Env = opts.Env
	cmd.Stdout = opts.Stdout
	cmd.Stderr = opts.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = opts.GracePeriod
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = DefaultGracePeriod
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("failed to start the test command %q in %q: %w", strings.Join(args, " "), opts.Dir, err)
	}
	err := cmd.Wait()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return 0, fmt.Errorf("test command %q was cancelled: %w", name, ctxErr)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("failed to run the test command %q: %w", name, err)
	}
	return 0, nil
}

// mismatch explains an exit code that disagrees with the report, or
// returns "".
func mismatch(program string, code int, c Counts) string {
	switch {
	case code != 0 && c.Broken() == 0:
		why := "the command failed outside the tests (collection, fixtures, plugins or a crash); see its output above"
		if c.Total() == 0 {
			why = "no tests were collected; check the test path in the command"
		}
		if code < 0 {
			return fmt.Sprintf("%s was killed by a signal but the JUnit report has no failures: %s", program, why)
		}
		return fmt.Sprintf("%s exited %d but the JUnit report has no failures: %s", program, code, why)
	case code == 0 && c.Broken() > 0:
		return fmt.Sprintf("%s exited 0 but the JUnit report has %d failing tests: the command may hide the test exit code (for example with '|| true'), or the report is not from this run", program, c.Broken())
	}
	return ""
}
