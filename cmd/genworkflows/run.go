package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gen"
)

// run is the whole program; paths are relative to the working directory,
// which is the repository root under "go generate" from the root package.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("genworkflows", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specPath := fs.String("spec", ".github/pipeline.yaml", "pipeline spec, relative to -root")
	outDir := fs.String("out", ".github/workflows", "directory of the generated workflows, relative to -root")
	root := fs.String("root", ".", "repository root")
	check := fs.Bool("check", false, "report drift between the spec and the workflows instead of writing them")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "genworkflows: unexpected argument %q; all settings are flags\n", fs.Arg(0))
		return 2
	}
	run := gen.Write
	if *check {
		run = gen.Check
	}
	res, err := run(*root, *specPath, *outDir)
	if err != nil {
		fmt.Fprintf(stderr, "genworkflows: %v\n", err)
		return gen.ExitCode(res, err)
	}
	if err := diag.WriteText(stderr, res.Findings); err != nil {
		return gen.ExitUnusable
	}
	for _, d := range res.Drifts {
		fmt.Fprintf(stdout, "%s: %s\n%s\n", d.Position(), d.Kind, d.Diff)
	}
	for _, f := range res.Changed {
		fmt.Fprintf(stdout, "wrote %s\n", f)
	}
	for _, f := range res.Removed {
		fmt.Fprintf(stdout, "removed %s\n", f)
	}
	if len(res.Drifts) > 0 {
		fmt.Fprintf(stderr, "genworkflows: %d workflow file(s) out of sync with %s; run %s\n", len(res.Drifts), *specPath, gen.RegenerateCommand(*root))
	}
	return gen.ExitCode(res, nil)
}
