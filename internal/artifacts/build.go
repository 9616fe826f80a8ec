package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/brickci/brickci/internal/bundle"
	"github.com/mattn/go-shellwords"
)

// tailLines is how many lines of a failed build's output its error shows.
const tailLines = 20

// Builder runs artifact builds. The zero value is not usable: set Env.
type Builder struct {
	// Env is the builds' environment (KEY=value). Its PATH is where
	// programs are looked up.
	Env []string
	// Output receives the builds' output as it is written; nil discards it.
	Output io.Writer
	// Group wraps each build's output in a GitHub Actions log group.
	Group bool
	// LookPath finds a program; default: a search of Env's PATH.
	LookPath func(name string) (string, error)
	// Run runs a prepared command; default (*exec.Cmd).Run.
	Run func(*exec.Cmd) error
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Result is one artifact that was built.
type Result struct {
	Name string
	// Command is what ran, as words; Shell is true when it ran with a
	// shell's -c.
	Command []string
	Shell   bool
	// Duration is how long the build took.
	Duration time.Duration
	// Outputs are the files the artifact's files globs match after the build.
	Outputs []string
}

// BuildError is a build that failed: the command exited non-zero, could not
// start, or produced none of its files.
type BuildError struct {
	Artifact string
	Command  string
	Err      error
	// Tail holds the last lines of the build's output.
	Tail []string
}

func (e *BuildError) Error() string {
	var s strings.Builder
	fmt.Fprintf(&s, "failed to build artifact %q with %q: %v", e.Artifact, e.Command, e.Err)
	if len(e.Tail) > 0 {
		fmt.Fprintf(&s, "; the last %d lines of its output:", len(e.Tail))
		for _, l := range e.Tail {
			s.WriteString("\n    " + l)
		}
	}
	return s.String()
}

func (e *BuildError) Unwrap() error { return e.Err }

// Pending returns the artifacts that have a build command, in name order.
func Pending(arts []bundle.Artifact) []bundle.Artifact {
	var out []bundle.Artifact
	for _, a := range arts {
		if a.Build != "" {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Build runs the build of every artifact that has one, in name order, and
// stops at the first failure, which is a *BuildError. Artifacts without a
// build command are left alone: their files are expected to exist.
func (b *Builder) Build(ctx context.Context, arts []bundle.Artifact) ([]Result, error) {
	var out []Result
	for _, a := range Pending(arts) {
		r, err := b.build(ctx, a)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (b *Builder) build(ctx context.Context, a bundle.Artifact) (Result, error) {
	now := b.Now
	if now == nil {
		now = time.Now
	}
	w := b.Output
	if w == nil {
		w = io.Discard
	}
	fail := func(err error, tail []string) (Result, error) {
		return Result{}, &BuildError{Artifact: a.Name, Command: a.Build, Err: err, Tail: tail}
	}
	argv, shell, err := b.command(a)
	if err != nil {
		return fail(err, nil)
	}
	if a.Type == "whl" {
		if err := cleanWheelBuild(a.Path); err != nil {
			return fail(err, nil)
		}
	}
	title := fmt.Sprintf("build artifact %s: %s", a.Name, oneLine(a.Build))
	if b.Group {
		fmt.Fprintf(w, "::group::%s\n", title)
	} else {
		fmt.Fprintln(w, title)
	}
	tail := &tailWriter{max: tailLines}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = a.Path
	cmd.Env = b.Env
	cmd.Stdout = io.MultiWriter(w, tail)
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = 5 * time.Second
	run := b.Run
	if run == nil {
		run = (*exec.Cmd).Run
	}
	start := now()
	err = run(cmd)
	took := now().Sub(start)
	if b.Group {
		fmt.Fprintln(w, "::endgroup::")
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return fail(err, tail.lines())
	}
	outputs, err := Outputs(a)
	if err != nil {
		return fail(err, tail.lines())
	}
	if len(outputs) == 0 {
		return fail(fmt.Errorf("the build succeeded but made none of its files (%s)", strings.Join(relAll(a.Path, a.Files), ", ")), tail.lines())
	}
	if a.Type == "whl" && a.DynamicVersion {
		for i, o := range outputs {
			if !strings.HasSuffix(o, ".whl") {
				continue
			}
			if outputs[i], err = DynamicVersion(o); err != nil {
				return fail(err, nil)
			}
		}
		sort.Strings(outputs)
	}
	return Result{Name: a.Name, Command: argv, Shell: shell, Duration: took, Outputs: outputs}, nil
}

// command returns the words to run for a's build: the command itself when
// it has no shell syntax, else a shell's -c with it.
func (b *Builder) command(a bundle.Artifact) ([]string, bool, error) {
	look := b.LookPath
	if look == nil {
		look = pathLooker(b.Env)
	}
	if a.Executable != "" || needsShell(a.Build) {
		sh := a.Executable
		if sh == "" {
			sh = "sh"
		}
		p, err := look(sh)
		if err != nil {
			return nil, false, fmt.Errorf("the build needs a shell and %q is not on PATH: %w", sh, err)
		}
		flag := "-c"
		if strings.EqualFold(sh, "cmd") {
			flag = "/C"
		}
		return []string{p, flag, a.Build}, true, nil
	}
	p := shellwords.NewParser()
	p.ParseEnv, p.ParseBacktick = false, false
	words, err := p.Parse(a.Build)
	if err != nil {
		return nil, false, fmt.Errorf("failed to split the build command (check its quotes): %w", err)
	}
	if len(words) == 0 {
		return nil, false, errors.New("the build command is empty")
	}
	if strings.ContainsRune(words[0], '/') {
		// A relative program is relative to the artifact's path, where
		// the build runs.
		if !filepath.IsAbs(words[0]) {
			words[0] = filepath.Join(a.Path, words[0])
		}
		return words, false, nil
	}
	prog, err := look(words[0])
	if err != nil {
		return nil, false, fmt.Errorf("%s is not on PATH%s: %w", words[0], installHint(words), err)
	}
	words[0] = prog
	return words, false, nil
}

// installHint says what provides the usual wheel build programs.
func installHint(words []string) string {
	switch words[0] {
	case "python3", "python":
		return " (install Python 3; python3 -m build needs the build module: apt-get install python3-build, or pip install build)"
	case "uv", "poetry":
		return " (install it in an earlier step, or build with python3 -m build --wheel)"
	}
	return ""
}

// needsShell reports whether a command uses syntax only a shell
// understands outside quotes: operators, redirections, substitutions,
// variables, globs, comments or a leading variable assignment.
func needsShell(s string) bool {
	var quote rune
	word := true // at the start of a word
	first := true
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else if quote == '"' && (r == '$' || r == '`') {
				return true
			}
			continue
		case r == '\'' || r == '"':
			quote = r
		case r == '\\':
			// shellwords handles escapes.
		case strings.ContainsRune("|&;<>()$`*?[]{}\n", r):
			return true
		case r == '~' && word:
			return true
		case r == '#' && word:
			return true
		case r == '=' && first:
			return true
		case r == ' ' || r == '\t':
			if !word {
				first = false
			}
			word = true
			continue
		}
		word = false
	}
	return false
}

// pathLooker finds programs in the PATH of env.
func pathLooker(env []string) func(string) (string, error) {
	var dirs []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			dirs = filepath.SplitList(v)
		}
	}
	return func(name string) (string, error) {
		for _, d := range dirs {
			if d == "" {
				continue
			}
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
		return "", exec.ErrNotFound
	}
}

// cleanWheelBuild removes what an earlier wheel build left in dir, as the
// CLI does before it builds a wheel: dist/, build/ and *.egg-info.
func cleanWheelBuild(dir string) error {
	targets := []string{filepath.Join(dir, "dist"), filepath.Join(dir, "build")}
	for _, pattern := range []string{"*.egg-info", "src/*.egg-info"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		targets = append(targets, m...)
	}
	for _, t := range targets {
		if err := os.RemoveAll(t); err != nil {
			return fmt.Errorf("failed to remove %q left by an earlier build: %w", t, err)
		}
	}
	return nil
}

// Outputs returns the files an artifact's files globs match, sorted.
func Outputs(a bundle.Artifact) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, g := range a.Files {
		m, err := doublestar.FilepathGlob(g, doublestar.WithFilesOnly())
		if err != nil {
			return nil, fmt.Errorf("failed to match the files glob %q of artifact %q: %w", g, a.Name, err)
		}
		for _, f := range m {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func relAll(dir string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if r, err := filepath.Rel(dir, p); err == nil {
			p = r
		}
		out[i] = filepath.ToSlash(p)
	}
	return out
}

// oneLine keeps a log group title on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// tailWriter keeps the last max lines written to it.
type tailWriter struct {
	max     int
	done    []string
	partial []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.partial = append(t.partial, p...)
	for {
		i := strings.IndexByte(string(t.partial), '\n')
		if i < 0 {
			break
		}
		t.push(strings.TrimRight(string(t.partial[:i]), "\r"))
		t.partial = t.partial[i+1:]
	}
	return len(p), nil
}

func (t *tailWriter) push(line string) {
	t.done = append(t.done, line)
	if len(t.done) > t.max {
		t.done = t.done[len(t.done)-t.max:]
	}
}

func (t *tailWriter) lines() []string {
	out := append([]string{}, t.done...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
		if len(out) > t.max {
			out = out[len(out)-t.max:]
		}
	}
	return out
}
