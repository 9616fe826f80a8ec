package emulator_test

import (
	"context"
	"testing"

	"github.com/databricks/databricks-sdk-go/service/workspace"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/brickci/brickci/internal/emulator"
)

// TestSecretScopesAndACLs creates, lists and deletes secret scopes and
// sets their ACLs with the SDK's client.
func TestSecretScopesAndACLs(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()

	err := w.Secrets.CreateScope(ctx, workspace.CreateScope{Scope: "bad name!"})
	wantAPIError(t, "invalid name", err, 400, "INVALID_PARAMETER_VALUE")
	err = w.Secrets.CreateScope(ctx, workspace.CreateScope{Scope: "kv", ScopeBackendType: workspace.ScopeBackendTypeAzureKeyvault})
	wantAPIError(t, "key vault scope without its vault", err, 400, "INVALID_PARAMETER_VALUE")
	err = w.Secrets.CreateScope(ctx, workspace.CreateScope{Scope: "app", InitialManagePrincipal: "someone"})
	wantAPIError(t, "initial manage principal other than users", err, 400, "INVALID_PARAMETER_VALUE")

	if err := w.Secrets.CreateScope(ctx, workspace.CreateScope{Scope: "app"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	err = w.Secrets.CreateScope(ctx, workspace.CreateScope{Scope: "app"})
	wantAPIError(t, "create twice", err, 400, "RESOURCE_ALREADY_EXISTS")
	if err := w.Secrets.CreateScope(ctx, workspace.CreateScope{Scope: "shared", InitialManagePrincipal: "users"}); err != nil {
		t.Fatalf("create with users managing: %v", err)
	}
	scopes, err := w.Secrets.ListScopesAll(ctx)
	want := []workspace.SecretScope{{Name: "app", BackendType: workspace.ScopeBackendTypeDatabricks}, {Name: "shared", BackendType: workspace.ScopeBackendTypeDatabricks}}
	if err != nil || !cmp.Equal(want, scopes, cmpopts.IgnoreFields(workspace.SecretScope{}, "ForceSendFields")) {
		t.Errorf("list = %+v, %v; want %+v", scopes, err, want)
	}

	// ACLs: the creator manages the scope; put replaces a principal's.
	acls, err := w.Secrets.ListAclsAll(ctx, workspace.ListAclsRequest{Scope: "app"})
	if err != nil || !cmp.Equal(acls, []workspace.AclItem{{Principal: emulator.DefaultUserName, Permission: workspace.AclPermissionManage}}) {
		t.Errorf("ACLs of a new scope = %+v, %v", acls, err)
	}
	if got := srv.SecretScopes("t")["shared"].ACLs; !cmp.Equal(got, map[string]workspace.AclPermission{"users": workspace.AclPermissionManage}) {
		t.Errorf("ACLs of a scope users manage = %+v", got)
	}
	for _, p := range []workspace.AclPermission{workspace.AclPermissionRead, workspace.AclPermissionWrite} {
		if err := w.Secrets.PutAcl(ctx, workspace.PutAcl{Scope: "app", Principal: "data-eng", Permission: p}); err != nil {
			t.Fatalf("put %s: %v", p, err)
		}
	}
	got, err := w.Secrets.GetAcl(ctx, workspace.GetAclRequest{Scope: "app", Principal: "data-eng"})
	if err != nil || got.Permission != workspace.AclPermissionWrite {
		t.Errorf("get ACL = %+v, %v; want WRITE", got, err)
	}
	err = w.Secrets.PutAcl(ctx, workspace.PutAcl{Scope: "app", Principal: "data-eng", Permission: "OWN"})
	wantAPIError(t, "unknown permission", err, 400, "INVALID_PARAMETER_VALUE")
	err = w.Secrets.PutAcl(ctx, workspace.PutAcl{Scope: "nope", Principal: "data-eng", Permission: workspace.AclPermissionRead})
	wantAPIError(t, "ACL of a missing scope", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if err := w.Secrets.DeleteAcl(ctx, workspace.DeleteAcl{Scope: "app", Principal: "data-eng"}); err != nil {
		t.Fatalf("delete ACL: %v", err)
	}
	err = w.Secrets.DeleteAcl(ctx, workspace.DeleteAcl{Scope: "app", Principal: "data-eng"})
	wantAPIError(t, "delete an ACL twice", err, 404, "RESOURCE_DOES_NOT_EXIST")
	_, err = w.Secrets.GetAcl(ctx, workspace.GetAclRequest{Scope: "app", Principal: "data-eng"})
	wantAPIError(t, "get a deleted ACL", err, 404, "RESOURCE_DOES_NOT_EXIST")

	if err := w.Secrets.DeleteScopeByScope(ctx, "app"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	err = w.Secrets.DeleteScopeByScope(ctx, "app")
	wantAPIError(t, "delete twice", err, 404, "RESOURCE_DOES_NOT_EXIST")
	_, err = w.Secrets.ListAclsAll(ctx, workspace.ListAclsRequest{Scope: "app"})
	wantAPIError(t, "ACLs of a deleted scope", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if got := srv.SecretScopes("t"); len(got) != 1 {
		t.Errorf("scopes left: %+v", got)
	}
}
