// Package mermaid builds the small subset of mermaid flowcharts brickci
// draws (task graphs of jobs: nodes with labels and classes, edges, class
// styles), parses that subset back, and lays it out as a standalone SVG so
// reports show the graphs without loading any script.
//
// It knows nothing of jobs or runs; callers hand it nodes and edges.
package mermaid
