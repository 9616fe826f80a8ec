// Package gen turns a pipeline spec into the workflow files of a
// Databricks MLOps repository (the six of one project; with projects:, one
// lint and one deploy-cicd workflow and the bundle workflows of each
// project, filtered to its paths), checks generated output with actionlint, warns
// about valid settings whose workflows would not work (Advice), and
// detects drift between the spec and the files in the repository: only a
// body that differs is drift, never the header's spec hash alone.
//
// Its two entry points, Check (drift.go) and Write (write.go), read the
// spec once and return one Result: the spec, the generated files, the
// drift, what was written and the findings. ExitCode (result.go) owns the
// exit-code rule that cmd/genworkflows and "brickci generate" share.
//
// It owns the shape of the generated workflows (triggers, permissions,
// concurrency, pins of third-party actions, which brickci mode runs where).
// It does not parse the spec (package spec) or format YAML (package
// workflow), and only Write touches files: it never removes a workflow
// that lacks the generated-code header or names another spec in it.
package gen
