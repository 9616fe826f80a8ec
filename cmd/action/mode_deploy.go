package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/deploy"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gitinfo"
	"github.com/brickci/brickci/internal/workspace"
	"github.com/databricks/databricks-sdk-go"
)

func deployFlags(fs *flag.FlagSet) runFunc {
	tf := declareTargetFlags(fs, false)
	force := fs.Bool("force-lock", false, "take over the deploy lock if someone else holds it")
	parallel := fs.Int("parallel", 8, "files uploaded, and jobs created or reset, at once")
	lockTimeout := fs.Duration("lock-timeout", 0, "how long to wait for a deploy lock held by someone else")
	refresh := fs.Bool("refresh", false, "read every deployed job and endpoint first and put back what was changed or deleted in the workspace")
	strict := strictFlag(fs)
	skip := skipFlag(fs)
	return func(ctx context.Context, inv *invocation, args []string) outcome {
		if *parallel < 1 {
			return outcome{code: bad(inv, "--parallel %d must be at least 1", *parallel)}
		}
		t, code := oneTarget(inv, *tf.targets)
		if code != exitOK {
			return outcome{code: code}
		}
		skipped, code := skipTypes(inv, *skip)
		if code != exitOK {
			return outcome{code: code}
		}
		dt, _, code := loadForDeploy(ctx, inv, tf.wf, loadRequest{dir: *tf.dir, project: *tf.project, target: t, vars: tf.vars, files: true, strict: *strict,
			checkTypes: true, unsupported: diag.Error, skip: skipped})
		if dt == nil {
			return outcome{code: code}
		}
		res, err := deploy.Apply(ctx, dt.w, dt.b, dt.files, deploy.Options{
			Parallel: *parallel, LockTimeout: *lockTimeout, ForceLock: *force, Progress: inv.stderr, Refresh: *refresh,
		})
		ids := map[string]int64{}
		if res != nil {
			ids = res.JobIDs
		}
		idJSON, _ := json.Marshal(ids)
		o := outcome{summary: deploySummary(dt.b, res, err, dt.skipped),
			outputs: []output{{"changed", fmt.Sprint(res != nil && res.Changed)}, {"job_ids", string(idJSON)}, {"result", result(err == nil)}}}
		if err != nil {
			o.code, o.say = exitFailed, fmt.Sprintf("failed to deploy target %q: %v", t, err)
			return o
		}
		for _, k := range slices.Sorted(maps.Keys(res.JobURLs)) {
			fmt.Fprintf(inv.stdout, "job %s: %s\n", k, res.JobURLs[k])
		}
		return o
	}
}

// oneTarget returns the single target a workspace mode works on.
func oneTarget(inv *invocation, targets listFlag) (string, int) {
	switch len(targets) {
	case 0:
		return "", bad(inv, "missing target: pass -t TARGET")
	case 1:
		return targets[0], exitOK
	}
	return "", bad(inv, "%s takes one target, got %q; run it once per target", inv.mode, []string(targets))
}

// deployTarget is a bundle loaded for one target with the client and the
// files to sync.
type deployTarget struct {
	w     *databricks.WorkspaceClient
	b     *bundle.Bundle
	files []bundle.File
	// skipped are the resources --skip-unsupported leaves out.
	skipped []bundle.Resource
}

// loadRequest says which bundle target to load for a workspace mode.
type loadRequest struct {
	dir, target string
	// project is --project: the spec's project whose bundle to load.
	project string
	vars    varFlag
	// isolate makes the load a test deployment (see bundle.Isolation).
	isolate *bundle.Isolation
	// files lists the files to sync; only plan and deploy need them.
	files bool
	// strict reports unknown fields as errors (--strict).
	strict bool
	// checkTypes reports resources of types the deploy engine does not
	// handle, with the severity unsupported, except the types in skip
	// (--skip-unsupported); an error stops the mode before any change.
	checkTypes  bool
	unsupported diag.Severity
	skip        []string
}

// skipFlag declares --skip-unsupported, shared by plan, deploy and test so
// that they agree on what a deploy leaves out.
func skipFlag(fs *flag.FlagSet) *string {
	return fs.String("skip-unsupported", "", "resource types brickci does not deploy to leave out of the deploy instead of failing, comma separated (e.g. genie_spaces,vector_search_endpoints)")
}

// skipTypes parses --skip-unsupported; a bad type is a bad invocation.
func skipTypes(inv *invocation, v string) ([]string, int) {
	types := splitList(v)
	if err := deploy.CheckSkip(types); err != nil {
		return nil, bad(inv, "%v", err)
	}
	return types, exitOK
}

// strictFlag declares --strict, shared by validate, plan and deploy so a
// finding has the same severity in all three.
func strictFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("strict", false, "report unknown fields in the bundle as errors rather than warnings")
}

// loadForDeploy loads the bundle once, for the current user of the
// workspace its target names (the client is built from the target's
// workspace block during the load) and, when asked, lists its files. On
// failure it returns nil and the exit code, having printed why.
//
// The findings of the load (also printed) come back for pull-request
// comments.
func loadForDeploy(ctx context.Context, inv *invocation, wf workspaceFlags, req loadRequest) (*deployTarget, diag.List, int) {
	dir, code := bundleDir(inv, req.dir, req.project)
	if code != exitOK {
		return nil, nil, code
	}
	req.dir = dir
	res := workspace.NewResolver(ctx, wf.env(inv))
	// A workspace that cannot be reached is said after the bundle's own
	// errors, which the load (offline then) still finds.
	var resolveErr error
	resolve := func(ws bundle.Workspace) (*bundle.User, bundle.LookupFunc, error) {
		u, lookups, err := res.Resolve(ws)
		resolveErr = err
		return u, lookups, nil
	}
	opts := bundle.LoadOptions{Dir: req.dir, Target: req.target, Vars: req.vars, Getenv: inv.getenv, Isolate: req.isolate, Strict: req.strict, Checkout: gitinfo.Read,
		Resolve: resolve}
	b, l, err := bundle.Load(opts)
	if err != nil {
		return nil, l, loadFailed(inv, req.dir, err)
	}
	if l.AtLeast(diag.Error) {
		return nil, l, bundleErrors(inv, l)
	}
	if resolveErr != nil {
		return nil, l, loadFailed(inv, req.dir, resolveErr)
	}
	// Warnings do not stop a deploy, but are said, as validate says them.
	_ = diag.WriteText(inv.stderr, l.Only(diag.Warning))
	dt := &deployTarget{w: res.Client, b: b}
	if req.checkTypes {
		// Never a green deploy that left part of the bundle out unasked.
		sup := deploy.CheckSupported(b, req.skip, req.unsupported)
		_ = diag.WriteText(inv.stderr, sup)
		l = append(l, sup...)
		if sup.AtLeast(diag.Error) {
			return nil, l, failed(inv, "the bundle defines resources brickci does not deploy (%s); nothing was changed", sup.Summarize())
		}
		for _, r := range b.Resources {
			if !deploy.Supports(r.Type) && slices.Contains(req.skip, r.Type) {
				dt.skipped = append(dt.skipped, r)
			}
		}
	}
	if req.files {
		built, code := withBuiltArtifacts(ctx, inv, opts, b)
		if built == nil {
			return nil, l, code
		}
		dt.b = built
		if dt.files, err = bundle.Files(dt.b); err != nil {
			return nil, l, bad(inv, "failed to list the bundle's files: %v", err)
		}
	}
	return dt, l, exitOK
}

// loadFailed prints why bundle.Load failed and returns the exit code: 2
// for a bundle that cannot be read, a bad isolation name or a workspace
// client that cannot be configured, 1 when the workspace could not tell
// who the current user is.
func loadFailed(inv *invocation, dir string, err error) int {
	var iso *bundle.IsolationError
	var cfg *workspace.ConfigError
	var me *workspace.UserError
	switch {
	case errors.As(err, &iso):
		return bad(inv, "--isolate %v", err)
	case errors.As(err, &cfg):
		return bad(inv, "%v", err)
	case errors.As(err, &me):
		return failed(inv, "%v", err)
	}
	return bad(inv, "failed to load the bundle in %q: %v", dir, err)
}

// bundleErrors prints the errors that stop a workspace mode and returns its
// exit code: 2 when the bundle could not be read or the target does not
// exist, 1 for any other error in the bundle.
func bundleErrors(inv *invocation, l diag.List) int {
	l.Sort()
	_ = diag.WriteText(inv.stderr, l)
	if unusable(l) {
		return bad(inv, "the bundle cannot be used as given (%s); fix what is named above and rerun", l.Summarize())
	}
	return failed(inv, "the bundle has errors (%s); fix them and rerun", l.Summarize())
}

// deploySummary is the step summary of a deploy.
func deploySummary(b *bundle.Bundle, res *deploy.Result, err error, skipped []bundle.Resource) string {
	var s strings.Builder
	if b == nil {
		return ""
	}
	fmt.Fprintf(&s, "## Deploy %s → %s\n\n", diag.MarkdownCode(b.Name), diag.MarkdownCode(b.Target))
	if err != nil {
		fmt.Fprintf(&s, "❌ **failed:** %s\n\n", diag.EscapeMarkdown(err.Error()))
	}
	if res != nil && res.Plan != nil {
		_ = res.Plan.WriteMarkdown(&s)
		s.WriteString("\n")
	}
	if res != nil && len(res.JobURLs) > 0 {
		s.WriteString("| job | id |\n|---|---|\n")
		for _, k := range slices.Sorted(maps.Keys(res.JobURLs)) {
			fmt.Fprintf(&s, "| %s | [%d](%s) |\n", diag.MarkdownCode(k), res.JobIDs[k], res.JobURLs[k])
		}
	}
	s.WriteString(skippedMarkdown(skipped))
	fmt.Fprintf(&s, "\n_%s_\n", time.Now().UTC().Format(time.RFC3339))
	return s.String()
}

// skippedMarkdown names the resources a deploy leaves out on request, so a
// summary or comment never reads as if they were deployed.
func skippedMarkdown(skipped []bundle.Resource) string {
	if len(skipped) == 0 {
		return ""
	}
	var s strings.Builder
	s.WriteString("\n**Not deployed** (`--skip-unsupported`): brickci does not deploy these, and this deploy left them as they are:\n\n")
	for _, r := range skipped {
		fmt.Fprintf(&s, "- %s %s\n", diag.EscapeMarkdown(r.Type), diag.MarkdownCode(r.Key))
	}
	return s.String()
}

// The state files a deploy writes record the version of brickci.
func init() { deploy.Version = version }
