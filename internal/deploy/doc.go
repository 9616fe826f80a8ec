// Package deploy plans, applies and destroys a bundle's deployment in a
// Databricks workspace through databricks-sdk-go, without Terraform or the
// Databricks CLI.
//
// It owns the desired state computed from a resolved [bundle.Bundle] (file
// hashes, the settings of every resource type it handles (resource.go)
// with deploy-time references resolved in dependency order, permissions
// and Unity Catalog grants), the remote state kept in the
// target's state path (resources.json and deployment.json in the shapes the
// Databricks CLI's direct deployment engine writes, so either tool can adopt
// the other's deployment), the deploy lock (<state_path>/deploy.lock, shared
// with the CLI), the plan with field-level differences and its text, JSON and
// markdown renderings, and the apply and destroy procedures. Built
// artifacts (Bundle.ArtifactFiles) are uploaded to the artifact path when
// their content hash changed, recorded in deployment.json, and mark the jobs
// that use them as updated (artifacts.go).
// Apply reads the
// state without the lock first and stops there when that proves nothing
// changes; otherwise it takes the lock and reads the state again under it
// (docs/reliability.md states the guarantee).
//
// It must not load or validate bundles (internal/bundle decides what a bundle
// contains and which files are synced), run jobs (internal/run), exit the
// process or read the real environment: the workspace client, the clock and
// the progress writer are passed in.
package deploy
