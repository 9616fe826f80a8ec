// Package demo plays a bundle's whole CI/CD pipeline offline, as GitHub
// Actions would run it: it starts the workspace emulator on loopback, runs
// the brickci binary once per workflow step in a simulated runner (its own
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, INPUT_* variables, a
// pull_request or push event), interprets the workflow commands the steps
// print (masks, groups, annotations, stop-commands) and gathers every step
// summary into a report. With the example's bundle it plays the example
// monorepo: the chatbot's whole pipeline, then the batch-inference
// project's CI, integration tests and deploys.
//
// It runs the built binaries as subprocesses, never the packages, so it
// exercises brickci exactly as a workflow does, in a checkout of its own
// (the spec, workflows, action and bundle copied to a temporary directory)
// so that builds never write into the repository. It also owns the
// example's prebuilt form (PrebuiltExample: a wheel packed in Go instead of
// Python's build), which tests and machines without Python's build tools
// deploy instead.
package demo
