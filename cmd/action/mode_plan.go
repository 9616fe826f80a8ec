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

func planFlags(fs *flag.FlagSet) runFunc {
	tf := declareTargetFlags(fs, false)
	format := fs.String("format", "text", "output format: text, json or markdown")
	comment := fs.Bool("comment", false, "post or update the pull request's plan comment for this target")
	refresh := fs.Bool("refresh", false, "also read every deployed job and endpoint and report what was changed or deleted in the workspace since the last deploy")
	strict := strictFlag(fs)
	skip := skipFlag(fs)
	return func(ctx context.Context, inv *invocation, args []string) outcome {
		if *format != "text" && *format != "json" && *format != "markdown" {
			return outcome{code: bad(inv, "unknown format %q, valid are [\"text\" \"json\" \"markdown\"]", *format)}
		}
		t, code := oneTarget(inv, *tf.targets)
		if code != exitOK {
			return outcome{code: code}
		}
		skipped, code := skipTypes(inv, *skip)
		if code != exitOK {
			return outcome{code: code}
		}
		// commentOf is the plan's comment, or nil without --comment.
		commentOf := func(status github.Status, findings diag.List, sections ...github.Section) *github.Comment {
			if !*comment {
				return nil
			}
			check, title := "plan-"+t, "brickci plan "+t
			if p := commentProject(inv, *tf.dir, *tf.project); p != "" {
				// One section per project and check.
				check, title = "plan-"+p+"-"+t, "brickci plan "+p+" "+t
			}
			return &github.Comment{Check: check, Title: title, Status: status, Findings: relativize(findings), Sections: sections}
		}
		// A plan says what a deploy would leave out (a warning), and
		// still shows the rest.
		dt, findings, code := loadForDeploy(ctx, inv, tf.wf, loadRequest{dir: *tf.dir, project: *tf.project, target: t, vars: tf.vars, files: true, strict: *strict,
			checkTypes: true, unsupported: diag.Warning, skip: skipped})
		if dt == nil {
			return outcome{code: code, comment: commentOf(github.StatusFailure, findings,
				github.Section{Title: "Plan", Markdown: "The plan could not be made; the findings above and the run log say why."})}
		}
		p, err := deploy.Plan(ctx, dt.w, dt.b, dt.files)
		if err == nil && *refresh {
			err = p.Refresh(ctx, dt.w)
		}
		if err != nil {
			return outcome{code: exitFailed, say: fmt.Sprintf("failed to plan target %q: %v", t, err),
				comment: commentOf(github.StatusFailure, nil, github.Section{Title: "Plan", Markdown: diag.EscapeMarkdown(err.Error())})}
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
			return outcome{code: failed(inv, "failed to write the plan: %v", err)}
		}
		var md, dag strings.Builder
		_ = p.WriteMarkdown(&md)
		md.WriteString(skippedMarkdown(dt.skipped))
		_ = bundle.WriteSummary(&dag, dt.b)
		return outcome{summary: md.String() + "\n", outputs: []output{{"changed", fmt.Sprint(p.Changed())}}, inSummary: true,
			comment: commentOf(github.StatusOf(findings, diag.Error), findings,
				github.Section{Title: "Plan", Markdown: md.String()}, github.Section{Title: "Resources", Markdown: dag.String(), Collapsed: true})}
	}
}
