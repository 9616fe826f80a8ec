// Package gha is brickci's one door to the GitHub Actions runtime: inputs,
// outputs, environment files, the step summary, annotations, masks, log
// groups, the triggering event and the OIDC token.
//
// It wraps github.com/sethvargo/go-githubactions and fixes its defects in
// this one place: outputs use a random heredoc delimiter per value (and a
// value containing it is refused), nothing panics when a runtime file is
// unset or cannot be written (outside Actions those writes are skipped), the
// step summary is kept under GitHub's 1 MiB limit with a truncation note,
// and inputs can be required, boolean or multi-line.
//
// Log is the one output layer between brickci and the job log: text printed
// through it cannot issue a workflow command (only Log.Command can), and
// registered credentials are removed from it. An Action writing to a Log
// issues its commands through it and redacts the step summary, outputs and
// exported variables with the same redactor.
//
// It reads the environment only through the getenv function it is given.
package gha
