// Package report writes the demo's report (make demo): it gathers the step
// summaries of a pipeline run into one markdown file and one
// self-contained HTML page: markdown rendered with
// goldmark, sanitised with bluemonday (step summaries hold text from
// builds and tests), and every mermaid task graph drawn as inline SVG, so
// the page needs no script and no network to show the graphs.
//
// It reads nothing itself; callers hand it the sections.
package report
