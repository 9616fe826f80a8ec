// Package diag owns the one finding type that every brickci check reports
// (pipeline spec, bundle validation, workflow lint, tests) and the renderers
// that turn findings into text, JSON, SARIF, GitHub annotations and markdown.
//
// It also holds the few text helpers every renderer shares, so that output
// reads the same everywhere: the one markdown escaper (EscapeMarkdown for
// text, MarkdownCode for file names, job keys and other identifiers), the
// one duration format (FormatDuration) and the one did-you-mean suggestion
// (DidYouMean, Closest).
//
// It does not read files, the environment or the network: callers hand it
// findings and writers.
package diag
