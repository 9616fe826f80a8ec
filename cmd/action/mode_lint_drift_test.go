package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if res, err := gen.Write(root, ".github/pipeline.yaml", ".github/workflows"); err != nil || len(res.Findings) > 0 {
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
	wf := filepath.Join(root, ".github/workflows/demo-bundle-ci.yml")
	b, err := os.ReadFile(wf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wf, append(b, "# tweak\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := lintOnce()
	if code != 1 || !strings.Contains(out, `.github/workflows/demo-bundle-ci.yml:1:1: workflow ".github/workflows/demo-bundle-ci.yml" was edited by hand`) || !strings.Contains(out, "[drift]") {
		t.Fatalf("edited repository: exit %d\n%s", code, out)
	}
}
