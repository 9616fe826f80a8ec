// Package spec owns the pipeline spec (.github/pipeline.yaml): its typed
// model, defaults and validation. Every problem is reported as a
// diag.Finding with the file, line and column it comes from, and all of
// them are reported at once.
//
// A spec describes one project with its top-level keys, or several under
// projects:, each merged with the top level's defaults (Spec.Projects).
//
// It reads only the files it is asked to (the spec, and in Check each
// project's databricks.yml and depends-on directories); it does not generate workflows (package gen) and does
// not load the bundle itself (package bundle).
package spec
