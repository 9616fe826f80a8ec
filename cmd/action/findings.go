package main

import (
	"fmt"
	"strings"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gha"
	"github.com/brickci/brickci/internal/spec"
)

// report is a list of findings to render in the format the user chose.
type report struct {
	list   diag.List
	format string
	failAt diag.Severity
	// json are more members of the JSON object (validate's targets).
	json map[string]any
	// rules document the findings' rules in SARIF.
	rules []diag.RuleDoc
}

// reportFindings renders r's findings in its format and returns the exit
// code for them: r.code(), or 2 when they could not be written.
//
// Format "github" writes annotations (capped per level) to stdout, the text
// lines to stderr so the log still has every finding, and the full markdown
// table to the step summary under "brickci <mode>".
func reportFindings(inv *invocation, a *gha.Action, r report) int {
	l, extra := r.list, r.json
	l.Sort()
	var err error
	switch r.format {
	case "json":
		if len(inv.notes) > 0 {
			with := map[string]any{"notes": inv.notes}
			for k, v := range extra {
				with[k] = v
			}
			extra = with
		}
		err = diag.WriteJSON(inv.stdout, l, extra)
	case "markdown":
		err = diag.WriteMarkdown(inv.stdout, l)
	case "sarif":
		err = diag.WriteSARIF(inv.stdout, brickciTool(), l, r.rules)
	case "github":
		dropped := a.Annotate(l)
		err = diag.WriteText(inv.stderr, l)
		var md strings.Builder
		fmt.Fprintf(&md, "## brickci %s\n\n", inv.mode)
		if werr := diag.WriteMarkdown(&md, l); werr != nil {
			err = werr
		}
		if dropped > 0 {
			fmt.Fprintf(&md, "\n%d findings were not shown as annotations because GitHub shows at most %d per level; all are listed above.\n", dropped, gha.AnnotationsPerLevel)
		}
		md.WriteString("\n")
		if serr := a.AddSummary(md.String()); serr != nil {
			inv.say("%v", serr)
		}
	default:
		err = diag.WriteText(inv.stdout, l)
		if len(l) > 0 {
			fmt.Fprintln(inv.stdout, l.Summarize())
		}
	}
	if err != nil {
		return bad(inv, "failed to write findings: %v", err)
	}
	return r.code()
}

// code is the exit code for the findings: 2 when one says the input is
// unusable, 1 when any is at or above the fail level, else 0.
func (r report) code() int {
	switch {
	case unusable(r.list):
		return exitBadCall
	case r.list.AtLeast(r.failAt):
		return exitFailed
	}
	return exitOK
}

// unusableRules are the findings that mean brickci could not use its input
// at all: a databricks.yml, resource file or pipeline spec that does not
// parse as YAML, and a -t target the bundle does not define. They are
// printed as findings like any other, but the exit code is 2 (bad
// invocation or unreadable input) in every mode. Workflow files are lint's
// subject, so their syntax errors stay findings with exit 1.
var unusableRules = map[string]bool{"yaml": true, "unknown-target": true, spec.RuleYAML: true}

// unusable reports whether any finding in l is one of unusableRules.
func unusable(l diag.List) bool {
	for _, f := range l {
		if f.Severity == diag.Error && unusableRules[f.Rule] {
			return true
		}
	}
	return false
}
