// Package bundle loads a Databricks bundle (databricks.yml, its includes and
// resources) for one target the way Databricks does — includes, target
// overrides, variables, interpolation, mode presets, path translation — into
// a typed, position-carrying model, and checks it offline.
//
// Load is the entry point: it returns the resolved Bundle (model.go is the
// contract with the deploy engine) and findings, each at the file, line and
// column the problem was written. Files decides which files a deploy
// uploads; WriteSummary renders a target's summary with mermaid task graphs;
// CheckPipelineRefs cross-checks names another configuration expects.
//
// Resources are checked against databricks-sdk-go's own request types
// (jobs.JobSettings, serving.CreateServingEndpoint, ...) by walking the YAML
// tree against their json tags, so unknown fields, wrong types and bad enum
// values are reported where they were written.
//
// It reads the bundle's files but never talks to a workspace, reads the
// process environment or exits: values that need a workspace (the current
// user, lookups) and the environment (BUNDLE_VAR_*) are handed in by the
// caller. It does not deploy, upload or resolve deploy-time references such
// as ${resources.jobs.<key>.id}; those stay in place for internal/deploy.
package bundle
