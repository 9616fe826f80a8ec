package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/brickci/brickci/internal/artifacts"
	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
)

// withBuiltArtifacts builds the artifacts of b, which was loaded with
// opts, and loads the bundle again so that the references to their outputs
// resolve to what was built. It runs before anything changes in the
// workspace. On failure it returns nil and the exit code, having printed
// why.
//
// The second load is needed: a library path may be a glob that matches
// only once the build has written its files (dist/*.whl), and the paths
// translated from it, the files listed for upload and the job settings
// that name them are all derived while loading. opts.Resolve is the
// resolver of the first load, which keeps its user and lookups, so the
// reload asks the workspace nothing.
func withBuiltArtifacts(ctx context.Context, inv *invocation, opts bundle.LoadOptions, b *bundle.Bundle) (*bundle.Bundle, int) {
	if len(b.Artifacts) == 0 {
		return b, exitOK
	}
	if err := buildArtifacts(ctx, inv, b); err != nil {
		return nil, failed(inv, "%v\nnothing was changed in the workspace; fix the build and rerun", err)
	}
	opts.ArtifactsBuilt = true
	built, l, err := bundle.Load(opts)
	if err != nil {
		return nil, loadFailed(inv, opts.Dir, err)
	}
	if l.AtLeast(diag.Error) {
		// Warnings were printed after the first load; say the errors.
		errs := l.Only(diag.Error)
		errs.Sort()
		_ = diag.WriteText(inv.stderr, errs)
		return nil, failed(inv, "the bundle has errors after building its artifacts (%s); fix them and rerun", l.Summarize())
	}
	return built, exitOK
}

// buildArtifacts runs the builds of the bundle's artifacts, streaming their
// output to stderr (in a log group on Actions), and prints one line per
// artifact built. A failed build is an error with its last lines.
func buildArtifacts(ctx context.Context, inv *invocation, b *bundle.Bundle) error {
	bld := &artifacts.Builder{Env: buildEnv(os.Environ(), inv.getenv), Output: inv.stderr, Group: inv.onActions}
	res, err := bld.Build(ctx, b.Artifacts)
	if err != nil {
		return err
	}
	for _, r := range res {
		how := "without a shell"
		if r.Shell {
			how = "with " + filepath.Base(r.Command[0]) + " -c"
		}
		outs := make([]string, len(r.Outputs))
		for i, o := range r.Outputs {
			if rel, err := filepath.Rel(b.Dir, o); err == nil {
				o = rel
			}
			outs[i] = filepath.ToSlash(o)
		}
		fmt.Fprintf(inv.stderr, "built artifact %s in %.1fs (%s): %s\n", r.Name, r.Duration.Seconds(), how, strings.Join(outs, ", "))
	}
	return nil
}

// buildEnv is the environment builds run with: the process's, with PATH and
// HOME as the invocation sees them, so that tests and the demo choose which
// tools a build finds.
func buildEnv(environ []string, getenv func(string) string) []string {
	out := make([]string, 0, len(environ)+2)
	override := map[string]string{}
	for _, k := range []string{"PATH", "HOME"} {
		if v := getenv(k); v != "" {
			override[k] = v
		}
	}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := override[k]; ok {
			continue
		}
		out = append(out, kv)
	}
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := override[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}
