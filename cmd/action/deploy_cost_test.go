package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/brickci/brickci/internal/emulator"
	"github.com/google/go-cmp/cmp"
)

// TestNoChangeDeployCost runs deploy twice through Main and checks that the
// second, with nothing to change, makes five requests: the SDK's host
// metadata, the current user and the three reads of the lock-free probe.
func TestNoChangeDeployCost(t *testing.T) {
	t.Parallel()
	srv, url := serveEmulator(t, emulator.Config{})
	dir := writeBundle(t, helloBundle)
	env := map[string]string{"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": "tok"}
	deploy := func() []string {
		t.Helper()
		before := len(srv.Requests())
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"deploy", "-t", "dev", "--bundle", dir}, func(k string) string { return env[k] }, &out, &errb); code != 0 {
			t.Fatalf("deploy: exit %d\n%s", code, errb.String())
		}
		var lines []string
		for _, r := range srv.Requests()[before:] {
			lines = append(lines, r.Method+" "+r.Path)
		}
		return lines
	}
	deploy()
	want := []string{
		"GET /.well-known/databricks-config",
		"GET /api/2.0/preview/scim/v2/Me",
		"GET /api/2.0/workspace/export",
		"GET /api/2.0/workspace/export",
		"GET /api/2.0/workspace/export",
	}
	if diff := cmp.Diff(want, deploy()); diff != "" {
		t.Errorf("no-change deploy requests (-want +got):\n%s", diff)
	}
}
