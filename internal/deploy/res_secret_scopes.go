package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/workspace"
)

// secretScopesType deploys secret scopes. A scope's id is its name. The
// Secrets API updates nothing of a scope: a new name, backend type or key
// vault replaces it, as with the Databricks CLI, and its secrets are lost
// with it. The bundle's permissions become the scope's secret ACLs (READ,
// WRITE, MANAGE; the top-level CAN_VIEW is READ and CAN_MANAGE is MANAGE)
// with MANAGE for the deploying user, as the CLI adds it; the scope's ACLs
// are made exactly those, so an ACL given in the workspace to anyone else
// is removed. They are recorded with the scope's settings, as
// "permissions", and a change of them is an update.
type secretScopesType struct{}

// scopeSettings is a secret scope as a bundle configures it.
type scopeSettings struct {
	Name             string                                      `json:"name"`
	BackendType      workspace.ScopeBackendType                  `json:"backend_type,omitempty"`
	KeyvaultMetadata *workspace.AzureKeyVaultSecretScopeMetadata `json:"keyvault_metadata,omitempty"`
}

// scopeState is what a deploy sends for a scope and records: the create
// request and the scope's ACLs, sorted by principal.
type scopeState struct {
	Scope                string                                      `json:"scope"`
	ScopeBackendType     workspace.ScopeBackendType                  `json:"scope_backend_type,omitempty"`
	BackendAzureKeyvault *workspace.AzureKeyVaultSecretScopeMetadata `json:"backend_azure_keyvault,omitempty"`
	Permissions          []workspace.AclItem                         `json:"permissions,omitempty"`
}

func (secretScopesType) group() string { return "secret_scopes" }
func (secretScopesType) kind() string  { return "secret_scope" }
func (secretScopesType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "secret_scopes")
}
func (secretScopesType) label(_, id string) string { return "secret scope " + id }

// name reads the recorded settings' scope or the configured name.
func (secretScopesType) name(s map[string]any) string {
	if n, _ := s["scope"].(string); n != "" {
		return n
	}
	return nameOf(s)
}
func (secretScopesType) idIsName() {}

// aclRank orders secret ACL permissions, weakest first.
var aclRank = []workspace.AclPermission{workspace.AclPermissionRead, workspace.AclPermissionWrite, workspace.AclPermissionManage}

// scopeACLs maps a bundle's permissions to secret ACLs, by principal,
// with MANAGE for the deploying user; a principal named twice keeps the
// strongest permission.
func scopeACLs(perms []bundle.Permission, deployer string) []workspace.AclItem {
	by := map[string]workspace.AclPermission{}
	add := func(principal string, p workspace.AclPermission) {
		if principal == "" {
			return
		}
		if have, ok := by[principal]; !ok || slices.Index(aclRank, p) > slices.Index(aclRank, have) {
			by[principal] = p
		}
	}
	add(deployer, workspace.AclPermissionManage)
	for _, p := range perms {
		add(p.UserName+p.GroupName+p.ServicePrincipalName, workspace.AclPermission(p.Level))
	}
	out := make([]workspace.AclItem, 0, len(by))
	for principal, p := range by {
		out = append(out, workspace.AclItem{Principal: principal, Permission: p})
	}
	slices.SortFunc(out, func(a, b workspace.AclItem) int { return strings.Compare(a.Principal, b.Principal) })
	return out
}

func (secretScopesType) desired(b *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	raw, err := json.Marshal(resolveRefs(r.Config, ids))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode secret scope %q: %w", r.Key, err)
	}
	var s scopeSettings
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, fmt.Errorf("failed to read the settings of secret scope %q: %w", r.Key, err)
	}
	if s.Name == "" {
		return nil, nil, errNoName("secret scope", r.Type, r.Key)
	}
	if s.BackendType == "" {
		s.BackendType = workspace.ScopeBackendTypeDatabricks // the API's default
	}
	req := &scopeState{Scope: s.Name, ScopeBackendType: s.BackendType, BackendAzureKeyvault: s.KeyvaultMetadata,
		Permissions: scopeACLs(r.Permissions, b.CurrentUser.UserName)}
	norm, err := normalise(req)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode secret scope %q: %w", r.Key, err)
	}
	return req, norm, nil
}

func (secretScopesType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	s := req.(*scopeState)
	err := d.w.Secrets.CreateScope(ctx, workspace.CreateScope{Scope: s.Scope, ScopeBackendType: s.ScopeBackendType, BackendAzureKeyvault: s.BackendAzureKeyvault})
	if err != nil {
		return "", nil, err
	}
	if err := setScopeACLs(ctx, d, s.Scope, s.Permissions); err != nil {
		return "", nil, err
	}
	return s.Scope, nil, nil
}

// update sets the ACLs: nothing else of a scope can change in place.
func (secretScopesType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	return "", nil, setScopeACLs(ctx, d, id, req.(*scopeState).Permissions)
}

// setScopeACLs makes the scope's ACLs want: it puts those missing or
// different, one at a time (the Secrets API answers concurrent ACL calls
// inconsistently), then deletes the others.
func setScopeACLs(ctx context.Context, d *deployer, scope string, want []workspace.AclItem) error {
	have, err := d.w.Secrets.ListAclsAll(ctx, workspace.ListAclsRequest{Scope: scope})
	if err != nil {
		return fmt.Errorf("failed to list the ACLs of secret scope %s: %w", scope, err)
	}
	current := map[string]workspace.AclPermission{}
	for _, a := range have {
		current[a.Principal] = a.Permission
	}
	for _, a := range want {
		if p, ok := current[a.Principal]; ok && p == a.Permission {
			continue
		}
		if err := d.w.Secrets.PutAcl(ctx, workspace.PutAcl{Scope: scope, Principal: a.Principal, Permission: a.Permission}); err != nil {
			return fmt.Errorf("failed to give %s %s on secret scope %s: %w", a.Principal, a.Permission, scope, err)
		}
	}
	for _, a := range have {
		if slices.ContainsFunc(want, func(w workspace.AclItem) bool { return w.Principal == a.Principal }) {
			continue
		}
		err := d.w.Secrets.DeleteAcl(ctx, workspace.DeleteAcl{Scope: scope, Principal: a.Principal})
		if err != nil && !errors.Is(err, apierr.ErrNotFound) {
			return fmt.Errorf("failed to remove the ACL of %s on secret scope %s: %w", a.Principal, scope, err)
		}
	}
	return nil
}

func (secretScopesType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.Secrets.DeleteScopeByScope(ctx, id)
}

func (secretScopesType) replaces(id string, old, norm map[string]any) bool {
	return id != norm["scope"] || fieldsDiffer(old, norm, []string{"scope_backend_type", "backend_azure_keyvault"})
}

// read lists the scopes (the API has no get) and the scope's ACLs.
func (secretScopesType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	sc, err := scopeNamed(ctx, w, id)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, fmt.Errorf("secret scope %s does not exist: %w", id, apierr.ErrNotFound)
	}
	acls, err := w.Secrets.ListAclsAll(ctx, workspace.ListAclsRequest{Scope: id})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(acls, func(a, b workspace.AclItem) int { return strings.Compare(a.Principal, b.Principal) })
	return normalise(scopeState{Scope: sc.Name, ScopeBackendType: sc.BackendType, BackendAzureKeyvault: sc.KeyvaultMetadata, Permissions: acls})
}

func (secretScopesType) find(ctx context.Context, d *deployer, name string) (string, error) {
	sc, err := scopeNamed(ctx, d.w, name)
	if err != nil || sc == nil {
		return "", err
	}
	return sc.Name, nil
}

// scopeNamed returns the secret scope called name, or nil.
func scopeNamed(ctx context.Context, w *databricks.WorkspaceClient, name string) (*workspace.SecretScope, error) {
	all, err := w.Secrets.ListScopesAll(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i], nil
		}
	}
	return nil, nil
}
