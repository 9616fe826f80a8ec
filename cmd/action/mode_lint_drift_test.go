package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gen"
)

// TestLintReportsDrift: a repository generated from its spec lints clean;
// editing one generated workflow by hand makes lint fail with rule drift
// naming that file.
func TestLintReportsDrift(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bundle/databricks.yml", "bundle:\n  name: demo\n")
	action, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	write("action.yml", string(action))
	write(".github/pipeline.yaml", `project: demo
bundle: bundle
action: ./
targets:
  staging: {environment: staging, auth: {type: pat, token-secret: STAGING_TOKEN}}
  prod: {environment: prod, auth: {type: pat, token-secret: PROD_TOKEN}}
`)
	if res, err := gen.Write(root, ".github/pipeline.yaml", ".github/workflows"); err != nil || res.Findings.AtLeast(diag.Error) {
		t.Fatalf("generate: %v %v", err, res.Findings)
	}
	lintOnce := func() (int, string) {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), []string{"lint", "--root", root, "--format", "text"}, func(string) string { return "" }, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	if code, out := lintOnce(); code != 0 || strings.Contains(out, "[drift]") {
		t.Fatalf("fresh repository: exit %d\n%s", code, out)
	}
	// A spec change that yields the same workflows is no drift.
	spec, err := os.ReadFile(filepath.Join(root, ".github/pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write(".github/pipeline.yaml", "# the demo's pipeline\n"+string(spec))
	if code, out := lintOnce(); code != 0 || strings.Contains(out, "[drift]") {
		t.Fatalf("after a spec comment: exit %d\n%s", code, out)
	}
	wf := filepath.Join(root, ".github/workflows/demo-bundle-ci.yml")
	b, err := os.ReadFile(wf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wf, append(b, "# tweak\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	// The finding points at the added line, and names the commands that
	// work in a repository without a Go module.
	code, out := lintOnce()
	want := fmt.Sprintf(`.github/workflows/demo-bundle-ci.yml:%d:1: workflow ".github/workflows/demo-bundle-ci.yml" is out of date`, strings.Count(string(b), "\n")+1)
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, `regenerate with "genworkflows" or "brickci generate" [drift]`) || strings.Count(out, "[drift]") != 1 {
		t.Fatalf("edited repository: exit %d, want %q\n%s", code, want, out)
	}
}
