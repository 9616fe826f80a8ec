package workspace

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdkworkspace "github.com/databricks/databricks-sdk-go/service/workspace"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/emulator"
)

// serve starts an emulator and returns it with an Env that reaches it.
func serve(t *testing.T) (*emulator.Server, Env) {
	t.Helper()
	em := emulator.New()
	ts := httptest.NewServer(em)
	t.Cleanup(ts.Close)
	env := map[string]string{"DATABRICKS_TOKEN": "tok", "DATABRICKS_HOST": ts.URL}
	return em, Env{Mode: "test", Getenv: func(k string) string { return env[k] }}
}

// count returns how many of the server's requests had the path.
func count(em *emulator.Server, path string) int {
	n := 0
	for _, r := range em.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

// TestClientAndUserErrors checks the two kinds of failure callers tell
// apart: no client (a bad invocation) and a workspace that cannot say who
// the user is.
func TestClientAndUserErrors(t *testing.T) {
	t.Parallel()
	_, err := Env{Getenv: func(string) string { return "" }}.Client("")
	if _, ok := err.(*ConfigError); !ok || !strings.Contains(err.Error(), "no workspace host") {
		t.Errorf("without a host: %T %v, want a *ConfigError", err, err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error_code": "PERMISSION_DENIED", "message": "no"}`)
	}))
	t.Cleanup(ts.Close)
	env := Env{Getenv: func(k string) string { return map[string]string{"DATABRICKS_TOKEN": "t"}[k] }, Host: ts.URL}
	w, err := env.Client("")
	if err != nil {
		t.Fatal(err)
	}
	_, err = CurrentUser(context.Background(), w)
	if ue, ok := err.(*UserError); !ok || ue.Host != ts.URL {
		t.Errorf("a denied current user: %T %v, want a *UserError for %s", err, err, ts.URL)
	}
}

// TestCurrentUserServicePrincipal checks the short name of a service
// principal: its user name is an application id, so the short name comes
// from its display name.
func TestCurrentUserServicePrincipal(t *testing.T) {
	t.Parallel()
	const appID = "6e2d9c3a-1b4f-4f8e-9a7d-2c5b8e1f0a3d"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/2.0/preview/scim/v2/Me" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"userName": %q, "displayName": "Deploy Bot"}`, appID)
	}))
	t.Cleanup(ts.Close)
	env := Env{Getenv: func(k string) string { return map[string]string{"DATABRICKS_TOKEN": "t"}[k] }, Host: ts.URL}
	w, err := env.Client("")
	if err != nil {
		t.Fatal(err)
	}
	u, err := CurrentUser(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	want := bundle.User{UserName: appID, ShortName: "Deploy_Bot", IsServicePrincipal: true}
	if u != want {
		t.Errorf("user %+v, want %+v", u, want)
	}
}

// TestResolveHost checks the precedence --host > workspace.host >
// DATABRICKS_HOST and the one note when --host overrides the bundle.
func TestResolveHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag, bundle, env, want, note string
	}{
		{"https://a/", "https://b", "https://c", "https://a", "brickci deploy: using host https://a from --host instead of the target's https://b"},
		{"https://a", "https://a/", "", "https://a", ""},
		{"", "https://b/", "https://c", "https://b", ""},
		{"", "", "https://c/", "https://c", ""},
		{"", "", "", "", ""},
	} {
		var notes []string
		e := Env{Mode: "deploy", Host: tc.flag, Getenv: func(string) string { return tc.env },
			Note: func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }}
		if got := e.ResolveHost(tc.bundle); got != tc.want {
			t.Errorf("%+v: host %q", tc, got)
		}
		if got := strings.Join(notes, "\n"); got != tc.note {
			t.Errorf("%+v: notes %q", tc, got)
		}
	}
}

// TestHasCredentials checks which settings count as credentials.
func TestHasCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env     map[string]string
		profile string
		want    bool
	}{
		{nil, "", false},
		{map[string]string{"DATABRICKS_HOST": "https://a"}, "", false},
		{nil, "dev", true},
		{map[string]string{"DATABRICKS_TOKEN": "t"}, "", true},
		{map[string]string{"DATABRICKS_AUTH_TYPE": "github-oidc"}, "", true},
		{map[string]string{"ARM_CLIENT_ID": "x"}, "", true},
	} {
		e := Env{Profile: tc.profile, Getenv: func(k string) string { return tc.env[k] }}
		if got := e.HasCredentials(); got != tc.want {
			t.Errorf("env %v profile %q: %v, want %v", tc.env, tc.profile, got, tc.want)
		}
	}
}

// TestDeploymentExists checks that any of the root, state or file path
// counts, and that none of them there means no deployment.
func TestDeploymentExists(t *testing.T) {
	t.Parallel()
	_, env := serve(t)
	w, err := env.Client("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.Workspace.Mkdirs(ctx, sdkworkspace.Mkdirs{Path: "/Workspace/Shared/state"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ws   bundle.Workspace
		want bool
	}{
		{bundle.Workspace{RootPath: "/Workspace/Shared/gone", StatePath: "/Workspace/Shared/state"}, true},
		{bundle.Workspace{RootPath: "/Workspace/Shared/gone", StatePath: "/Workspace/Shared/gone/state"}, false},
		{bundle.Workspace{}, false},
	} {
		got, err := DeploymentExists(ctx, w, tc.ws)
		if err != nil || got != tc.want {
			t.Errorf("%+v: %v %v, want %v", tc.ws, got, err, tc.want)
		}
	}
}

// TestCheckRefs checks that a missing cluster is an error at the place it
// was written, asked about once however often it is named.
func TestCheckRefs(t *testing.T) {
	t.Parallel()
	em, env := serve(t)
	w, err := env.Client("")
	if err != nil {
		t.Fatal(err)
	}
	at := bundle.Location{File: "databricks.yml", Line: 3, Column: 5}
	b := &bundle.Bundle{WorkspaceRefs: []bundle.WorkspaceRef{{Kind: "cluster", ID: "0000-nope", Location: at}, {Kind: "cluster", ID: "0000-nope", Location: at}}}
	l := CheckRefs(context.Background(), w, b)
	if len(l) != 2 || l[0].Rule != "cluster-missing" || l[0].Severity != diag.Error || l[0].Line != 3 {
		t.Errorf("findings %v, want two cluster-missing errors at line 3", l)
	}
	if n := count(em, "/api/2.1/clusters/get"); n != 1 {
		t.Errorf("%d cluster requests, want 1", n)
	}
}

// TestLookupUnknownKind checks the error for a kind lookups do not know.
func TestLookupUnknownKind(t *testing.T) {
	t.Parallel()
	_, err := Lookup(context.Background(), nil, "notebook", "x")
	if err == nil || !strings.Contains(err.Error(), `lookup kind "notebook" is not supported`) {
		t.Errorf("error %v", err)
	}
}
