// Package diag owns the one finding type that every brickci check reports
// (pipeline spec, bundle validation, workflow lint, tests) and the renderers
// that turn findings into text, JSON, SARIF, GitHub annotations and markdown.
//
// It does not read files, the environment or the network: callers hand it
// findings and writers.
package diag
