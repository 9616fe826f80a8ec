package gen

import (
	"strings"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/spec"
)

// Result is one run of the generator, by Check or Write: everything a
// caller prints, summarises or acts on, so that no caller reads the spec
// again.
type Result struct {
	// Spec is the parsed pipeline spec; nil when it did not parse.
	Spec *spec.Spec
	// Files are the generated workflows by file name; nil when the spec
	// has errors.
	Files map[string][]byte
	// Drifts are the workflow files out of sync with the spec: what Check
	// found. Write leaves it empty.
	Drifts []Drift
	// Changed lists the files Write wrote because they were new or differed.
	Changed []string
	// Removed lists stale generated files Write deleted.
	Removed []string
	// Findings are spec problems and, from Write, the generator's advice
	// (warnings) and actionlint findings on the generated output; when
	// they hold errors nothing was compared or written.
	Findings diag.List
}

// Exit codes of a generator run, as the command-line contract defines them.
const (
	// ExitOK: the workflows are in sync (Check) or were written (Write).
	ExitOK = 0
	// ExitFailed: the generated output has actionlint errors, or (Check)
	// workflows drift from the spec.
	ExitFailed = 1
	// ExitUnusable: the spec could not be read or has errors of its own.
	ExitUnusable = 2
)

// ExitCode returns the exit code of a run whose Check or Write returned
// res and err: ExitUnusable for an error or spec errors, ExitFailed for
// actionlint errors or drift, ExitOK otherwise.
func ExitCode(res *Result, err error) int {
	if err != nil || res == nil {
		return ExitUnusable
	}
	failed := len(res.Drifts) > 0
	for _, f := range res.Findings {
		if f.Severity < diag.Error {
			continue
		}
		if !strings.HasPrefix(f.Rule, RuleActionlintPrefix) {
			return ExitUnusable
		}
		failed = true
	}
	if failed {
		return ExitFailed
	}
	return ExitOK
}
