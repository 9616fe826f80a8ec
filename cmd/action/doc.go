// Command brickci is the brickci GitHub Action and command-line tool: one
// binary whose modes lint, validate, plan, test, deploy, run, destroy and
// generate a Databricks bundle's CI/CD.
//
// It owns the wiring: flags and INPUT_* inputs, the choice of mode, the
// invocation's environment (getenv, stdout, stderr, the one credential
// registry), what each mode prints, and exit codes (0 success, 1 the check
// failed, 2 bad invocation or unreadable input). main is the only place
// that reads the process environment or exits.
//
// Every mode has the same shape. A <mode>Flags function in mode_<mode>.go
// (mode_tests.go for test), listed in the modes table in cli.go, declares
// the mode's flags and returns the function that runs it. That function prints what the mode
// prints as it works and returns an outcome: the exit code, the step
// summary, findings to render in the chosen format, annotations, step
// outputs, the pull-request comment and the line saying why it failed.
// publish in cli.go writes every outcome in the same order.
//
// It does not talk to a workspace itself: the SDK client, the current
// user, lookups and online checks are internal/workspace's, and it imports
// no databricks-sdk-go service package. Loading and isolating a bundle is
// internal/bundle's, deploying internal/deploy's, running jobs
// internal/run's; a mode hands them the environment and reports what they
// return.
package main
