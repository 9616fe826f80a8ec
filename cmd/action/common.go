package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gha"
	"github.com/brickci/brickci/internal/spec"
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

// projectFlag declares --project, the project of the pipeline spec whose
// bundle a mode works on.
func projectFlag(fs *flag.FlagSet) *string {
	return fs.String("project", "", "the `NAME` of the project in "+defaultSpecPath+" whose bundle to use, for a spec with projects: (default: the bundle in the current directory)")
}

// bundleDir returns the bundle directory: dir when --bundle was given, else
// the bundle of --project in the pipeline spec, else the current directory
// when it holds databricks.yml, else the bundle of the spec's one project,
// said in one note. Otherwise it says how to name the bundle and returns
// exit code 2.
func bundleDir(inv *invocation, dir, project string) (string, int) {
	if dir != "" && project == "" {
		return dir, exitOK
	}
	if project == "" {
		for _, name := range []string{"databricks.yml", "databricks.yaml"} {
			if _, err := os.Stat(name); err == nil {
				return ".", exitOK
			}
		}
	}
	if _, err := os.Stat(defaultSpecPath); err != nil {
		if project != "" {
			return "", bad(inv, "--project %q names a project of %s, which does not exist here; run at the repository root, or pass --bundle DIR", project, defaultSpecPath)
		}
		return "", bad(inv, "no databricks.yml in the current directory and no %s naming the bundle: pass --bundle DIR, or run at the repository root of a project whose spec sets bundle: DIR", defaultSpecPath)
	}
	s, l, err := inv.loadSpec(defaultSpecPath)
	if err != nil {
		return "", bad(inv, "no databricks.yml in the current directory, and %v; pass --bundle DIR", err)
	}
	if s == nil || len(s.Projects) == 0 || s.Projects[0].Bundle == "" {
		l.Sort()
		_ = diag.WriteText(inv.stderr, l)
		return "", bad(inv, "no databricks.yml in the current directory, and %s names no bundle: directory; pass --bundle DIR or fix the spec", defaultSpecPath)
	}
	names := make([]string, 0, len(s.Projects))
	for _, p := range s.Projects {
		names = append(names, p.Name)
	}
	switch {
	case project != "":
		p, ok := s.ProjectNamed(project)
		if !ok {
			return "", bad(inv, "project %q is not in %s%s", project, defaultSpecPath, projectHint(project, names))
		}
		if dir != "" && !sameDir(dir, p.Bundle) {
			return "", bad(inv, "--bundle %s is not the bundle of project %q (%s); pass one of --bundle and --project", dir, project, p.Bundle)
		}
		inv.note("brickci %s: using bundle %s (project %s in %s)", inv.mode, p.Bundle, p.Name, defaultSpecPath)
		return p.Bundle, exitOK
	case s.MultiProject:
		return "", bad(inv, "no databricks.yml in the current directory, and %s lists several projects (%s); pass --project NAME, or --bundle DIR", defaultSpecPath, strings.Join(names, ", "))
	}
	inv.note("brickci %s: using bundle %s (bundle: in %s)", inv.mode, s.Bundle, defaultSpecPath)
	return s.Bundle, exitOK
}

// commentProject names the spec project whose pull-request comment
// sections a check of the bundle in dir keeps to itself: "" unless the
// repository's spec lists several projects.
func commentProject(inv *invocation, dir, project string) string {
	if project != "" {
		return project
	}
	if _, err := os.Stat(defaultSpecPath); err != nil {
		return ""
	}
	s, _, err := inv.loadSpec(defaultSpecPath)
	if err != nil || s == nil || !s.MultiProject {
		return ""
	}
	if dir == "" {
		dir = "."
	}
	if p := specProject(s, dir, "", false); p != nil {
		return p.Name
	}
	return ""
}

// projectHint is a did-you-mean, or the list of the spec's projects.
func projectHint(name string, names []string) string {
	if h := diag.DidYouMean(name, names); h != "" {
		return h
	}
	return "; its projects are " + strings.Join(names, ", ")
}

// specProject returns the project of the pipeline spec s that describes
// the bundle in bdir: the one named, else the one whose bundle: is bdir,
// else, for a spec named explicitly that holds one project, that one. Nil
// means the spec describes other bundles, which are not cross-checked.
func specProject(s *spec.Spec, bdir, named string, explicit bool) *spec.Project {
	if s == nil {
		return nil
	}
	if named != "" {
		p, _ := s.ProjectNamed(named)
		return p
	}
	for i := range s.Projects {
		if sameDir(s.Projects[i].Bundle, bdir) {
			return &s.Projects[i]
		}
	}
	if explicit && len(s.Projects) == 1 {
		return &s.Projects[0]
	}
	return nil
}

// targetFlags are the flags of every mode that resolves a bundle for a
// target: -t, --bundle, --var, --host and --profile.
type targetFlags struct {
	targets *listFlag
	dir     *string
	project *string
	vars    varFlag
	wf      workspaceFlags
}

// declareTargetFlags declares the target flags; many makes -t repeatable
// in the help (validate), the other modes work on one target.
func declareTargetFlags(fs *flag.FlagSet, many bool) targetFlags {
	tf := targetFlags{targets: targetFlag(fs, many), dir: bundleFlag(fs), project: projectFlag(fs), vars: varFlag{}, wf: declareWorkspaceFlags(fs)}
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
