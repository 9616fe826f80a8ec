package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gen"
	"github.com/brickci/brickci/internal/lint"
	"github.com/brickci/brickci/internal/redact"
)

// lintFormats are the output formats of the lint mode.
var lintFormats = []string{"text", "json", "sarif", "github", "markdown"}

func lintFlags(fs *flag.FlagSet) runFunc {
	out := declareOutputFlags(fs, lintFormats...)
	sarifFile := fs.String("sarif-file", "", "also write the findings as SARIF 2.1.0 to this file (for code scanning upload)")
	allowTags := fs.Bool("allow-tags", false, "accept uses: pinned by version tag; by default only a full commit sha is accepted")
	root := fs.String("root", ".", "repository root; paths and findings are relative to it")
	specPath := fs.String("spec", defaultSpecPath, "pipeline spec whose generated workflows must be in sync (rule drift); skipped when the default is absent")
	return func(ctx context.Context, inv *invocation, args []string) outcome {
		format, failAt, err := out.resolve(inv, lintFormats...)
		if err != nil {
			return outcome{code: bad(inv, "%v", err)}
		}
		if st, err := os.Stat(*root); err != nil || !st.IsDir() {
			return outcome{code: bad(inv, "root %q is not a directory; pass --root DIR", *root)}
		}
		for _, p := range args {
			full := p
			if !filepath.IsAbs(p) {
				full = filepath.Join(*root, p)
			}
			if _, err := os.Stat(full); err != nil {
				return outcome{code: bad(inv, "path %q does not exist under %q; pass workflow files or directories", p, *root)}
			}
		}
		generated, err := checkGenerated(*root, *specPath, *specPath != defaultSpecPath)
		if err != nil {
			return outcome{code: bad(inv, "%v", err)}
		}
		files, err := lint.Files(*root, args)
		if err != nil {
			return outcome{code: bad(inv, "%v", err)}
		}
		var findings diag.List
		switch {
		case len(files) > 0:
			findings, err = lint.Run(ctx, lint.Options{Root: *root, Paths: args, AllowTags: *allowTags, LookPath: lookPathIn(inv.getenv)})
		case len(args) > 0:
			return outcome{code: bad(inv, "no workflow or action files in %q; pass workflow files or directories", args)}
		default:
			// A repository without workflows has nothing wrong in them; the
			// spec, when there is one, is still compared with them.
			inv.note("brickci lint: no workflow or action files under %q (.github/workflows, action.yml): nothing to lint", *root)
		}
		if err != nil {
			return outcome{code: bad(inv, "%v", err)}
		}
		findings = append(findings, generated...)
		findings.Sort()
		if *sarifFile != "" {
			if err := writeSARIFFile(*sarifFile, inv.secrets, brickciTool(), findings); err != nil {
				return outcome{code: bad(inv, "%v", err)}
			}
		}
		rep := &report{list: findings, format: format, failAt: failAt, rules: lint.Rules()}
		if format == "text" && len(findings) == 0 && len(files) > 0 {
			// Said before publish renders the findings: there are none.
			fmt.Fprintf(inv.stdout, "no findings in %s\n", plural(len(files), "file"))
		}
		n := 0
		for _, f := range findings {
			if f.Severity >= failAt {
				n++
			}
		}
		return outcome{report: rep, outputs: []output{{"result", result(rep.code() == exitOK)}, {"findings", strconv.Itoa(n)}}}
	}
}

// writeSARIFFile writes the SARIF report to path, with credentials
// removed as from everything else brickci writes.
func writeSARIFFile(path string, secrets *redact.Set, tool diag.ToolInfo, l diag.List) error {
	var b bytes.Buffer
	if err := diag.WriteSARIF(&b, tool, l, lint.Rules()); err != nil {
		return fmt.Errorf("failed to write sarif file %q: %w", path, err)
	}
	if err := os.WriteFile(path, secrets.RedactBytes(b.Bytes()), 0o644); err != nil {
		return fmt.Errorf("failed to write sarif file %q: %w", path, err)
	}
	return nil
}

// brickciTool names this program in SARIF logs.
func brickciTool() diag.ToolInfo {
	return diag.ToolInfo{Name: "brickci", Version: version, InformationURI: "https://github.com/brickci/brickci"}
}

// lookPathIn finds an executable in the PATH that getenv returns, so that
// the tools lint uses follow the invocation's environment.
func lookPathIn(getenv func(string) string) func(string) (string, error) {
	return func(name string) (string, error) {
		for _, dir := range filepath.SplitList(getenv("PATH")) {
			if dir == "" {
				continue
			}
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
		return "", fmt.Errorf("%q not found in PATH", name)
	}
}

// defaultSpecPath is where the pipeline spec lives in a repository.
const defaultSpecPath = ".github/pipeline.yaml"

// defaultWorkflowDir is where the generated workflows live.
const defaultWorkflowDir = ".github/workflows"

// checkGenerated reports spec problems and generated workflows out of
// sync with the spec (the generator's own check), for lint to join with
// its findings. Without a spec at the default path there is nothing to
// compare; a spec named explicitly must exist.
func checkGenerated(root, specPath string, explicit bool) (diag.List, error) {
	if _, err := os.Stat(filepath.Join(root, specPath)); err != nil {
		if explicit {
			return nil, fmt.Errorf("spec %q does not exist under %q", specPath, root)
		}
		return nil, nil
	}
	res, err := gen.Check(root, specPath, defaultWorkflowDir)
	if err != nil {
		return nil, err
	}
	return append(res.Findings, gen.Findings(res.Drifts)...), nil
}

// plural writes "1 file" or "3 files".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
