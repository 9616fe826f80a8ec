package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/brickci/brickci/internal/deploy"
)

func init() {
	register(mode{
		name:    "plan",
		summary: "show what a deploy of a bundle target would change, without changing anything",
		flags: func(fs *flag.FlagSet) func(ctx context.Context, inv *invocation, args []string) int {
			targets := targetFlag(fs)
			dir := bundleFlag(fs)
			wf := declareWorkspaceFlags(fs)
			vars := varFlag{}
			fs.Var(vars, "var", "set a bundle variable: name=value (repeatable)")
			format := fs.String("format", "text", "output format: text, json or markdown")
			return func(ctx context.Context, inv *invocation, args []string) int {
				if *format != "text" && *format != "json" && *format != "markdown" {
					return bad(inv, "unknown format %q, valid are [\"text\" \"json\" \"markdown\"]", *format)
				}
				t, code := oneTarget(inv, *targets)
				if code != exitOK {
					return code
				}
				a := newAction(inv)
				dt, code := loadForDeploy(ctx, inv, wf, *dir, t, vars)
				if dt == nil {
					return code
				}
				p, err := deploy.Plan(ctx, dt.w, dt.b, dt.files)
				if err != nil {
					return failed(inv, "failed to plan target %q: %v", t, err)
				}
				switch *format {
				case "json":
					err = p.WriteJSON(inv.stdout)
				case "markdown":
					err = p.WriteMarkdown(inv.stdout)
				default:
					err = p.WriteText(inv.stdout)
				}
				if err != nil {
					return failed(inv, "failed to write the plan: %v", err)
				}
				if inv.onActions {
					var md strings.Builder
					_ = p.WriteMarkdown(&md)
					if serr := a.AddSummary(md.String() + "\n"); serr != nil {
						fmt.Fprintf(inv.stderr, "brickci plan: %v\n", serr)
					}
					if oerr := a.SetOutput("changed", fmt.Sprint(p.Changed())); oerr != nil {
						fmt.Fprintf(inv.stderr, "brickci plan: %v\n", oerr)
					}
				}
				return exitOK
			}
		},
	})
}
