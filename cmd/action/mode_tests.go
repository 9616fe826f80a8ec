package main

// The test mode lives in mode_tests.go, not mode_test.go: Go would compile
// a file named *_test.go only into the package's tests.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/brickci/brickci/internal/testrun"
)

func testFlags(fs *flag.FlagSet) runFunc {
	unit := fs.Bool("unit", false, "run the unit tests with --command and read the JUnit report it writes")
	command := fs.String("command", "", "unit-test command, split like a shell but run without one; {junit} is replaced by the report path and a pytest command gets --junitxml added (default \"pytest tests/unit\", or \"python3 -m pytest tests/unit\" when pytest is not on PATH)")
	junit := fs.String("junit", "", "where the command writes its JUnit report, relative to --bundle (default: a temporary file)")
	tf := declareTargetFlags(fs, false)
	bundle := tf.dir
	integration := fs.Bool("integration", false, "deploy the bundle to -t TARGET under a path of its own, run the named jobs and report them")
	cleanup := fs.Bool("cleanup", false, "--integration: destroy the test deployment afterwards, also when a run failed or was cancelled")
	isolate := fs.String("isolate", "", "--integration: sub-directory of the target's root path to deploy under (default pr-<number> on a pull request, run-<id> in other workflow runs)")
	skip := skipFlag(fs)
	rf := declareWaitFlags(fs)
	return func(ctx context.Context, inv *invocation, args []string) outcome {
		switch {
		case *unit && *integration:
			return outcome{code: bad(inv, "--unit and --integration run separately: call brickci test once for each")}
		case *integration:
			t, code := oneTarget(inv, *tf.targets)
			if code != exitOK {
				return outcome{code: code}
			}
			if len(args) == 0 {
				return outcome{code: bad(inv, "name the jobs to run: brickci test --integration -t %s JOB_KEY...", t)}
			}
			skipped, code := skipTypes(inv, *skip)
			if code != exitOK {
				return outcome{code: code}
			}
			return runIntegration(ctx, inv, tf.wf, rf, integrationRequest{dir: *bundle, project: *tf.project, target: t, vars: tf.vars, isolate: *isolate, cleanup: *cleanup, jobs: args, skip: skipped})
		case !*unit:
			return outcome{code: bad(inv, "nothing to run: pass --unit to run the unit tests or --integration to run jobs on a test target")}
		}
		if len(args) > 0 {
			return outcome{code: bad(inv, "unexpected arguments %q: 'brickci test --unit' takes none; put test paths in --command", args)}
		}
		return runUnitTests(ctx, inv, *bundle, *tf.project, *command, *junit)
	}
}

// runUnitTests runs the unit-test command in the bundle directory and
// reports the result: a text summary locally; inside Actions, annotations
// at the failing lines, the markdown step summary and the outputs result,
// passed, failed, errors and skipped.
func runUnitTests(ctx context.Context, inv *invocation, bundle, project, command, junit string) outcome {
	bundle, rc := bundleDir(inv, bundle, project)
	if rc != exitOK {
		return outcome{code: rc}
	}
	dir, err := filepath.Abs(bundle)
	if err != nil {
		return outcome{code: bad(inv, "failed to resolve the bundle directory %q: %v", bundle, err)}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return outcome{code: bad(inv, "bundle directory %q does not exist; pass --bundle DIR", bundle)}
	}
	prefix, err := repoRelative(inv, dir)
	if err != nil {
		return outcome{code: bad(inv, "%v", err)}
	}

	a := newAction(inv)
	a.Group("unit tests")
	// The suite's own output must not be able to issue workflow commands.
	resume := a.StopCommands()
	res, err := testrun.Run(ctx, testrun.Options{
		Dir:        dir,
		Command:    command,
		JUnit:      junit,
		PathPrefix: prefix,
		Stdout:     inv.stdout,
		Stderr:     inv.stderr,
		LookPath:   lookPathIn(inv.getenv),
	})
	resume()
	a.EndGroup()
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return outcome{code: failed(inv, "%v", err)}
		}
		return outcome{code: bad(inv, "%v", err)}
	}

	o := outcome{code: exitOK}
	if !res.OK() {
		o.code = exitFailed
	}
	if !inv.onActions {
		if err := res.WriteText(inv.stdout); err != nil {
			return outcome{code: bad(inv, "failed to write the test summary: %v", err)}
		}
		return o
	}
	if err := res.WriteText(inv.stderr); err != nil {
		inv.say("failed to write the test summary: %v", err)
	}
	var md strings.Builder
	if err := res.WriteMarkdown(&md); err != nil {
		inv.say("failed to render the step summary: %v", err)
		md.Reset()
	}
	c := res.Counts()
	o.summary, o.annotations = md.String(), res.Findings()
	o.outputs = []output{{"result", res.Status()}, {"passed", strconv.Itoa(c.Passed)}, {"failed", strconv.Itoa(c.Failed)},
		{"errors", strconv.Itoa(c.Errors)}, {"skipped", strconv.Itoa(c.Skipped)}}
	return o
}

// repoRelative returns dir as a slash path relative to the repository root
// (GITHUB_WORKSPACE inside Actions, else the working directory), which is
// what annotations need. A directory outside the root keeps its absolute
// path.
func repoRelative(inv *invocation, dir string) (string, error) {
	root := inv.getenv("GITHUB_WORKSPACE")
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("failed to read the working directory: %w", err)
		}
		root = wd
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(dir), nil
	}
	return filepath.ToSlash(rel), nil
}
