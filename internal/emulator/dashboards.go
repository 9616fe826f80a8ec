package emulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"time"

	"github.com/databricks/databricks-sdk-go/service/dashboards"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// kindDashboard is the workspace object type of an AI/BI (Lakeview)
// dashboard, a <display name>.lvdash.json object in its parent folder.
const kindDashboard objectKind = "DASHBOARD"

// dashboard is a Lakeview dashboard: its draft and, once published, the
// published revision. A trashed dashboard is kept with lifecycle state
// TRASHED and leaves the workspace tree.
type dashboard struct {
	info      dashboards.Dashboard
	published *dashboards.PublishedDashboard
	revision  int
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func errDashboardMissing(id string) error {
	return errDoesNotExist("Dashboard %s does not exist.", id)
}

func (ws *workspace) dashboard(id string, active bool) (*dashboard, error) {
	d, ok := ws.dashboards[id]
	if !ok || (active && d.info.LifecycleState == dashboards.LifecycleStateTrashed) {
		return nil, errDashboardMissing(id)
	}
	return d, nil
}

// checkSerialized rejects a serialized dashboard that is not a JSON object.
func checkSerialized(s string) error {
	if s == "" {
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return errInvalidParameter("serialized_dashboard is not a JSON object: %v", err)
	}
	return nil
}

func handleDashboardCreate(s *Server, c *call) (any, error) {
	var req dashboards.Dashboard
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.DisplayName == "" {
		return nil, errInvalidParameter("display_name is required")
	}
	if err := checkSerialized(req.SerializedDashboard); err != nil {
		return nil, err
	}
	parent, err := cleanPath(req.ParentPath)
	if req.ParentPath == "" {
		parent, err = "/Users/"+c.who.userName, nil
	}
	if err != nil {
		return nil, err
	}
	if o, ok := c.ws.objects[parent]; !ok || o.kind != kindDirectory {
		return nil, errDoesNotExist("Path (%s) doesn't exist.", parent)
	}
	p := path.Join(parent, req.DisplayName+".lvdash.json")
	if _, ok := c.ws.objects[p]; ok {
		return nil, errAlreadyExists("Node named '%s' already exists", path.Base(p))
	}
	n := c.ws.newID()
	id := fmt.Sprintf("%032x", uint64(stableID(fmt.Sprint("dashboard", n))))
	serialized := req.SerializedDashboard
	if serialized == "" {
		serialized = `{"pages":[{"name":"page","displayName":"New Page"}]}`
	}
	d := &dashboard{info: dashboards.Dashboard{
		DashboardId: id, DisplayName: req.DisplayName, ParentPath: parent, Path: p, WarehouseId: req.WarehouseId,
		SerializedDashboard: serialized, LifecycleState: dashboards.LifecycleStateActive,
		CreateTime: rfc3339(c.now), UpdateTime: rfc3339(c.now), Etag: fmt.Sprint(n),
	}}
	c.ws.dashboards[id] = d
	c.ws.objects[p] = &object{path: p, kind: kindDashboard, id: n, created: c.now, modified: c.now}
	owner := c.ws.owner()
	owner.PermissionLevel = iam.PermissionLevelCanManage
	a, err := newACL(permissionTypes["dashboards"], id, []iam.AccessControlRequest{owner})
	if err != nil {
		return nil, err
	}
	c.ws.acls[aclKey("dashboards", id)] = a
	return d.info, nil
}

func handleDashboardGet(s *Server, c *call) (any, error) {
	d, err := c.ws.dashboard(c.r.PathValue("id"), false)
	if err != nil {
		return nil, err
	}
	return d.info, nil
}

func handleDashboardList(s *Server, c *call) (any, error) {
	trashed := c.query("show_trashed") == "true"
	resp := dashboards.ListDashboardsResponse{}
	for _, id := range slices.Sorted(maps.Keys(c.ws.dashboards)) {
		d := c.ws.dashboards[id]
		if d.info.LifecycleState == dashboards.LifecycleStateTrashed && !trashed {
			continue
		}
		info := d.info
		info.SerializedDashboard = "" // the list view leaves the content out
		resp.Dashboards = append(resp.Dashboards, info)
	}
	return resp, nil
}

// handleDashboardUpdate changes the draft: its name (which moves its
// object), warehouse and content. An etag other than the current one
// answers 409 ABORTED, as a concurrent edit does.
func handleDashboardUpdate(s *Server, c *call) (any, error) {
	var req dashboards.Dashboard
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	d, err := c.ws.dashboard(c.r.PathValue("id"), true)
	if err != nil {
		return nil, err
	}
	if req.Etag != "" && req.Etag != d.info.Etag {
		return nil, newError(409, "ABORTED", "The dashboard has been modified since etag %s was read; its etag is %s.", req.Etag, d.info.Etag)
	}
	if err := checkSerialized(req.SerializedDashboard); err != nil {
		return nil, err
	}
	if req.DisplayName != "" && req.DisplayName != d.info.DisplayName {
		p := path.Join(d.info.ParentPath, req.DisplayName+".lvdash.json")
		if _, ok := c.ws.objects[p]; ok {
			return nil, errAlreadyExists("Node named '%s' already exists", path.Base(p))
		}
		o := c.ws.objects[d.info.Path]
		delete(c.ws.objects, d.info.Path)
		if o != nil {
			o.path = p
			c.ws.objects[p] = o
		}
		d.info.DisplayName, d.info.Path = req.DisplayName, p
	}
	if req.WarehouseId != "" {
		d.info.WarehouseId = req.WarehouseId
	}
	if req.SerializedDashboard != "" {
		d.info.SerializedDashboard = req.SerializedDashboard
	}
	n := c.ws.newID()
	d.info.Etag, d.info.UpdateTime = fmt.Sprint(n), rfc3339(c.now)
	return d.info, nil
}

func handleDashboardTrash(s *Server, c *call) (any, error) {
	d, err := c.ws.dashboard(c.r.PathValue("id"), true)
	if err != nil {
		return nil, err
	}
	d.info.LifecycleState = dashboards.LifecycleStateTrashed
	delete(c.ws.objects, d.info.Path)
	return nil, nil
}

func handleDashboardPublish(s *Server, c *call) (any, error) {
	var req dashboards.PublishRequest
	if len(c.body) > 0 {
		if err := c.decode(&req); err != nil {
			return nil, err
		}
	}
	d, err := c.ws.dashboard(c.r.PathValue("id"), true)
	if err != nil {
		return nil, err
	}
	warehouse := req.WarehouseId
	if warehouse == "" {
		warehouse = d.info.WarehouseId
	}
	if warehouse == "" {
		return nil, errInvalidParameter("a warehouse is required to publish dashboard %s", d.info.DashboardId)
	}
	d.revision++
	d.published = &dashboards.PublishedDashboard{DisplayName: d.info.DisplayName, EmbedCredentials: req.EmbedCredentials, WarehouseId: warehouse,
		RevisionCreateTime: rfc3339(c.now), ForceSendFields: []string{"EmbedCredentials"}}
	return d.published, nil
}

func handleDashboardGetPublished(s *Server, c *call) (any, error) {
	d, err := c.ws.dashboard(c.r.PathValue("id"), true)
	if err != nil {
		return nil, err
	}
	if d.published == nil {
		return nil, errDoesNotExist("Dashboard %s is not published.", d.info.DashboardId)
	}
	return d.published, nil
}

// Dashboard is a Lakeview dashboard as the accessors report it: the draft
// and the published revision, nil when it is not published.
type Dashboard struct {
	dashboards.Dashboard
	Published *dashboards.PublishedDashboard
}

// Dashboards returns dashboard id → dashboard, trashed ones included.
func (s *Server) Dashboards(key string) map[string]Dashboard {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Dashboard{}
	if ws := s.peekWorkspace(key); ws != nil {
		for id, d := range ws.dashboards {
			v := Dashboard{Dashboard: normalized(d.info)}
			if d.published != nil {
				p := normalized(*d.published)
				v.Published = &p
			}
			out[id] = v
		}
	}
	return out
}
