package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gen"
	"github.com/brickci/brickci/internal/github"
	"github.com/brickci/brickci/internal/spec"
)

func generateFlags(fs *flag.FlagSet) runFunc {
	specPath := fs.String("spec", defaultSpecPath, "pipeline spec, relative to --root")
	root := fs.String("root", ".", "repository root")
	out := fs.String("out", defaultWorkflowDir, "directory of the generated workflows, relative to --root")
	check := fs.Bool("check", false, "report drift between the spec and the workflows instead of writing them (exit 1 on drift)")
	pullRequest := fs.Bool("pull-request", false, "commit the regenerated workflows to one branch per project and open or update its pull request")
	remote := fs.String("remote", "", "git remote to push to (default: the repository on GITHUB_SERVER_URL)")
	return func(ctx context.Context, inv *invocation, args []string) outcome {
		if len(args) > 0 {
			return outcome{code: bad(inv, "unexpected argument %q; all settings are flags", args[0])}
		}
		if *check && *pullRequest {
			return outcome{code: bad(inv, "--check and --pull-request cannot be combined: --check never writes")}
		}
		if _, err := os.Stat(filepath.Join(*root, *specPath)); err != nil {
			return outcome{code: bad(inv, "spec %q does not exist under %q; pass --spec FILE", *specPath, *root)}
		}
		run := gen.Write
		if *check {
			run = gen.Check
		}
		res, err := run(*root, *specPath, *out)
		if err != nil {
			return outcome{code: bad(inv, "%v", err)}
		}
		_ = diag.WriteText(inv.stderr, res.Findings)
		code := gen.ExitCode(res, nil)
		if code != exitOK && len(res.Drifts) == 0 {
			// The spec or the generated output has errors: nothing was
			// compared or written.
			return outcome{code: code}
		}
		lacking, err := missingTargets(*root, res.Spec)
		if err != nil {
			return outcome{code: bad(inv, "%v", err)}
		}
		if *check {
			return reportDrift(inv, code, *root, *specPath, res.Drifts, lacking)
		}
		var extra []string
		for _, l := range lacking {
			if _, err := bundle.AddTargets(l.rootFile, l.missing); err != nil {
				return outcome{code: failed(inv, "%v", err)}
			}
			for _, t := range l.missing {
				fmt.Fprintf(inv.stdout, "added target %q to %s\n", t.Name, relTo(*root, l.rootFile))
			}
			extra = append(extra, relTo(*root, l.rootFile))
		}
		changed := append(append(append([]string{}, res.Changed...), res.Removed...), extra...)
		for _, f := range res.Changed {
			fmt.Fprintf(inv.stdout, "wrote %s\n", f)
		}
		for _, f := range res.Removed {
			fmt.Fprintf(inv.stdout, "removed %s\n", f)
		}
		if !*pullRequest {
			if len(changed) == 0 {
				fmt.Fprintf(inv.stdout, "workflows are already in sync with %s\n", *specPath)
			}
			return outcome{outputs: []output{{"changed", fmt.Sprint(len(changed) > 0)}}}
		}
		return proposeChange(ctx, inv, res, *root, *specPath, *out, *remote, append(res.Removed, extra...))
	}
}

// reportDrift prints what --check found: workflows out of sync with the
// spec and targets the bundle lacks, in the log and the step summary.
// code is the generator's exit code for the check; targets the bundle
// lacks fail it too.
func reportDrift(inv *invocation, code int, root, specPath string, drifts []gen.Drift, lacking []lackingTargets) outcome {
	missing := 0
	for _, l := range lacking {
		for _, t := range l.missing {
			fmt.Fprintf(inv.stdout, "%s: the bundle does not define target %q, which the pipeline spec deploys to\n", relTo(root, l.rootFile), t.Name)
			missing++
		}
	}
	var md strings.Builder
	fmt.Fprintf(&md, "## Generated workflows\n\n")
	if len(drifts) == 0 {
		fmt.Fprintf(&md, "All workflows are in sync with %s.\n", diag.MarkdownCode(specPath))
	}
	for _, d := range drifts {
		fmt.Fprintf(inv.stdout, "%s: %s\n%s\n", d.Position(), d.Kind, d.Diff)
		fmt.Fprintf(&md, "- %s: %s\n", diag.MarkdownCode(d.File), d.Kind)
	}
	regenerate := gen.RegenerateCommand(root)
	if len(drifts) > 0 {
		fmt.Fprintf(&md, "\nRegenerate with %s and commit the result.\n", regenerate)
	}
	for _, l := range lacking {
		for _, t := range l.missing {
			fmt.Fprintf(&md, "- %s does not define target %s\n", diag.MarkdownCode(relTo(root, l.rootFile)), diag.MarkdownCode(t.Name))
		}
	}
	o := outcome{summary: md.String(), outputs: []output{{"changed", fmt.Sprint(len(drifts)+missing > 0)}}, code: exitFailed}
	switch {
	case code != exitOK:
		o.say = fmt.Sprintf("%d workflow file(s) out of sync with %s; run %s", len(drifts), specPath, regenerate)
	case missing > 0:
		o.say = fmt.Sprintf("the bundles lack %d target(s) the pipeline spec deploys to; run \"brickci generate\" to add them", missing)
	default:
		fmt.Fprintf(inv.stdout, "workflows are in sync with %s\n", specPath)
		o.code = exitOK
	}
	return o
}

// proposeChange commits every generated workflow to the project's stable
// branch and opens or updates its pull request. It compares against the
// remote, not the working tree, so a run on an up-to-date repository pushes
// nothing and opens nothing.
//
// also lists files besides the generated workflows to commit: stale
// workflows Write removed and a bundle file it added targets to.
func proposeChange(ctx context.Context, inv *invocation, res *gen.Result, root, specPath, outDir, remote string, also []string) outcome {
	s := res.Spec
	var paths []string
	for name := range res.Files {
		paths = append(paths, filepath.ToSlash(filepath.Join(outDir, name)))
	}
	// Listing a removed stale workflow commits its deletion.
	paths = append(paths, also...)
	sort.Strings(paths)
	repo := inv.getenv("GITHUB_REPOSITORY")
	if repo == "" {
		return outcome{code: bad(inv, "--pull-request needs GITHUB_REPOSITORY (owner/name); it runs inside GitHub Actions")}
	}
	base := s.Branches.Default
	if remote == "" {
		server := strings.TrimRight(inv.getenv("GITHUB_SERVER_URL"), "/")
		if server == "" {
			server = "https://github.com"
		}
		remote = server + "/" + repo + ".git"
	}
	opts := githubOptions(inv)
	client, err := github.New(opts)
	if err != nil {
		return outcome{code: bad(inv, "%v", err)}
	}
	name := regenerateName(s)
	branch := github.RegenerateBranch(name)
	git := github.Git{Env: gitEnv(inv)}
	push, err := git.CommitAndPush(ctx, root, branch, base, "Regenerate workflows from "+specPath, paths, remote, opts.Token, github.DefaultIdentity)
	if err != nil {
		return outcome{code: failed(inv, "%v", err)}
	}
	if !push.Changed {
		fmt.Fprintf(inv.stdout, "the workflows on %s already match %s; no pull request needed\n", base, specPath)
		return outcome{outputs: []output{{"changed", "false"}}}
	}
	var body strings.Builder
	fmt.Fprintf(&body, "Regenerated from %s (sha256 `%.12s`) by `brickci generate`.\n\nFiles:\n", diag.MarkdownCode(specPath), s.SHA256)
	for _, p := range paths {
		fmt.Fprintf(&body, "- %s\n", diag.MarkdownCode(p))
	}
	if run := newAction(inv).RunURL(); run != "" {
		fmt.Fprintf(&body, "\n[Workflow run](%s)\n", run)
	}
	var reviewers []string
	if actor := inv.getenv("GITHUB_ACTOR"); actor != "" {
		reviewers = append(reviewers, actor)
	}
	url, created, err := client.EnsurePullRequest(ctx, repo, branch, base, "Regenerate "+name+" workflows", body.String(), reviewers)
	if err != nil && url == "" {
		return outcome{code: failed(inv, "%v", err)}
	}
	if err != nil {
		inv.say("%v", err)
	}
	verb := "updated"
	if created {
		verb = "opened"
	}
	if !push.Pushed {
		verb += " (branch already up to date)"
	}
	fmt.Fprintf(inv.stdout, "%s pull request %s\n", verb, url)
	return outcome{outputs: []output{{"changed", "true"}, {"pull_request_url", url}},
		summary: fmt.Sprintf("## Workflows regenerated\n\nPull request %s: %s\n", verb, url)}
}

// regenerateName names the pull request of a regeneration and its branch:
// the project of a single-project spec, or "all" for a spec with
// projects:, whose one pull request holds every project's files.
func regenerateName(s *spec.Spec) string {
	if s.MultiProject {
		return "all"
	}
	return s.Project
}

// gitEnv is the environment git runs with: the invocation's, so tests and
// the runner decide HOME and git's configuration.
func gitEnv(inv *invocation) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "XDG_CONFIG_HOME", "TMPDIR"} {
		if v := inv.getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// lackingTargets is a bundle's root file and the targets of the pipeline
// spec it does not define.
type lackingTargets struct {
	rootFile string
	missing  []bundle.NewTarget
}

// missingTargets returns, for each project of the spec whose bundle lacks
// some, the targets the spec deploys it to that the bundle does not define.
func missingTargets(root string, s *spec.Spec) ([]lackingTargets, error) {
	var out []lackingTargets
	for _, p := range s.Projects {
		rootFile, names, err := bundle.TargetNames(filepath.Join(root, p.Bundle))
		if err != nil {
			return nil, err
		}
		var l lackingTargets
		for _, t := range p.Targets {
			if !slices.Contains(names, t.Name) {
				l.missing = append(l.missing, bundle.NewTarget{Name: t.Name, Host: t.Host})
			}
		}
		if len(l.missing) > 0 {
			l.rootFile = rootFile
			out = append(out, l)
		}
	}
	return out, nil
}

// relTo names path relative to root, with slashes, for messages and git.
func relTo(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}
