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
// Resources of every type the Databricks CLI knows are checked against
// databricks-sdk-go's own request types (jobs.JobSettings,
// serving.CreateServingEndpoint, ...) plus the fields the CLI's bundle
// schema adds, by walking the YAML tree against their json tags (typecheck.go), so wrong
// types and bad enum values are errors and unknown fields warnings (errors
// with LoadOptions.Strict), reported where they were written. Top-level
// keys that only hold YAML anchors are recognised and ignored.
//
// The artifacts mapping becomes Bundle.Artifacts with the Databricks CLI's
// defaults (artifacts.go). A library path an artifact produces is
// translated to <artifact_path>/.internal/<file name> and listed in
// Bundle.ArtifactFiles when the file exists; before a build it is an info
// saying it will be built, and after one (LoadOptions.ArtifactsBuilt) a
// path that matches no file is an error. Running builds is
// internal/artifacts' job.
//
// ${bundle.git.*} is resolved from bundle.git, the GitHub Actions context
// and the git checkout (git.go); sync.paths may reach outside the bundle,
// which moves the sync root up as the CLI does (Sync.Root).
//
// LoadOptions.Isolate makes a load a test deployment (isolation.go): its
// own sub-directory of every workspace path, its own job and serving
// endpoint names, schedules and triggers paused, and the name checked once.
// Callers only choose the name.
//
// It reads the bundle's files but never talks to a workspace, reads the
// process environment or exits: values that need a workspace (the current
// user, lookups), the environment (BUNDLE_VAR_*, GITHUB_*) and the reading
// of the git checkout are handed in by the caller. The workspace values
// come either as LoadOptions.CurrentUser and Lookups or from
// LoadOptions.Resolve, which Load calls once the target's workspace block
// is merged (so its host and profile are known) and before anything is
// interpolated; internal/workspace supplies it, so a bundle is loaded once. It does not deploy,
// upload or resolve deploy-time references such as
// ${resources.jobs.<key>.id}; those stay in place for internal/deploy.
package bundle
