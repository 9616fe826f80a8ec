package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/deploy"
	"github.com/brickci/brickci/internal/workspace"
)

func destroyFlags(fs *flag.FlagSet) runFunc {
	tf := declareTargetFlags(fs, false)
	approve := fs.Bool("auto-approve", false, "destroy without asking (required when not interactive, as in CI)")
	force := fs.Bool("force-lock", false, "take over the deploy lock if someone else holds it")
	isolate := fs.String("isolate", "", "destroy the test deployment test --integration made under this sub-directory (e.g. pr-42)")
	return func(ctx context.Context, inv *invocation, args []string) outcome {
		t, code := oneTarget(inv, *tf.targets)
		if code != exitOK {
			return outcome{code: code}
		}
		if !*approve {
			// brickci reads no terminal input: every run is treated
			// as non-interactive.
			return outcome{code: bad(inv, "refusing to destroy target %q without --auto-approve", t)}
		}
		req := loadRequest{dir: *tf.dir, project: *tf.project, target: t, vars: tf.vars}
		if *isolate != "" {
			req.isolate = &bundle.Isolation{Name: *isolate}
		}
		dt, _, code := loadForDeploy(ctx, inv, tf.wf, req)
		if dt == nil {
			return outcome{code: code}
		}
		exists, err := workspace.DeploymentExists(ctx, dt.w, dt.b.Workspace)
		if err != nil {
			return outcome{code: failed(inv, "failed to look for the deployment of target %q: %v", t, err)}
		}
		if !exists {
			fmt.Fprintf(inv.stdout, "nothing to destroy: target %q has no deployment at %s\n", t, dt.b.Workspace.RootPath)
			return outcome{}
		}
		if err := deploy.Destroy(ctx, dt.w, dt.b, deploy.Options{Progress: inv.stderr, ForceLock: *force}); err != nil {
			return outcome{code: failed(inv, "failed to destroy target %q: %v", t, err)}
		}
		return outcome{}
	}
}
