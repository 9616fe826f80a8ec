package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/deploy"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/github"
)

func planFlags(fs *flag.FlagSet) func(ctx context.Context, inv *invocation, args []string) int {
	tf := declareTargetFlags(fs)
	format := fs.String("format", "text", "output format: text, json or markdown")
	comment := fs.Bool("comment", false, "post or update the pull request's plan comment for this target")
	refresh := fs.Bool("refresh", false, "also read every deployed job and endpoint and report what was changed or deleted in the workspace since the last deploy")
	strict := strictFlag(fs)
	skip := skipFlag(fs)
	return func(ctx context.Context, inv *invocation, args []string) int {
		if *format != "text" && *format != "json" && *format != "markdown" {
			return bad(inv, "unknown format %q, valid are [\"text\" \"json\" \"markdown\"]", *format)
		}
		t, code := oneTarget(inv, *tf.targets)
		if code != exitOK {
			return code
		}
		skipped, code := skipTypes(inv, *skip)
		if code != exitOK {
			return code
		}
		a := newAction(inv)
		check := "plan-" + t
		// A plan says what a deploy would leave out (a warning), and
		// still shows the rest.
		dt, findings, code := loadForDeploy(ctx, inv, tf.wf, loadRequest{dir: *tf.dir, target: t, vars: tf.vars, files: true, strict: *strict,
			checkTypes: true, unsupported: diag.Warning, skip: skipped})
		if dt == nil {
			if *comment {
				c := github.Comment{Check: check, Title: "brickci plan " + t, Status: github.StatusFailure, Findings: relativize(findings),
					Sections: []github.Section{{Title: "Plan", Markdown: "The plan could not be made; the findings above and the run log say why."}}}
				publishComment(ctx, inv, a, c, false)
			}
			return code
		}
		p, err := deploy.Plan(ctx, dt.w, dt.b, dt.files)
		if err == nil && *refresh {
			err = p.Refresh(ctx, dt.w)
		}
		if err != nil {
			if *comment {
				c := github.Comment{Check: check, Title: "brickci plan " + t, Status: github.StatusFailure,
					Sections: []github.Section{{Title: "Plan", Markdown: diag.EscapeMarkdown(err.Error())}}}
				publishComment(ctx, inv, a, c, false)
			}
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
		var md strings.Builder
		_ = p.WriteMarkdown(&md)
		md.WriteString(skippedMarkdown(dt.skipped))
		if serr := a.AddSummary(md.String() + "\n"); serr != nil {
			fmt.Fprintf(inv.stderr, "brickci plan: %v\n", serr)
		}
		if oerr := a.SetOutput("changed", fmt.Sprint(p.Changed())); oerr != nil {
			fmt.Fprintf(inv.stderr, "brickci plan: %v\n", oerr)
		}
		if *comment {
			var dag strings.Builder
			_ = bundle.WriteSummary(&dag, dt.b)
			c := github.Comment{Check: check, Title: "brickci plan " + t, Status: github.StatusOf(findings, diag.Error), Findings: relativize(findings),
				Sections: []github.Section{{Title: "Plan", Markdown: md.String()}, {Title: "Resources", Markdown: dag.String(), Collapsed: true}}}
			return publishComment(ctx, inv, a, c, true)
		}
		return exitOK
	}
}
