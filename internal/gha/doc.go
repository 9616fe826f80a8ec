// Package gha is brickci's one door to the GitHub Actions runtime: outputs,
// the step summary, annotations, masks, log groups, stop-commands and the
// triggering event. Inputs are not read here: cmd/action reads each mode's
// flags from their INPUT_<FLAG> variables, and the SDK fetches the OIDC
// token itself.
//
// It wraps github.com/sethvargo/go-githubactions and fixes its defects in
// this one place: outputs use a random heredoc delimiter per value (and a
// value containing it is refused), nothing panics when a runtime file is
// unset or cannot be written (outside Actions those writes are skipped),
// and the step summary is kept under GitHub's 1 MiB limit with a
// truncation note.
//
// Log is the one output layer between brickci and the job log: text printed
// through it cannot issue a workflow command (only Log.Command can), and
// registered credentials are removed from it. An Action writing to a Log
// issues its commands through it and redacts the step summary and outputs
// with the same redactor.
//
// It reads the environment only through the getenv function it is given.
package gha
