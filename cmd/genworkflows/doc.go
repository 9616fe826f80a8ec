// Command genworkflows generates the six workflow files of a Databricks
// MLOps project from its pipeline spec, or with -check reports how the
// files on disk drifted from it.
//
// Exit codes: 0 success, 1 drift (with -check) or actionlint findings,
// 2 bad flags or a spec that cannot be read or has errors.
//
// It owns only flag parsing and printing; generation, linting and drift
// detection live in internal/gen, and it never touches hand-written workflows.
package main
