package emulator

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/apps"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// permType describes one object type of the permissions API.
type permType struct {
	urlType    string
	objectType string
	levels     []iam.PermissionLevel
	// exists reports whether the object with the URL id exists.
	exists func(ws *workspace, id string) bool
}

var permissionTypes = map[string]permType{
	"jobs": {
		urlType: "jobs", objectType: "job",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanView, iam.PermissionLevelCanManageRun, iam.PermissionLevelIsOwner, iam.PermissionLevelCanManage},
		exists: func(ws *workspace, id string) bool {
			n, err := strconv.ParseInt(id, 10, 64)
			_, ok := ws.jobs[n]
			return err == nil && ok
		},
	},
	"serving-endpoints": {
		urlType: "serving-endpoints", objectType: "serving-endpoint",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanQuery, iam.PermissionLevelCanView, iam.PermissionLevelCanManage},
		exists: func(ws *workspace, id string) bool {
			return slices.ContainsFunc(mapValues(ws.endpoints), func(e *endpoint) bool { return e.detail.Id == id })
		},
	},
	"experiments": {
		urlType: "experiments", objectType: "mlflowExperiment",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanRead, iam.PermissionLevelCanEdit, iam.PermissionLevelCanManage},
		exists: func(ws *workspace, id string) bool {
			e, ok := ws.experiments[id]
			return ok && e.info.LifecycleStage == stageActive
		},
	},
	"registered-models": {
		urlType: "registered-models", objectType: "registered-model",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanRead, iam.PermissionLevelCanEdit, iam.PermissionLevelCanManageStagingVersions,
			iam.PermissionLevelCanManageProductionVersions, iam.PermissionLevelCanManage},
		exists: func(ws *workspace, id string) bool { return ws.registryModelByID(id) != nil },
	},
	"pipelines": {
		urlType: "pipelines", objectType: "pipelines",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanView, iam.PermissionLevelCanRun, iam.PermissionLevelCanManage, iam.PermissionLevelIsOwner},
		exists: func(ws *workspace, id string) bool { _, ok := ws.pipelines[id]; return ok },
	},
	"clusters": {
		urlType: "clusters", objectType: "cluster",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanAttachTo, iam.PermissionLevelCanRestart, iam.PermissionLevelCanManage},
		exists: func(ws *workspace, id string) bool { _, ok := ws.clusters[id]; return ok },
	},
	"warehouses": {
		urlType: "warehouses", objectType: "warehouses",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanView, iam.PermissionLevelCanMonitor, iam.PermissionLevelCanUse, iam.PermissionLevelCanManage, iam.PermissionLevelIsOwner},
		exists: func(ws *workspace, id string) bool { _, ok := ws.warehouses[id]; return ok },
	},
	"dashboards": {
		urlType: "dashboards", objectType: "dashboard",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanRead, iam.PermissionLevelCanRun, iam.PermissionLevelCanEdit, iam.PermissionLevelCanManage},
		exists: func(ws *workspace, id string) bool { _, err := ws.dashboard(id, true); return err == nil },
	},
	"apps": {
		urlType: "apps", objectType: "apps",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanUse, iam.PermissionLevelCanManage},
		exists: func(ws *workspace, id string) bool {
			a, ok := ws.apps[id]
			return ok && (a.info.ComputeStatus == nil || a.info.ComputeStatus.State != apps.ComputeStateDeleting)
		},
	},
	"alertsv2": {
		urlType: "alertsv2", objectType: "alertv2",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanRead, iam.PermissionLevelCanRun, iam.PermissionLevelCanEdit, iam.PermissionLevelCanManage},
		exists: func(ws *workspace, id string) bool { _, err := ws.alert(id, true); return err == nil },
	},
	"directories": {
		urlType: "directories", objectType: "directory",
		levels: []iam.PermissionLevel{iam.PermissionLevelCanRead, iam.PermissionLevelCanRun, iam.PermissionLevelCanEdit, iam.PermissionLevelCanManage},
		exists: func(ws *workspace, id string) bool {
			return slices.ContainsFunc(mapValues(ws.objects), func(o *object) bool {
				return o.kind == kindDirectory && strconv.FormatInt(o.id, 10) == id
			})
		},
	},
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// principalKey names who an access control entry is for.
type principalKey struct {
	kind string // user_name, group_name or service_principal_name
	name string
}

// acl holds the direct permissions of one object.
type acl struct {
	typ     permType
	id      string
	entries map[principalKey]iam.PermissionLevel
}

func aclKey(urlType, id string) string { return urlType + "/" + id }

func newACL(typ permType, id string, entries []iam.AccessControlRequest) (*acl, error) {
	a := &acl{typ: typ, id: id, entries: map[principalKey]iam.PermissionLevel{}}
	return a, a.apply(entries, true)
}

func keyOfEntry(e iam.AccessControlRequest) (principalKey, error) {
	var keys []principalKey
	if e.UserName != "" {
		keys = append(keys, principalKey{"user_name", e.UserName})
	}
	if e.GroupName != "" {
		keys = append(keys, principalKey{"group_name", e.GroupName})
	}
	if e.ServicePrincipalName != "" {
		keys = append(keys, principalKey{"service_principal_name", e.ServicePrincipalName})
	}
	if len(keys) != 1 {
		return principalKey{}, errInvalidParameter("each access control entry needs exactly one of user_name, group_name and service_principal_name, got %d", len(keys))
	}
	return keys[0], nil
}

// apply sets the given entries; replace drops every other direct entry
// first (PUT) while keeping the owner unless a new one is named.
func (a *acl) apply(entries []iam.AccessControlRequest, replace bool) error {
	next := map[principalKey]iam.PermissionLevel{}
	if !replace {
		for k, v := range a.entries {
			next[k] = v
		}
	}
	var newOwner *principalKey
	for _, e := range entries {
		k, err := keyOfEntry(e)
		if err != nil {
			return err
		}
		if !slices.Contains(a.typ.levels, e.PermissionLevel) {
			return errInvalidParameter("permission level %q is not valid for %s %s, valid are %q", e.PermissionLevel, a.typ.objectType, a.id, a.typ.levels)
		}
		if e.PermissionLevel == iam.PermissionLevelIsOwner {
			if k.kind == "group_name" {
				return errInvalidParameter("group %q cannot own %s %s", k.name, a.typ.objectType, a.id)
			}
			if newOwner != nil && *newOwner != k {
				return errInvalidParameter("%s %s can have only one owner, got %q and %q", a.typ.objectType, a.id, newOwner.name, k.name)
			}
			newOwner = &k
		}
		next[k] = e.PermissionLevel
	}
	if slices.Contains(a.typ.levels, iam.PermissionLevelIsOwner) {
		for k, v := range a.entries {
			if v != iam.PermissionLevelIsOwner {
				continue
			}
			if newOwner == nil {
				next[k] = v
			} else if *newOwner != k && next[k] == iam.PermissionLevelIsOwner {
				delete(next, k)
			}
		}
	}
	a.entries = next
	return nil
}

func (a *acl) view() iam.ObjectPermissions {
	keys := make([]principalKey, 0, len(a.entries))
	for k := range a.entries {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y principalKey) int {
		if c := strings.Compare(x.kind, y.kind); c != 0 {
			return c
		}
		return strings.Compare(x.name, y.name)
	})
	out := iam.ObjectPermissions{ObjectId: "/" + a.typ.urlType + "/" + a.id, ObjectType: a.typ.objectType}
	adminsDirect := false
	for _, k := range keys {
		r := iam.AccessControlResponse{AllPermissions: []iam.Permission{{PermissionLevel: a.entries[k]}}}
		switch k.kind {
		case "user_name":
			r.UserName, r.DisplayName = k.name, displayName(k.name)
		case "group_name":
			r.GroupName = k.name
		default:
			r.ServicePrincipalName, r.DisplayName = k.name, "service principal "+k.name
		}
		if k == (principalKey{"group_name", "admins"}) {
			adminsDirect = true
			r.AllPermissions = append(r.AllPermissions, adminsInherited(a.typ))
		}
		out.AccessControlList = append(out.AccessControlList, r)
	}
	if !adminsDirect {
		out.AccessControlList = append(out.AccessControlList, iam.AccessControlResponse{
			GroupName: "admins", AllPermissions: []iam.Permission{adminsInherited(a.typ)},
		})
	}
	return out
}

// adminsInherited is the workspace admins' permission every object has.
func adminsInherited(typ permType) iam.Permission {
	return iam.Permission{PermissionLevel: iam.PermissionLevelCanManage, Inherited: true, InheritedFromObject: []string{"/" + typ.urlType + "/"}}
}

type aclRequest struct {
	AccessControlList []iam.AccessControlRequest `json:"access_control_list"`
}

// objectACL returns the ACL of the object in the URL, creating an empty one
// for objects that exist but were never given permissions.
func objectACL(c *call) (*acl, error) {
	typeName, id := c.r.PathValue("type"), c.r.PathValue("id")
	typ, ok := permissionTypes[typeName]
	if !ok {
		return nil, errInvalidParameter("permissions of object type %q are not supported, valid are %q", typeName, slices.Sorted(maps.Keys(permissionTypes)))
	}
	if !typ.exists(c.ws, id) {
		return nil, errDoesNotExist("%s %s does not exist", typ.objectType, id)
	}
	key := aclKey(typeName, id)
	a, ok := c.ws.acls[key]
	if !ok {
		a = &acl{typ: typ, id: id, entries: map[principalKey]iam.PermissionLevel{}}
		c.ws.acls[key] = a
	}
	return a, nil
}

func handlePermissionsGet(s *Server, c *call) (any, error) {
	a, err := objectACL(c)
	if err != nil {
		return nil, err
	}
	return a.view(), nil
}

func handlePermissionsSet(s *Server, c *call) (any, error) {
	return updatePermissions(c, true)
}

func handlePermissionsUpdate(s *Server, c *call) (any, error) {
	return updatePermissions(c, false)
}

func updatePermissions(c *call, replace bool) (any, error) {
	var req aclRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	a, err := objectACL(c)
	if err != nil {
		return nil, err
	}
	// Apply to a copy so that a rejected entry changes nothing.
	trial := &acl{typ: a.typ, id: a.id, entries: a.entries}
	if err := trial.apply(req.AccessControlList, replace); err != nil {
		return nil, err
	}
	a.entries = trial.entries
	return a.view(), nil
}

func handlePermissionLevels(s *Server, c *call) (any, error) {
	typeName, id := c.r.PathValue("type"), c.r.PathValue("id")
	typ, ok := permissionTypes[typeName]
	if !ok {
		return nil, errInvalidParameter("permissions of object type %q are not supported, valid are %q", typeName, slices.Sorted(maps.Keys(permissionTypes)))
	}
	if !typ.exists(c.ws, id) {
		return nil, errDoesNotExist("%s %s does not exist", typ.objectType, id)
	}
	resp := iam.GetPermissionLevelsResponse{}
	for _, l := range typ.levels {
		resp.PermissionLevels = append(resp.PermissionLevels, iam.PermissionsDescription{PermissionLevel: l, Description: "Permission level " + string(l)})
	}
	return resp, nil
}
