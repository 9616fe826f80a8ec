// Package brickci is the root of the brickci module. It holds no code; its
// go:generate directive regenerates this repository's workflows from
// .github/pipeline.yaml when "go generate ./..." runs at the root.
package brickci

//go:generate go run ./cmd/genworkflows -spec .github/pipeline.yaml -out .github/workflows
