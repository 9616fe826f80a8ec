package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gha"
	"github.com/brickci/brickci/internal/workspace"
)

// The flags several modes share. Declaring them in one place keeps their
// names, defaults and help text (and so the action inputs) consistent.

// targetFlag declares -t/--target. Only validate takes several targets;
// the other modes work on one, and their help says so (oneTarget refuses a
// second one).
func targetFlag(fs *flag.FlagSet, many bool) *listFlag {
	var l listFlag
	help := "the bundle `TARGET` to work on (one per run)"
	if many {
		help = "bundle `TARGET` to check (repeatable, or comma-separated)"
	}
	fs.Var(&l, "t", help)
	fs.Var(&l, "target", "same as -t")
	return &l
}

// bundleFlag declares --bundle, the directory holding databricks.yml. Left
// empty, bundleDir finds it when the mode first needs the bundle, after the
// mode's own checks of its flags.
func bundleFlag(fs *flag.FlagSet) *string {
	return fs.String("bundle", "", "`DIR` holding databricks.yml (default: the current directory when it holds one, else the bundle: of "+defaultSpecPath+")")
}

// bundleDir returns the bundle directory: dir when --bundle was given, else
// the current directory when it holds databricks.yml, else the bundle: key
// of the pipeline spec at the repository root, said in one note. Without
// either it says how to name the bundle and returns exit code 2.
func bundleDir(inv *invocation, dir string) (string, int) {
	if dir != "" {
		return dir, exitOK
	}
	for _, name := range []string{"databricks.yml", "databricks.yaml"} {
		if _, err := os.Stat(name); err == nil {
			return ".", exitOK
		}
	}
	if _, err := os.Stat(defaultSpecPath); err != nil {
		return "", bad(inv, "no databricks.yml in the current directory and no %s naming the bundle: pass --bundle DIR, or run at the repository root of a project whose spec sets bundle: DIR", defaultSpecPath)
	}
	s, l, err := inv.loadSpec(defaultSpecPath)
	if err != nil {
		return "", bad(inv, "no databricks.yml in the current directory, and %v; pass --bundle DIR", err)
	}
	if s == nil || s.Bundle == "" {
		l.Sort()
		_ = diag.WriteText(inv.stderr, l)
		return "", bad(inv, "no databricks.yml in the current directory, and %s names no bundle: directory; pass --bundle DIR or fix the spec", defaultSpecPath)
	}
	inv.note("brickci %s: using bundle %s (bundle: in %s)", inv.mode, s.Bundle, defaultSpecPath)
	return s.Bundle, exitOK
}

// targetFlags are the flags of every mode that resolves a bundle for a
// target: -t, --bundle, --var, --host and --profile.
type targetFlags struct {
	targets *listFlag
	dir     *string
	vars    varFlag
	wf      workspaceFlags
}

// declareTargetFlags declares the target flags; many makes -t repeatable
// in the help (validate), the other modes work on one target.
func declareTargetFlags(fs *flag.FlagSet, many bool) targetFlags {
	tf := targetFlags{targets: targetFlag(fs, many), dir: bundleFlag(fs), vars: varFlag{}, wf: declareWorkspaceFlags(fs)}
	fs.Var(tf.vars, "var", "set a bundle variable: name=value (repeatable)")
	return tf
}

// workspaceFlags are the flags of every mode that talks to a workspace.
type workspaceFlags struct {
	host    *string
	profile *string
}

func declareWorkspaceFlags(fs *flag.FlagSet) workspaceFlags {
	return workspaceFlags{
		host:    fs.String("host", "", "workspace URL; overrides the target's workspace.host and DATABRICKS_HOST"),
		profile: fs.String("profile", "", "profile in ~/.databrickscfg to authenticate with"),
	}
}

// env is the invocation as the workspace package sees it.
func (wf workspaceFlags) env(inv *invocation) workspace.Env {
	return workspace.Env{Getenv: inv.getenv, Host: *wf.host, Profile: *wf.profile, Secrets: inv.secrets, Note: inv.note, Mode: inv.mode}
}

// outputFlags are --format and --fail-level for modes that report findings.
type outputFlags struct {
	format    *string
	failLevel *string
}

func declareOutputFlags(fs *flag.FlagSet, formats ...string) outputFlags {
	return outputFlags{
		format:    fs.String("format", "", "output format: "+strings.Join(formats, ", ")+" (default github inside Actions, text elsewhere)"),
		failLevel: fs.String("fail-level", "error", "lowest severity that fails the check: error, warning or info"),
	}
}

// resolve returns the format to use and the fail severity, or an error
// naming the bad value.
func (o outputFlags) resolve(inv *invocation, formats ...string) (string, diag.Severity, error) {
	format := *o.format
	if format == "" {
		format = "text"
		if inv.onActions {
			format = "github"
		}
	}
	ok := false
	for _, f := range formats {
		ok = ok || f == format
	}
	if !ok {
		return "", 0, fmt.Errorf("unknown format %q, valid are %q", format, formats)
	}
	sev, err := diag.ParseSeverity(*o.failLevel)
	if err != nil {
		return "", 0, fmt.Errorf("--fail-level: %w", err)
	}
	return format, sev, nil
}

// newAction returns the Actions runtime wrapper for this invocation.
// Secrets were registered (and masked) by Main before any mode ran.
func newAction(inv *invocation) *gha.Action {
	return gha.New(inv.getenv, inv.stdout)
}

// say prints one line about the mode on stderr: "brickci MODE: ...".
func (inv *invocation) say(format string, args ...any) {
	fmt.Fprintf(inv.stderr, "brickci %s: %s\n", inv.mode, fmt.Sprintf(format, args...))
}

// bad says why the invocation is bad and returns exit code 2.
func bad(inv *invocation, format string, args ...any) int {
	inv.say(format, args...)
	return exitBadCall
}

// failed says why the mode failed and returns exit code 1.
func failed(inv *invocation, format string, args ...any) int {
	inv.say(format, args...)
	return exitFailed
}
