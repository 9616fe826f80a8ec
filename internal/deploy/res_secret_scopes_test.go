package deploy

import (
	"context"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go/service/workspace"
	"github.com/google/go-cmp/cmp"
)

func scopeResource(name string, perms ...bundle.Permission) bundle.Resource {
	return bundle.Resource{Type: "secret_scopes", Key: "app", Name: name, Config: map[string]any{"name": name}, Permissions: perms}
}

// TestSecretScopeLifecycle deploys a secret scope whose permissions become
// secret ACLs, deploys it again unchanged, changes the ACLs in place,
// renames it (a re-create), removes it from the bundle and destroys a
// bundle holding one.
func TestSecretScopeLifecycle(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	readers := bundle.Permission{Level: "READ", GroupName: "users"}
	writer := bundle.Permission{Level: "WRITE", ServicePrincipalName: "6f0c-sp"}

	b := resourceBundle(dir, scopeResource("app-secrets", readers, writer))
	_, reqs := typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "POST", "/api/2.0/secrets/scopes/create"); n != 1 {
		t.Errorf("sent %d scope creates, want 1", n)
	}
	if n := len(writesTo(reqs, "/api/2.0/permissions/")); n != 0 {
		t.Errorf("sent %d object permission requests for a secret scope", n)
	}
	sc, ok := srv.SecretScopes(testToken)["app-secrets"]
	if !ok || sc.BackendType != workspace.ScopeBackendTypeDatabricks {
		t.Fatalf("scope app-secrets = %+v, %v", sc, ok)
	}
	// The deploying user manages it; the token's identity that created it
	// is not in the bundle, so its ACL is removed, as the CLI removes it.
	want := map[string]workspace.AclPermission{testUser: workspace.AclPermissionManage, "users": workspace.AclPermissionRead, "6f0c-sp": workspace.AclPermissionWrite}
	if diff := cmp.Diff(want, sc.ACLs); diff != "" {
		t.Errorf("scope ACLs (-want +got):\n%s", diff)
	}
	e, ok := recordedState(t, srv)["resources.secret_scopes.app"]
	if !ok || e.ID != "app-secrets" || e.State["scope"] != "app-secrets" || e.State["scope_backend_type"] != "DATABRICKS" {
		t.Errorf("state entry resources.secret_scopes.app = %+v, %v", e, ok)
	}
	if perms, _ := e.State["permissions"].([]any); len(perms) != 3 {
		t.Errorf("recorded ACLs = %v, want 3", e.State["permissions"])
	}

	// Unchanged: nothing is written.
	res, reqs := typeDeploy(t, srv, w, b)
	if res.Changed || len(writesTo(reqs, "/")) != 0 {
		t.Errorf("a no-change deploy changed %v and wrote %v", res.Changed, writesTo(reqs, "/"))
	}

	// New ACLs: set in place, the scope kept; the service principal's goes.
	b = resourceBundle(dir, scopeResource("app-secrets", bundle.Permission{Level: "MANAGE", GroupName: "users"}))
	plan := typePlan(t, w, b)
	if len(plan) != 1 || plan[0].Action != Update || plan[0].Replace {
		t.Fatalf("plan of an ACL change = %+v, want one update in place", plan)
	}
	_, reqs = typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "POST", "/api/2.0/secrets/scopes/create") + countWrites(reqs, "POST", "/api/2.0/secrets/scopes/delete"); n != 0 {
		t.Errorf("an ACL change re-created the scope: %v", reqs)
	}
	if n, d := countWrites(reqs, "POST", "/api/2.0/secrets/acls/put"), countWrites(reqs, "POST", "/api/2.0/secrets/acls/delete"); n != 1 || d != 1 {
		t.Errorf("sent %d ACL puts and %d deletes, want 1 and 1", n, d)
	}
	want = map[string]workspace.AclPermission{testUser: workspace.AclPermissionManage, "users": workspace.AclPermissionManage}
	if diff := cmp.Diff(want, srv.SecretScopes(testToken)["app-secrets"].ACLs); diff != "" {
		t.Errorf("scope ACLs after the change (-want +got):\n%s", diff)
	}

	// A new name replaces it.
	b = resourceBundle(dir, scopeResource("app-secrets-2", bundle.Permission{Level: "MANAGE", GroupName: "users"}))
	plan = typePlan(t, w, b)
	if len(plan) != 1 || plan[0].Action != Update || !plan[0].Replace {
		t.Fatalf("plan of a rename = %+v, want a replace", plan)
	}
	typeDeploy(t, srv, w, b)
	scopes := srv.SecretScopes(testToken)
	if _, old := scopes["app-secrets"]; old || len(scopes) != 1 || scopes["app-secrets-2"].ACLs["users"] != workspace.AclPermissionManage {
		t.Errorf("scopes after a rename = %+v, want only app-secrets-2 with its ACLs", scopes)
	}
	if e := recordedState(t, srv)["resources.secret_scopes.app"]; e.ID != "app-secrets-2" {
		t.Errorf("state records %q, want app-secrets-2", e.ID)
	}

	// Dropped from the bundle: deleted, with its state.
	_, reqs = typeDeploy(t, srv, w, resourceBundle(dir))
	if n := countWrites(reqs, "POST", "/api/2.0/secrets/scopes/delete"); n != 1 {
		t.Errorf("sent %d scope deletes, want 1", n)
	}
	if got := srv.SecretScopes(testToken); len(got) != 0 {
		t.Errorf("scopes left: %+v", got)
	}
	for a := range recordedState(t, srv) {
		if strings.HasPrefix(a, "resources.secret_scopes.") {
			t.Errorf("state still holds %s", a)
		}
	}

	// Destroy leaves none.
	b = resourceBundle(dir, scopeResource("other"))
	typeDeploy(t, srv, w, b)
	if got := srv.SecretScopes(testToken)["other"].ACLs; !cmp.Equal(got, map[string]workspace.AclPermission{testUser: workspace.AclPermissionManage}) {
		t.Errorf("ACLs of a scope without permissions = %+v, want the deploying user's MANAGE only", got)
	}
	if err := Destroy(context.Background(), w, b, testOptions()); err != nil {
		t.Fatal(err)
	}
	if got := srv.SecretScopes(testToken); len(got) != 0 {
		t.Errorf("scopes left after destroy: %+v", got)
	}
}

// TestSecretScopeRefreshRestoresACLs checks that a refresh sees an ACL
// given in the workspace and a deploy with it takes it away again.
func TestSecretScopeRefreshRestoresACLs(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := resourceBundle(dir, scopeResource("app-secrets", bundle.Permission{Level: "READ", GroupName: "users"}))
	typeDeploy(t, srv, w, b)
	ctx := context.Background()
	if err := w.Secrets.PutAcl(ctx, workspace.PutAcl{Scope: "app-secrets", Principal: "intruder@example.com", Permission: workspace.AclPermissionManage}); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Refresh = true
	res, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan.Drift) != 1 || res.Plan.Drift[0].Action != Drifted {
		t.Errorf("drift = %+v, want the scope's ACLs", res.Plan.Drift)
	}
	if _, ok := srv.SecretScopes(testToken)["app-secrets"].ACLs["intruder@example.com"]; ok {
		t.Error("the ACL given in the workspace is left")
	}
}
