package emulator

import (
	"maps"
	"regexp"
	"slices"

	wsapi "github.com/databricks/databricks-sdk-go/service/workspace"
)

// secretScope is a secret scope with its access control list (principal →
// permission). Secret scopes have no object permissions: their ACLs are
// the Secrets API's own (READ, WRITE, MANAGE).
type secretScope struct {
	info wsapi.SecretScope
	acls map[string]wsapi.AclPermission
}

var scopeName = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,128}$`)

var aclPermissions = []wsapi.AclPermission{wsapi.AclPermissionRead, wsapi.AclPermissionWrite, wsapi.AclPermissionManage}

func errScopeMissing(name string) error {
	return errDoesNotExist("Scope %s does not exist!", name)
}

func (ws *workspace) secretScope(name string) (*secretScope, error) {
	if name == "" {
		return nil, errInvalidParameter("scope is required")
	}
	sc, ok := ws.secretScopes[name]
	if !ok {
		return nil, errScopeMissing(name)
	}
	return sc, nil
}

func handleScopeCreate(s *Server, c *call) (any, error) {
	var req wsapi.CreateScope
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if !scopeName.MatchString(req.Scope) {
		return nil, errInvalidParameter("Scope name %q is not valid: use up to 128 letters, digits, '-', '_', '.' and '@'", req.Scope)
	}
	if _, ok := c.ws.secretScopes[req.Scope]; ok {
		return nil, errAlreadyExists("Scope %s already exists!", req.Scope)
	}
	backend := req.ScopeBackendType
	switch backend {
	case "":
		backend = wsapi.ScopeBackendTypeDatabricks
	case wsapi.ScopeBackendTypeDatabricks:
	case wsapi.ScopeBackendTypeAzureKeyvault:
		if req.BackendAzureKeyvault == nil || req.BackendAzureKeyvault.ResourceId == "" || req.BackendAzureKeyvault.DnsName == "" {
			return nil, errInvalidParameter("an AZURE_KEYVAULT scope needs backend_azure_keyvault with resource_id and dns_name")
		}
	default:
		return nil, errInvalidParameter("scope_backend_type %q is not valid, valid are DATABRICKS and AZURE_KEYVAULT", backend)
	}
	if backend == wsapi.ScopeBackendTypeDatabricks && req.BackendAzureKeyvault != nil {
		return nil, errInvalidParameter("backend_azure_keyvault is only for AZURE_KEYVAULT scopes")
	}
	// The creator manages the scope, unless the initial manage principal is
	// all users (the only other principal the API accepts).
	manager := c.who.userName
	switch req.InitialManagePrincipal {
	case "":
	case "users":
		manager = "users"
	default:
		return nil, errInvalidParameter("initial_manage_principal must be \"users\", got %q", req.InitialManagePrincipal)
	}
	sc := &secretScope{info: wsapi.SecretScope{Name: req.Scope, BackendType: backend}, acls: map[string]wsapi.AclPermission{manager: wsapi.AclPermissionManage}}
	if backend == wsapi.ScopeBackendTypeAzureKeyvault {
		kv := *req.BackendAzureKeyvault
		sc.info.KeyvaultMetadata = &kv
	}
	c.ws.secretScopes[req.Scope] = sc
	return nil, nil
}

func handleScopeList(s *Server, c *call) (any, error) {
	resp := wsapi.ListScopesResponse{}
	for _, name := range slices.Sorted(maps.Keys(c.ws.secretScopes)) {
		resp.Scopes = append(resp.Scopes, c.ws.secretScopes[name].info)
	}
	return resp, nil
}

func handleScopeDelete(s *Server, c *call) (any, error) {
	var req wsapi.DeleteScope
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if _, err := c.ws.secretScope(req.Scope); err != nil {
		return nil, err
	}
	delete(c.ws.secretScopes, req.Scope)
	return nil, nil
}

// handleACLPut sets a principal's permission on a scope, replacing the one
// it had.
func handleACLPut(s *Server, c *call) (any, error) {
	var req wsapi.PutAcl
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	sc, err := c.ws.secretScope(req.Scope)
	if err != nil {
		return nil, err
	}
	if req.Principal == "" {
		return nil, errInvalidParameter("principal is required")
	}
	if !slices.Contains(aclPermissions, req.Permission) {
		return nil, errInvalidParameter("permission %q is not valid, valid are %q", req.Permission, aclPermissions)
	}
	sc.acls[req.Principal] = req.Permission
	return nil, nil
}

func handleACLDelete(s *Server, c *call) (any, error) {
	var req wsapi.DeleteAcl
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	sc, err := c.ws.secretScope(req.Scope)
	if err != nil {
		return nil, err
	}
	if _, ok := sc.acls[req.Principal]; !ok {
		return nil, errDoesNotExist("ACL for principal %s on scope %s does not exist!", req.Principal, req.Scope)
	}
	delete(sc.acls, req.Principal)
	return nil, nil
}

func handleACLGet(s *Server, c *call) (any, error) {
	sc, err := c.ws.secretScope(c.query("scope"))
	if err != nil {
		return nil, err
	}
	p := c.query("principal")
	perm, ok := sc.acls[p]
	if !ok {
		return nil, errDoesNotExist("ACL for principal %s on scope %s does not exist!", p, sc.info.Name)
	}
	return wsapi.AclItem{Principal: p, Permission: perm}, nil
}

func handleACLList(s *Server, c *call) (any, error) {
	sc, err := c.ws.secretScope(c.query("scope"))
	if err != nil {
		return nil, err
	}
	resp := wsapi.ListAclsResponse{}
	for _, p := range slices.Sorted(maps.Keys(sc.acls)) {
		resp.Items = append(resp.Items, wsapi.AclItem{Principal: p, Permission: sc.acls[p]})
	}
	return resp, nil
}

// SecretScope is a secret scope as the accessors report it.
type SecretScope struct {
	wsapi.SecretScope
	// ACLs are principal → permission.
	ACLs map[string]wsapi.AclPermission
}

// SecretScopes returns scope name → secret scope with its ACLs.
func (s *Server) SecretScopes(key string) map[string]SecretScope {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]SecretScope{}
	if ws := s.peekWorkspace(key); ws != nil {
		for name, sc := range ws.secretScopes {
			acls := map[string]wsapi.AclPermission{}
			for p, l := range sc.acls {
				acls[p] = l
			}
			out[name] = SecretScope{SecretScope: normalized(sc.info), ACLs: acls}
		}
	}
	return out
}
