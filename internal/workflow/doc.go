// Package workflow owns the typed model of a GitHub Actions workflow
// (triggers, jobs, steps) and its deterministic YAML emitter: a fixed,
// readable key order, 2-space indentation, quoted version-like strings,
// literal blocks for multi-line scripts and a generated-code header.
//
// It knows nothing about the pipeline spec or brickci's modes (package gen
// builds workflows from the spec) and never reads or writes files.
package workflow
