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
	if *check {
		drifts, findings, err := gen.Check(*root, *specPath, *outDir)
		if err != nil {
			fmt.Fprintf(stderr, "genworkflows: %v\n", err)
			return 2
		}
		if code := report(stderr, findings); code != 0 {
			return code
		}
		for _, d := range drifts {
			fmt.Fprintf(stdout, "%s: %s\n%s\n", d.Position(), d.Kind, d.Diff)
		}
		if len(drifts) > 0 {
			fmt.Fprintf(stderr, "genworkflows: %d workflow file(s) out of sync with %s; run %s\n", len(drifts), *specPath, gen.RegenerateCommand(*root))
			return 1
		}
		return 0
	}
	res, err := gen.Write(*root, *specPath, *outDir)
	if err != nil {
		fmt.Fprintf(stderr, "genworkflows: %v\n", err)
		return 2
	}
	if code := report(stderr, res.Findings); code != 0 {
		return code
	}
	for _, f := range res.Changed {
		fmt.Fprintf(stdout, "wrote %s\n", f)
	}
	for _, f := range res.Removed {
		fmt.Fprintf(stdout, "removed %s\n", f)
	}
	return 0
}

// report prints findings and returns 2 for spec errors, 1 for actionlint
// errors and 0 otherwise.
func report(w io.Writer, findings diag.List) int {
	if err := diag.WriteText(w, findings); err != nil {
		return 2
	}
	if !findings.AtLeast(diag.Error) {
		return 0
	}
	for _, f := range findings {
		if f.Severity == diag.Error && len(f.Rule) > len(gen.RuleActionlintPrefix) && f.Rule[:len(gen.RuleActionlintPrefix)] == gen.RuleActionlintPrefix {
			continue
		}
		if f.Severity == diag.Error {
			return 2
		}
	}
	return 1
}
