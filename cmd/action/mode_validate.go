package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/deploy"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/github"
	"github.com/brickci/brickci/internal/gitinfo"
	"github.com/brickci/brickci/internal/spec"
	"github.com/brickci/brickci/internal/workspace"
)

// varFlag is the repeatable --var name=value flag. Unlike listFlag it does
// not split on commas or spaces, which values may contain; an action input
// gives one assignment per line.
type varFlag map[string]string

func (v varFlag) String() string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k+"="+v[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, "\n")
}

// Set adds one or more name=value lines.
func (v varFlag) Set(s string) error {
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("invalid variable %q: write name=value", line)
		}
		v[strings.TrimSpace(name)] = value
	}
	return nil
}

func validateFlags(fs *flag.FlagSet) runFunc {
	tf := declareTargetFlags(fs, true)
	targets, dir, vars, wf := tf.targets, tf.dir, tf.vars, tf.wf
	offline := fs.Bool("offline", false, "skip checks that need a workspace even when credentials are present")
	formats := []string{"text", "json", "github", "markdown"}
	out := declareOutputFlags(fs, formats...)
	specPath := fs.String("spec", defaultSpecPath, "pipeline spec to cross-check: its targets, integration and release jobs must exist in the bundle; skipped when the default is absent")
	comment := fs.Bool("comment", false, "post or update the pull request's validate comment with the result")
	strict := strictFlag(fs)
	return func(ctx context.Context, inv *invocation, args []string) outcome {
		format, failAt, err := out.resolve(inv, formats...)
		if err != nil {
			return outcome{code: bad(inv, "%v", err)}
		}
		if len(args) > 0 {
			return outcome{code: bad(inv, "unexpected arguments %q; pass targets with -t", args)}
		}
		names := []string(*targets)
		if len(names) == 0 {
			names = []string{""}
		}
		bdir, rc := bundleDir(inv, *dir, *tf.project)
		if rc != exitOK {
			return outcome{code: rc}
		}
		pipeline, all, err := loadPipelineSpec(inv, *specPath)
		if err != nil {
			return outcome{code: bad(inv, "%v", err)}
		}
		// Only the project that describes this bundle is checked against
		// it: the repository's spec may describe other bundles too.
		project := specProject(pipeline, bdir, *tf.project, *specPath != defaultSpecPath)
		v := &validator{ctx: ctx, inv: inv, wf: wf, offline: *offline, vars: vars, strict: *strict}
		resolved := map[string]any{}
		var summaries []*bundle.Bundle
		for _, name := range names {
			b, l, err := v.validate(bdir, name)
			if err != nil {
				return outcome{code: bad(inv, "%v", err)}
			}
			all = append(all, l...)
			if b != nil {
				resolved[b.Target] = b.Resolved()
				summaries = append(summaries, b)
				all = append(all, bundle.CheckPipelineRefs(b, pipelineRefs(pipeline, project, b.Target))...)
			}
		}
		all = append(all, checkSpecSkips(pipeline, project)...)
		all = relativize(uniq(all))
		o := outcome{report: &report{list: all, format: format, failAt: failAt, json: map[string]any{"targets": resolved}}}
		switch format {
		case "text":
			for _, b := range summaries {
				if err := bundle.WriteTextSummary(inv.stdout, b); err != nil {
					return outcome{code: bad(inv, "failed to write the summary: %v", err)}
				}
			}
		case "markdown", "github":
			var md strings.Builder
			for _, b := range summaries {
				if err := bundle.WriteSummary(&md, b); err != nil {
					return outcome{code: bad(inv, "failed to write the summary: %v", err)}
				}
				md.WriteString("\n")
			}
			if format == "markdown" {
				fmt.Fprint(inv.stdout, md.String())
			} else {
				o.summary = md.String()
			}
		}
		if *comment {
			c := github.Comment{Check: "validate", Status: github.StatusOf(all, failAt), Findings: all}
			if pipeline != nil && pipeline.MultiProject && project != nil {
				// One section per project and check.
				c.Check, c.Title = "validate-"+project.Name, "brickci validate "+project.Name
			}
			for _, b := range summaries {
				var md strings.Builder
				if err := bundle.WriteSummary(&md, b); err == nil {
					c.Sections = append(c.Sections, github.Section{Title: "Target " + b.Target, Markdown: md.String(), Collapsed: true})
				}
			}
			o.comment, o.inSummary = &c, format == "github"
		}
		return o
	}
}

// validator loads and checks one target at a time, online when it can.
type validator struct {
	ctx     context.Context
	inv     *invocation
	wf      workspaceFlags
	offline bool
	strict  bool
	vars    map[string]string
}

// note tells the user once per run how the bundle is validated.
func (v *validator) note(format string, args ...any) { v.inv.note(format, args...) }

// validate loads one target once: online, for the current user of the
// workspace the target names and with its lookups resolved, when there are
// credentials and that workspace answers; offline otherwise, saying why.
func (v *validator) validate(dir, target string) (*bundle.Bundle, diag.List, error) {
	opts := bundle.LoadOptions{Dir: dir, Target: target, Vars: v.vars, Getenv: v.inv.getenv, Strict: v.strict, Checkout: gitinfo.Read}
	var online *workspace.Resolver
	if !v.offline {
		env := v.wf.env(v.inv)
		opts.Resolve = func(ws bundle.Workspace) (*bundle.User, bundle.LookupFunc, error) {
			if !env.HasCredentials() {
				v.note("validating offline: no Databricks credentials")
				return nil, nil, nil
			}
			r := workspace.NewResolver(v.ctx, env)
			u, lookups, err := r.Resolve(ws)
			if err != nil {
				v.note("validating offline: %v", err)
				return nil, nil, nil
			}
			v.note("validating online as %s on %s", u.UserName, r.Client.Config.Host)
			online = r
			return u, lookups, nil
		}
	}
	b, l, err := bundle.Load(opts)
	if err != nil || b == nil || online == nil {
		return b, l, err
	}
	return b, append(l, workspace.CheckRefs(v.ctx, online.Client, b)...), nil
}

// uniq drops findings repeated across targets (a shared resource file is
// checked once per target).
func uniq(l diag.List) diag.List {
	seen := map[diag.Finding]bool{}
	var out diag.List
	for _, f := range l {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// relativize makes finding paths relative to the working directory.
func relativize(l diag.List) diag.List {
	wd, err := os.Getwd()
	if err != nil {
		return l
	}
	for i, f := range l {
		if f.File == "" {
			continue
		}
		abs, err := filepath.Abs(f.File)
		if err != nil {
			continue
		}
		// Inside the working directory a finding names its file relative to
		// it; outside, as it was given, rather than as a climb of ../.
		if rel, err := filepath.Rel(wd, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			l[i].File = filepath.ToSlash(rel)
		}
	}
	return l
}

// loadPipelineSpec reads the pipeline spec for cross-checks. Without a spec
// at the default path there is nothing to check; a spec named explicitly
// must exist. A spec that does not parse as YAML comes back as its
// findings (which make validate exit 2); other problems in the spec are
// lint's and generate's to report.
func loadPipelineSpec(inv *invocation, path string) (*spec.Spec, diag.List, error) {
	if _, err := os.Stat(path); err != nil {
		if path != defaultSpecPath {
			return nil, nil, fmt.Errorf("spec %q does not exist; pass --spec FILE", path)
		}
		return nil, nil, nil
	}
	s, l, err := inv.loadSpec(path)
	if err != nil {
		return nil, nil, err
	}
	var unparsable diag.List
	for _, f := range l {
		if f.Rule == spec.RuleYAML {
			unparsable = append(unparsable, f)
		}
	}
	if len(unparsable) > 0 {
		return nil, unparsable, nil
	}
	return s, nil, nil
}

// sameDir reports whether two paths name the same directory.
func sameDir(a, b string) bool {
	x, errA := filepath.Abs(a)
	y, errB := filepath.Abs(b)
	return errA == nil && errB == nil && x == y
}

// pipelineRefs lists what the pipeline needs from the bundle when it is
// deployed to target: every target the spec names, the integration jobs on
// the integration target, and the release jobs on prod (where the release
// workflow runs them).
// checkSpecSkips reports the skip-unsupported entries of the pipeline spec
// that the deploy mode would refuse: types brickci deploys, or that no
// bundle can hold.
func checkSpecSkips(s *spec.Spec, p *spec.Project) diag.List {
	if p == nil {
		return nil
	}
	var l diag.List
	for _, r := range p.SkipUnsupported {
		if err := deploy.CheckSkip([]string{r.Name}); err != nil {
			l = append(l, diag.Errorf("pipeline-skip", s.File, r.Line, r.Column, "%v", err))
		}
	}
	return l
}

func pipelineRefs(s *spec.Spec, p *spec.Project, target string) []bundle.Ref {
	if p == nil {
		return nil
	}
	var refs []bundle.Ref
	for _, t := range p.Targets {
		refs = append(refs, bundle.Ref{Kind: "target", Name: t.Name, File: s.File, Line: t.Line, Column: t.Column})
	}
	jobs := func(list []spec.JobRef) {
		for _, j := range list {
			refs = append(refs, bundle.Ref{Kind: "job", Name: j.Name, File: s.File, Line: j.Line, Column: j.Column})
		}
	}
	if in := p.Tests.Integration; in != nil && in.Target == target {
		jobs(in.Jobs)
	}
	if target == "prod" {
		jobs(p.Release.Run)
	}
	if p.Build == nil {
		refs = append(refs, bundle.Ref{Kind: "no-build-python", File: s.File, Line: 1, Column: 1})
	}
	return refs
}
