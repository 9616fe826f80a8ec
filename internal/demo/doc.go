// Package demo plays a bundle's whole CI/CD pipeline offline, as GitHub
// Actions would run it: it starts the workspace emulator on loopback, runs
// the brickci binary once per workflow step in a simulated runner (its own
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, INPUT_* variables, a
// pull_request or push event), interprets the workflow commands the steps
// print (masks, groups, annotations, stop-commands) and gathers every step
// summary into a report.
//
// It runs the built binaries as subprocesses, never the packages, so it
// exercises brickci exactly as a workflow does.
package demo
